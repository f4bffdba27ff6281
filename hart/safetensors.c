/* gst-hart — safetensors reader (single file and sharded index)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layout of a .safetensors file:
 *   u64 little-endian N | N bytes of JSON header | data
 * The header maps each tensor name to {"dtype", "shape", "data_offsets":
 * [begin, end]} with offsets relative to the start of the data; the
 * optional "__metadata__" entry holds free-form strings.  The file is
 * mmapped; every number of the header is checked against the file before a
 * tensor entry is created, so reads never leave the mapping.
 *
 * A sharded checkpoint is "<name>.safetensors.index.json" with
 * {"weight_map": {tensor: shard file name}}; shards live beside the index.
 */
#include "hart/checkpoint-private.h"
#include "hart/file-read.h"
#include "hart/json-read.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* One validated header entry, before it becomes a HartTensorEntry. */
typedef struct
{
  const char *name;             /* owned by the JSON object */
  HartDType dtype;
  int ndim;
  int64_t shape[HART_MAX_DIMS];
  guint64 n_elements;
  guint64 n_bytes;
  guint64 begin;
  guint64 end;
} HeaderTensor;

static const char *
json_kind (JsonNode * node)
{
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:
      return "object";
    case JSON_NODE_ARRAY:
      return "array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
    default:
      return json_node_get_value_type (node) == G_TYPE_STRING ? "string" :
          "number or boolean";
  }
}

/* Parses `length` bytes of JSON that must be an object, within LIMITS
 * (hart/json-read.h: depth, value count, duplicate names at every level). */
static JsonParser *
parse_json_object (const char *path, const HartJsonLimits * limits,
    const char *text, gsize length, JsonObject ** root_out, GError ** error)
{
  JsonNode *root;
  JsonParser *parser = hart_json_parse (path, limits, text, length, &root,
      error);

  if (parser == NULL)
    return NULL;
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: %s is a JSON %s, expected an object", path, limits->what,
        root ? json_kind (root) : "nothing");
    g_object_unref (parser);
    return NULL;
  }
  *root_out = json_node_get_object (root);
  return parser;
}

typedef enum
{
  JSON_INT_OK,
  JSON_INT_NOT_INTEGER,
  JSON_INT_NEGATIVE,
} JsonIntResult;

static JsonIntResult
json_get_size (JsonNode * node, gint64 * out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return JSON_INT_NOT_INTEGER;
  *out = json_node_get_int (node);
  return *out < 0 ? JSON_INT_NEGATIVE : JSON_INT_OK;
}

static gboolean
parse_header_tensor (const char *path, const char *name, JsonNode * node,
    guint64 data_size, HeaderTensor * t, GError ** error)
{
  JsonObject *object;
  JsonNode *dtype_node, *shape_node, *offsets_node;
  JsonArray *shape, *offsets;
  const char *dtype_name;
  char shape_text[256];
  gint64 value[2];

  memset (t, 0, sizeof *t);
  t->name = name;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: tensor \"%s\": entry is a JSON %s, expected an object with "
        "dtype, shape and data_offsets", path, name, json_kind (node));
    return FALSE;
  }
  object = json_node_get_object (node);

  dtype_node = json_object_get_member (object, "dtype");
  if (dtype_node == NULL || !JSON_NODE_HOLDS_VALUE (dtype_node)
      || json_node_get_value_type (dtype_node) != G_TYPE_STRING) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: tensor \"%s\": \"dtype\" is missing or not a string", path, name);
    return FALSE;
  }
  dtype_name = json_node_get_string (dtype_node);
  if (!hart_dtype_from_name (dtype_name, &t->dtype)) {
    char *shown = g_strescape (dtype_name, NULL);

    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: tensor \"%s\": dtype \"%s\" is not supported (known: F32, F16, "
        "BF16, F64, I64, I32, I16, I8, U8, BOOL)", path, name, shown);
    g_free (shown);
    return FALSE;
  }

  shape_node = json_object_get_member (object, "shape");
  if (shape_node == NULL || !JSON_NODE_HOLDS_ARRAY (shape_node)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: tensor \"%s\": \"shape\" is missing or not an array", path, name);
    return FALSE;
  }
  shape = json_node_get_array (shape_node);
  if (json_array_get_length (shape) > HART_MAX_DIMS) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "%s: tensor \"%s\": shape has %u dims, at most %d are supported",
        path, name, json_array_get_length (shape), HART_MAX_DIMS);
    return FALSE;
  }
  t->ndim = json_array_get_length (shape);
  for (int d = 0; d < t->ndim; d++) {
    switch (json_get_size (json_array_get_element (shape, d), &t->shape[d])) {
      case JSON_INT_OK:
        break;
      case JSON_INT_NEGATIVE:
        g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
            "%s: tensor \"%s\": shape[%d] = %" G_GINT64_FORMAT " is negative "
            "(or beyond 2^63 - 1)", path, name, d, t->shape[d]);
        return FALSE;
      default:
        g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
            "%s: tensor \"%s\": shape[%d] is not an integer", path, name, d);
        return FALSE;
    }
  }
  hart_shape_to_string (t->ndim, t->shape, shape_text, sizeof shape_text);
  if (!hart_shape_count (t->ndim, t->shape, t->dtype, &t->n_elements,
          &t->n_bytes)) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "%s: tensor \"%s\": shape %s of %s overflows a 64-bit byte count",
        path, name, shape_text, dtype_name);
    return FALSE;
  }

  offsets_node = json_object_get_member (object, "data_offsets");
  if (offsets_node == NULL || !JSON_NODE_HOLDS_ARRAY (offsets_node)
      || json_array_get_length (offsets = json_node_get_array (offsets_node))
      != 2) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: tensor \"%s\": \"data_offsets\" is missing or not an array "
        "[begin, end]", path, name);
    return FALSE;
  }
  for (int i = 0; i < 2; i++) {
    if (json_get_size (json_array_get_element (offsets, i), &value[i])
        != JSON_INT_OK) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: tensor \"%s\": data_offsets[%d] is not a non-negative "
          "integer", path, name, i);
      return FALSE;
    }
  }
  t->begin = value[0];
  t->end = value[1];
  if (t->begin > t->end) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: tensor \"%s\": data_offsets [%" G_GUINT64_FORMAT ", %"
        G_GUINT64_FORMAT "] are reversed (begin > end)", path, name,
        t->begin, t->end);
    return FALSE;
  }
  if (t->end > data_size) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: tensor \"%s\": data_offsets [%" G_GUINT64_FORMAT ", %"
        G_GUINT64_FORMAT "] end beyond the %" G_GUINT64_FORMAT " bytes of "
        "data (file truncated?)", path, name, t->begin, t->end, data_size);
    return FALSE;
  }
  if (t->end - t->begin != t->n_bytes) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: tensor \"%s\": data_offsets [%" G_GUINT64_FORMAT ", %"
        G_GUINT64_FORMAT "] hold %" G_GUINT64_FORMAT " bytes but shape %s of "
        "%s needs %" G_GUINT64_FORMAT, path, name, t->begin, t->end,
        t->end - t->begin, shape_text, dtype_name, t->n_bytes);
    return FALSE;
  }
  return TRUE;
}

static int
compare_by_begin (gconstpointer a, gconstpointer b)
{
  const HeaderTensor *ta = a, *tb = b;

  if (ta->begin != tb->begin)
    return ta->begin < tb->begin ? -1 : 1;
  if (ta->end != tb->end)
    return ta->end < tb->end ? -1 : 1;
  return 0;
}

gboolean
hart_safetensors_load (HartCheckpoint * ckpt, const char *path, GError ** error)
{
  GMappedFile *mapped;
  const guint8 *bytes;
  gsize size;
  guint64 header_length, data_size;
  const guint8 *data;
  JsonParser *parser;
  JsonObject *root;
  GList *members;
  GArray *tensors;
  gboolean ok = FALSE;

  mapped = hart_file_map_regular (path, error);
  if (mapped == NULL)
    return FALSE;
  /* The checkpoint keeps the mapping alive for its entries. */
  g_ptr_array_add (ckpt->mapped_files, mapped);
  bytes = (const guint8 *) g_mapped_file_get_contents (mapped);
  size = g_mapped_file_get_length (mapped);

  if (size < 8) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: file is %" G_GSIZE_FORMAT " bytes, too short for a safetensors "
        "header (8-byte length, then JSON)", path, size);
    return FALSE;
  }
  memcpy (&header_length, bytes, sizeof header_length);
  header_length = GUINT64_FROM_LE (header_length);
  if (header_length > HART_SAFETENSORS_MAX_HEADER) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "%s: header length %" G_GUINT64_FORMAT " exceeds the limit of %d "
        "bytes (not a safetensors file?)", path, header_length,
        HART_SAFETENSORS_MAX_HEADER);
    return FALSE;
  }
  if (header_length > size - 8) {
    g_set_error (error, HART_ERROR, HART_ERROR_IO,
        "%s: truncated: header length is %" G_GUINT64_FORMAT " bytes but "
        "only %" G_GSIZE_FORMAT " bytes follow", path, header_length, size - 8);
    return FALSE;
  }
  data = bytes + 8 + header_length;
  data_size = size - 8 - header_length;

  parser = parse_json_object (path, &hart_json_limits_safetensors_header,
      (const char *) bytes + 8, header_length, &root, error);
  if (parser == NULL)
    return FALSE;

  tensors = g_array_new (FALSE, FALSE, sizeof (HeaderTensor));
  members = json_object_get_members (root);
  for (GList * l = members; l != NULL; l = l->next) {
    const char *name = l->data;
    JsonNode *node = json_object_get_member (root, name);
    HeaderTensor t;

    if (strcmp (name, "__metadata__") == 0) {
      if (!JSON_NODE_HOLDS_OBJECT (node)) {
        g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
            "%s: \"__metadata__\" is a JSON %s, expected an object", path,
            json_kind (node));
        goto out;
      }
      continue;
    }
    if (!parse_header_tensor (path, name, node, data_size, &t, error))
      goto out;
    g_array_append_val (tensors, t);
  }

  /* Two tensors must never share bytes: sort by begin and compare each
   * with the furthest end seen so far.  Empty tensors hold no bytes. */
  g_array_sort (tensors, compare_by_begin);
  {
    const HeaderTensor *furthest = NULL;

    for (guint i = 0; i < tensors->len; i++) {
      const HeaderTensor *t = &g_array_index (tensors, HeaderTensor, i);

      if (t->n_bytes == 0)
        continue;
      if (furthest != NULL && t->begin < furthest->end) {
        g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
            "%s: tensors \"%s\" [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
            "] and \"%s\" [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] "
            "overlap", path, furthest->name, furthest->begin, furthest->end,
            t->name, t->begin, t->end);
        goto out;
      }
      if (furthest == NULL || t->end > furthest->end)
        furthest = t;
    }
  }

  for (guint i = 0; i < tensors->len; i++) {
    const HeaderTensor *t = &g_array_index (tensors, HeaderTensor, i);
    HartTensorEntry *entry = hart_checkpoint_add_entry (ckpt, t->name, path);

    entry->info.dtype = t->dtype;
    entry->info.ndim = t->ndim;
    memcpy (entry->info.shape, t->shape, sizeof t->shape);
    entry->info.n_elements = t->n_elements;
    entry->info.n_bytes = t->n_bytes;
    entry->mapped_data = data + t->begin;
  }
  ok = TRUE;

out:
  g_list_free (members);
  g_array_unref (tensors);
  g_object_unref (parser);
  return ok;
}

/* A shard must be a plain file name beside the index: no folder part, so
 * that an index can never point outside its folder. */
static gboolean
shard_name_is_plain (const char *name)
{
  return name[0] != '\0' && strchr (name, '/') == NULL
      && strchr (name, '\\') == NULL && strcmp (name, ".") != 0
      && strcmp (name, "..") != 0;
}

gboolean
hart_safetensors_load_index (HartCheckpoint * ckpt, const char *index_path,
    GError ** error)
{
  char *text = NULL;
  gsize length = 0;
  JsonParser *parser = NULL;
  JsonObject *root, *weight_map;
  JsonNode *map_node;
  GList *members = NULL;
  GHashTable *shard_of_tensor = NULL;   /* name → shard file name (as loaded) */
  GHashTable *loaded_shards = NULL;
  char *folder = NULL;
  gboolean ok = FALSE;

  if (!hart_file_read_bounded (index_path, "a safetensors index",
          hart_json_limits_safetensors_index.max_bytes, &text, &length, error))
    return FALSE;
  parser = parse_json_object (index_path, &hart_json_limits_safetensors_index,
      text, length, &root, error);
  if (parser == NULL)
    goto out;
  map_node = json_object_get_member (root, "weight_map");
  if (map_node == NULL || !JSON_NODE_HOLDS_OBJECT (map_node)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: \"weight_map\" is missing or not an object", index_path);
    goto out;
  }
  weight_map = json_node_get_object (map_node);
  if (json_object_get_size (weight_map) == 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: \"weight_map\" is empty", index_path);
    goto out;
  }

  folder = g_path_get_dirname (index_path);
  shard_of_tensor = g_hash_table_new (g_str_hash, g_str_equal);
  loaded_shards = g_hash_table_new (g_str_hash, g_str_equal);
  members = json_object_get_members (weight_map);

  /* Load every distinct shard, in order of first mention. */
  for (GList * l = members; l != NULL; l = l->next) {
    const char *tensor = l->data;
    JsonNode *node = json_object_get_member (weight_map, tensor);
    const char *shard;
    char *shard_path;
    guint first;
    gboolean loaded;

    if (!JSON_NODE_HOLDS_VALUE (node)
        || json_node_get_value_type (node) != G_TYPE_STRING) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: weight_map entry \"%s\" is not a file name string",
          index_path, tensor);
      goto out;
    }
    shard = json_node_get_string (node);
    if (g_hash_table_contains (loaded_shards, shard))
      continue;
    if (!shard_name_is_plain (shard)) {
      char *shown = g_strescape (shard, NULL);

      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: shard \"%s\" of tensor \"%s\" is not a plain file name in the "
          "index's folder (no '/', '\\' or '..')", index_path, shown, tensor);
      g_free (shown);
      goto out;
    }
    shard_path = g_build_filename (folder, shard, NULL);
    if (!g_file_test (shard_path, G_FILE_TEST_EXISTS)) {
      g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
          "%s: shard \"%s\" (listed for tensor \"%s\") does not exist: %s",
          index_path, shard, tensor, shard_path);
      g_free (shard_path);
      goto out;
    }
    first = ckpt->entries->len;
    loaded = hart_safetensors_load (ckpt, shard_path, error);
    g_free (shard_path);
    if (!loaded)
      goto out;
    g_hash_table_add (loaded_shards, (gpointer) shard);
    for (guint i = first; i < ckpt->entries->len; i++) {
      const char *name =
          ((HartTensorEntry *) ckpt->entries->pdata[i])->info.name;
      const char *other = g_hash_table_lookup (shard_of_tensor, name);

      if (other != NULL) {
        g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
            "%s: tensor \"%s\" is stored in two shards: \"%s\" and \"%s\"",
            index_path, name, other, shard);
        goto out;
      }
      g_hash_table_insert (shard_of_tensor, (gpointer) name, (gpointer) shard);
    }
  }

  /* Every tensor of the map must be where the map says. */
  for (GList * l = members; l != NULL; l = l->next) {
    const char *tensor = l->data;
    const char *shard =
        json_node_get_string (json_object_get_member (weight_map, tensor));
    const char *found = g_hash_table_lookup (shard_of_tensor, tensor);

    if (found == NULL) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: weight_map lists tensor \"%s\" in shard \"%s\", but that "
          "shard does not hold it", index_path, tensor, shard);
      goto out;
    }
    if (strcmp (found, shard) != 0) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: weight_map lists tensor \"%s\" in shard \"%s\", but it is "
          "stored in shard \"%s\"", index_path, tensor, shard, found);
      goto out;
    }
  }
  ok = TRUE;

out:
  g_list_free (members);
  if (shard_of_tensor)
    g_hash_table_unref (shard_of_tensor);
  if (loaded_shards)
    g_hash_table_unref (loaded_shards);
  g_free (folder);
  if (parser)
    g_object_unref (parser);
  g_free (text);
  return ok;
}
