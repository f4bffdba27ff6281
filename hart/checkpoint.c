/* gst-hart — checkpoint reading: format dispatch and the tensor table
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The format readers (safetensors.c, torchzip.c) validate their files and
 * append entries; this file owns the table they fill (sorted by name, hashed
 * for lookup) and the reads, shape checks and dtype conversions on top.
 */
#include "hart/checkpoint-private.h"
#include "hart/file-read.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

HartTensorEntry *
hart_checkpoint_add_entry (HartCheckpoint * ckpt, const char *name,
    const char *file)
{
  HartTensorEntry *entry = g_new0 (HartTensorEntry, 1);

  entry->info.name = g_string_chunk_insert (ckpt->strings, name);
  entry->info.file = g_string_chunk_insert_const (ckpt->strings, file);
  g_ptr_array_add (ckpt->entries, entry);
  return entry;
}

gboolean
hart_shape_count (int ndim, const int64_t * shape, HartDType dtype,
    guint64 * n_elements, guint64 * n_bytes)
{
  guint64 n = 1;
  guint64 size = hart_dtype_size (dtype);

  for (int d = 0; d < ndim; d++) {
    guint64 dim = (guint64) shape[d];

    if (shape[d] < 0)
      return FALSE;
    if (dim != 0 && n > G_MAXUINT64 / dim)
      return FALSE;
    n *= dim;
  }
  if (size != 0 && n > G_MAXUINT64 / size)
    return FALSE;
  *n_elements = n;
  *n_bytes = n * size;
  return TRUE;
}

const char *
hart_shape_to_string (int ndim, const int64_t * shape, char *buf,
    gsize buf_size)
{
  GString *s = g_string_new ("[");

  for (int d = 0; d < ndim; d++)
    g_string_append_printf (s, d ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
        shape[d]);
  g_string_append_c (s, ']');
  if (buf_size > 0)
    g_strlcpy (buf, s->str, buf_size);
  g_string_free (s, TRUE);
  return buf;
}

static HartCheckpoint *
checkpoint_new (const char *path, HartCheckpointFormat format)
{
  HartCheckpoint *ckpt = g_new0 (HartCheckpoint, 1);

  ckpt->format = format;
  ckpt->path = g_strdup (path);
  ckpt->strings = g_string_chunk_new (4096);
  ckpt->entries = g_ptr_array_new_with_free_func (g_free);
  ckpt->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  ckpt->mapped_files = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_mapped_file_unref);
  g_mutex_init (&ckpt->zip_lock);
  return ckpt;
}

void
hart_checkpoint_free (HartCheckpoint * ckpt)
{
  if (ckpt == NULL)
    return;
  if (ckpt->zip)
    zip_discard (ckpt->zip);
  g_mutex_clear (&ckpt->zip_lock);
  g_hash_table_unref (ckpt->by_name);
  g_ptr_array_unref (ckpt->entries);
  g_ptr_array_unref (ckpt->mapped_files);
  g_string_chunk_free (ckpt->strings);
  g_free (ckpt->path);
  g_free (ckpt);
}

static int
compare_entries_by_name (gconstpointer a, gconstpointer b)
{
  const HartTensorEntry *ea = *(const HartTensorEntry * const *) a;
  const HartTensorEntry *eb = *(const HartTensorEntry * const *) b;

  return strcmp (ea->info.name, eb->info.name);
}

/* Sorts the table and indexes it; a name held twice is an error (the
 * readers already refuse duplicates within one file and across shards;
 * this is the last line). */
static gboolean
checkpoint_finish (HartCheckpoint * ckpt, GError ** error)
{
  g_ptr_array_sort (ckpt->entries, compare_entries_by_name);
  for (guint i = 0; i < ckpt->entries->len; i++) {
    HartTensorEntry *entry = ckpt->entries->pdata[i];
    HartTensorEntry *previous = g_hash_table_lookup (ckpt->by_name,
        entry->info.name);

    if (previous != NULL) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: tensor \"%s\" is stored twice (in %s and in %s)", ckpt->path,
          entry->info.name, previous->info.file, entry->info.file);
      return FALSE;
    }
    g_hash_table_insert (ckpt->by_name, (gpointer) entry->info.name, entry);
  }
  return TRUE;
}

HartCheckpoint *
hart_checkpoint_open (const char *path, GError ** error)
{
  static const guint8 zip_magic[4] = { 'P', 'K', 3, 4 };
  static const guint8 legacy_torch_magic[4] = { 0x80, 0x02, 0x8a, 0x0a };
  HartCheckpoint *ckpt;
  HartCheckpointFormat format;
  guint8 magic[4] = { 0 };
  gboolean ok;
  ssize_t got;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "%s: is a folder, not a weights file (see "
        "hart_checkpoint_find_in_dir)", path);
    return NULL;
  }
  /* through hart_file_open_regular: a FIFO or device named as weights must
   * neither block nor be read; the format readers open it the same way */
  fd = hart_file_open_regular (path, NULL, error);
  if (fd < 0)
    return NULL;
  do
    got = read (fd, magic, sizeof magic);
  while (got < 0 && errno == EINTR);
  close (fd);

  /* torch.save before 1.6 wrote a bare pickle starting with the protocol
   * and a LONG1 magic number; as a safetensors length these bytes would be
   * a 176 MB header, so nothing valid is lost by naming the format. */
  if (got == (ssize_t) sizeof magic
      && memcmp (magic, legacy_torch_magic, 4) == 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: legacy torch.save format (PyTorch < 1.6, not a zip archive) is "
        "not supported; re-save it with a newer PyTorch or convert it to "
        "safetensors", path);
    return NULL;
  }
  if (g_str_has_suffix (path, ".safetensors.index.json"))
    format = HART_CHECKPOINT_SAFETENSORS_SHARDED;
  else if (got == (ssize_t) sizeof magic && memcmp (magic, zip_magic, 4) == 0)
    format = HART_CHECKPOINT_TORCH_ZIP;
  else
    format = HART_CHECKPOINT_SAFETENSORS;

  ckpt = checkpoint_new (path, format);
  switch (format) {
    case HART_CHECKPOINT_SAFETENSORS_SHARDED:
      ok = hart_safetensors_load_index (ckpt, path, error);
      break;
    case HART_CHECKPOINT_TORCH_ZIP:
      ok = hart_torchzip_load (ckpt, path, error);
      break;
    case HART_CHECKPOINT_SAFETENSORS:
    default:
      ok = hart_safetensors_load (ckpt, path, error);
      break;
  }
  if (ok)
    ok = checkpoint_finish (ckpt, error);
  if (!ok) {
    hart_checkpoint_free (ckpt);
    return NULL;
  }
  return ckpt;
}

char *
hart_checkpoint_find_in_dir (const char *dir, GError ** error)
{
  static const char *const candidates[] = {
    "model.safetensors.index.json",
    "model.safetensors",
    "pytorch_model.bin.index.json",     /* refused: sharded .bin */
    "pytorch_model.bin",
  };
  GString *tried;

  g_return_val_if_fail (dir != NULL, NULL);

  if (!hart_dir_check_readable (dir, error))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++) {
    char *path = g_build_filename (dir, candidates[i], NULL);

    /* any kind of file: opening it says what is wrong with a FIFO */
    if (g_file_test (path, G_FILE_TEST_EXISTS)) {
      if (g_str_has_prefix (candidates[i], "pytorch_model.bin.index")) {
        g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
            "%s: sharded PyTorch checkpoints are not supported; convert "
            "the folder to safetensors", path);
        g_free (path);
        return NULL;
      }
      return path;
    }
    g_free (path);
  }
  tried = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    g_string_append_printf (tried, i ? ", %s" : "%s", candidates[i]);
  g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
      "%s: no weights file found (tried %s)", dir, tried->str);
  g_string_free (tried, TRUE);
  return NULL;
}

HartCheckpointFormat
hart_checkpoint_get_format (const HartCheckpoint * ckpt)
{
  return ckpt->format;
}

const char *
hart_checkpoint_get_path (const HartCheckpoint * ckpt)
{
  return ckpt->path;
}

guint
hart_checkpoint_n_tensors (const HartCheckpoint * ckpt)
{
  return ckpt->entries->len;
}

const HartTensorInfo *
hart_checkpoint_tensor (const HartCheckpoint * ckpt, guint index)
{
  g_return_val_if_fail (index < ckpt->entries->len, NULL);
  return &((HartTensorEntry *) ckpt->entries->pdata[index])->info;
}

const HartTensorInfo *
hart_checkpoint_lookup (const HartCheckpoint * ckpt, const char *name)
{
  HartTensorEntry *entry = g_hash_table_lookup (ckpt->by_name, name);

  return entry ? &entry->info : NULL;
}

gboolean
hart_checkpoint_read_raw (HartCheckpoint * ckpt, const HartTensorInfo * info,
    void *dst, GError ** error)
{
  const HartTensorEntry *entry;

  g_return_val_if_fail (ckpt != NULL && info != NULL, FALSE);

  /* Only infos handed out by this checkpoint are entries of it. */
  entry = g_hash_table_lookup (ckpt->by_name, info->name);
  if (entry == NULL || &entry->info != info) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "%s: tensor info \"%s\" does not belong to this checkpoint",
        ckpt->path, info->name);
    return FALSE;
  }
  if (info->n_bytes == 0)
    return TRUE;
  if (ckpt->format == HART_CHECKPOINT_TORCH_ZIP)
    return hart_torchzip_read (ckpt, entry, dst, error);
  memcpy (dst, entry->mapped_data, info->n_bytes);
  return TRUE;
}

gboolean
hart_checkpoint_read_f32 (HartCheckpoint * ckpt, const char *name, int ndim,
    const int64_t * shape, float *dst, GError ** error)
{
  const HartTensorEntry *entry;
  const HartTensorInfo *info;
  gboolean same_shape;
  const void *src;
  void *scratch = NULL;
  gboolean ok = TRUE;

  g_return_val_if_fail (ckpt != NULL && name != NULL, FALSE);

  entry = g_hash_table_lookup (ckpt->by_name, name);
  if (entry == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
        "%s: no tensor \"%s\"", ckpt->path, name);
    return FALSE;
  }
  info = &entry->info;
  same_shape = info->ndim == ndim;
  for (int d = 0; same_shape && d < ndim; d++)
    same_shape = info->shape[d] == shape[d];
  if (!same_shape) {
    char expected[256], found[256];

    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "%s: tensor \"%s\" has shape %s, expected %s", info->file, name,
        hart_shape_to_string (info->ndim, info->shape, found, sizeof found),
        hart_shape_to_string (ndim, shape, expected, sizeof expected));
    return FALSE;
  }
  if (info->n_elements == 0)
    return TRUE;

  if (info->dtype == HART_DTYPE_F32) {
    /* No conversion: read straight into place. */
    return hart_checkpoint_read_raw (ckpt, info, dst, error);
  }

  /* A mapped tensor may sit at any byte offset; the converters read
   * typed elements, so give them an aligned copy unless already aligned. */
  if (ckpt->format != HART_CHECKPOINT_TORCH_ZIP
      && (guintptr) entry->mapped_data % hart_dtype_size (info->dtype) == 0) {
    src = entry->mapped_data;
  } else {
    scratch = g_try_malloc (info->n_bytes);
    if (scratch == NULL) {
      g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
          "%s: tensor \"%s\": cannot allocate %" G_GUINT64_FORMAT " bytes",
          info->file, name, info->n_bytes);
      return FALSE;
    }
    if (ckpt->format == HART_CHECKPOINT_TORCH_ZIP)
      ok = hart_torchzip_read (ckpt, entry, scratch, error);
    else
      memcpy (scratch, entry->mapped_data, info->n_bytes);
    src = scratch;
  }
  if (ok && !hart_convert_to_f32 (dst, src, info->dtype, info->n_elements)) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: tensor \"%s\": dtype %s cannot be converted to F32", info->file,
        name, hart_dtype_name (info->dtype));
    ok = FALSE;
  }
  g_free (scratch);
  return ok;
}
