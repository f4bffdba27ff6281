/* gst-hart — Qwen2 byte-level BPE tokenizer
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tokenizer of HART's text encoder (Qwen2-VL-1.5B-Instruct), as the
 * Hugging Face `tokenizers` library runs it (docs/algorithm.md §4.1):
 *
 *   1. split off added tokens (exact, case-sensitive, leftmost-longest match;
 *      each becomes its id directly),
 *   2. NFC-normalise each remaining segment,
 *   3. pre-tokenise with the split regex (PCRE2 through GRegex, UTF + UCP),
 *   4. map every byte through the GPT-2 byte→unicode table,
 *   5. merge byte pairs by rank (lowest rank first, leftmost on ties),
 *   6. look the symbols up in the vocabulary.  No BOS/EOS is added.
 *
 * Invalid UTF-8 input is not an error: every maximal ill-formed subsequence
 * (Unicode §3.9, "U+FFFD substitution of maximal subparts") is replaced by
 * U+FFFD before step 1 — the text Python's bytes.decode ("utf-8",
 * errors="replace") would hand the Python tokenizer — and a g_debug message
 * says so.  decode() uses the same policy on byte sequences that do not form
 * UTF-8 (e.g. the ids of half a character).
 *
 * A loaded tokenizer is read-only apart from an internal, locked cache of
 * recent pieces: one HartTokenizer may be used from several threads.
 */
#ifndef HART_TOKENIZER_H
#define HART_TOKENIZER_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct _HartTokenizer HartTokenizer;

/* Number of prompt tokens HART's text encoder sees (context_token). */
#define HART_TOKENIZER_PROMPT_LENGTH 300

/* Loads DIR/tokenizer.json (the Hugging Face "tokenizers" format) or, when it
 * is absent, DIR/vocab.json + DIR/merges.txt, plus DIR/tokenizer_config.json
 * when present (pad_token, padding_side, truncation_side, model_max_length,
 * added_tokens_decoder).  Anything not implemented (another normaliser,
 * pre-tokeniser, model type, left padding, …) is refused with an error that
 * names the file and the field. */
HartTokenizer *hart_tokenizer_load (const char *dir, GError ** error);
void hart_tokenizer_free (HartTokenizer * tokenizer);

/* Largest token id + 1 (regular vocabulary and added tokens). */
int hart_tokenizer_n_vocab (const HartTokenizer * tokenizer);
/* Id of tokenizer_config.json's pad_token, or -1 when there is none. */
int32_t hart_tokenizer_pad_id (const HartTokenizer * tokenizer);
/* tokenizer_config.json's model_max_length, or -1 when absent. */
gint64 hart_tokenizer_model_max_length (const HartTokenizer * tokenizer);

/* Appends the ids (int32_t) of TEXT (LEN bytes, or NUL-terminated when LEN
 * is negative) to IDS_OUT. */
gboolean hart_tokenizer_encode (HartTokenizer * tokenizer, const char *text,
    gssize len, GArray * ids_out, GError ** error);

/* The text of IDS[N] (newly allocated, valid UTF-8).  Added special tokens
 * are left out when SKIP_SPECIAL.  An id outside the vocabulary is an
 * error. */
char *hart_tokenizer_decode (HartTokenizer * tokenizer, const int32_t * ids,
    gsize n, gboolean skip_special, GError ** error);

/* HART's prompt encoding (encode_prompts with max_length=MAX_LEN,
 * truncation=True, padding="max_length"):
 *   ids[MAX_LEN]        the first MAX_LEN ids, right-padded with the pad id
 *   mask[MAX_LEN]       ids[j] != pad id (a literal <|endoftext|> typed in
 *                       the prompt is masked too, as in the official code)
 *   positions[MAX_LEN]  cumsum (mask) - 1
 *   *n_real             number of prompt ids kept (≤ MAX_LEN), pads excluded
 * MASK, POSITIONS and N_REAL may be NULL.  Truncation is logged. */
gboolean hart_tokenizer_encode_prompt (HartTokenizer * tokenizer,
    const char *prompt, int max_len, int32_t * ids, uint8_t * mask,
    int32_t * positions, int *n_real, GError ** error);

/* The system prompt HART puts before a user prompt for prompt enhancement
 * (docs/algorithm.md §4.2): 705 characters, ends with "User Prompt:\n". */
const char *hart_tokenizer_system_prompt (void);

G_END_DECLS
#endif /* HART_TOKENIZER_H */
