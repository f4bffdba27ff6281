/* gst-hart — libFuzzer target: the restricted unpickler
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "hart/pickle.h"

/* The input is a data.pkl, fed straight to the unpickler from memory (no
 * zip around it, so the fuzzer spends its time on the opcodes). */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static gboolean ready;
  HartPickleLimits limits;
  GError *error = NULL;
  GPtrArray *tensors;

  if (!ready) {
    hart_fuzz_init ();
    ready = TRUE;
  }
  hart_pickle_limits_init (&limits);
  tensors = hart_pickle_load_state_dict (data, size, "fuzz.pkl", &limits,
      &error);
  if (tensors == NULL) {
    g_clear_error (&error);
    return 0;
  }
  /* every tensor it hands out is complete */
  for (guint i = 0; i < tensors->len; i++) {
    const HartPickleTensor *t = g_ptr_array_index (tensors, i);
    if (t->name == NULL || t->storage_key == NULL || t->ndim < 0
        || t->ndim > HART_MAX_DIMS)
      abort ();
  }
  g_ptr_array_free (tensors, TRUE);
  return 0;
}
