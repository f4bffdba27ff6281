/* gst-hart — the tensor table of a checkpoint
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The format readers (safetensors.c, torchzip.c) validate their files and
 * append entries; this file owns the table they fill (sorted by name, hashed
 * for lookup) and the reads, shape checks and dtype conversions on top.
 * Entries stored in a zip archive are read through the reader's callback
 * (ckpt->read_stored), so the table calls no reader: checkpoint.c (format
 * dispatch) → readers → this file, no cycle (docs/architecture.md,
 * "Layers").
 */
#include "hart/checkpoint-private.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Once bytes of a mapping are copied or converted out, their pages are
 * dropped from the process: a model is loaded once into memory of its own,
 * and without this every page of the file read so far would count in the
 * process's resident memory until the checkpoint is closed (3 GB of Qwen2
 * on top of the 3 GB copied from it, the peak of a run;
 * docs/precision.md).  The mapping is read-only and private, so a later
 * read faults the pages in again from the page cache; dropping a page
 * shared with a neighbouring tensor costs that neighbour the same. */
static void
release_mapped (const guint8 * data, guint64 n_bytes)
{
#ifdef MADV_DONTNEED
  const long page_size = sysconf (_SC_PAGESIZE);
  const guintptr page = page_size > 0 ? (guintptr) page_size : 4096;
  /* whole pages of the mapping: it starts on a page boundary and maps
   * the last page its file touches */
  const guintptr begin = (guintptr) data / page * page;
  const guintptr end = ((guintptr) data + n_bytes + page - 1) / page * page;

  if (n_bytes > 0)
    madvise ((void *) begin, end - begin, MADV_DONTNEED);
#endif
}

/* The entry of INFO, when INFO was handed out by this checkpoint. */
static const HartTensorEntry *
entry_of (HartCheckpoint * ckpt, const HartTensorInfo * info, GError ** error)
{
  const HartTensorEntry *entry = g_hash_table_lookup (ckpt->by_name,
      info->name);

  if (entry == NULL || &entry->info != info) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "%s: tensor info \"%s\" does not belong to this checkpoint",
        ckpt->path, info->name);
    return NULL;
  }
  return entry;
}

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

HartCheckpoint *
hart_checkpoint_new (const char *path, HartCheckpointFormat format)
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
gboolean
hart_checkpoint_finish (HartCheckpoint * ckpt, GError ** error)
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

  if (!(entry = entry_of (ckpt, info, error)))
    return FALSE;
  if (info->n_bytes == 0)
    return TRUE;
  if (ckpt->read_stored != NULL)
    return ckpt->read_stored (ckpt, entry, dst, error);
  memcpy (dst, entry->mapped_data, info->n_bytes);
  release_mapped (entry->mapped_data, info->n_bytes);
  return TRUE;
}

gboolean
hart_checkpoint_is_mapped (const HartCheckpoint * ckpt)
{
  return ckpt->read_stored == NULL;
}

gboolean
hart_checkpoint_read_rows (HartCheckpoint * ckpt, const HartTensorInfo * info,
    int64_t first, int64_t n, void *dst, GError ** error)
{
  const HartTensorEntry *entry;
  guint64 row_bytes;

  g_return_val_if_fail (ckpt != NULL && info != NULL, FALSE);

  if (!(entry = entry_of (ckpt, info, error)))
    return FALSE;
  if (ckpt->read_stored != NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: tensor \"%s\" is stored in an archive, where only whole "
        "tensors are read", info->file, info->name);
    return FALSE;
  }
  if (info->ndim < 1 || first < 0 || n < 0 || first > info->shape[0]
      || n > info->shape[0] - first) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "%s: tensor \"%s\": rows %" G_GINT64_FORMAT " … %" G_GINT64_FORMAT
        " asked, it has %" G_GINT64_FORMAT, info->file, info->name, first,
        first + n - 1, info->ndim < 1 ? (gint64) 0 : info->shape[0]);
    return FALSE;
  }
  if (n == 0 || info->n_bytes == 0)
    return TRUE;
  /* n_bytes is the product of the shape, checked when the file was read */
  row_bytes = info->n_bytes / (guint64) info->shape[0];
  memcpy (dst, entry->mapped_data + first * row_bytes, n * row_bytes);
  release_mapped (entry->mapped_data + first * row_bytes, n * row_bytes);
  return TRUE;
}

const void *
hart_checkpoint_mapped_bytes (HartCheckpoint * ckpt,
    const HartTensorInfo * info, GError ** error)
{
  const HartTensorEntry *entry;

  g_return_val_if_fail (ckpt != NULL && info != NULL, NULL);

  if (!(entry = entry_of (ckpt, info, error)))
    return NULL;
  if (ckpt->read_stored != NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: tensor \"%s\" is stored in an archive, not mapped", info->file,
        info->name);
    return NULL;
  }
  return entry->mapped_data;
}

void
hart_checkpoint_release_pages (HartCheckpoint * ckpt,
    const HartTensorInfo * info)
{
  const HartTensorEntry *entry;

  g_return_if_fail (ckpt != NULL && info != NULL);

  /* the mapping is read-only: no page holds a write that dropping it
   * would lose */
  if (ckpt->read_stored == NULL && (entry = entry_of (ckpt, info, NULL)))
    release_mapped (entry->mapped_data, info->n_bytes);
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
  if (ckpt->read_stored == NULL
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
    if (ckpt->read_stored != NULL)
      ok = ckpt->read_stored (ckpt, entry, scratch, error);
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
  if (ckpt->read_stored == NULL)
    release_mapped (entry->mapped_data, info->n_bytes);
  g_free (scratch);
  return ok;
}
