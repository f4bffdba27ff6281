/* gst-hart — libFuzzer target: a sharded safetensors index
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"

/* The input is model.safetensors.index.json; beside it lie the two valid
 * shards of tests/fixtures/formats/sharded, so a mutated weight map can
 * point at real shards, at absent ones or outside the folder. */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static char *path;

  if (path == NULL) {
    static const char *const shards[] = {
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
    };
    hart_fuzz_init ();
    for (guint i = 0; i < G_N_ELEMENTS (shards); i++) {
      char *rel = g_build_filename ("formats", "sharded", shards[i], NULL);
      char *dst = hart_fuzz_scratch_path (shards[i]);
      hart_fuzz_copy_fixture (rel, dst);
      g_free (dst);
      g_free (rel);
    }
    path = hart_fuzz_scratch_path ("model.safetensors.index.json");
  }
  hart_fuzz_write_file (path, data, size);
  hart_fuzz_read_checkpoint (path);
  return 0;
}
