/* gst-hart — shared helpers of the libFuzzer targets
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef HART_FUZZ_COMMON_H
#define HART_FUZZ_COMMON_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Every target defines this entry point (libFuzzer's contract: return 0,
 * never exit, free everything). */
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

/* Once per process: GLib criticals become crashes (a g_return_if_fail hit
 * by file data is a bug), ordinary warnings are dropped to keep the fuzzer
 * fast (set HART_FUZZ_VERBOSE=1 to see them), and a private scratch folder
 * is made under $TMPDIR. */
void hart_fuzz_init (void);

/* The scratch folder of this process (removed at exit). */
const char *hart_fuzz_scratch_dir (void);

/* SCRATCH/NAME, newly allocated. */
char *hart_fuzz_scratch_path (const char *name);

/* Writes DATA[SIZE] to PATH (truncating); aborts on an I/O error, which is
 * the harness's fault and not the input's. */
void hart_fuzz_write_file (const char *path, const uint8_t * data,
    size_t size);

/* Copies tests/fixtures/REL into PATH. */
void hart_fuzz_copy_fixture (const char *rel, const char *path);

/* tests/fixtures (or $HART_FIXTURES), newly allocated path of REL in it. */
char *hart_fuzz_fixture_path (const char *rel);

/* Opens PATH with hart_checkpoint_open and reads every tensor with
 * hart_checkpoint_read_raw into a buffer of info->n_bytes, then with
 * hart_checkpoint_read_f32 at its own shape when it converts; errors are
 * expected and ignored.  Returns the number of tensors read. */
guint hart_fuzz_read_checkpoint (const char *path);

G_END_DECLS
#endif /* HART_FUZZ_COMMON_H */
