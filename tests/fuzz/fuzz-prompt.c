/* gst-hart — libFuzzer target: prompt text through the real tokenizer
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-common.h"
#include "hart/tokenizer.h"

#include <stdlib.h>
#include <string.h>

/* The input is a prompt (any bytes, often not UTF-8), tokenised by the
 * Qwen2 tokenizer of tests/fixtures/tokenizer, loaded once.  Decoding the
 * ids must give valid UTF-8, and the padded prompt must be consistent. */
int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static HartTokenizer *tokenizer;
  enum
  { MAX_LEN = HART_TOKENIZER_PROMPT_LENGTH };
  int32_t prompt_ids[MAX_LEN], positions[MAX_LEN];
  uint8_t mask[MAX_LEN];
  int n_real = -1;
  GError *error = NULL;
  GArray *ids;
  char *prompt, *text;

  if (tokenizer == NULL) {
    char *dir = hart_fuzz_fixture_path ("tokenizer");
    hart_fuzz_init ();
    tokenizer = hart_tokenizer_load (dir, &error);
    if (tokenizer == NULL) {
      g_printerr ("hart-fuzz: %s\n", error->message);
      abort ();
    }
    g_free (dir);
  }

  ids = g_array_new (FALSE, FALSE, sizeof (int32_t));
  if (hart_tokenizer_encode (tokenizer, (const char *) data, size, ids, &error)) {
    text = hart_tokenizer_decode (tokenizer, (const int32_t *) ids->data,
        ids->len, FALSE, &error);
    if (text != NULL && !g_utf8_validate (text, -1, NULL))
      abort ();
    g_free (text);
  }
  g_clear_error (&error);
  g_array_free (ids, TRUE);

  /* encode_prompt takes a C string: the input up to its first NUL */
  prompt = g_strndup ((const char *) data, size);
  if (hart_tokenizer_encode_prompt (tokenizer, prompt, MAX_LEN, prompt_ids,
          mask, positions, &n_real, &error)) {
    int n_vocab = hart_tokenizer_n_vocab (tokenizer);
    if (n_real < 0 || n_real > MAX_LEN)
      abort ();
    for (int j = 0; j < MAX_LEN; j++)
      if (prompt_ids[j] < 0 || prompt_ids[j] >= n_vocab)
        abort ();
  }
  g_clear_error (&error);
  g_free (prompt);
  return 0;
}
