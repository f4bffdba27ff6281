/* gst-hart — the restricted unpickler on hand-built byte strings
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pickles are assembled here opcode by opcode (the byte values are those of
 * CPython's Lib/pickle.py), in the shape torch.save writes them, then bent:
 * forbidden globals, refused opcodes, bounds, truncations and random
 * damage.  A refusal must be a GError in the HART_ERROR domain whose
 * message starts with the label; nothing may crash or leak (run under
 * valgrind).
 */
#include "hart/pickle.h"
#include "hart/error.h"

#include <string.h>

#define LABEL "test.bin: archive/data.pkl"

/* ---- a tiny pickle assembler ---- */

static void
put (GByteArray * b, const void *bytes, gsize n)
{
  g_byte_array_append (b, bytes, n);
}

static void
op (GByteArray * b, guint8 code)
{
  put (b, &code, 1);
}

static void
le (GByteArray * b, guint64 value, int n)
{
  for (int i = 0; i < n; i++)
    op (b, (value >> (8 * i)) & 0xff);
}

static void
binunicode (GByteArray * b, const char *s)
{
  op (b, 'X');
  le (b, strlen (s), 4);
  put (b, s, strlen (s));
}

static void
short_binunicode (GByteArray * b, const char *s)
{
  op (b, 0x8c);
  le (b, strlen (s), 1);
  put (b, s, strlen (s));
}

static void global (GByteArray * b, const char *module, const char *name)
{
  op (b, 'c');
  put (b, module, strlen (module));
  op (b, '\n');
  put (b, name, strlen (name));
  op (b, '\n');
}

static void
stack_global (GByteArray * b, const char *module, const char *name)
{
  short_binunicode (b, module);
  short_binunicode (b, name);
  op (b, 0x93);
}

static void
integer (GByteArray * b, gint64 value)
{
  if (value >= 0 && value < 256) {
    op (b, 'K');
    le (b, value, 1);
  } else if (value >= 0 && value < 65536) {
    op (b, 'M');
    le (b, value, 2);
  } else if (value >= G_MININT32 && value <= G_MAXINT32) {
    op (b, 'J');
    le (b, (guint32) value, 4);
  } else {
    op (b, 0x8a);               /* LONG1, 8 bytes two's complement */
    op (b, 8);
    le (b, (guint64) value, 8);
  }
}

static void
ordered_dict (GByteArray * b)
{
  global (b, "collections", "OrderedDict");
  op (b, ')');
  op (b, 'R');
}

/* torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False,
 * OrderedDict()), optionally wrapped in _rebuild_parameter. */
static void
tensor (GByteArray * b, const char *storage_class, const char *key,
    gint64 numel, gint64 offset, int ndim, const gint64 * shape,
    const gint64 * stride, gboolean parameter)
{
  if (parameter)
    global (b, "torch._utils", "_rebuild_parameter");
  if (parameter)
    op (b, '(');
  global (b, "torch._utils", "_rebuild_tensor_v2");
  op (b, '(');
  op (b, '(');
  binunicode (b, "storage");
  global (b, "torch", storage_class);
  binunicode (b, key);
  binunicode (b, "cpu");
  integer (b, numel);
  op (b, 't');
  op (b, 'Q');
  integer (b, offset);
  op (b, '(');
  for (int d = 0; d < ndim; d++)
    integer (b, shape[d]);
  op (b, 't');
  op (b, '(');
  for (int d = 0; d < ndim; d++)
    integer (b, stride[d]);
  op (b, 't');
  op (b, 0x89);
  ordered_dict (b);
  op (b, 't');
  op (b, 'R');
  if (parameter) {
    op (b, 0x88);
    ordered_dict (b);
    op (b, 't');
    op (b, 'R');
  }
}

static GByteArray *
begin_state_dict (void)
{
  GByteArray *b = g_byte_array_new ();

  op (b, 0x80);
  op (b, 2);
  ordered_dict (b);
  op (b, 'q');
  op (b, 0);
  op (b, '(');
  return b;
}

/* SETITEMS, the _metadata BUILD that state_dict() adds, STOP. */
static void
end_state_dict (GByteArray * b)
{
  op (b, 'u');
  op (b, '}');
  binunicode (b, "_metadata");
  ordered_dict (b);
  binunicode (b, "");
  op (b, '}');
  binunicode (b, "version");
  integer (b, 1);
  op (b, 's');
  op (b, 's');
  op (b, 's');
  op (b, 'b');
  op (b, '.');
}

/* {"encoder.weight": Parameter(F32 [2, 3]), "encoder.bias": BF16 [3] at
 * element offset 5 of storage "1"} */
static GByteArray *
torch_state (void)
{
  static const gint64 shape_w[] = { 2, 3 }, stride_w[] = { 3, 1 },
      shape_b[] = { 3 }, stride_b[] = { 1 };
  GByteArray *b = begin_state_dict ();

  binunicode (b, "encoder.weight");
  tensor (b, "FloatStorage", "0", 6, 0, 2, shape_w, stride_w, TRUE);
  binunicode (b, "encoder.bias");
  tensor (b, "BFloat16Storage", "1", 8, 5, 1, shape_b, stride_b, FALSE);
  end_state_dict (b);
  return b;
}

/* ---- helpers ---- */

static GPtrArray *
load (GByteArray * b, const HartPickleLimits * limits, GError ** error)
{
  return hart_pickle_load_state_dict (b->data, b->len, LABEL, limits, error);
}

static void
expect_error (GByteArray * b, const HartPickleLimits * limits, int code,
    const char *substring)
{
  GError *error = NULL;
  GPtrArray *tensors = load (b, limits, &error);

  g_assert_null (tensors);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, HART_ERROR, code);
  g_assert_true (g_str_has_prefix (error->message, LABEL ": "));
  if (substring && strstr (error->message, substring) == NULL)
    g_test_fail_printf ("message \"%s\" lacks \"%s\"", error->message,
        substring);
  g_error_free (error);
}

static void
expect_bytes_error (const char *bytes, gsize n, int code, const char *substring)
{
  GByteArray *b = g_byte_array_new ();

  put (b, bytes, n);
  expect_error (b, NULL, code, substring);
  g_byte_array_unref (b);
}

#define EXPECT_BYTES_ERROR(literal, code, substring) \
  expect_bytes_error (literal, sizeof (literal) - 1, code, substring)

static const HartPickleTensor *
find (GPtrArray * tensors, const char *name)
{
  for (guint i = 0; i < tensors->len; i++) {
    const HartPickleTensor *t = tensors->pdata[i];

    if (strcmp (t->name, name) == 0)
      return t;
  }
  g_test_fail_printf ("no tensor %s", name);
  return NULL;
}

/* ---- accepted ---- */

static void
test_accept_torch_state (void)
{
  GByteArray *b = torch_state ();
  GError *error = NULL;
  GPtrArray *tensors = load (b, NULL, &error);
  const HartPickleTensor *w, *bias;

  g_assert_no_error (error);
  g_assert_cmpuint (tensors->len, ==, 2);
  /* Pickle order is kept. */
  g_assert_cmpstr (((HartPickleTensor *) tensors->pdata[0])->name, ==,
      "encoder.weight");
  w = find (tensors, "encoder.weight");
  g_assert_cmpint (w->dtype, ==, HART_DTYPE_F32);
  g_assert_cmpint (w->ndim, ==, 2);
  g_assert_cmpint (w->shape[0], ==, 2);
  g_assert_cmpint (w->shape[1], ==, 3);
  g_assert_cmpint (w->stride[0], ==, 3);
  g_assert_cmpint (w->stride[1], ==, 1);
  g_assert_cmpstr (w->storage_key, ==, "0");
  g_assert_cmpuint (w->storage_offset, ==, 0);
  g_assert_cmpuint (w->storage_numel, ==, 6);

  bias = find (tensors, "encoder.bias");
  g_assert_cmpint (bias->dtype, ==, HART_DTYPE_BF16);
  g_assert_cmpint (bias->ndim, ==, 1);
  g_assert_cmpint (bias->shape[0], ==, 3);
  g_assert_cmpstr (bias->storage_key, ==, "1");
  g_assert_cmpuint (bias->storage_offset, ==, 5);
  g_assert_cmpuint (bias->storage_numel, ==, 8);

  g_ptr_array_unref (tensors);
  g_byte_array_unref (b);
}

/* Every storage class maps to its dtype. */
static void
test_accept_storage_classes (void)
{
  static const struct
  {
    const char *klass;
    HartDType dtype;
  } classes[] = {
    {"FloatStorage", HART_DTYPE_F32}, {"HalfStorage", HART_DTYPE_F16},
    {"BFloat16Storage", HART_DTYPE_BF16}, {"DoubleStorage", HART_DTYPE_F64},
    {"LongStorage", HART_DTYPE_I64}, {"IntStorage", HART_DTYPE_I32},
    {"ShortStorage", HART_DTYPE_I16}, {"CharStorage", HART_DTYPE_I8},
    {"ByteStorage", HART_DTYPE_U8}, {"BoolStorage", HART_DTYPE_BOOL},
  };
  static const gint64 shape[] = { 4 }, stride[] = { 1 };

  for (guint i = 0; i < G_N_ELEMENTS (classes); i++) {
    GByteArray *b = begin_state_dict ();
    GError *error = NULL;
    GPtrArray *tensors;

    binunicode (b, "t");
    tensor (b, classes[i].klass, "k", 4, 0, 1, shape, stride, FALSE);
    end_state_dict (b);
    tensors = load (b, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (tensors->len, ==, 1);
    g_assert_cmpint (((HartPickleTensor *) tensors->pdata[0])->dtype, ==,
        classes[i].dtype);
    g_ptr_array_unref (tensors);
    g_byte_array_unref (b);
  }
}

/* What a protocol-4 writer emits: FRAME, SHORT_BINUNICODE, STACK_GLOBAL,
 * MEMOIZE; plus a plain dict, a tied weight shared through the memo, large
 * integers and a _metadata state holding lists, floats and None. */
static void
test_accept_protocol4 (void)
{
  GByteArray *b = g_byte_array_new ();
  GError *error = NULL;
  GPtrArray *tensors;
  const HartPickleTensor *t;

  op (b, 0x80);
  op (b, 4);
  op (b, 0x95);
  le (b, 0, 8);                 /* FRAME length, patched below */
  op (b, '}');
  op (b, 0x94);                 /* memo 0: the dict */
  short_binunicode (b, "big");
  stack_global (b, "torch._utils", "_rebuild_tensor_v2");
  op (b, 0x94);                 /* memo 1 */
  op (b, '(');
  op (b, '(');
  short_binunicode (b, "storage");
  stack_global (b, "torch", "HalfStorage");
  short_binunicode (b, "data_7");
  short_binunicode (b, "cuda:0");
  integer (b, G_GINT64_CONSTANT (1) << 33);
  op (b, 't');
  op (b, 'Q');
  integer (b, G_GINT64_CONSTANT (1) << 32);     /* offset via LONG1 */
  integer (b, 70000);           /* BININT */
  integer (b, 2);
  op (b, 0x86);                 /* TUPLE2 */
  integer (b, 2);
  integer (b, 1);
  op (b, 0x86);
  op (b, 0x89);
  stack_global (b, "collections", "OrderedDict");
  op (b, ')');
  op (b, 'R');
  op (b, 't');
  op (b, 'R');
  op (b, 0x94);                 /* memo 2: the tensor */
  op (b, 's');                  /* dict["big"] = tensor */
  op (b, 0x8d);                 /* BINUNICODE8 */
  le (b, 4, 8);
  put (b, "tied", 4);
  op (b, 'h');
  op (b, 2);                    /* the same tensor again */
  op (b, 's');
  /* BUILD with a state that exercises the remaining value opcodes. */
  op (b, ']');
  op (b, '(');
  op (b, 'N');
  op (b, 'G');
  put (b, "\x3f\xf8\x00\x00\x00\x00\x00\x00", 8);       /* 1.5 */
  op (b, 0x88);
  op (b, 'J');
  le (b, (guint32) - 5, 4);
  op (b, 'e');                  /* APPENDS */
  op (b, 'b');
  op (b, '.');
  /* FRAME covers everything after its 8-byte length. */
  {
    guint64 frame = b->len - 11;

    for (int i = 0; i < 8; i++)
      b->data[3 + i] = (frame >> (8 * i)) & 0xff;
  }

  tensors = load (b, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tensors->len, ==, 2);
  t = find (tensors, "big");
  g_assert_cmpint (t->dtype, ==, HART_DTYPE_F16);
  g_assert_cmpint (t->shape[0], ==, 70000);
  g_assert_cmpint (t->shape[1], ==, 2);
  g_assert_cmpuint (t->storage_offset, ==, G_GUINT64_CONSTANT (1) << 32);
  g_assert_cmpuint (t->storage_numel, ==, G_GUINT64_CONSTANT (1) << 33);
  g_assert_cmpstr (t->storage_key, ==, "data_7");
  t = find (tensors, "tied");
  g_assert_cmpstr (t->storage_key, ==, "data_7");
  g_assert_cmpint (t->shape[0], ==, 70000);
  g_ptr_array_unref (tensors);
  g_byte_array_unref (b);
}

static void
test_accept_small_dicts (void)
{
  static const gint64 shape[] = { 1 }, stride[] = { 1 };
  GError *error = NULL;
  GPtrArray *tensors;
  GByteArray *b = g_byte_array_new ();

  put (b, "\x80\x02}.", 4);
  tensors = load (b, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tensors->len, ==, 0);
  g_ptr_array_unref (tensors);
  g_byte_array_unref (b);

  /* A key set twice keeps its last value, as in Python. */
  b = begin_state_dict ();
  binunicode (b, "w");
  tensor (b, "FloatStorage", "0", 1, 0, 1, shape, stride, FALSE);
  binunicode (b, "w");
  tensor (b, "FloatStorage", "1", 1, 0, 1, shape, stride, FALSE);
  end_state_dict (b);
  tensors = load (b, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tensors->len, ==, 1);
  g_assert_cmpstr (((HartPickleTensor *) tensors->pdata[0])->storage_key, ==,
      "1");
  g_ptr_array_unref (tensors);
  g_byte_array_unref (b);
}

/* ---- refused globals and opcodes ---- */

static void
test_refuse_globals (void)
{
  static const char *const forbidden[][2] = {
    {"os", "system"}, {"posix", "system"}, {"builtins", "eval"},
    {"builtins", "exec"}, {"__builtin__", "getattr"},
    {"subprocess", "Popen"}, {"torch", "load"},
    {"torch.storage", "_load_from_bytes"}, {"torch._utils",
        "_rebuild_tensor"}, {"torch", "Tensor"}, {"collections", "deque"},
    {"torch._utils", "_rebuild_parameter_x"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (forbidden); i++) {
    char *expected = g_strdup_printf ("pickle global \"%s.%s\" is not "
        "allowed (only tensor state-dict globals are accepted)",
        forbidden[i][0], forbidden[i][1]);
    GByteArray *b = g_byte_array_new ();

    /* GLOBAL, called on a string, as an exploit would. */
    put (b, "\x80\x02", 2);
    global (b, forbidden[i][0], forbidden[i][1]);
    binunicode (b, "echo pwned");
    op (b, 0x85);
    op (b, 'R');
    op (b, '.');
    expect_error (b, NULL, HART_ERROR_FORBIDDEN, expected);
    g_byte_array_set_size (b, 0);

    /* STACK_GLOBAL. */
    put (b, "\x80\x04", 2);
    stack_global (b, forbidden[i][0], forbidden[i][1]);
    op (b, '.');
    expect_error (b, NULL, HART_ERROR_FORBIDDEN, expected);
    g_byte_array_unref (b);
    g_free (expected);
  }

  /* Hidden after valid entries of a real-looking state dict. */
  {
    static const gint64 shape[] = { 1 }, stride[] = { 1 };
    GByteArray *b = begin_state_dict ();

    binunicode (b, "ok");
    tensor (b, "FloatStorage", "0", 1, 0, 1, shape, stride, FALSE);
    binunicode (b, "evil");
    global (b, "os", "system");
    end_state_dict (b);
    expect_error (b, NULL, HART_ERROR_FORBIDDEN, "\"os.system\"");
    g_byte_array_unref (b);
  }
  /* A name without its newline is truncation, not a lookup. */
  EXPECT_BYTES_ERROR ("\x80\x02" "cos\nsys", HART_ERROR_FORMAT,
      "no end of line");
}

static void
test_refuse_opcodes (void)
{
  static const struct
  {
    guint8 code;
    const char *name;
  } refused[] = {
    {'i', "INST"}, {'o', "OBJ"}, {0x81, "NEWOBJ"}, {0x92, "NEWOBJ_EX"},
    {'2', "DUP"}, {0x82, "EXT1"}, {'P', "PERSID"}, {'S', "STRING"},
    {0x8b, "LONG4"}, {'B', "BINBYTES"}, {0x8f, "EMPTY_SET"},
    {'I', "INT"}, {'g', "GET"}, {'p', "PUT"}, {0x97, "NEXT_BUFFER"},
  };
  static const guint8 unknown[] = { 0xff, 0x00, 'z', 0x99, 0xa0 };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
    GByteArray *b = g_byte_array_new ();
    char *expected = g_strdup_printf ("pickle opcode %s (0x%02x)",
        refused[i].name, refused[i].code);

    put (b, "\x80\x02N", 3);
    op (b, refused[i].code);
    put (b, "\0\0\0\0\0\0\0\0.", 9);
    expect_error (b, NULL, HART_ERROR_FORBIDDEN, expected);
    g_free (expected);
    g_byte_array_unref (b);
  }
  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++) {
    GByteArray *b = g_byte_array_new ();
    char *expected = g_strdup_printf ("unknown pickle opcode 0x%02x at "
        "offset 3", unknown[i]);

    put (b, "\x80\x02N", 3);
    op (b, unknown[i]);
    op (b, '.');
    expect_error (b, NULL, HART_ERROR_FORMAT, expected);
    g_free (expected);
    g_byte_array_unref (b);
  }
  EXPECT_BYTES_ERROR ("\x80\x06}.", HART_ERROR_UNSUPPORTED,
      "protocol 6 is not supported");
}

/* ---- bounds ---- */

static void
test_bounds_memo (void)
{
  HartPickleLimits limits;
  GByteArray *b = g_byte_array_new ();

  hart_pickle_limits_init (&limits);
  limits.max_memo = 2;
  /* Re-storing an index does not grow the memo... */
  put (b, "\x80\x02}q\x00q\x00q\x01q\x01.", 12);
  {
    GError *error = NULL;
    GPtrArray *tensors = load (b, &limits, &error);

    g_assert_no_error (error);
    g_ptr_array_unref (tensors);
  }
  /* ... a third index does. */
  g_byte_array_set_size (b, 0);
  put (b, "\x80\x02}q\x00q\x01r\x07\x00\x00\x00.", 13);
  expect_error (b, &limits, HART_ERROR_LIMIT, "memo holds more than 2");
  g_byte_array_set_size (b, 0);
  put (b, "\x80\x02}\x94\x94\x94.", 7);
  expect_error (b, &limits, HART_ERROR_LIMIT, "memo holds more than 2");
  g_byte_array_unref (b);

  EXPECT_BYTES_ERROR ("\x80\x02}q\x03h\x04.", HART_ERROR_FORMAT,
      "memo entry 4 read at offset 5 was never stored");
  EXPECT_BYTES_ERROR ("\x80\x02j\xff\xff\xff\xff.", HART_ERROR_FORMAT,
      "memo entry 4294967295");
  /* BINPUT with nothing to store. */
  EXPECT_BYTES_ERROR ("\x80\x02q\x00.", HART_ERROR_FORMAT, "underflow");
}

static void
test_bounds_stack (void)
{
  HartPickleLimits limits;
  GByteArray *b = g_byte_array_new ();

  hart_pickle_limits_init (&limits);
  limits.max_stack = 4;
  put (b, "\x80\x02NNNNN.", 8);
  expect_error (b, &limits, HART_ERROR_LIMIT, "stack deeper than 4");

  hart_pickle_limits_init (&limits);
  limits.max_marks = 3;
  g_byte_array_set_size (b, 0);
  put (b, "\x80\x02((((}.", 8);
  expect_error (b, &limits, HART_ERROR_LIMIT, "more than 3 MARKs");

  hart_pickle_limits_init (&limits);
  limits.max_values = 3;
  g_byte_array_set_size (b, 0);
  put (b, "\x80\x02N0N0N0N0}.", 12);
  expect_error (b, &limits, HART_ERROR_LIMIT, "more than 3 objects");
  g_byte_array_unref (b);

  /* Underflows, including below a MARK. */
  EXPECT_BYTES_ERROR ("\x80\x02.", HART_ERROR_FORMAT, "underflow");
  EXPECT_BYTES_ERROR ("\x80\x02}Ns.", HART_ERROR_FORMAT, "underflow");
  EXPECT_BYTES_ERROR ("\x80\x02N(\x85.", HART_ERROR_FORMAT, "underflow");
  EXPECT_BYTES_ERROR ("\x80\x02N(0.", HART_ERROR_FORMAT, "underflow");
  EXPECT_BYTES_ERROR ("\x80\x02}t.", HART_ERROR_FORMAT, "without a MARK");
  EXPECT_BYTES_ERROR ("\x80\x02}NNu.", HART_ERROR_FORMAT, "without a MARK");
  EXPECT_BYTES_ERROR ("\x80\x02(NNu.", HART_ERROR_FORMAT, "needs a dict");
  EXPECT_BYTES_ERROR ("\x80\x02}(Nu.", HART_ERROR_FORMAT, "needs a dict");
  EXPECT_BYTES_ERROR ("\x80\x02NNa.", HART_ERROR_FORMAT, "not a list");
  EXPECT_BYTES_ERROR ("\x80\x02NNNs.", HART_ERROR_FORMAT, "not a dict");
}

static void
test_bounds_strings (void)
{
  HartPickleLimits limits;
  GByteArray *b = g_byte_array_new ();

  /* Declared lengths beyond the data. */
  EXPECT_BYTES_ERROR ("\x80\x02X\xe8\x03\x00\x00" "abc", HART_ERROR_FORMAT,
      "BINUNICODE at offset 2 declares 1000 bytes but only 3 remain");
  EXPECT_BYTES_ERROR ("\x80\x04\x8d\x00\x00\x00\x00\x00\x00\x00\x80xy",
      HART_ERROR_FORMAT, "declares 9223372036854775808 bytes");
  EXPECT_BYTES_ERROR ("\x80\x04\x8c\x05" "ab", HART_ERROR_FORMAT,
      "declares 5 bytes");
  EXPECT_BYTES_ERROR ("\x80\x02X\x01\x00", HART_ERROR_FORMAT,
      "needs 4 bytes but only 2 remain");
  EXPECT_BYTES_ERROR ("\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00}.",
      HART_ERROR_FORMAT, "FRAME");
  EXPECT_BYTES_ERROR ("\x80\x02X\x02\x00\x00\x00\xff\xfe.", HART_ERROR_FORMAT,
      "not valid UTF-8");

  hart_pickle_limits_init (&limits);
  limits.max_string = 4;
  put (b, "\x80\x02X\x05\x00\x00\x00" "abcde.", 13);
  expect_error (b, &limits, HART_ERROR_LIMIT, "exceeds the limit of 4");
  g_byte_array_unref (b);

  /* GLOBAL names are bounded too. */
  b = g_byte_array_new ();
  put (b, "\x80\x02" "c", 3);
  for (int i = 0; i < 300; i++)
    op (b, 'a');
  put (b, "\nb\n.", 4);
  expect_error (b, NULL, HART_ERROR_LIMIT, "longer than 255 bytes");
  g_byte_array_unref (b);
}

/* ---- structure of the state dict ---- */

static void
test_structure (void)
{
  static const gint64 shape[] = { 2 }, stride[] = { 1 };
  static const gint64 neg[] = { -(G_GINT64_CONSTANT (1) << 40) };
  GByteArray *b;

  EXPECT_BYTES_ERROR ("\x80\x02]K\x01" "a.", HART_ERROR_FORMAT,
      "pickle holds a list; expected a state dict");
  /* A list that contains itself: must be refused and freed. */
  EXPECT_BYTES_ERROR ("\x80\x02]q\x00h\x00" "a.", HART_ERROR_FORMAT,
      "holds a list");
  EXPECT_BYTES_ERROR ("\x80\x02}X\x01\x00\x00\x00nK\x03s.",
      HART_ERROR_UNSUPPORTED,
      "entry \"n\" holds a value of type int, not a tensor");
  EXPECT_BYTES_ERROR ("\x80\x02}K\x01K\x03s.", HART_ERROR_FORMAT,
      "key 0 is of type int");
  EXPECT_BYTES_ERROR ("\x80\x02" "ccollections\nOrderedDict\nK\x01\x85R.",
      HART_ERROR_FORMAT, "only OrderedDict() is supported");
  EXPECT_BYTES_ERROR ("\x80\x02" "ctorch\nFloatStorage\n)R.",
      HART_ERROR_FORBIDDEN, "calls FloatStorage");
  EXPECT_BYTES_ERROR ("\x80\x02NK\x01\x85R.", HART_ERROR_FORMAT,
      "applies None to tuple");
  EXPECT_BYTES_ERROR ("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n)R.",
      HART_ERROR_FORMAT, "takes 6 or 7 arguments, found 0");
  EXPECT_BYTES_ERROR ("\x80\x02" "ctorch._utils\n_rebuild_parameter\n"
      "NN\x89\x87R.", HART_ERROR_FORMAT, "must wrap a tensor");
  EXPECT_BYTES_ERROR ("\x80\x02" "X\x03\x00\x00\x00" "abcQ.", HART_ERROR_FORMAT,
      "persistent id at offset 10 must be a 5-tuple");
  EXPECT_BYTES_ERROR ("\x80\x02(X\x03\x00\x00\x00" "bad"
      "ctorch\nFloatStorage\n"
      "X\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x01tQ.",
      HART_ERROR_FORMAT, "must be ('storage'");
  EXPECT_BYTES_ERROR ("\x80\x02]}b.", HART_ERROR_FORBIDDEN,
      "BUILD at offset 4 on a list");
  EXPECT_BYTES_ERROR ("\x80\x02\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09.",
      HART_ERROR_UNSUPPORTED, "beyond 64 bits");

  /* A negative size (LONG1) and a storage key that escapes its folder. */
  b = begin_state_dict ();
  binunicode (b, "t");
  tensor (b, "FloatStorage", "0", 2, 0, 1, neg, stride, FALSE);
  end_state_dict (b);
  expect_error (b, NULL, HART_ERROR_FORMAT, "size >= 0");
  g_byte_array_unref (b);

  b = begin_state_dict ();
  binunicode (b, "t");
  tensor (b, "FloatStorage", "../../etc/passwd", 2, 0, 1, shape, stride, FALSE);
  end_state_dict (b);
  expect_error (b, NULL, HART_ERROR_FORMAT, "storage key \"../../etc/passwd\"");
  g_byte_array_unref (b);

  {
    static const gint64 nine[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };

    b = begin_state_dict ();
    binunicode (b, "t");
    tensor (b, "FloatStorage", "0", 1, 0, 9, nine, nine, FALSE);
    end_state_dict (b);
    expect_error (b, NULL, HART_ERROR_LIMIT, "has 9 dims");
    g_byte_array_unref (b);
  }

  /* Backward hooks are code: refused. */
  b = begin_state_dict ();
  binunicode (b, "t");
  global (b, "torch._utils", "_rebuild_tensor_v2");
  op (b, '(');
  op (b, '(');
  binunicode (b, "storage");
  global (b, "torch", "FloatStorage");
  binunicode (b, "0");
  binunicode (b, "cpu");
  integer (b, 2);
  op (b, 't');
  op (b, 'Q');
  integer (b, 0);
  integer (b, 2);
  op (b, 0x85);
  integer (b, 1);
  op (b, 0x85);
  op (b, 0x89);
  op (b, '}');                  /* {1: 2}: a non-empty hook dict */
  integer (b, 1);
  integer (b, 2);
  op (b, 's');
  op (b, 't');
  op (b, 'R');
  end_state_dict (b);
  expect_error (b, NULL, HART_ERROR_FORBIDDEN, "backward hooks");
  g_byte_array_unref (b);
}

/* ---- damage ---- */

/* Every proper prefix of a valid pickle is refused; none crashes. */
static void
test_truncations (void)
{
  GByteArray *b = torch_state ();

  for (guint n = 0; n < b->len; n++) {
    GError *error = NULL;
    GPtrArray *tensors = hart_pickle_load_state_dict (b->data, n, LABEL, NULL,
        &error);

    if (tensors != NULL)
      g_test_fail_printf ("prefix of %u bytes was accepted", n);
    g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
    g_assert_true (g_str_has_prefix (error->message, LABEL));
    g_error_free (error);
  }
  g_byte_array_unref (b);
}

/* Random byte damage: either a result or an error, never a crash, a leak
 * or a result together with an error. */
static void
test_mutations (void)
{
  GByteArray *b = torch_state ();
  guint32 state = 12345;
  guint accepted = 0, refused = 0;

  for (int round = 0; round < 4000; round++) {
    GByteArray *copy = g_byte_array_sized_new (b->len);
    GError *error = NULL;
    GPtrArray *tensors;
    int n_flips = 1 + round % 3;

    put (copy, b->data, b->len);
    for (int f = 0; f < n_flips; f++) {
      state = state * 1664525u + 1013904223u;
      copy->data[(state >> 8) % copy->len] ^= 1u << ((state >> 4) % 8);
    }
    tensors = load (copy, NULL, &error);
    if (tensors != NULL) {
      g_assert_no_error (error);
      accepted++;
      g_ptr_array_unref (tensors);
    } else {
      g_assert_nonnull (error);
      g_assert_true (error->domain == HART_ERROR);
      refused++;
      g_error_free (error);
    }
    g_byte_array_unref (copy);
  }
  g_test_message ("damaged pickles: %u accepted, %u refused", accepted,
      refused);
  g_assert_cmpuint (refused, >, 0);
  g_byte_array_unref (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pickle/accept/torch-state", test_accept_torch_state);
  g_test_add_func ("/pickle/accept/storage-classes",
      test_accept_storage_classes);
  g_test_add_func ("/pickle/accept/protocol4", test_accept_protocol4);
  g_test_add_func ("/pickle/accept/small-dicts", test_accept_small_dicts);
  g_test_add_func ("/pickle/refuse/globals", test_refuse_globals);
  g_test_add_func ("/pickle/refuse/opcodes", test_refuse_opcodes);
  g_test_add_func ("/pickle/bounds/memo", test_bounds_memo);
  g_test_add_func ("/pickle/bounds/stack", test_bounds_stack);
  g_test_add_func ("/pickle/bounds/strings", test_bounds_strings);
  g_test_add_func ("/pickle/structure", test_structure);
  g_test_add_func ("/pickle/damage/truncations", test_truncations);
  g_test_add_func ("/pickle/damage/mutations", test_mutations);
  return g_test_run ();
}
