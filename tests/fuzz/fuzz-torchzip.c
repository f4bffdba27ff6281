/* gst-hart — libFuzzer target: a PyTorch zip checkpoint (.bin)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"

/* The input is a torch.save archive: a zip holding data.pkl and the
 * storages.  The whole path runs: zip directory, restricted unpickler,
 * storage lookup and reads. */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static char *path;

  if (path == NULL) {
    hart_fuzz_init ();
    path = hart_fuzz_scratch_path ("pytorch_model.bin");
  }
  hart_fuzz_write_file (path, data, size);
  hart_fuzz_read_checkpoint (path);
  return 0;
}
