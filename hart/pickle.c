/* gst-hart — restricted unpickler for PyTorch state dicts
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A pickle is a program for a small stack machine.  We run only the subset
 * of it that torch.save emits for a state dict (protocol 2, plus the few
 * protocol 4 opcodes a newer writer may use) and we never import or call
 * anything: GLOBAL resolves a name against a fixed allow-list into a tag,
 * and REDUCE only knows how to "call" those tags (build an empty dict, build
 * a tensor description, unwrap a parameter).  Every other global is refused
 * by name, every other opcode by name or byte.
 *
 * Memory: every value lives in one arena (freed at the end in one go), so
 * shared references through the memo and even reference cycles built with
 * BINGET + APPEND cannot leak, and nothing is ever walked recursively.
 */
#include "hart/pickle.h"
#include "hart/error.h"

#include <string.h>

typedef enum
{
  VALUE_NONE,
  VALUE_BOOL,
  VALUE_INT,
  VALUE_FLOAT,
  VALUE_STRING,
  VALUE_TUPLE,
  VALUE_LIST,
  VALUE_DICT,
  VALUE_GLOBAL,
  VALUE_STORAGE,
  VALUE_TENSOR,
} ValueKind;

/* The only globals a state dict needs.  Storage classes carry a dtype. */
typedef enum
{
  GLOBAL_ORDERED_DICT,
  GLOBAL_REBUILD_TENSOR_V2,
  GLOBAL_REBUILD_PARAMETER,
  GLOBAL_STORAGE_CLASS,
} GlobalKind;

typedef struct _Value Value;

struct _Value
{
  ValueKind kind;
  union
  {
    gboolean boolean;
    gint64 integer;
    double real;
    struct
    {
      char *str;                /* NUL-terminated, `len` bytes */
      gsize len;
    } string;
    GPtrArray *items;           /* tuple, list: Value * (not owned) */
    struct
    {
      GPtrArray *keys;          /* Value * (not owned) */
      GPtrArray *values;
      GHashTable *string_index; /* key string → index + 1 */
    } dict;
    struct
    {
      GlobalKind kind;
      HartDType dtype;          /* storage classes only */
      const char *qualified_name;       /* static */
    } global;
    struct
    {
      HartDType dtype;
      char *key;
      guint64 numel;
    } storage;
    HartPickleTensor *tensor;   /* owned; name unset until extracted */
  };
};

static const struct
{
  const char *module;
  const char *name;
  GlobalKind kind;
  HartDType dtype;
} allowed_globals[] = {
  {"collections", "OrderedDict", GLOBAL_ORDERED_DICT, 0},
  {"torch._utils", "_rebuild_tensor_v2", GLOBAL_REBUILD_TENSOR_V2, 0},
  {"torch._utils", "_rebuild_parameter", GLOBAL_REBUILD_PARAMETER, 0},
  {"torch", "FloatStorage", GLOBAL_STORAGE_CLASS, HART_DTYPE_F32},
  {"torch", "HalfStorage", GLOBAL_STORAGE_CLASS, HART_DTYPE_F16},
  {"torch", "BFloat16Storage", GLOBAL_STORAGE_CLASS, HART_DTYPE_BF16},
  {"torch", "DoubleStorage", GLOBAL_STORAGE_CLASS, HART_DTYPE_F64},
  {"torch", "LongStorage", GLOBAL_STORAGE_CLASS, HART_DTYPE_I64},
  {"torch", "IntStorage", GLOBAL_STORAGE_CLASS, HART_DTYPE_I32},
  {"torch", "ShortStorage", GLOBAL_STORAGE_CLASS, HART_DTYPE_I16},
  {"torch", "CharStorage", GLOBAL_STORAGE_CLASS, HART_DTYPE_I8},
  {"torch", "ByteStorage", GLOBAL_STORAGE_CLASS, HART_DTYPE_U8},
  {"torch", "BoolStorage", GLOBAL_STORAGE_CLASS, HART_DTYPE_BOOL},
};

/* Every pickle opcode (protocols 0-5), with the names of CPython's
 * Lib/pickle.py and pickletools. */
typedef enum
{
  OP_MARK = '(',
  OP_STOP = '.',
  OP_POP = '0',
  OP_POP_MARK = '1',
  OP_DUP = '2',
  OP_FLOAT = 'F',
  OP_INT = 'I',
  OP_BININT = 'J',
  OP_BININT1 = 'K',
  OP_LONG = 'L',
  OP_BININT2 = 'M',
  OP_NONE = 'N',
  OP_PERSID = 'P',
  OP_BINPERSID = 'Q',
  OP_REDUCE = 'R',
  OP_STRING = 'S',
  OP_BINSTRING = 'T',
  OP_SHORT_BINSTRING = 'U',
  OP_UNICODE = 'V',
  OP_BINUNICODE = 'X',
  OP_APPEND = 'a',
  OP_BUILD = 'b',
  OP_GLOBAL = 'c',
  OP_DICT = 'd',
  OP_EMPTY_DICT = '}',
  OP_APPENDS = 'e',
  OP_GET = 'g',
  OP_BINGET = 'h',
  OP_INST = 'i',
  OP_LONG_BINGET = 'j',
  OP_LIST = 'l',
  OP_EMPTY_LIST = ']',
  OP_OBJ = 'o',
  OP_PUT = 'p',
  OP_BINPUT = 'q',
  OP_LONG_BINPUT = 'r',
  OP_SETITEM = 's',
  OP_TUPLE = 't',
  OP_EMPTY_TUPLE = ')',
  OP_SETITEMS = 'u',
  OP_BINFLOAT = 'G',
  OP_BINBYTES = 'B',
  OP_SHORT_BINBYTES = 'C',
  OP_PROTO = 0x80,
  OP_NEWOBJ = 0x81,
  OP_EXT1 = 0x82,
  OP_EXT2 = 0x83,
  OP_EXT4 = 0x84,
  OP_TUPLE1 = 0x85,
  OP_TUPLE2 = 0x86,
  OP_TUPLE3 = 0x87,
  OP_NEWTRUE = 0x88,
  OP_NEWFALSE = 0x89,
  OP_LONG1 = 0x8a,
  OP_LONG4 = 0x8b,
  OP_SHORT_BINUNICODE = 0x8c,
  OP_BINUNICODE8 = 0x8d,
  OP_BINBYTES8 = 0x8e,
  OP_EMPTY_SET = 0x8f,
  OP_ADDITEMS = 0x90,
  OP_FROZENSET = 0x91,
  OP_NEWOBJ_EX = 0x92,
  OP_STACK_GLOBAL = 0x93,
  OP_MEMOIZE = 0x94,
  OP_FRAME = 0x95,
  OP_BYTEARRAY8 = 0x96,
  OP_NEXT_BUFFER = 0x97,
  OP_READONLY_BUFFER = 0x98,
} PickleOpcode;

/* The newest protocol whose opcodes are all in PickleOpcode. */
#define PICKLE_HIGHEST_PROTOCOL 5

/* Their names, for messages about the ones we refuse. */
#define OPCODE(name) { OP_##name, #name }
static const struct
{
  guint8 code;
  const char *name;
} opcode_names[] = {
  OPCODE (MARK), OPCODE (STOP), OPCODE (POP), OPCODE (POP_MARK), OPCODE (DUP),
  OPCODE (FLOAT), OPCODE (INT), OPCODE (BININT), OPCODE (BININT1),
  OPCODE (LONG), OPCODE (BININT2), OPCODE (NONE), OPCODE (PERSID),
  OPCODE (BINPERSID), OPCODE (REDUCE), OPCODE (STRING), OPCODE (BINSTRING),
  OPCODE (SHORT_BINSTRING), OPCODE (UNICODE), OPCODE (BINUNICODE),
  OPCODE (APPEND), OPCODE (BUILD), OPCODE (GLOBAL), OPCODE (DICT),
  OPCODE (EMPTY_DICT), OPCODE (APPENDS), OPCODE (GET), OPCODE (BINGET),
  OPCODE (INST), OPCODE (LONG_BINGET), OPCODE (LIST), OPCODE (EMPTY_LIST),
  OPCODE (OBJ), OPCODE (PUT), OPCODE (BINPUT), OPCODE (LONG_BINPUT),
  OPCODE (SETITEM), OPCODE (TUPLE), OPCODE (EMPTY_TUPLE), OPCODE (SETITEMS),
  OPCODE (BINFLOAT), OPCODE (BINBYTES), OPCODE (SHORT_BINBYTES),
  OPCODE (PROTO), OPCODE (NEWOBJ), OPCODE (EXT1), OPCODE (EXT2), OPCODE (EXT4),
  OPCODE (TUPLE1), OPCODE (TUPLE2), OPCODE (TUPLE3), OPCODE (NEWTRUE),
  OPCODE (NEWFALSE), OPCODE (LONG1), OPCODE (LONG4), OPCODE (SHORT_BINUNICODE),
  OPCODE (BINUNICODE8), OPCODE (BINBYTES8), OPCODE (EMPTY_SET),
  OPCODE (ADDITEMS), OPCODE (FROZENSET), OPCODE (NEWOBJ_EX),
  OPCODE (STACK_GLOBAL), OPCODE (MEMOIZE), OPCODE (FRAME), OPCODE (BYTEARRAY8),
  OPCODE (NEXT_BUFFER), OPCODE (READONLY_BUFFER)
};

#undef OPCODE

static const char *
opcode_name (guint8 op)
{
  for (guint i = 0; i < G_N_ELEMENTS (opcode_names); i++) {
    if (opcode_names[i].code == op)
      return opcode_names[i].name;
  }
  return NULL;
}

static const char *
value_kind_name (const Value * v)
{
  switch (v->kind) {
    case VALUE_NONE:
      return "None";
    case VALUE_BOOL:
      return "bool";
    case VALUE_INT:
      return "int";
    case VALUE_FLOAT:
      return "float";
    case VALUE_STRING:
      return "str";
    case VALUE_TUPLE:
      return "tuple";
    case VALUE_LIST:
      return "list";
    case VALUE_DICT:
      return "dict";
    case VALUE_GLOBAL:
      return v->global.qualified_name;
    case VALUE_STORAGE:
      return "storage";
    case VALUE_TENSOR:
      return "tensor";
  }
  return "?";
}

typedef struct
{
  const guint8 *data;
  gsize size;
  gsize pos;                    /* next byte to read */
  gsize op_pos;                 /* offset of the opcode being run */
  const char *label;
  HartPickleLimits limits;

  GPtrArray *arena;             /* every Value, owned */
  GPtrArray *stack;             /* Value *, not owned */
  GArray *marks;                /* guint: stack length at each MARK */
  GHashTable *memo;             /* GUINT_TO_POINTER (index) → Value * */
} Unpickler;

static void
value_free (gpointer data)
{
  Value *v = data;

  switch (v->kind) {
    case VALUE_STRING:
      g_free (v->string.str);
      break;
    case VALUE_TUPLE:
    case VALUE_LIST:
      g_ptr_array_unref (v->items);
      break;
    case VALUE_DICT:
      g_ptr_array_unref (v->dict.keys);
      g_ptr_array_unref (v->dict.values);
      if (v->dict.string_index)
        g_hash_table_unref (v->dict.string_index);
      break;
    case VALUE_STORAGE:
      g_free (v->storage.key);
      break;
    case VALUE_TENSOR:
      hart_pickle_tensor_free (v->tensor);
      break;
    default:
      break;
  }
  g_free (v);
}

void
hart_pickle_tensor_free (HartPickleTensor * tensor)
{
  if (tensor == NULL)
    return;
  g_free (tensor->name);
  g_free (tensor->storage_key);
  g_free (tensor);
}

void
hart_pickle_limits_init (HartPickleLimits * limits)
{
  limits->max_stack = 1u << 20;
  limits->max_marks = 256;
  limits->max_memo = 1u << 22;
  limits->max_string = 1u << 20;
  limits->max_values = G_GUINT64_CONSTANT (1) << 26;
}

/* ---- errors ---- */

/* *INDENT-OFF* */
/* GNU indent takes an attribute after a prototype for a declaration and
 * misindents the rest of the file */
static void set_error (Unpickler * u, GError ** error, int code,
    const char *format, ...) G_GNUC_PRINTF (4, 5);
/* *INDENT-ON* */

static void
set_error (Unpickler * u, GError ** error, int code, const char *format, ...)
{
  va_list args;
  char *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, HART_ERROR, code, "%s: %s", u->label, message);
  g_free (message);
}

static gboolean
need_bytes (Unpickler * u, gsize n, guint8 op, GError ** error)
{
  if (u->size - u->pos < n) {
    set_error (u, error, HART_ERROR_FORMAT,
        "pickle truncated: opcode %s at offset %" G_GSIZE_FORMAT " needs %"
        G_GSIZE_FORMAT " bytes but only %" G_GSIZE_FORMAT " remain",
        opcode_name (op), u->op_pos, n, u->size - u->pos);
    return FALSE;
  }
  return TRUE;
}

/* ---- values ---- */

static Value *
new_value (Unpickler * u, ValueKind kind, GError ** error)
{
  Value *v;

  if (u->arena->len >= u->limits.max_values) {
    set_error (u, error, HART_ERROR_LIMIT,
        "pickle creates more than %" G_GUINT64_FORMAT " objects",
        u->limits.max_values);
    return NULL;
  }
  v = g_new0 (Value, 1);
  v->kind = kind;
  if (kind == VALUE_TUPLE || kind == VALUE_LIST)
    v->items = g_ptr_array_new ();
  else if (kind == VALUE_DICT) {
    v->dict.keys = g_ptr_array_new ();
    v->dict.values = g_ptr_array_new ();
  }
  g_ptr_array_add (u->arena, v);
  return v;
}

static gboolean
push (Unpickler * u, Value * v, GError ** error)
{
  if (v == NULL)
    return FALSE;
  if (u->stack->len >= u->limits.max_stack) {
    set_error (u, error, HART_ERROR_LIMIT,
        "pickle stack deeper than %u values at offset %" G_GSIZE_FORMAT,
        u->limits.max_stack, u->op_pos);
    return FALSE;
  }
  g_ptr_array_add (u->stack, v);
  return TRUE;
}

/* Lowest stack index usable by the current opcode: values below the last
 * MARK belong to an enclosing construct. */
static guint
stack_floor (Unpickler * u)
{
  if (u->marks->len == 0)
    return 0;
  return g_array_index (u->marks, guint, u->marks->len - 1);
}

static Value *
pop (Unpickler * u, guint8 op, GError ** error)
{
  if (u->stack->len <= stack_floor (u)) {
    set_error (u, error, HART_ERROR_FORMAT,
        "pickle stack underflow: opcode %s at offset %" G_GSIZE_FORMAT
        " needs a value", opcode_name (op), u->op_pos);
    return NULL;
  }
  return g_ptr_array_steal_index (u->stack, u->stack->len - 1);
}

static Value *
top (Unpickler * u, guint8 op, GError ** error)
{
  if (u->stack->len <= stack_floor (u)) {
    set_error (u, error, HART_ERROR_FORMAT,
        "pickle stack underflow: opcode %s at offset %" G_GSIZE_FORMAT
        " needs a value", opcode_name (op), u->op_pos);
    return NULL;
  }
  return g_ptr_array_index (u->stack, u->stack->len - 1);
}

/* Pops back to the last MARK; returns the stack index where the marked
 * values start (they stay on the stack for the caller to consume). */
static gboolean
pop_mark (Unpickler * u, guint8 op, guint * start, GError ** error)
{
  if (u->marks->len == 0) {
    set_error (u, error, HART_ERROR_FORMAT,
        "pickle opcode %s at offset %" G_GSIZE_FORMAT " without a MARK",
        opcode_name (op), u->op_pos);
    return FALSE;
  }
  *start = g_array_index (u->marks, guint, u->marks->len - 1);
  g_array_set_size (u->marks, u->marks->len - 1);
  return TRUE;
}

static void
truncate_stack (Unpickler * u, guint length)
{
  g_ptr_array_set_size (u->stack, length);
}

static gboolean
dict_set (Unpickler * u, Value * dict, Value * key, Value * value,
    GError ** error)
{
  /* Python semantics: setting an existing key replaces its value.  Only
   * string keys matter to us; other keys are kept and refused later if the
   * dict turns out to be the state dict. */
  if (key->kind == VALUE_STRING) {
    gpointer found;

    if (dict->dict.string_index == NULL)
      dict->dict.string_index = g_hash_table_new (g_str_hash, g_str_equal);
    found = g_hash_table_lookup (dict->dict.string_index, key->string.str);
    if (found != NULL) {
      guint index = GPOINTER_TO_UINT (found) - 1;
      g_ptr_array_index (dict->dict.values, index) = value;
      return TRUE;
    }
    g_hash_table_insert (dict->dict.string_index, key->string.str,
        GUINT_TO_POINTER (dict->dict.keys->len + 1));
  }
  g_ptr_array_add (dict->dict.keys, key);
  g_ptr_array_add (dict->dict.values, value);
  return TRUE;
}

/* ---- readers ---- */

static guint64
read_le (const guint8 * p, int n)
{
  guint64 v = 0;

  for (int i = n - 1; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static Value *
read_string (Unpickler * u, guint8 op, int length_bytes, GError ** error)
{
  guint64 length;
  Value *v;

  if (!need_bytes (u, length_bytes, op, error))
    return NULL;
  length = read_le (u->data + u->pos, length_bytes);
  u->pos += length_bytes;
  if (length > u->size - u->pos) {
    set_error (u, error, HART_ERROR_FORMAT,
        "pickle truncated: %s at offset %" G_GSIZE_FORMAT " declares %"
        G_GUINT64_FORMAT " bytes but only %" G_GSIZE_FORMAT " remain",
        opcode_name (op), u->op_pos, length, u->size - u->pos);
    return NULL;
  }
  if (length > u->limits.max_string) {
    set_error (u, error, HART_ERROR_LIMIT,
        "pickle string of %" G_GUINT64_FORMAT " bytes at offset %"
        G_GSIZE_FORMAT " exceeds the limit of %" G_GSIZE_FORMAT,
        length, u->op_pos, u->limits.max_string);
    return NULL;
  }
  if (!g_utf8_validate ((const char *) u->data + u->pos, length, NULL)) {
    set_error (u, error, HART_ERROR_FORMAT,
        "pickle string at offset %" G_GSIZE_FORMAT " is not valid UTF-8",
        u->op_pos);
    return NULL;
  }
  v = new_value (u, VALUE_STRING, error);
  if (v == NULL)
    return NULL;
  v->string.str = g_strndup ((const char *) u->data + u->pos, length);
  v->string.len = length;
  u->pos += length;
  return v;
}

/* GLOBAL's operands: two newline-terminated lines. */
static char *
read_line (Unpickler * u, guint8 op, GError ** error)
{
  const guint8 *start = u->data + u->pos;
  gsize remaining = u->size - u->pos;
  gsize max = MIN (remaining, 256);
  const guint8 *newline = memchr (start, '\n', max);

  if (newline == NULL) {
    if (remaining < 256)
      set_error (u, error, HART_ERROR_FORMAT,
          "pickle truncated: %s at offset %" G_GSIZE_FORMAT
          " has no end of line", opcode_name (op), u->op_pos);
    else
      set_error (u, error, HART_ERROR_LIMIT,
          "pickle %s at offset %" G_GSIZE_FORMAT
          " has a name longer than 255 bytes", opcode_name (op), u->op_pos);
    return NULL;
  }
  u->pos += newline - start + 1;
  return g_strndup ((const char *) start, newline - start);
}

/* Resolves module.name against the allow-list; refuses anything else by
 * name, before anything about it is used. */
static Value *
resolve_global (Unpickler * u, const char *module, const char *name,
    GError ** error)
{
  for (guint i = 0; i < G_N_ELEMENTS (allowed_globals); i++) {
    if (strcmp (module, allowed_globals[i].module) == 0
        && strcmp (name, allowed_globals[i].name) == 0) {
      Value *v = new_value (u, VALUE_GLOBAL, error);

      if (v == NULL)
        return NULL;
      v->global.kind = allowed_globals[i].kind;
      v->global.dtype = allowed_globals[i].dtype;
      /* Static storage for messages. */
      v->global.qualified_name = allowed_globals[i].name;
      return v;
    }
  }
  {
    char *shown = g_strescape (module, NULL);
    char *shown_name = g_strescape (name, NULL);

    set_error (u, error, HART_ERROR_FORBIDDEN,
        "pickle global \"%s.%s\" is not allowed (only tensor state-dict "
        "globals are accepted)", shown, shown_name);
    g_free (shown);
    g_free (shown_name);
  }
  return NULL;
}

/* ---- REDUCE: the only "calls" we know ---- */

static gboolean
int_arg (const Value * v, gint64 * out)
{
  if (v->kind == VALUE_INT) {
    *out = v->integer;
    return TRUE;
  }
  return FALSE;
}

static Value *
rebuild_tensor (Unpickler * u, Value * args, GError ** error)
{
  GPtrArray *a = args->items;
  Value *storage, *size, *stride, *v;
  HartPickleTensor *t;
  gint64 offset;

  if (a->len != 6 && a->len != 7) {
    set_error (u, error, HART_ERROR_FORMAT,
        "_rebuild_tensor_v2 at offset %" G_GSIZE_FORMAT
        " takes 6 or 7 arguments, found %u", u->op_pos, a->len);
    return NULL;
  }
  storage = a->pdata[0];
  size = a->pdata[2];
  stride = a->pdata[3];
  if (storage->kind != VALUE_STORAGE || !int_arg (a->pdata[1], &offset)
      || offset < 0 || size->kind != VALUE_TUPLE
      || stride->kind != VALUE_TUPLE
      || ((Value *) a->pdata[4])->kind != VALUE_BOOL) {
    set_error (u, error, HART_ERROR_FORMAT,
        "_rebuild_tensor_v2 at offset %" G_GSIZE_FORMAT " expects (storage, "
        "offset >= 0, size tuple, stride tuple, bool, hooks), found (%s, %s, "
        "%s, %s, %s, ...)", u->op_pos, value_kind_name (storage),
        value_kind_name (a->pdata[1]), value_kind_name (size),
        value_kind_name (stride), value_kind_name (a->pdata[4]));
    return NULL;
  }
  if (size->items->len > HART_MAX_DIMS) {
    set_error (u, error, HART_ERROR_LIMIT,
        "tensor at offset %" G_GSIZE_FORMAT " has %u dims, at most %d are "
        "supported", u->op_pos, size->items->len, HART_MAX_DIMS);
    return NULL;
  }
  if (stride->items->len != size->items->len) {
    set_error (u, error, HART_ERROR_FORMAT,
        "tensor at offset %" G_GSIZE_FORMAT " has %u sizes but %u strides",
        u->op_pos, size->items->len, stride->items->len);
    return NULL;
  }
  /* Backward hooks would need code; only an empty dict (or None) is fine. */
  {
    Value *hooks = a->pdata[5];

    if (!(hooks->kind == VALUE_NONE || (hooks->kind == VALUE_DICT
                && hooks->dict.keys->len == 0))) {
      set_error (u, error, HART_ERROR_FORBIDDEN,
          "tensor at offset %" G_GSIZE_FORMAT " has backward hooks (%s); "
          "only an empty hook dict is accepted", u->op_pos,
          value_kind_name (hooks));
      return NULL;
    }
  }

  t = g_new0 (HartPickleTensor, 1);
  t->dtype = storage->storage.dtype;
  t->ndim = size->items->len;
  t->storage_key = g_strdup (storage->storage.key);
  t->storage_offset = offset;
  t->storage_numel = storage->storage.numel;
  for (int d = 0; d < t->ndim; d++) {
    gint64 dim, step;

    if (!int_arg (size->items->pdata[d], &dim) || dim < 0
        || !int_arg (stride->items->pdata[d], &step)) {
      set_error (u, error, HART_ERROR_FORMAT,
          "tensor at offset %" G_GSIZE_FORMAT ": size and stride %d must be "
          "integers (size >= 0)", u->op_pos, d);
      hart_pickle_tensor_free (t);
      return NULL;
    }
    t->shape[d] = dim;
    t->stride[d] = step;
  }
  v = new_value (u, VALUE_TENSOR, error);
  if (v == NULL) {
    hart_pickle_tensor_free (t);
    return NULL;
  }
  v->tensor = t;
  return v;
}

/* *INDENT-OFF* */
/* GNU indent 2.2.12 loses the case structure of this switch (every
 * following function is misindented) */
static Value *
reduce (Unpickler * u, Value * callable, Value * args, GError ** error)
{
  if (callable->kind != VALUE_GLOBAL || args->kind != VALUE_TUPLE) {
    set_error (u, error, HART_ERROR_FORMAT,
        "pickle REDUCE at offset %" G_GSIZE_FORMAT " applies %s to %s; only "
        "an allowed global applied to a tuple is supported", u->op_pos,
        value_kind_name (callable), value_kind_name (args));
    return NULL;
  }
  switch (callable->global.kind) {
    case GLOBAL_ORDERED_DICT:
      if (args->items->len != 0) {
        set_error (u, error, HART_ERROR_FORMAT,
            "OrderedDict at offset %" G_GSIZE_FORMAT " built with %u "
            "arguments; only OrderedDict() is supported", u->op_pos,
            args->items->len);
        return NULL;
      }
      return new_value (u, VALUE_DICT, error);
    case GLOBAL_REBUILD_TENSOR_V2:
      return rebuild_tensor (u, args, error);
    case GLOBAL_REBUILD_PARAMETER:
      /* (tensor, requires_grad, backward_hooks): a Parameter is its data. */
      if (args->items->len != 3
          || ((Value *) args->items->pdata[0])->kind != VALUE_TENSOR) {
        set_error (u, error, HART_ERROR_FORMAT,
            "_rebuild_parameter at offset %" G_GSIZE_FORMAT " must wrap a "
            "tensor (3 arguments), found %u arguments", u->op_pos,
            args->items->len);
        return NULL;
      }
      return args->items->pdata[0];
    case GLOBAL_STORAGE_CLASS:
    default:
      set_error (u, error, HART_ERROR_FORBIDDEN,
          "pickle REDUCE at offset %" G_GSIZE_FORMAT " calls %s, which is "
          "only accepted inside a storage persistent id", u->op_pos,
          callable->global.qualified_name);
      return NULL;
  }
}
/* *INDENT-ON* */

/* BINPERSID: ('storage', storage_class, key, location, numel). */
static Value *
persistent_load (Unpickler * u, Value * pid, GError ** error)
{
  Value *tag, *klass, *key, *location, *numel, *v;

  if (pid->kind != VALUE_TUPLE || pid->items->len != 5) {
    set_error (u, error, HART_ERROR_FORMAT,
        "persistent id at offset %" G_GSIZE_FORMAT " must be a 5-tuple "
        "('storage', type, key, location, numel), found %s", u->op_pos,
        value_kind_name (pid));
    return NULL;
  }
  tag = pid->items->pdata[0];
  klass = pid->items->pdata[1];
  key = pid->items->pdata[2];
  location = pid->items->pdata[3];
  numel = pid->items->pdata[4];
  if (tag->kind != VALUE_STRING || strcmp (tag->string.str, "storage") != 0
      || klass->kind != VALUE_GLOBAL
      || klass->global.kind != GLOBAL_STORAGE_CLASS
      || key->kind != VALUE_STRING || location->kind != VALUE_STRING
      || numel->kind != VALUE_INT || numel->integer < 0) {
    set_error (u, error, HART_ERROR_FORMAT,
        "persistent id at offset %" G_GSIZE_FORMAT " must be ('storage', "
        "<torch storage class>, key str, location str, numel >= 0), found "
        "(%s, %s, %s, %s, %s)", u->op_pos, value_kind_name (tag),
        value_kind_name (klass), value_kind_name (key),
        value_kind_name (location), value_kind_name (numel));
    return NULL;
  }
  /* The key names a zip entry: keep it to a plain token so that it can
   * never address anything outside "<prefix>/data/". */
  if (key->string.len == 0 || key->string.len > 64) {
    set_error (u, error, HART_ERROR_FORMAT,
        "storage key at offset %" G_GSIZE_FORMAT " has %" G_GSIZE_FORMAT
        " bytes (expected 1 to 64)", u->op_pos, key->string.len);
    return NULL;
  }
  for (gsize i = 0; i < key->string.len; i++) {
    char c = key->string.str[i];

    if (!g_ascii_isalnum (c) && c != '_') {
      char *shown = g_strescape (key->string.str, NULL);

      set_error (u, error, HART_ERROR_FORMAT,
          "storage key \"%s\" at offset %" G_GSIZE_FORMAT " is not a plain "
          "name (letters, digits, '_')", shown, u->op_pos);
      g_free (shown);
      return NULL;
    }
  }
  v = new_value (u, VALUE_STORAGE, error);
  if (v == NULL)
    return NULL;
  v->storage.dtype = klass->global.dtype;
  v->storage.key = g_strdup (key->string.str);
  v->storage.numel = numel->integer;
  return v;
}

/* ---- the machine ---- */

static gboolean
memo_put (Unpickler * u, guint64 index, GError ** error)
{
  Value *v = top (u, u->data[u->op_pos], error);

  if (v == NULL)
    return FALSE;
  if (index > G_MAXUINT32) {
    set_error (u, error, HART_ERROR_LIMIT,
        "pickle memo index %" G_GUINT64_FORMAT " is too large", index);
    return FALSE;
  }
  if (!g_hash_table_contains (u->memo, GUINT_TO_POINTER ((guint) index))
      && g_hash_table_size (u->memo) >= u->limits.max_memo) {
    set_error (u, error, HART_ERROR_LIMIT,
        "pickle memo holds more than %u entries (offset %" G_GSIZE_FORMAT
        ")", u->limits.max_memo, u->op_pos);
    return FALSE;
  }
  g_hash_table_insert (u->memo, GUINT_TO_POINTER ((guint) index), v);
  return TRUE;
}

static gboolean
memo_get (Unpickler * u, guint64 index, GError ** error)
{
  Value *v = NULL;

  if (index <= G_MAXUINT32)
    v = g_hash_table_lookup (u->memo, GUINT_TO_POINTER ((guint) index));
  if (v == NULL) {
    set_error (u, error, HART_ERROR_FORMAT,
        "pickle memo entry %" G_GUINT64_FORMAT " read at offset %"
        G_GSIZE_FORMAT " was never stored", index, u->op_pos);
    return FALSE;
  }
  return push (u, v, error);
}

static Value *
make_tuple (Unpickler * u, guint start, GError ** error)
{
  Value *v = new_value (u, VALUE_TUPLE, error);

  if (v == NULL)
    return NULL;
  for (guint i = start; i < u->stack->len; i++)
    g_ptr_array_add (v->items, u->stack->pdata[i]);
  truncate_stack (u, start);
  return v;
}

/* Runs the pickle; returns the value left by STOP. */
static Value *
run (Unpickler * u, GError ** error)
{
  while (u->pos < u->size) {
    guint8 op = u->data[u->pos];
    guint start;
    Value *v, *w, *x;

    u->op_pos = u->pos;
    u->pos++;
    switch (op) {
      case OP_PROTO:
        if (!need_bytes (u, 1, op, error))
          return NULL;
        if (u->data[u->pos] > PICKLE_HIGHEST_PROTOCOL) {
          set_error (u, error, HART_ERROR_UNSUPPORTED,
              "pickle protocol %u is not supported (at most %d)",
              u->data[u->pos], PICKLE_HIGHEST_PROTOCOL);
          return NULL;
        }
        u->pos++;
        break;
      case OP_FRAME:           /* a size hint, nothing to do */
        if (!need_bytes (u, 8, op, error))
          return NULL;
        if (read_le (u->data + u->pos, 8) > u->size - u->pos - 8) {
          set_error (u, error, HART_ERROR_FORMAT,
              "pickle truncated: FRAME at offset %" G_GSIZE_FORMAT
              " is longer than the rest of the data", u->op_pos);
          return NULL;
        }
        u->pos += 8;
        break;
      case OP_STOP:
        return pop (u, op, error);
      case OP_MARK:
        if (u->marks->len >= u->limits.max_marks) {
          set_error (u, error, HART_ERROR_LIMIT,
              "pickle nests more than %u MARKs (offset %" G_GSIZE_FORMAT ")",
              u->limits.max_marks, u->op_pos);
          return NULL;
        }
        g_array_append_val (u->marks, u->stack->len);
        break;
      case OP_POP:
        if (pop (u, op, error) == NULL)
          return NULL;
        break;
      case OP_POP_MARK:
        if (!pop_mark (u, op, &start, error))
          return NULL;
        truncate_stack (u, start);
        break;
      case OP_NONE:
        if (!push (u, new_value (u, VALUE_NONE, error), error))
          return NULL;
        break;
      case OP_NEWTRUE:
      case OP_NEWFALSE:
        v = new_value (u, VALUE_BOOL, error);
        if (v == NULL)
          return NULL;
        v->boolean = op == OP_NEWTRUE;
        if (!push (u, v, error))
          return NULL;
        break;
      case OP_BININT:          /* signed 32-bit */
      case OP_BININT1:         /* unsigned 8-bit */
      case OP_BININT2:{        /* unsigned 16-bit */
        int n = op == OP_BININT ? 4 : op == OP_BININT1 ? 1 : 2;

        if (!need_bytes (u, n, op, error))
          return NULL;
        v = new_value (u, VALUE_INT, error);
        if (v == NULL)
          return NULL;
        v->integer = read_le (u->data + u->pos, n);
        if (op == OP_BININT)
          v->integer = (gint32) (guint32) v->integer;
        u->pos += n;
        if (!push (u, v, error))
          return NULL;
        break;
      }
      case OP_LONG1:{          /* n-byte two's complement, LE */
        guint n;
        guint64 bits;

        if (!need_bytes (u, 1, op, error))
          return NULL;
        n = u->data[u->pos++];
        if (!need_bytes (u, n, op, error))
          return NULL;
        if (n > 8) {
          set_error (u, error, HART_ERROR_UNSUPPORTED,
              "pickle LONG1 at offset %" G_GSIZE_FORMAT " has %u bytes; "
              "integers beyond 64 bits are not supported", u->op_pos, n);
          return NULL;
        }
        bits = n ? read_le (u->data + u->pos, n) : 0;
        if (n > 0 && n < 8 && (u->data[u->pos + n - 1] & 0x80))
          bits |= ~G_GUINT64_CONSTANT (0) << (8 * n);   /* sign-extend */
        u->pos += n;
        v = new_value (u, VALUE_INT, error);
        if (v == NULL)
          return NULL;
        v->integer = (gint64) bits;
        if (!push (u, v, error))
          return NULL;
        break;
      }
      case OP_BINFLOAT:{       /* big-endian double */
        guint64 bits = 0;

        if (!need_bytes (u, 8, op, error))
          return NULL;
        for (int i = 0; i < 8; i++)
          bits = (bits << 8) | u->data[u->pos + i];
        u->pos += 8;
        v = new_value (u, VALUE_FLOAT, error);
        if (v == NULL)
          return NULL;
        memcpy (&v->real, &bits, sizeof bits);
        if (!push (u, v, error))
          return NULL;
        break;
      }
      case OP_BINUNICODE:
      case OP_SHORT_BINUNICODE:
      case OP_BINUNICODE8:
        v = read_string (u, op, op == OP_BINUNICODE ? 4
            : op == OP_SHORT_BINUNICODE ? 1 : 8, error);
        if (!push (u, v, error))
          return NULL;
        break;
      case OP_EMPTY_DICT:
        if (!push (u, new_value (u, VALUE_DICT, error), error))
          return NULL;
        break;
      case OP_EMPTY_LIST:
        if (!push (u, new_value (u, VALUE_LIST, error), error))
          return NULL;
        break;
      case OP_EMPTY_TUPLE:
        if (!push (u, new_value (u, VALUE_TUPLE, error), error))
          return NULL;
        break;
      case OP_TUPLE:
        if (!pop_mark (u, op, &start, error))
          return NULL;
        if (!push (u, make_tuple (u, start, error), error))
          return NULL;
        break;
      case OP_TUPLE1:
      case OP_TUPLE2:
      case OP_TUPLE3:{
        guint n = op - OP_TUPLE1 + 1;

        if (u->stack->len < stack_floor (u) + n) {
          set_error (u, error, HART_ERROR_FORMAT,
              "pickle stack underflow: %s at offset %" G_GSIZE_FORMAT
              " needs %u values", opcode_name (op), u->op_pos, n);
          return NULL;
        }
        if (!push (u, make_tuple (u, u->stack->len - n, error), error))
          return NULL;
        break;
      }
      case OP_LIST:
        if (!pop_mark (u, op, &start, error))
          return NULL;
        v = make_tuple (u, start, error);
        if (v == NULL)
          return NULL;
        v->kind = VALUE_LIST;
        if (!push (u, v, error))
          return NULL;
        break;
      case OP_DICT:
        if (!pop_mark (u, op, &start, error))
          return NULL;
        if ((u->stack->len - start) % 2 != 0) {
          set_error (u, error, HART_ERROR_FORMAT,
              "pickle DICT at offset %" G_GSIZE_FORMAT " has an odd number "
              "of items", u->op_pos);
          return NULL;
        }
        v = new_value (u, VALUE_DICT, error);
        if (v == NULL)
          return NULL;
        for (guint i = start; i < u->stack->len; i += 2)
          dict_set (u, v, u->stack->pdata[i], u->stack->pdata[i + 1], error);
        truncate_stack (u, start);
        if (!push (u, v, error))
          return NULL;
        break;
      case OP_BINPUT:
        if (!need_bytes (u, 1, op, error))
          return NULL;
        if (!memo_put (u, u->data[u->pos++], error))
          return NULL;
        break;
      case OP_LONG_BINPUT:
        if (!need_bytes (u, 4, op, error))
          return NULL;
        u->pos += 4;
        if (!memo_put (u, read_le (u->data + u->pos - 4, 4), error))
          return NULL;
        break;
      case OP_MEMOIZE:
        if (!memo_put (u, g_hash_table_size (u->memo), error))
          return NULL;
        break;
      case OP_BINGET:
        if (!need_bytes (u, 1, op, error))
          return NULL;
        if (!memo_get (u, u->data[u->pos++], error))
          return NULL;
        break;
      case OP_LONG_BINGET:
        if (!need_bytes (u, 4, op, error))
          return NULL;
        u->pos += 4;
        if (!memo_get (u, read_le (u->data + u->pos - 4, 4), error))
          return NULL;
        break;
      case OP_SETITEM:         /* dict key value */
        if ((w = pop (u, op, error)) == NULL || (v = pop (u, op, error)) == NULL
            || (x = top (u, op, error)) == NULL)
          return NULL;
        if (x->kind != VALUE_DICT) {
          set_error (u, error, HART_ERROR_FORMAT,
              "pickle SETITEM at offset %" G_GSIZE_FORMAT " on a %s, not a "
              "dict", u->op_pos, value_kind_name (x));
          return NULL;
        }
        dict_set (u, x, v, w, error);
        break;
      case OP_SETITEMS:        /* dict MARK k v k v ... */
        if (!pop_mark (u, op, &start, error))
          return NULL;
        if (start <= stack_floor (u)
            || ((Value *) u->stack->pdata[start - 1])->kind != VALUE_DICT
            || (u->stack->len - start) % 2 != 0) {
          set_error (u, error, HART_ERROR_FORMAT,
              "pickle SETITEMS at offset %" G_GSIZE_FORMAT " needs a dict "
              "and key/value pairs", u->op_pos);
          return NULL;
        }
        x = u->stack->pdata[start - 1];
        for (guint i = start; i < u->stack->len; i += 2)
          dict_set (u, x, u->stack->pdata[i], u->stack->pdata[i + 1], error);
        truncate_stack (u, start);
        break;
      case OP_APPEND:          /* list value */
        if ((v = pop (u, op, error)) == NULL
            || (x = top (u, op, error)) == NULL)
          return NULL;
        if (x->kind != VALUE_LIST) {
          set_error (u, error, HART_ERROR_FORMAT,
              "pickle APPEND at offset %" G_GSIZE_FORMAT " on a %s, not a "
              "list", u->op_pos, value_kind_name (x));
          return NULL;
        }
        g_ptr_array_add (x->items, v);
        break;
      case OP_APPENDS:         /* list MARK values... */
        if (!pop_mark (u, op, &start, error))
          return NULL;
        if (start <= stack_floor (u)
            || ((Value *) u->stack->pdata[start - 1])->kind != VALUE_LIST) {
          set_error (u, error, HART_ERROR_FORMAT,
              "pickle APPENDS at offset %" G_GSIZE_FORMAT " needs a list",
              u->op_pos);
          return NULL;
        }
        x = u->stack->pdata[start - 1];
        for (guint i = start; i < u->stack->len; i++)
          g_ptr_array_add (x->items, u->stack->pdata[i]);
        truncate_stack (u, start);
        break;
      case OP_GLOBAL:{         /* "module\nname\n" */
        char *module = read_line (u, op, error);
        char *name = module ? read_line (u, op, error) : NULL;

        v = name ? resolve_global (u, module, name, error) : NULL;
        g_free (module);
        g_free (name);
        if (!push (u, v, error))
          return NULL;
        break;
      }
      case OP_STACK_GLOBAL:    /* module name */
        if ((w = pop (u, op, error)) == NULL
            || (v = pop (u, op, error)) == NULL)
          return NULL;
        if (v->kind != VALUE_STRING || w->kind != VALUE_STRING) {
          set_error (u, error, HART_ERROR_FORMAT,
              "pickle STACK_GLOBAL at offset %" G_GSIZE_FORMAT " needs two "
              "strings", u->op_pos);
          return NULL;
        }
        if (!push (u, resolve_global (u, v->string.str, w->string.str,
                    error), error))
          return NULL;
        break;
      case OP_REDUCE:          /* callable args */
        if ((w = pop (u, op, error)) == NULL
            || (v = pop (u, op, error)) == NULL)
          return NULL;
        if (!push (u, reduce (u, v, w, error), error))
          return NULL;
        break;
      case OP_BINPERSID:
        if ((v = pop (u, op, error)) == NULL)
          return NULL;
        if (!push (u, persistent_load (u, v, error), error))
          return NULL;
        break;
      case OP_BUILD:           /* obj state */
        if ((w = pop (u, op, error)) == NULL
            || (x = top (u, op, error)) == NULL)
          return NULL;
        /* state_dict() sets `_metadata` on its OrderedDict; the state is
         * versioning information we do not need. */
        if (x->kind != VALUE_DICT) {
          set_error (u, error, HART_ERROR_FORBIDDEN,
              "pickle BUILD at offset %" G_GSIZE_FORMAT " on a %s; only "
              "OrderedDict state is accepted", u->op_pos, value_kind_name (x));
          return NULL;
        }
        break;
      default:{
        const char *name = opcode_name (op);

        if (name != NULL)
          set_error (u, error, HART_ERROR_FORBIDDEN,
              "pickle opcode %s (0x%02x) at offset %" G_GSIZE_FORMAT " is not "
              "supported (only tensor state-dict opcodes are accepted)", name,
              op, u->op_pos);
        else
          set_error (u, error, HART_ERROR_FORMAT,
              "unknown pickle opcode 0x%02x at offset %" G_GSIZE_FORMAT, op,
              u->op_pos);
        return NULL;
      }
    }
  }
  set_error (u, error, HART_ERROR_FORMAT,
      "pickle truncated: %" G_GSIZE_FORMAT " bytes end without STOP", u->size);
  return NULL;
}

GPtrArray *
hart_pickle_load_state_dict (const guint8 * data, gsize size,
    const char *label, const HartPickleLimits * limits, GError ** error)
{
  Unpickler u = { 0 };
  GPtrArray *result = NULL;
  Value *root;

  u.data = data;
  u.size = size;
  u.label = label;
  if (limits)
    u.limits = *limits;
  else
    hart_pickle_limits_init (&u.limits);
  u.arena = g_ptr_array_new_with_free_func (value_free);
  u.stack = g_ptr_array_new ();
  u.marks = g_array_new (FALSE, FALSE, sizeof (guint));
  u.memo = g_hash_table_new (g_direct_hash, g_direct_equal);

  root = run (&u, error);
  if (root == NULL)
    goto out;
  if (root->kind != VALUE_DICT) {
    set_error (&u, error, HART_ERROR_FORMAT,
        "pickle holds a %s; expected a state dict (name -> tensor)",
        value_kind_name (root));
    goto out;
  }

  result = g_ptr_array_new_with_free_func ((GDestroyNotify)
      hart_pickle_tensor_free);
  for (guint i = 0; i < root->dict.keys->len; i++) {
    Value *key = root->dict.keys->pdata[i];
    Value *value = root->dict.values->pdata[i];
    HartPickleTensor *t;

    if (key->kind != VALUE_STRING) {
      set_error (&u, error, HART_ERROR_FORMAT,
          "state dict key %u is of type %s, not a string", i,
          value_kind_name (key));
      g_clear_pointer (&result, g_ptr_array_unref);
      goto out;
    }
    if (value->kind != VALUE_TENSOR) {
      set_error (&u, error, HART_ERROR_UNSUPPORTED,
          "state dict entry \"%s\" holds a value of type %s, not a tensor "
          "(only a flat dict of tensors is supported)", key->string.str,
          value_kind_name (value));
      g_clear_pointer (&result, g_ptr_array_unref);
      goto out;
    }
    /* A tensor value may be shared by two keys (tied weights): copy. */
    t = g_memdup2 (value->tensor, sizeof *t);
    t->name = g_strdup (key->string.str);
    t->storage_key = g_strdup (value->tensor->storage_key);
    g_ptr_array_add (result, t);
  }

out:
  g_hash_table_unref (u.memo);
  g_array_unref (u.marks);
  g_ptr_array_unref (u.stack);
  g_ptr_array_unref (u.arena);
  return result;
}
