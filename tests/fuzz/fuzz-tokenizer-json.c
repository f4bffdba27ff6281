/* gst-hart — libFuzzer target: tokenizer.json
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "hart/tokenizer.h"

/* A short text with ASCII, Unicode letters, digits, runs of spaces, a
 * newline and a special token, so a loaded tokenizer's every stage runs. */
static const char sample_text[] =
    "A cat  sleeping, 42 Ünïcode 你好\n<|endoftext|> end";

/* The input is tokenizer.json in a folder of its own (no
 * tokenizer_config.json).  When it loads, it must encode, decode and
 * pad a prompt without trouble. */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static char *path;
  HartTokenizer *tokenizer;
  GError *error = NULL;
  GArray *ids;

  if (path == NULL) {
    hart_fuzz_init ();
    path = hart_fuzz_scratch_path ("tokenizer.json");
  }
  hart_fuzz_write_file (path, data, size);

  tokenizer = hart_tokenizer_load (hart_fuzz_scratch_dir (), &error);
  if (tokenizer == NULL) {
    g_clear_error (&error);
    return 0;
  }
  ids = g_array_new (FALSE, FALSE, sizeof (int32_t));
  if (hart_tokenizer_encode (tokenizer, sample_text, -1, ids, &error)) {
    char *text = hart_tokenizer_decode (tokenizer,
        (const int32_t *) ids->data, ids->len, FALSE, &error);
    g_free (text);
  }
  g_clear_error (&error);
  {
    int32_t prompt_ids[16], positions[16];
    uint8_t mask[16];
    int n_real;
    if (!hart_tokenizer_encode_prompt (tokenizer, sample_text, 16,
            prompt_ids, mask, positions, &n_real, &error))
      g_clear_error (&error);
  }
  g_array_free (ids, TRUE);
  hart_tokenizer_free (tokenizer);
  return 0;
}
