/* gst-hart — libFuzzer target: a single .safetensors file
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"

/* The input is a .safetensors file: header length, JSON header, data.
 * Opened through the public checkpoint API (the format is chosen by
 * content) and every tensor read back. */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static char *path;

  if (path == NULL) {
    hart_fuzz_init ();
    path = hart_fuzz_scratch_path ("input.safetensors");
  }
  hart_fuzz_write_file (path, data, size);
  hart_fuzz_read_checkpoint (path);
  return 0;
}
