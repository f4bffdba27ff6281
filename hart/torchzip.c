/* gst-hart — PyTorch zip checkpoint reader (.bin / .pt from torch.save ≥ 1.6)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layout of the archive (every entry under one top folder, "<prefix>/"):
 *   <prefix>/data.pkl     the state dict, pickled (protocol 2); tensors refer
 *                         to storages by persistent id ('storage', class,
 *                         key, location, numel)
 *   <prefix>/data/<key>   raw little-endian bytes of storage <key>
 *   <prefix>/byteorder    "little" (absent in files from older torch)
 *   <prefix>/version      format version
 * The pickle goes through the restricted unpickler (pickle.c); storages are
 * only sized at open time and read on demand.
 */
#include "hart/checkpoint-private.h"
#include "hart/file-read.h"
#include "hart/pickle.h"

#include <string.h>
#include <unistd.h>

/* Reads `n` bytes at `offset` of entry `index` into dst.  Torch stores
 * entries uncompressed, where seeking is cheap; a compressed entry is read
 * from its start. */
static gboolean
read_entry (zip_t * zip, zip_uint64_t index, guint64 offset, void *dst,
    guint64 n, const char *path, GError ** error)
{
  zip_file_t *file = zip_fopen_index (zip, index, 0);
  guint64 got = 0;
  gboolean ok = TRUE;

  if (file == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_IO,
        "%s: cannot open archive entry %s: %s", path,
        zip_get_name (zip, index, ZIP_FL_ENC_RAW), zip_strerror (zip));
    return FALSE;
  }
  if (offset > 0 && zip_fseek (file, offset, SEEK_SET) != 0) {
    guint8 skip[65536];

    while (offset > 0) {
      zip_int64_t r = zip_fread (file, skip, MIN (offset, sizeof skip));

      if (r <= 0)
        break;
      offset -= r;
    }
    if (offset > 0)
      ok = FALSE;
  }
  while (ok && got < n) {
    zip_int64_t r = zip_fread (file, (guint8 *) dst + got,
        MIN (n - got, G_GUINT64_CONSTANT (1) << 30));

    if (r <= 0)
      break;
    got += r;
  }
  if (!ok || got < n) {
    g_set_error (error, HART_ERROR, HART_ERROR_IO,
        "%s: archive entry %s: read %" G_GUINT64_FORMAT " of %"
        G_GUINT64_FORMAT " bytes: %s", path,
        zip_get_name (zip, index, ZIP_FL_ENC_RAW), got, n,
        zip_file_strerror (file));
    ok = FALSE;
  }
  zip_fclose (file);
  return ok;
}

static gboolean
stat_entry (zip_t * zip, zip_uint64_t index, const char *path,
    zip_stat_t * st, GError ** error)
{
  if (zip_stat_index (zip, index, 0, st) != 0 || !(st->valid & ZIP_STAT_SIZE)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: cannot stat archive entry %" G_GUINT64_FORMAT ": %s", path,
        (guint64) index, zip_strerror (zip));
    return FALSE;
  }
  if ((st->valid & ZIP_STAT_ENCRYPTION_METHOD)
      && st->encryption_method != ZIP_EM_NONE) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: archive entry %s is encrypted", path, st->name);
    return FALSE;
  }
  return TRUE;
}

/* Finds "<prefix>/data.pkl"; *prefix is newly allocated. */
static gboolean
find_data_pkl (zip_t * zip, const char *path, char **prefix,
    zip_uint64_t * index, GError ** error)
{
  zip_int64_t n_entries = zip_get_num_entries (zip, 0);

  *prefix = NULL;
  for (zip_int64_t i = 0; i < n_entries; i++) {
    const char *name = zip_get_name (zip, i, ZIP_FL_ENC_RAW);
    const char *slash;

    if (name == NULL || !g_str_has_suffix (name, "/data.pkl"))
      continue;
    slash = strchr (name, '/');
    if (slash == name || slash != name + strlen (name) - strlen ("/data.pkl"))
      continue;                 /* not directly under one top folder */
    if (*prefix != NULL) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: archive holds two pickles (%s/data.pkl and %s)", path,
          *prefix, name);
      g_clear_pointer (prefix, g_free);
      return FALSE;
    }
    *prefix = g_strndup (name, slash - name);
    *index = i;
  }
  if (*prefix == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: zip archive without <folder>/data.pkl (not a torch.save "
        "checkpoint?)", path);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_byteorder (zip_t * zip, const char *path, const char *prefix,
    GError ** error)
{
  char *name = g_strdup_printf ("%s/byteorder", prefix);
  zip_int64_t index = zip_name_locate (zip, name, ZIP_FL_ENC_RAW);
  char text[16] = { 0 };
  zip_stat_t st;
  gboolean ok = TRUE;

  if (index >= 0) {
    ok = stat_entry (zip, index, path, &st, error);
    if (ok && st.size >= sizeof text) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: %s holds %" G_GUINT64_FORMAT " bytes, expected \"little\"",
          path, name, (guint64) st.size);
      ok = FALSE;
    }
    if (ok)
      ok = read_entry (zip, index, 0, text, st.size, path, error);
    if (ok && strcmp (text, "little") != 0) {
      char *shown = g_strescape (text, NULL);

      g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
          "%s: %s is \"%s\"; only little-endian checkpoints are supported",
          path, name, shown);
      g_free (shown);
      ok = FALSE;
    }
  }
  g_free (name);
  return ok;
}

static gboolean
check_contiguous (const HartPickleTensor * t, const char *path, GError ** error)
{
  int64_t expected[HART_MAX_DIMS];
  guint64 step = 1;
  gboolean contiguous = TRUE;

  /* Row-major strides; a dim of size 1 may carry any stride (torch leaves
   * them arbitrary).  Called after the element count is known to fit. */
  for (int d = t->ndim - 1; d >= 0; d--) {
    expected[d] = step;
    if (t->shape[d] != 1 && (guint64) t->stride[d] != step)
      contiguous = FALSE;
    step *= t->shape[d];
  }
  if (!contiguous) {
    GString *found = g_string_new ("(");
    GString *wanted = g_string_new ("(");
    char shape_text[256];

    for (int d = 0; d < t->ndim; d++) {
      g_string_append_printf (found, d ? ", %" G_GINT64_FORMAT :
          "%" G_GINT64_FORMAT, t->stride[d]);
      g_string_append_printf (wanted, d ? ", %" G_GINT64_FORMAT :
          "%" G_GINT64_FORMAT, expected[d]);
    }
    g_string_append_c (found, ')');
    g_string_append_c (wanted, ')');
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: tensor \"%s\": strides %s of shape %s are not contiguous "
        "(row-major strides would be %s); save it with .contiguous()", path,
        t->name, found->str, hart_shape_to_string (t->ndim, t->shape,
            shape_text, sizeof shape_text), wanted->str);
    g_string_free (found, TRUE);
    g_string_free (wanted, TRUE);
    return FALSE;
  }
  return TRUE;
}

static gboolean
add_tensor (HartCheckpoint * ckpt, zip_t * zip, const char *path,
    const char *prefix, const HartPickleTensor * t, GError ** error)
{
  char *entry_name = g_strdup_printf ("%s/data/%s", prefix, t->storage_key);
  zip_int64_t index = zip_name_locate (zip, entry_name, ZIP_FL_ENC_RAW);
  guint64 n_elements, n_bytes, element_size = hart_dtype_size (t->dtype);
  char shape_text[256];
  HartTensorEntry *entry;
  zip_stat_t st;
  gboolean ok = FALSE;

  hart_shape_to_string (t->ndim, t->shape, shape_text, sizeof shape_text);
  if (!hart_shape_count (t->ndim, t->shape, t->dtype, &n_elements, &n_bytes)) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "%s: tensor \"%s\": shape %s of %s overflows a 64-bit byte count",
        path, t->name, shape_text, hart_dtype_name (t->dtype));
    goto out;
  }
  if (n_elements > 0 && !check_contiguous (t, path, error))
    goto out;
  if (index < 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: tensor \"%s\": storage \"%s\" is missing (no entry %s)", path,
        t->name, t->storage_key, entry_name);
    goto out;
  }
  if (!stat_entry (zip, index, path, &st, error))
    goto out;
  if (t->storage_offset > G_MAXUINT64 / element_size
      || t->storage_offset * element_size > G_MAXUINT64 - n_bytes
      || t->storage_offset * element_size + n_bytes > st.size) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: tensor \"%s\": shape %s of %s at element offset %"
        G_GUINT64_FORMAT " needs %" G_GUINT64_FORMAT " bytes of storage, but "
        "%s holds only %" G_GUINT64_FORMAT " bytes", path, t->name,
        shape_text, hart_dtype_name (t->dtype), t->storage_offset,
        t->storage_offset * element_size + n_bytes, entry_name,
        (guint64) st.size);
    goto out;
  }

  entry = hart_checkpoint_add_entry (ckpt, t->name, path);
  entry->info.dtype = t->dtype;
  entry->info.ndim = t->ndim;
  memcpy (entry->info.shape, t->shape, sizeof t->shape);
  entry->info.n_elements = n_elements;
  entry->info.n_bytes = n_bytes;
  entry->zip_index = index;
  entry->zip_offset = t->storage_offset * element_size;
  ok = TRUE;

out:
  g_free (entry_name);
  return ok;
}

gboolean
hart_torchzip_load (HartCheckpoint * ckpt, const char *path, GError ** error)
{
  zip_t *zip;
  int zip_code = 0;
  char *prefix = NULL, *label = NULL;
  zip_uint64_t pkl_index = 0;
  guint8 *pkl = NULL;
  GPtrArray *tensors = NULL;
  zip_stat_t st;
  gboolean ok = FALSE;
  int fd;

  /* through hart_file_open_regular: a FIFO must not block the caller */
  fd = hart_file_open_regular (path, NULL, error);
  if (fd < 0)
    return FALSE;
  /* zip_fdopen owns fd once it succeeds */
  zip = zip_fdopen (fd, ZIP_CHECKCONS, &zip_code);
  if (zip == NULL) {
    close (fd);
    zip_error_t zip_error;

    zip_error_init_with_code (&zip_error, zip_code);
    g_set_error (error, HART_ERROR, zip_code == ZIP_ER_NOENT ?
        HART_ERROR_NOT_FOUND : zip_code == ZIP_ER_OPEN
        || zip_code == ZIP_ER_READ ? HART_ERROR_IO : HART_ERROR_FORMAT,
        "%s: cannot read the zip archive: %s (truncated or damaged file?)",
        path, zip_error_strerror (&zip_error));
    zip_error_fini (&zip_error);
    return FALSE;
  }
  ckpt->zip = zip;
  ckpt->read_stored = hart_torchzip_read;

  if (!find_data_pkl (zip, path, &prefix, &pkl_index, error)
      || !check_byteorder (zip, path, prefix, error)
      || !stat_entry (zip, pkl_index, path, &st, error))
    goto out;
  if (st.size > HART_PICKLE_MAX_BYTES) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "%s: %s/data.pkl is %" G_GUINT64_FORMAT " bytes, beyond the limit "
        "of %d", path, prefix, (guint64) st.size, HART_PICKLE_MAX_BYTES);
    goto out;
  }
  pkl = g_malloc (MAX (st.size, 1));
  if (!read_entry (zip, pkl_index, 0, pkl, st.size, path, error))
    goto out;

  label = g_strdup_printf ("%s: %s/data.pkl", path, prefix);
  tensors = hart_pickle_load_state_dict (pkl, st.size, label, NULL, error);
  if (tensors == NULL)
    goto out;
  for (guint i = 0; i < tensors->len; i++) {
    if (!add_tensor (ckpt, zip, path, prefix, tensors->pdata[i], error))
      goto out;
  }
  ok = TRUE;

out:
  if (tensors)
    g_ptr_array_unref (tensors);
  g_free (label);
  g_free (pkl);
  g_free (prefix);
  return ok;
}

gboolean
hart_torchzip_read (HartCheckpoint * ckpt, const HartTensorEntry * entry,
    void *dst, GError ** error)
{
  gboolean ok;

  g_mutex_lock (&ckpt->zip_lock);
  ok = read_entry (ckpt->zip, entry->zip_index, entry->zip_offset, dst,
      entry->info.n_bytes, entry->info.file, error);
  g_mutex_unlock (&ckpt->zip_lock);
  return ok;
}
