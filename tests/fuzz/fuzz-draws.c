/* gst-hart — libFuzzer target: draw files (replayed random draws)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "hart/checkpoint.h"
#include "hart/draws.h"

#include <string.h>

/* The input is a draw file (a safetensors file of draw_NNN_<kind>
 * tensors).  When it loads for replay, every draw is consumed at its own
 * shape, as a generation would, and the replay is finished. */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static char *path;
  GError *error = NULL;
  HartDraws *draws;
  HartCheckpoint *ckpt;

  if (path == NULL) {
    hart_fuzz_init ();
    path = hart_fuzz_scratch_path ("draws.safetensors");
  }
  hart_fuzz_write_file (path, data, size);

  draws = hart_draws_new_replay (path, &error);
  if (draws == NULL) {
    g_clear_error (&error);
    return 0;
  }
  /* tensors come sorted by name: draw_000_… before draw_001_… */
  ckpt = hart_checkpoint_open (path, &error);
  for (guint i = 0; ckpt != NULL && i < hart_checkpoint_n_tensors (ckpt); i++) {
    const HartTensorInfo *t = hart_checkpoint_tensor (ckpt, i);
    gboolean ok = TRUE;

    if (!g_str_has_prefix (t->name, "draw_") || t->n_elements > (1u << 20))
      continue;
    if (g_str_has_suffix (t->name, "_perm")) {
      if (t->ndim == 1 && t->shape[0] <= G_MAXINT)
        ok = hart_draws_permutation (draws, (int) t->shape[0], &error);
    } else {
      float *out = g_new (float, t->n_elements + 1);
      if (g_str_has_suffix (t->name, "_exp"))
        ok = hart_draws_exponential (draws, HART_DRAW_E1, 0, 1, t->ndim,
            t->shape, out, &error);
      else
        ok = hart_draws_normal (draws, HART_DRAW_N0, 0, 1, t->ndim, t->shape,
            out, &error);
      g_free (out);
    }
    if (!ok)
      g_clear_error (&error);
  }
  g_clear_error (&error);
  hart_checkpoint_free (ckpt);
  if (!hart_draws_finish (draws, &error))
    g_clear_error (&error);
  hart_draws_free (draws);
  return 0;
}
