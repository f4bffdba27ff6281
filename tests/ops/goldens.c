/* gst-hart — the op-test harness: PyTorch goldens
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A tiny reader of $HART_FIXTURES/ops/goldens.safetensors (written by
 * tests/reference/make_op_goldens.py): F32 and U8 tensors only.  The
 * checkpoint reader of hart/ is not used on purpose: the op tests sit below
 * the engine and link the kernels alone.  Little-endian host assumed
 * (x86-64, aarch64): data is used in place.
 */
#include "op-harness.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

struct _Goldens
{
  GBytes *bytes;
  JsonParser *parser;
  JsonObject *header;
  gsize data_start;
};

Goldens *
goldens_open (GError ** error)
{
  const char *dir = g_getenv ("HART_FIXTURES");
  char *path, *contents = NULL;
  gsize len = 0;
  guint64 hlen = 0;
  Goldens *g;
  JsonNode *root;

  if (dir == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "HART_FIXTURES is not set");
    return NULL;
  }
  path = g_build_filename (dir, "ops", "goldens.safetensors", NULL);
  if (!g_file_get_contents (path, &contents, &len, error)) {
    g_free (path);
    return NULL;
  }
  for (int i = 7; len >= 8 && i >= 0; i--)
    hlen = (hlen << 8) | (guint8) contents[i];
  if (len < 8 || hlen > len - 8) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: header length %" G_GUINT64_FORMAT " past the end", path, hlen);
    g_free (contents);
    g_free (path);
    return NULL;
  }
  g = g_new0 (Goldens, 1);
  g->bytes = g_bytes_new_take (contents, len);
  g->parser = json_parser_new ();
  g->data_start = 8 + hlen;
  if (!json_parser_load_from_data (g->parser, contents + 8, (gssize) hlen,
          error) || (root = json_parser_get_root (g->parser)) == NULL
      || !JSON_NODE_HOLDS_OBJECT (root)) {
    if (error != NULL && *error == NULL)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s: header is not a JSON object", path);
    g_free (path);
    goldens_close (g);
    return NULL;
  }
  g->header = json_node_get_object (root);
  g_free (path);
  return g;
}

void
goldens_close (Goldens * g)
{
  if (g == NULL)
    return;
  g_object_unref (g->parser);
  g_bytes_unref (g->bytes);
  g_free (g);
}

const void *
goldens_get (Goldens * g, const char *name, const char *dtype, gsize n,
    GError ** error)
{
  JsonObject *t;
  JsonArray *off;
  gsize size = 0, begin, end, elem = g_str_equal (dtype, "U8") ? 1 : 4;
  const guint8 *data = g_bytes_get_data (g->bytes, &size);

  if (!json_object_has_member (g->header, name)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "goldens: no tensor %s", name);
    return NULL;
  }
  t = json_object_get_object_member (g->header, name);
  off = json_object_get_array_member (t, "data_offsets");
  begin = (gsize) json_array_get_int_element (off, 0);
  end = (gsize) json_array_get_int_element (off, 1);
  if (g_strcmp0 (json_object_get_string_member (t, "dtype"), dtype) != 0
      || end < begin || end - begin != n * elem || g->data_start + end > size) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "goldens: %s is not %" G_GSIZE_FORMAT " elements of %s", name, n,
        dtype);
    return NULL;
  }
  return data + g->data_start + begin;
}
