/* gst-hart — HART's text encoder: tokenizer + Qwen2 (Qwen2-VL-1.5B-Instruct)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Turns prompts into the text context HART conditions on
 * (docs/algorithm.md §4): the system prompt (S ids, no padding) is put
 * before every prompt (T ids, truncated and right-padded), the whole
 * [S + T] sequence runs through Qwen2Model with the key mask
 * [1]·S ‖ prompt mask and positions 0 … S+T−1, and rows S … S+T−1 of the
 * post-final-norm hidden state are the context [B, T, hidden].
 *
 * The layer matrices are used in the engine's matrix type (fp32: the
 * official sampler upcasts the bf16 checkpoint; bf16 in half precision),
 * read in place from the mapped file, streamed or held
 * (HartTextEncoderMatrices); norms and biases are held in fp32.  The
 * embedding table stays in the file in its stored dtype (bf16: 0.47 GB at
 * real size; a host copy when the file is an archive) and only the rows a
 * call needs are read and converted.
 *
 * A loaded encoder is read-only: encode calls allocate their own scratch, so
 * one encoder may serve several threads (on a backend that cannot run ops
 * from several threads, the engine lets one encode run at a time).
 */
#ifndef HART_TEXT_ENCODER_H
#define HART_TEXT_ENCODER_H

#include <glib.h>
#include <gio/gio.h>
#include <stdint.h>
#include "hart/hart.h"
#include "hart/config.h"
#include "hart/tokenizer.h"

G_BEGIN_DECLS

typedef struct _HartTextEncoder HartTextEncoder;

/* Loads QWEN_DIR (config.json and model.safetensors[.index.json] or
 * pytorch_model.bin; tensor names with or without the "model." prefix;
 * visual.* and lm_head.* are ignored) onto ENGINE (a reference is taken),
 * and the tokenizer from TOKENIZER_DIR, or when NULL from
 * hart_text_encoder_tokenizer_dir (QWEN_DIR) (tokenizer.json, or vocab.json
 * + merges.txt, plus tokenizer_config.json).
 * Fails when a token id of the tokenizer is ≥ vocab_size, when a tensor is
 * missing or has another shape than config.json implies, or when the
 * system prompt does not fit max_position_embeddings. */
HartTextEncoder *hart_text_encoder_load (HartEngine * engine,
    const char *qwen_dir, const char *tokenizer_dir, GError ** error);

/* Where the tokenizer of the text encoder in QWEN_DIR is: QWEN_DIR itself
 * when it holds tokenizer.json or vocab.json (as the release does), else
 * the folder $HART_TOKENIZER_PATH names when it is set (a text encoder
 * folder with weights only, such as the test fixtures), else QWEN_DIR (whose
 * load then says what is missing).  Free with g_free(). */
#define HART_TOKENIZER_PATH_ENV "HART_TOKENIZER_PATH"
char *hart_text_encoder_tokenizer_dir (const char *qwen_dir);

/* Folder name of the text encoder in the release layout. */
#define HART_TEXT_ENCODER_FOLDER "Qwen2-VL-1.5B-Instruct"

/* The text encoder folder of the release layout: HART_TEXT_ENCODER_FOLDER
 * beside the HART release folder MODEL_PATH (which may also be its llm/
 * folder).  Free with g_free(). */
char *hart_text_encoder_default_dir (const char *model_path);
void hart_text_encoder_free (HartTextEncoder * encoder);

const HartQwen2Config *hart_text_encoder_get_config (const HartTextEncoder *
    encoder);

/* Where a loaded encoder's layer matrices are (docs/precision.md, "The
 * text encoder's matrices"; the rule: hart/text-encoder-private.h). */
typedef enum
{
  /* held by the encoder, in the engine's matrix type (a copy made at
   * load) */
  HART_TEXT_ENCODER_MATRICES_HELD,
  /* 16-bit in the file, fp32 engine: one layer at a time converted to f32
   * just before it runs */
  HART_TEXT_ENCODER_MATRICES_STREAMED,
  /* stored in the engine's matrix type, on a backend whose memory is the
   * host's: used in place in the mapped file, the pages given back after
   * each layer */
  HART_TEXT_ENCODER_MATRICES_MAPPED,
} HartTextEncoderMatrices;

HartTextEncoderMatrices hart_text_encoder_get_matrices (const HartTextEncoder
    * encoder);
/* "held", "converted to f32 layer by layer", "used in place in the mapped
 * file" */
const char *hart_text_encoder_matrices_name (HartTextEncoderMatrices matrices);

/* Owned by the encoder. */
HartTokenizer *hart_text_encoder_get_tokenizer (HartTextEncoder * encoder);
/* The system prompt's ids (S of them, owned by the encoder). */
const int32_t *hart_text_encoder_get_system_ids (const HartTextEncoder *
    encoder, int *n_ids);

/* HART's prompt encoding: context [N_PROMPTS, MAX_TOKENS, hidden_size]
 * (MAX_TOKENS = the HART model's context_token: 300 for the release) with
 * the prompt mask (ids != pad id) and positions cumsum (mask) − 1.
 * Free with hart_context_free. */
HartContext *hart_text_encoder_encode (HartTextEncoder * encoder,
    const char *const *prompts, int n_prompts, int max_tokens,
    GCancellable * cancel, GError ** error);

/* The Qwen2 forward pass itself, for tests and tools: IDS [BATCH, LEN]
 * (every id < vocab_size, else an error), key mask MASK [BATCH, LEN]
 * (NULL: every key visible besides the causal rule), positions 0 … LEN−1.
 * Writes rows ROW_START … ROW_START+N_ROWS−1 of the post-final-norm hidden
 * state to HIDDEN [BATCH, N_ROWS, hidden_size] (host).  When LAYER_HIDDEN
 * is not NULL it also receives the residual stream after decoder layer
 * CAPTURE_LAYER (0-based), all rows: [BATCH, LEN, hidden_size]. */
gboolean hart_text_encoder_forward (HartTextEncoder * encoder,
    const int32_t * ids, const uint8_t * mask, int batch, int len,
    int row_start, int n_rows, float *hidden, int capture_layer,
    float *layer_hidden, GCancellable * cancel, GError ** error);

G_END_DECLS
#endif /* HART_TEXT_ENCODER_H */
