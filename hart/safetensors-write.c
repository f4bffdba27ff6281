/* gst-hart — writing safetensors files (context and draw interchange files)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layout: u64 little-endian header length, JSON header padded with spaces
 * to a multiple of 8, then the tensors back to back in insertion order.
 */
#include "safetensors-write.h"
#include "error.h"

#include <json-glib/json-glib.h>
#include <string.h>

typedef struct
{
  char *name;
  HartDType dtype;
  int ndim;
  int64_t shape[8];
  GBytes *data;
} PendingTensor;

struct _HartSafetensorsWriter
{
  GPtrArray *tensors;
  GHashTable *metadata;
};

static void
pending_free (gpointer p)
{
  PendingTensor *t = p;
  g_free (t->name);
  g_bytes_unref (t->data);
  g_free (t);
}

HartSafetensorsWriter *
hart_safetensors_writer_new (void)
{
  HartSafetensorsWriter *w = g_new0 (HartSafetensorsWriter, 1);
  w->tensors = g_ptr_array_new_with_free_func (pending_free);
  w->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return w;
}

void
hart_safetensors_writer_free (HartSafetensorsWriter * w)
{
  if (w == NULL)
    return;
  g_ptr_array_free (w->tensors, TRUE);
  g_hash_table_destroy (w->metadata);
  g_free (w);
}

void
hart_safetensors_writer_add (HartSafetensorsWriter * w, const char *name,
    HartDType dtype, int ndim, const int64_t * shape, const void *data)
{
  PendingTensor *t = g_new0 (PendingTensor, 1);
  gsize n = hart_dtype_size (dtype);

  g_return_if_fail (ndim >= 0 && ndim <= 8);
  t->name = g_strdup (name);
  t->dtype = dtype;
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++) {
    t->shape[i] = shape[i];
    n *= (gsize) shape[i];
  }
  t->data = g_bytes_new (data, n);
  g_ptr_array_add (w->tensors, t);
}

void
hart_safetensors_writer_set_metadata (HartSafetensorsWriter * w,
    const char *key, const char *value)
{
  g_hash_table_replace (w->metadata, g_strdup (key), g_strdup (value));
}

gboolean
hart_safetensors_writer_save (HartSafetensorsWriter * w, const char *path,
    GError ** error)
{
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen;
  char *header;
  gsize header_len, padded, offset = 0;
  GString *file;
  guint64 le_len;
  gboolean ok;
  GError *local = NULL;

  json_builder_begin_object (b);
  if (g_hash_table_size (w->metadata) > 0) {
    GHashTableIter it;
    gpointer k, v;
    json_builder_set_member_name (b, "__metadata__");
    json_builder_begin_object (b);
    g_hash_table_iter_init (&it, w->metadata);
    while (g_hash_table_iter_next (&it, &k, &v)) {
      json_builder_set_member_name (b, k);
      json_builder_add_string_value (b, v);
    }
    json_builder_end_object (b);
  }
  for (guint i = 0; i < w->tensors->len; i++) {
    PendingTensor *t = g_ptr_array_index (w->tensors, i);
    gsize size = g_bytes_get_size (t->data);
    json_builder_set_member_name (b, t->name);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "dtype");
    json_builder_add_string_value (b, hart_dtype_name (t->dtype));
    json_builder_set_member_name (b, "shape");
    json_builder_begin_array (b);
    for (int d = 0; d < t->ndim; d++)
      json_builder_add_int_value (b, t->shape[d]);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "data_offsets");
    json_builder_begin_array (b);
    json_builder_add_int_value (b, (gint64) offset);
    json_builder_add_int_value (b, (gint64) (offset + size));
    json_builder_end_array (b);
    json_builder_end_object (b);
    offset += size;
  }
  json_builder_end_object (b);

  gen = json_generator_new ();
  {
    JsonNode *root = json_builder_get_root (b);
    json_generator_set_root (gen, root);
    json_node_unref (root);
  }
  header = json_generator_to_data (gen, &header_len);
  g_object_unref (gen);
  g_object_unref (b);

  padded = (header_len + 7) & ~(gsize) 7;
  file = g_string_sized_new (8 + padded + offset);
  le_len = GUINT64_TO_LE ((guint64) padded);
  g_string_append_len (file, (const char *) &le_len, 8);
  g_string_append_len (file, header, (gssize) header_len);
  for (gsize i = header_len; i < padded; i++)
    g_string_append_c (file, ' ');
  g_free (header);
  for (guint i = 0; i < w->tensors->len; i++) {
    PendingTensor *t = g_ptr_array_index (w->tensors, i);
    gsize size;
    const char *data = g_bytes_get_data (t->data, &size);
    g_string_append_len (file, data, (gssize) size);
  }

  ok = g_file_set_contents (path, file->str, (gssize) file->len, &local);
  if (!ok) {
    g_set_error (error, HART_ERROR, HART_ERROR_IO, "%s: cannot write: %s",
        path, local->message);
    g_error_free (local);
  }
  g_string_free (file, TRUE);
  return ok;
}
