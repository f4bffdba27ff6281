/* gst-hart — the HART autoregressive transformer (hart_transformer_t2i)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Weights and the per-stage forward pass of docs/algorithm.md §5–§6: text conditioning,
 * level embeddings, the blocks with their KV cache, 1-D / "2-D" RoPE and the
 * AdaLN head.  Sampling and the latent update live in sampler.c / latent.c.
 */
#ifndef HART_TRANSFORMER_H
#define HART_TRANSFORMER_H

#include <glib.h>
#include <gio/gio.h>
#include "hart/checkpoint.h"
#include "hart/config.h"
#include "hart/weights.h"

G_BEGIN_DECLS

typedef struct
{
  float *ln;                    /* [C] shared by both norms of the block */
  HartMatrix w_qkv;             /* [3C, C] rows: Q, K, V */
  float *q_bias, *v_bias;       /* [C] */
  float *b_qkv;                 /* [3C] = (q_bias, 0, v_bias) */
  HartMatrix w_proj;            /* [C, C] */
  float *b_proj;                /* [C] */
  HartMatrix w_gate, w_up;      /* [F, C] */
  HartMatrix w_down;            /* [C, F] */
} HartBlockWeights;

typedef struct
{
  HartTransformerConfig cfg;
  int vocab;                    /* V (from the autoencoder config) */
  int latent_channels;          /* Cv */
  HartBackend *be;
  HartWeights *weights;

  float *context_norm;          /* [D] or NULL */
  HartMatrix w_context;         /* [C, D] */
  float *b_context;             /* [C] */
  float *w_word, *b_word;       /* [C, Cv], [C] */
  float *lvl;                   /* [SN, C] precomputed level embeddings */
  HartBlockWeights *blocks;     /* [depth] */
  float *head_norm;             /* [C] */
  HartMatrix w_head_ada;        /* [2C, C] */
  float *b_head_ada;            /* [2C] */
  HartMatrix w_head;            /* [V, C] */
  float *b_head;                /* [V] */
  float *decoder_norm;          /* [C] */
} HartTransformer;

/* Loads every tensor (names of docs/algorithm.md §3.1) from ckpt; the level embeddings
 * are computed here once.  The linear layers' matrices are held in
 * MATRIX_DTYPE (HART_DTYPE_F32, or the engine's half type: docs/precision.md). */
HartTransformer *hart_transformer_load (HartBackend * be,
    HartCheckpoint * ckpt, const HartTransformerConfig * cfg, int vocab,
    int latent_channels, HartDType matrix_dtype, GError ** error);
void hart_transformer_free (HartTransformer * tf);

/* Per-generation state: KV caches and scratch for 2B rows. */
typedef struct _HartTransformerState HartTransformerState;

/* WORKSPACE_FLOATS: what the caller will borrow between generations
 * (hart_transformer_state_workspace); the KV cache's memory is made at
 * least that large. */
HartTransformerState *hart_transformer_state_new (HartTransformer * tf,
    int batch, gsize workspace_floats, GError ** error);
void hart_transformer_state_free (HartTransformerState * st);
/* The memory of the KV cache and the stage activations (one slab of
 * N_FLOATS floats on the backend) as scratch
 * for someone else between two generations: its contents are garbage to the
 * next hart_transformer_begin, which overwrites what it reads; anything put
 * there is gone once the state is used again.  The refinement decodes in it
 * (generate.c), so holding a state costs no second copy of the decoder's
 * activations. */
float *hart_transformer_state_workspace (HartTransformerState * st,
    gsize * n_floats);
/* Bytes of its KV caches (in the model's precision: bf16 when its
 * attention takes bf16 keys, hart_attention_takes_half_kv). */
gsize hart_transformer_state_cache_bytes (HartTransformerState * st);

/* Sets up the conditioning from the text context (host [B, T, D] plus the
 * per-row position offset and positions): computes cond_BD [2B, T, C]
 * (conditional rows then the zero-context unconditional rows), its pooled
 * head modulation, and empties the KV cache. positions: [B, T] host. */
gboolean hart_transformer_begin (HartTransformerState * st,
    const float *context, const int32_t * positions, GError ** error);

/* The device buffer cond_BD [2B, T, C] (valid after begin). */
const float *hart_transformer_cond (HartTransformerState * st);

/* Runs the blocks for stage si on x [2B, l, C] (device, in place → final
 * hidden state) with the stage's RoPE, appending to the KV cache. */
gboolean hart_transformer_forward_stage (HartTransformerState * st, int si,
    float *x, GCancellable * cancel, GError ** error);

/* Head: logits [2B, rows, V] for hidden h [2B, rows, C] (row stride
 * row_stride elements between consecutive rows of one batch item and
 * batch_stride between items). */
void hart_transformer_logits (HartTransformerState * st, const float *h,
    int rows, int64_t batch_stride, float *logits);

/* Stage-0 input: cond_BD + lvl(0) into x [2B, T, C]. */
void hart_transformer_stage0_input (HartTransformerState * st, float *x);
/* Next-stage input from a latent [B, Cv, pn, pn] (device, NCHW):
 * x [2B, pn², C] = word_embed(latent as tokens) + lvl(si), both halves. */
void hart_transformer_stage_input (HartTransformerState * st, int si,
    const float *latent, int pn, float *x);
/* Diffusion condition z [2B, l, C] = RMSNorm(H + word_embed(codes); decoder_norm)
 * where codes [B, l, Cv] (device) are duplicated for both halves. */
void hart_transformer_diffusion_condition (HartTransformerState * st,
    const float *hidden, const float *codes, int l, float *z);

int hart_transformer_state_batch (HartTransformerState * st);

G_END_DECLS
#endif /* HART_TRANSFORMER_H */
