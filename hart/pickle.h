/* gst-hart — restricted unpickler for PyTorch state dicts (private)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Parses the data.pkl of a torch.save archive into a list of tensor
 * descriptions.  It implements only the opcodes a tensor state dict needs
 * and resolves only a fixed list of globals (OrderedDict, the tensor and
 * parameter rebuild functions, the typed storage classes); anything else is
 * refused by name.  Nothing is ever called or imported: the "globals" are
 * just tags that the few supported REDUCE forms recognise.
 */
#ifndef HART_PICKLE_H
#define HART_PICKLE_H

#include <glib.h>
#include "hart/checkpoint.h"

G_BEGIN_DECLS

/* One tensor of the state dict, as described by the pickle (the storage
 * bytes live elsewhere, in "<prefix>/data/<storage_key>"). */
typedef struct
{
  char *name;
  HartDType dtype;              /* from the storage class (FloatStorage → F32) */
  int ndim;
  int64_t shape[HART_MAX_DIMS];
  int64_t stride[HART_MAX_DIMS];        /* in elements */
  char *storage_key;
  guint64 storage_offset;       /* in elements */
  guint64 storage_numel;        /* as recorded in the persistent id */
} HartPickleTensor;

/* Sanity bounds of one unpickling run.  The input size bounds everything
 * anyway (each opcode creates at most one object); these make the bounds
 * explicit and small enough that a hostile file cannot make us allocate
 * much more than it weighs. */
typedef struct
{
  guint max_stack;              /* values on the stack */
  guint max_marks;              /* nested MARKs */
  guint max_memo;               /* memo entries */
  gsize max_string;             /* bytes of one string */
  guint64 max_values;           /* objects created in total */
} HartPickleLimits;

void hart_pickle_limits_init (HartPickleLimits * limits);

/* Unpickles `data` and returns the flat name → tensor dict it holds, as a
 * GPtrArray of HartPickleTensor (in pickle order, freed with the array).
 * `label` starts every error message (e.g. "model.bin: archive/data.pkl").
 * limits may be NULL for the defaults. */
GPtrArray *hart_pickle_load_state_dict (const guint8 * data, gsize size,
    const char *label, const HartPickleLimits * limits, GError ** error);

void hart_pickle_tensor_free (HartPickleTensor * tensor);

G_END_DECLS
#endif /* HART_PICKLE_H */
