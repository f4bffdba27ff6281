/* gst-hart — checkpoint internals shared by the format readers (private)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef HART_CHECKPOINT_PRIVATE_H
#define HART_CHECKPOINT_PRIVATE_H

#include "hart/checkpoint.h"
#include "hart/error.h"

#include <zip.h>

G_BEGIN_DECLS

/* Sanity limits.  A real safetensors header is a few hundred KB; HF caps it
 * at 100 MB. */
#define HART_SAFETENSORS_MAX_HEADER (100 * 1000 * 1000)
#define HART_PICKLE_MAX_BYTES (256 * 1024 * 1024)

typedef struct
{
  HartTensorInfo info;          /* first: a HartTensorInfo * is an entry */
  /* safetensors: the tensor's bytes inside a mapping of ckpt->mapped_files */
  const guint8 *mapped_data;
  /* torch zip: the storage entry and the byte offset of element 0 in it */
  zip_uint64_t zip_index;
  guint64 zip_offset;
} HartTensorEntry;

typedef gboolean (*HartReadStoredFunc) (HartCheckpoint * ckpt,
    const HartTensorEntry * entry, void *dst, GError ** error);

struct _HartCheckpoint
{
  HartCheckpointFormat format;
  char *path;
  GStringChunk *strings;        /* tensor names and file paths */
  GPtrArray *entries;           /* HartTensorEntry *, sorted by name once open */
  GHashTable *by_name;          /* name → HartTensorEntry * */
  GPtrArray *mapped_files;      /* GMappedFile * */
  zip_t *zip;
  GMutex zip_lock;              /* a zip_t is not thread-safe */
  /* NULL: entries are mapped (mapped_data); else the reader's function
   * that reads an entry's bytes from where they are stored */
  HartReadStoredFunc read_stored;
};

/* checkpoint-table.c: the table the readers fill */
HartCheckpoint *hart_checkpoint_new (const char *path,
    HartCheckpointFormat format);
/* Sorts and indexes the table; a name held twice is an error. */
gboolean hart_checkpoint_finish (HartCheckpoint * ckpt, GError ** error);

/* Appends a new entry; the caller fills in the rest of the info. */
HartTensorEntry *hart_checkpoint_add_entry (HartCheckpoint * ckpt,
    const char *name, const char *file);

/* Computes n_elements/n_bytes of a shape with overflow checks; FALSE if they
 * do not fit 64 bits. */
gboolean hart_shape_count (int ndim, const int64_t * shape, HartDType dtype,
    guint64 * n_elements, guint64 * n_bytes);

/* safetensors.c */
gboolean hart_safetensors_load (HartCheckpoint * ckpt, const char *path,
    GError ** error);
gboolean hart_safetensors_load_index (HartCheckpoint * ckpt,
    const char *index_path, GError ** error);

/* torchzip.c */
gboolean hart_torchzip_load (HartCheckpoint * ckpt, const char *path,
    GError ** error);
gboolean hart_torchzip_read (HartCheckpoint * ckpt,
    const HartTensorEntry * entry, void *dst, GError ** error);

G_END_DECLS
#endif /* HART_CHECKPOINT_PRIVATE_H */
