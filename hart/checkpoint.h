/* gst-hart — checkpoint reading (safetensors, sharded safetensors, PyTorch .bin)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A HartCheckpoint is a read-only name → tensor table over one or more
 * weight files.  Nothing is converted or copied at open time: safetensors
 * files are mmapped, PyTorch zip archives are indexed and read on demand.
 * Every header, offset and shape is validated against the file before use:
 * a hostile file yields a GError (HART_ERROR domain) naming the file, never
 * a crash, a hang or an allocation larger than the file itself.
 */
#ifndef HART_CHECKPOINT_H
#define HART_CHECKPOINT_H

#include <glib.h>
#include "kernels/dtype.h"

G_BEGIN_DECLS
#define HART_MAX_DIMS 8
typedef struct _HartCheckpoint HartCheckpoint;

typedef struct
{
  const char *name;             /* tensor key as stored */
  HartDType dtype;              /* stored element type */
  int ndim;
  int64_t shape[HART_MAX_DIMS];
  guint64 n_elements;
  guint64 n_bytes;              /* n_elements * dtype size */
  const char *file;             /* path of the file that holds it */
} HartTensorInfo;

typedef enum
{
  HART_CHECKPOINT_SAFETENSORS,  /* one .safetensors file */
  HART_CHECKPOINT_SAFETENSORS_SHARDED,  /* *.safetensors.index.json + shards */
  HART_CHECKPOINT_TORCH_ZIP,    /* torch.save zip archive (.bin / .pt) */
} HartCheckpointFormat;

/* Opens a weights file or sharded index.  The format is chosen by content
 * (zip magic, safetensors header) and, for an index, by the
 * ".safetensors.index.json" suffix. */
HartCheckpoint *hart_checkpoint_open (const char *path, GError ** error);

/* Finds the weights file of a release folder, in this order:
 * model.safetensors.index.json, model.safetensors,
 * pytorch_model.bin.index.json is NOT supported (error), pytorch_model.bin.
 * Returns a newly allocated path, or NULL with HART_ERROR_NOT_FOUND naming
 * the folder and the names that were tried. */
char *hart_checkpoint_find_in_dir (const char *dir, GError ** error);

void hart_checkpoint_free (HartCheckpoint * ckpt);

HartCheckpointFormat hart_checkpoint_get_format (const HartCheckpoint * ckpt);
const char *hart_checkpoint_get_path (const HartCheckpoint * ckpt);

/* Tensors in a stable order (sorted by name). */
guint hart_checkpoint_n_tensors (const HartCheckpoint * ckpt);
const HartTensorInfo *hart_checkpoint_tensor (const HartCheckpoint * ckpt,
    guint index);
/* NULL when absent (no error: callers decide whether absence is fatal). */
const HartTensorInfo *hart_checkpoint_lookup (const HartCheckpoint * ckpt,
    const char *name);

/* Copies the stored bytes of a tensor into dst (info->n_bytes bytes). */
gboolean hart_checkpoint_read_raw (HartCheckpoint * ckpt,
    const HartTensorInfo * info, void *dst, GError ** error);

/* TRUE when the tensors are read from a mapping of the file (safetensors),
 * so that hart_checkpoint_read_rows can read part of one. */
gboolean hart_checkpoint_is_mapped (const HartCheckpoint * ckpt);

/* Copies the stored bytes of rows [first, first + n) of a tensor (along
 * its first dimension) into dst, and gives their pages of the mapping
 * back, so that reading rows now and then keeps none of the file
 * resident.  Mapped checkpoints only (hart_checkpoint_is_mapped); the
 * rows must lie inside the tensor. */
gboolean hart_checkpoint_read_rows (HartCheckpoint * ckpt,
    const HartTensorInfo * info, int64_t first, int64_t n, void *dst,
    GError ** error);

/* The stored bytes of a tensor where they lie: inside the mapping of a
 * mapped checkpoint (hart_checkpoint_is_mapped), valid until the checkpoint
 * is freed; NULL with an error for a checkpoint that is not mapped.  No
 * copy: reading the bytes faults the file's pages into the process, and
 * hart_checkpoint_release_pages gives them back (a later read faults them
 * in again from the page cache).  For weights used in place, in the type
 * they are stored in (docs/precision.md, "The text encoder's matrices"). */
const void *hart_checkpoint_mapped_bytes (HartCheckpoint * ckpt,
    const HartTensorInfo * info, GError ** error);

/* Gives the pages of a tensor's mapping back to the page cache, so that
 * they no longer count in the process's resident memory (nothing for a
 * checkpoint that is not mapped).  A page shared with a neighbouring
 * tensor is given back for both. */
void hart_checkpoint_release_pages (HartCheckpoint * ckpt,
    const HartTensorInfo * info);

/* Reads tensor `name` converted to f32 into dst, after checking that it
 * exists and that its shape is exactly `shape[0..ndim)` (error names the
 * tensor, the file, the expected and the found shape).  Float and integer
 * dtypes are accepted. */
gboolean hart_checkpoint_read_f32 (HartCheckpoint * ckpt, const char *name,
    int ndim, const int64_t * shape, float *dst, GError ** error);

/* "[4096, 32]" into buf. */
const char *hart_shape_to_string (int ndim, const int64_t * shape,
    char *buf, gsize buf_size);

G_END_DECLS
#endif /* HART_CHECKPOINT_H */
