/* gst-hart — the HART autoregressive transformer (hart_transformer_t2i)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Notation (docs/algorithm.md §1): B prompts, 2B rows after CFG doubling (conditional rows
 * first), T context tokens, C width, H heads of hd, F SwiGLU width, V codes,
 * Cv latent channels, SN scales with sides pn_s, P = pn_{SN-1}.
 */
#include "transformer.h"
#include "error.h"

#include <math.h>
#include <string.h>

/* The sinusoidal level/timestep embedding has 256 features (128 cos, 128 sin). */
#define LEVEL_FREQ_DIM 256
/* Tokens per chunk of a stage's QKV projection and MLP (the struct). */
#define STAGE_CHUNK_ROWS 1024
/* Buffers carved from the state's slab start on 256-byte boundaries. */
#define ALIGN_SLAB(bytes) (((bytes) + 255) / 256 * 256)

struct _HartTransformerState
{
  HartTransformer *tf;
  HartBackend *be;
  int batch;                    /* B */
  int rows;                     /* 2B */
  int max_tokens;               /* largest stage: max(T, P²) */
  int cache_cap;                /* positions kept across stages: all but the last */
  int kv_len;                   /* positions cached so far */

  int32_t *positions;           /* host [B, T] context position ids */

  /* The keys and values of every block over the positions before the
   * last stage, and the last stage's (the cache followed by its own).  In
   * fp32 token-major [2B, positions, C]; with half_kv bf16 head-major
   * [2B, H, positions, hd], the layout attention_half reads in place
   * (HartAttentionParams.k_half; docs/precision.md). */
  gboolean half_kv;
  gsize kv_elem;                /* bytes per element: 4, or 2 with half_kv */
  guint8 **k_cache, **v_cache;  /* per block, cache_cap positions */
  guint8 *k_last, *v_last;      /* last stage: seq_len positions */
  /* The caches and the activations below (a … rope_sin) are carved from
   * one slab, which the refinement borrows whole between generations
   * (hart_transformer_state_workspace): none of it is read across a
   * generation's end. */
  guint8 *slab;
  gsize slab_bytes;             /* at least the workspace asked */
  gsize cache_bytes;            /* the caches' part of it */

  float *cond;                  /* cond_BD [2B, T, C] */
  float *head_mod;              /* [2B, 2C]: scale then shift */
  /* The stage's tokens go through the QKV projection and the MLP in
   * chunks of chunk_rows tokens: their widest buffers (qkv, gate, up) are
   * chunk-sized, which bounds the activations whatever the stage (at
   * 1024², 8,192 tokens: 0.3 GB less).  On the CPU a product's rows do
   * not depend on how many rows it has (the fp32 GEMM's rows-invariant
   * path, kernels/cpu/cpu-gemm.c), so fp32 results are those of one pass;
   * cuBLAS promises no such thing, and CUDA is held to the CPU by a
   * tolerance, not bytes. */
  int chunk_rows;
  float *qkv;                   /* [chunk_rows, 3C] fused projection */
  float *q;                     /* [2B·max_tokens, C] roped queries */
  float *a, *attn, *tmp;        /* [2B·max_tokens, C] */
  float *gate, *up;             /* [chunk_rows, F] */
  float *rope_cos, *rope_sin;   /* [2B, max_tokens, hd] */
  float *head_rows;             /* [2B·max_tokens, C] */
  float *host_cos, *host_sin;   /* host copies being built */
  GPtrArray *buffers;
};

/* ------------------------------------------------------------------ */
/* loading                                                             */

static gboolean
compute_level_embeddings (HartTransformer * tf, float *w1, float *b1,
    float *w2, float *b2, GError ** error)
{
  const HartTransformerConfig *c = &tf->cfg;
  HartBackend *be = tf->be;
  int sn = c->n_scales, half = LEVEL_FREQ_DIM / 2;
  float *host = g_new (float, (gsize) sn * LEVEL_FREQ_DIM);
  float *freq_dev, *hidden;
  /* f_k = exp(-ln(10000) · k / 128): the constant is rounded to fp32 first,
   * then multiplied by k, then divided (docs/algorithm.md §5.2). */
  const float neg_log = (float) -log (10000.0);

  for (int t = 0; t < sn; t++) {
    for (int k = 0; k < half; k++) {
      float f = expf (neg_log * (float) k / (float) half);
      float arg = (float) t * f;
      host[t * LEVEL_FREQ_DIM + k] = cosf (arg);
      host[t * LEVEL_FREQ_DIM + half + k] = sinf (arg);
    }
  }
  freq_dev = be->ops->alloc (be, (gsize) sn * LEVEL_FREQ_DIM * sizeof (float),
      error);
  hidden = freq_dev ? be->ops->alloc (be, (gsize) sn * c->embed_dim *
      sizeof (float), error) : NULL;
  tf->lvl = hidden ? hart_weights_alloc (tf->weights, (gsize) sn *
      c->embed_dim, error) : NULL;
  if (tf->lvl == NULL) {
    if (freq_dev)
      be->ops->free (be, freq_dev);
    if (hidden)
      be->ops->free (be, hidden);
    g_free (host);
    return FALSE;
  }
  be->ops->upload (be, freq_dev, host, (gsize) sn * LEVEL_FREQ_DIM *
      sizeof (float));
  be->ops->linear (be, hidden, freq_dev, w1, b1, sn, LEVEL_FREQ_DIM,
      c->embed_dim);
  be->ops->silu (be, hidden, hidden, (gsize) sn * c->embed_dim);
  be->ops->linear (be, tf->lvl, hidden, w2, b2, sn, c->embed_dim, c->embed_dim);
  be->ops->free (be, freq_dev);
  be->ops->free (be, hidden);
  g_free (host);
  return be->ops->synchronize (be, error);
}

HartTransformer *
hart_transformer_load (HartBackend * be, HartCheckpoint * ckpt,
    const HartTransformerConfig * cfg, int vocab, int latent_channels,
    HartDType matrix_dtype, GError ** error)
{
  HartTransformer *tf = g_new0 (HartTransformer, 1);
  const int C = cfg->embed_dim, D = cfg->context_dim, F = cfg->mlp_hidden;
  const int V = vocab, Cv = latent_channels;
  float *lvl_w1, *lvl_b1, *lvl_w2, *lvl_b2;
  HartWeights *w;

  tf->cfg = *cfg;
  tf->cfg.vae_path = NULL;      /* not owned here */
  tf->vocab = vocab;
  tf->latent_channels = latent_channels;
  tf->be = be;
  tf->weights = w = hart_weights_new (be, ckpt, "");
  hart_weights_set_matrix_dtype (w, matrix_dtype);
  tf->blocks = g_new0 (HartBlockWeights, cfg->depth);

  if (cfg->use_context_norm
      && !(tf->context_norm = hart_weights_get (w, HART_DIMS (D), error,
              "context_norm.weight")))
    goto fail;
  if (!hart_weights_get_matrix (w, &tf->w_context, C, D, error,
          "context_embed.weight")
      || !(tf->b_context = hart_weights_get (w, HART_DIMS (C), error,
              "context_embed.bias"))
      || !(tf->w_word = hart_weights_get (w, HART_DIMS (C, Cv), error,
              "word_embed.weight"))
      || !(tf->b_word = hart_weights_get (w, HART_DIMS (C), error,
              "word_embed.bias"))
      || !(lvl_w1 = hart_weights_get (w, HART_DIMS (C, LEVEL_FREQ_DIM), error,
              "lvl_embed.mlp.0.weight"))
      || !(lvl_b1 = hart_weights_get (w, HART_DIMS (C), error,
              "lvl_embed.mlp.0.bias"))
      || !(lvl_w2 = hart_weights_get (w, HART_DIMS (C, C), error,
              "lvl_embed.mlp.2.weight"))
      || !(lvl_b2 = hart_weights_get (w, HART_DIMS (C), error,
              "lvl_embed.mlp.2.bias"))
      || !(tf->head_norm = hart_weights_get (w, HART_DIMS (C), error,
              "head_nm.ln_wo_grad.weight"))
      || !hart_weights_get_matrix (w, &tf->w_head_ada, 2 * C, C, error,
          "head_nm.ada_lin.1.weight")
      || !(tf->b_head_ada = hart_weights_get (w, HART_DIMS (2 * C), error,
              "head_nm.ada_lin.1.bias"))
      || !hart_weights_get_matrix (w, &tf->w_head, V, C, error, "head.weight")
      || !(tf->b_head = hart_weights_get (w, HART_DIMS (V), error, "head.bias"))
      || !(tf->decoder_norm = hart_weights_get (w, HART_DIMS (C), error,
              "decoder_norm.weight")))
    goto fail;

  for (int i = 0; i < cfg->depth; i++) {
    HartBlockWeights *b = &tf->blocks[i];
    if (!(b->ln = hart_weights_get (w, HART_DIMS (C), error,
                "blocks.%d.ln_wo_grad.weight", i))
        || !hart_weights_get_matrix (w, &b->w_qkv, 3 * C, C, error,
            "blocks.%d.attn.qkv_proj.weight", i)
        || !(b->q_bias = hart_weights_get (w, HART_DIMS (C), error,
                "blocks.%d.attn.q_bias", i))
        || !(b->v_bias = hart_weights_get (w, HART_DIMS (C), error,
                "blocks.%d.attn.v_bias", i))
        || !hart_weights_get_matrix (w, &b->w_proj, C, C, error,
            "blocks.%d.attn.proj.weight", i)
        || !(b->b_proj = hart_weights_get (w, HART_DIMS (C), error,
                "blocks.%d.attn.proj.bias", i))
        || !hart_weights_get_matrix (w, &b->w_gate, F, C, error,
            "blocks.%d.ffn.gate_proj.weight", i)
        || !hart_weights_get_matrix (w, &b->w_up, F, C, error,
            "blocks.%d.ffn.up_proj.weight", i)
        || !hart_weights_get_matrix (w, &b->w_down, C, F, error,
            "blocks.%d.ffn.down_proj.weight", i)
        || !(b->b_qkv = hart_weights_alloc (w, (gsize) 3 * C, error)))
      goto fail;
    /* one fused QKV projection: bias (q_bias, 0, v_bias) (docs/algorithm.md §3.1) */
    be->ops->copy (be, b->b_qkv, b->q_bias, (gsize) C * sizeof (float));
    be->ops->copy (be, b->b_qkv + 2 * C, b->v_bias, (gsize) C * sizeof (float));
  }
  if (!compute_level_embeddings (tf, lvl_w1, lvl_b1, lvl_w2, lvl_b2, error))
    goto fail;
  return tf;

fail:
  hart_transformer_free (tf);
  return NULL;
}

void
hart_transformer_free (HartTransformer * tf)
{
  if (tf == NULL)
    return;
  hart_weights_free (tf->weights);
  g_free (tf->blocks);
  g_free (tf);
}

/* ------------------------------------------------------------------ */
/* per-generation state                                                */

static float *
state_alloc (HartTransformerState * st, gsize n_floats, GError ** error)
{
  float *p = st->be->ops->alloc (st->be, n_floats * sizeof (float), error);
  if (p)
    g_ptr_array_add (st->buffers, p);
  return p;
}

HartTransformerState *
hart_transformer_state_new (HartTransformer * tf, int batch,
    gsize workspace_floats, GError ** error)
{
  const HartTransformerConfig *c = &tf->cfg;
  HartTransformerState *st = g_new0 (HartTransformerState, 1);
  const gsize C = c->embed_dim, F = c->mlp_hidden, hd = c->head_dim;
  const int P = c->patch_nums[c->n_scales - 1];
  gsize rows_max, per_block, per_last;

  st->tf = tf;
  st->be = tf->be;
  st->batch = batch;
  st->rows = 2 * batch;
  st->buffers = g_ptr_array_new ();
  st->max_tokens = MAX (c->context_token, P * P);
  st->cache_cap = c->seq_len - P * P;
  st->positions = g_new0 (int32_t, (gsize) batch * c->context_token);
  st->k_cache = g_new0 (guint8 *, c->depth);
  st->v_cache = g_new0 (guint8 *, c->depth);
  rows_max = (gsize) st->rows * st->max_tokens;
  st->chunk_rows = STAGE_CHUNK_ROWS;
  {
    /* tests make the chunks small, to chunk the tiny models' stages */
    const char *env = g_getenv ("HART_STAGE_CHUNK_ROWS");
    guint64 v;
    if (env != NULL && g_ascii_string_to_unsigned (env, 10, 1,
            STAGE_CHUNK_ROWS, &v, NULL))
      st->chunk_rows = (int) v;
  }
  st->chunk_rows = (int) MIN ((gsize) st->chunk_rows, rows_max);
  /* the blocks all hold their weights in the model's precision */
  st->half_kv = c->depth > 0
      && hart_attention_takes_half_kv (st->be, tf->blocks[0].w_qkv.dtype);
  st->kv_elem = st->half_kv ? sizeof (uint16_t) : sizeof (float);

  /* The caches, then the activations of the widest stage, each on a
   * 256-byte boundary, in one slab made large enough for what the caller
   * will borrow. */
  per_block = (gsize) st->rows * st->cache_cap * C * st->kv_elem;
  per_last = (gsize) st->rows * c->seq_len * C * st->kv_elem;
  {
    float **act[] = { &st->a, &st->q, &st->attn, &st->tmp, &st->head_rows,
      &st->rope_cos, &st->rope_sin, &st->qkv, &st->gate, &st->up
    };
    const gsize chunk = (gsize) st->chunk_rows;
    const gsize act_rows[] = { rows_max, rows_max, rows_max, rows_max,
      rows_max, rows_max, rows_max, chunk, chunk, chunk
    };
    const gsize act_width[] = { C, C, C, C, C, hd, hd, 3 * C, F, F };
    const gsize kv_bytes = ALIGN_SLAB (2 * (gsize) c->depth * per_block +
        2 * per_last);
    gsize offset = kv_bytes;

    st->cache_bytes = 2 * (gsize) c->depth * per_block + 2 * per_last;

    for (guint j = 0; j < G_N_ELEMENTS (act); j++)
      offset += ALIGN_SLAB (act_rows[j] * act_width[j] * sizeof (float));
    st->slab_bytes = MAX (offset, workspace_floats * sizeof (float));
    if (!(st->slab = (guint8 *) state_alloc (st, (st->slab_bytes + 3) / 4,
                error)))
      goto fail;
    offset = kv_bytes;
    for (guint j = 0; j < G_N_ELEMENTS (act); j++) {
      *act[j] = (float *) (st->slab + offset);
      offset += ALIGN_SLAB (act_rows[j] * act_width[j] * sizeof (float));
    }
  }
  for (int i = 0; i < c->depth; i++) {
    st->k_cache[i] = st->slab + (gsize) 2 *i * per_block;
    st->v_cache[i] = st->k_cache[i] + per_block;
  }
  st->k_last = st->slab + (gsize) 2 *c->depth * per_block;
  st->v_last = st->k_last + per_last;
  if (!(st->cond = state_alloc (st, (gsize) st->rows * c->context_token * C,
              error))
      || !(st->head_mod = state_alloc (st, (gsize) st->rows * 2 * C, error)))
    goto fail;
  st->host_cos = g_try_new (float, rows_max * hd);
  st->host_sin = g_try_new (float, rows_max * hd);
  if (st->host_cos == NULL || st->host_sin == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "out of memory for the RoPE tables (%" G_GSIZE_FORMAT " bytes)",
        2 * rows_max * hd * sizeof (float));
    goto fail;
  }
  return st;

fail:
  hart_transformer_state_free (st);
  return NULL;
}

void
hart_transformer_state_free (HartTransformerState * st)
{
  if (st == NULL)
    return;
  for (guint i = 0; i < st->buffers->len; i++)
    st->be->ops->free (st->be, g_ptr_array_index (st->buffers, i));
  g_ptr_array_free (st->buffers, TRUE);
  g_free (st->k_cache);
  g_free (st->v_cache);
  g_free (st->positions);
  g_free (st->host_cos);
  g_free (st->host_sin);
  g_free (st);
}

float *
hart_transformer_state_workspace (HartTransformerState * st, gsize * n_floats)
{
  *n_floats = st->slab_bytes / sizeof (float);
  return (float *) st->slab;
}

gsize
hart_transformer_state_cache_bytes (HartTransformerState * st)
{
  return st->cache_bytes;
}

int
hart_transformer_state_batch (HartTransformerState * st)
{
  return st->batch;
}

const float *
hart_transformer_cond (HartTransformerState * st)
{
  return st->cond;
}

gboolean
hart_transformer_begin (HartTransformerState * st, const float *context,
    const int32_t * positions, GError ** error)
{
  HartTransformer *tf = st->tf;
  const HartTransformerConfig *c = &tf->cfg;
  HartBackend *be = st->be;
  const int T = c->context_token, D = c->context_dim, C = c->embed_dim;
  const gsize cond_rows = (gsize) st->batch * T;
  /* [context ; 0]: the unconditional half has an all-zero context, whose
   * RMSNorm is zero, so its tokens are context_embed.bias (docs/algorithm.md §6.1). */
  float *ctx = st->a;           /* [2B·T, D]: fits when T·D ≤ max_tokens·C */
  float *normed = st->tmp;

  if ((gsize) T * D > (gsize) st->max_tokens * C) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "context_dim %d is too large for the scratch buffers", D);
    return FALSE;
  }
  memcpy (st->positions, positions, cond_rows * sizeof (int32_t));
  be->ops->fill (be, ctx, 0.0f, (gsize) st->rows * T * D);
  be->ops->upload (be, ctx, context, cond_rows * D * sizeof (float));
  if (tf->context_norm) {
    be->ops->rms_norm (be, normed, ctx, tf->context_norm, st->rows * T, D,
        (float) c->norm_eps);
    ctx = normed;
  }
  hart_matrix_linear (be, st->cond, ctx, &tf->w_context, tf->b_context,
      st->rows * T);

  /* Head modulation from the max-pooled condition, pads included (docs/algorithm.md §5.8). */
  be->ops->max_over_rows (be, st->attn, st->cond, st->rows, T, C);
  be->ops->silu (be, st->attn, st->attn, (gsize) st->rows * C);
  hart_matrix_linear (be, st->head_mod, st->attn, &tf->w_head_ada,
      tf->b_head_ada, st->rows);
  st->kv_len = 0;
  return be->ops->synchronize (be, error);
}

void
hart_transformer_stage0_input (HartTransformerState * st, float *x)
{
  const HartTransformerConfig *c = &st->tf->cfg;
  HartBackend *be = st->be;
  gsize n = (gsize) st->rows * c->context_token * c->embed_dim;

  be->ops->copy (be, x, st->cond, n * sizeof (float));
  be->ops->add_row_vector (be, x, st->tf->lvl, st->rows * c->context_token,
      c->embed_dim);
}

void
hart_transformer_stage_input (HartTransformerState * st, int si,
    const float *latent, int pn, float *x)
{
  HartTransformer *tf = st->tf;
  HartBackend *be = st->be;
  const int C = tf->cfg.embed_dim, Cv = tf->latent_channels, l = pn * pn;
  const gsize item = (gsize) l * C;

  for (int b = 0; b < st->batch; b++) {
    /* tokens [l, Cv] = latent_b [Cv, l]ᵀ; x_b = tokens · W_wordᵀ */
    be->ops->gemm (be, TRUE, TRUE, l, C, Cv, 1.0f, latent + (gsize) b * Cv * l,
        l, tf->w_word, Cv, 0.0f, x + b * item, C);
  }
  be->ops->add_row_vector (be, x, tf->b_word, st->batch * l, C);
  be->ops->add_row_vector (be, x, tf->lvl + (gsize) si * C, st->batch * l, C);
  /* the unconditional half gets the same tokens */
  be->ops->copy (be, x + st->batch * item, x,
      st->batch * item * sizeof (float));
}

void
hart_transformer_diffusion_condition (HartTransformerState * st,
    const float *hidden, const float *codes, int l, float *z)
{
  HartTransformer *tf = st->tf;
  HartBackend *be = st->be;
  const int C = tf->cfg.embed_dim;
  const gsize half = (gsize) st->batch * l * C;

  be->ops->linear (be, st->tmp, codes, tf->w_word, tf->b_word,
      st->batch * l, tf->latent_channels, C);
  be->ops->add (be, z, hidden, st->tmp, half);
  be->ops->add (be, z + half, hidden + half, st->tmp, half);
  be->ops->rms_norm (be, z, z, tf->decoder_norm, st->rows * l, C,
      (float) tf->cfg.norm_eps);
}

/* ------------------------------------------------------------------ */
/* rotary tables (docs/algorithm.md §5.3–§5.5)                                      */

/* Stage 0: 1-D RoPE at the context positions (conditional rows) or 0
 * (unconditional rows): tables [cos φ_0..φ_{hd/2-1} | the same]. */
static void
build_context_rope (HartTransformerState * st)
{
  const HartTransformerConfig *c = &st->tf->cfg;
  const int T = c->context_token, hd = c->head_dim, h2 = hd / 2;
  float inv[HART_MAX_HEAD_DIM / 2];     /* config.c bounds head_dim */

  for (int k = 0; k < h2; k++)
    inv[k] = 1.0f / powf (10000.0f, (float) (2 * k) / (float) hd);
  for (int r = 0; r < st->rows; r++) {
    for (int j = 0; j < T; j++) {
      float p = r < st->batch ? (float) st->positions[r * T + j] : 0.0f;
      float *cs = st->host_cos + ((gsize) r * T + j) * hd;
      float *sn = st->host_sin + ((gsize) r * T + j) * hd;
      for (int k = 0; k < h2; k++) {
        float phi = p * inv[k];
        cs[k] = cs[k + h2] = cosf (phi);
        sn[k] = sn[k + h2] = sinf (phi);
      }
    }
  }
}

/* Image stages: float positions P0 = fl(fl(i·fl(1/pn))·P) + off (the
 * official GPU form), P1 likewise from the column; the first half of the
 * table holds angles of P0, the second half of P1, each over hd/4
 * frequencies 10000^(-4k/hd) — the non-orthogonal layout of docs/algorithm.md §5.4. */
static void
build_image_rope (HartTransformerState * st, int pn)
{
  const HartTransformerConfig *c = &st->tf->cfg;
  const int T = c->context_token, hd = c->head_dim, h2 = hd / 2, h4 = hd / 4;
  const float P = (float) c->patch_nums[c->n_scales - 1];
  const float recip = 1.0f / (float) pn;
  const int l = pn * pn;
  float inv[HART_MAX_HEAD_DIM / 4];

  for (int k = 0; k < h4; k++)
    inv[k] = 1.0f / powf (10000.0f, (float) (2 * k) / (float) h2);
  for (int r = 0; r < st->rows; r++) {
    float off = r < st->batch ? (float) st->positions[r * T + T - 1] : 0.0f;
    for (int t = 0; t < l; t++) {
      int i = t / pn, j = t % pn;
      float p0 = ((float) i * recip) * P + off;
      float p1 = ((float) j * recip) * P + off;
      float *cs = st->host_cos + ((gsize) r * l + t) * hd;
      float *sn = st->host_sin + ((gsize) r * l + t) * hd;
      for (int d = 0; d < h2; d++) {
        float a0 = p0 * inv[d % h4], a1 = p1 * inv[d % h4];
        cs[d] = cosf (a0);
        sn[d] = sinf (a0);
        cs[d + h2] = cosf (a1);
        sn[d + h2] = sinf (a1);
      }
    }
  }
}

/* ------------------------------------------------------------------ */
/* forward                                                              */

gboolean
hart_transformer_forward_stage (HartTransformerState * st, int si, float *x,
    GCancellable * cancel, GError ** error)
{
  HartTransformer *tf = st->tf;
  const HartTransformerConfig *c = &tf->cfg;
  HartBackend *be = st->be;
  const int C = c->embed_dim, F = c->mlp_hidden, H = c->num_heads;
  const int hd = c->head_dim, rows = st->rows;
  const int pn = c->patch_nums[si];
  const int l = si == 0 ? c->context_token : pn * pn;
  const gboolean last = si == c->n_scales - 1;
  const gsize n_tok = (gsize) rows * l;
  const float eps = (float) c->norm_eps;
  /* VAR convention: 0.25 / sqrt(head_dim) (docs/algorithm.md §5.6) */
  const float scale = (float) (0.25 / sqrt ((double) hd));
  int kv_total;

  if (si == 0)
    build_context_rope (st);
  else
    build_image_rope (st, pn);
  be->ops->upload (be, st->rope_cos, st->host_cos, n_tok * hd * sizeof (float));
  be->ops->upload (be, st->rope_sin, st->host_sin, n_tok * hd * sizeof (float));

  kv_total = st->kv_len + l;
  if (!last && kv_total > st->cache_cap) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "stage %d: KV cache overflow (%d > %d positions)", si, kv_total,
        st->cache_cap);
    return FALSE;
  }

  for (int i = 0; i < c->depth; i++) {
    const HartBlockWeights *b = &tf->blocks[i];
    const gsize e = st->kv_elem;
    guint8 *kc, *vc;
    /* element strides of the cache this stage attends over: from one row
     * of the batch to the next, and (bf16, head-major) one head to the next */
    int64_t row_stride_e, head_stride_e = 0;
    const int positions = last ? c->seq_len : st->cache_cap;
    HartAttentionParams p = {
      .batch = rows,.q_heads = H,.kv_heads = H,.q_len = l,
      .kv_len = kv_total,.head_dim = hd,.scale = scale,
      .q = st->q,.q_batch_stride = (int64_t) l * C,.q_row_stride = C,
      .out = st->attn,.out_batch_stride = (int64_t) l * C,
      .out_row_stride = C,
    };

    if (hart_error_if_cancelled (cancel, error))
      return FALSE;
    if (st->half_kv) {
      head_stride_e = (int64_t) positions *hd;
      row_stride_e = head_stride_e * H;
    } else {
      row_stride_e = (int64_t) positions *C;
    }
    if (last) {
      /* The last stage's own K/V are not kept: attend over a scratch copy
       * of the cache followed by this stage's keys. */
      kc = st->k_last;
      vc = st->v_last;
      for (int r = 0; r < rows; r++) {
        const gsize cache_row = (gsize) r * st->cache_cap * C * e;
        if (st->half_kv) {
          /* head by head: [H, kv_len, hd] out of [H, cache_cap, hd] */
          const gsize pitch = (gsize) st->cache_cap * hd * e;
          be->ops->copy_2d (be, kc + r * row_stride_e * e,
              head_stride_e * e, st->k_cache[i] + cache_row, pitch,
              (gsize) st->kv_len * hd * e, H);
          be->ops->copy_2d (be, vc + r * row_stride_e * e,
              head_stride_e * e, st->v_cache[i] + cache_row, pitch,
              (gsize) st->kv_len * hd * e, H);
        } else {
          be->ops->copy (be, kc + r * row_stride_e * e, st->k_cache[i] +
              cache_row, (gsize) st->kv_len * C * e);
          be->ops->copy (be, vc + r * row_stride_e * e, st->v_cache[i] +
              cache_row, (gsize) st->kv_len * C * e);
        }
      }
    } else {
      kc = st->k_cache[i];
      vc = st->v_cache[i];
    }

    /* attention */
    be->ops->rms_norm (be, st->a, x, b->ln, (int) n_tok, C, eps);
    /* qkv in chunks of whole rows of the batch, or of positions of one
     * row; Q and K roped in fp32, Q kept, K and V stored in the cache (in
     * bf16 rounded once, head-major) */
    for (int r0 = 0; r0 < rows;) {
      const int rows_per = MAX (1, MIN (rows - r0, st->chunk_rows / l));
      const int np_max = rows_per > 1 ? l : MIN (l, st->chunk_rows);
      for (int p0 = 0; p0 < l; p0 += np_max) {
        const int np = MIN (np_max, l - p0);
        const int nr = np == l ? rows_per : 1;
        const gsize t0 = (gsize) r0 * l + p0, nt = (gsize) nr *np;
        const gsize row = (gsize) C * sizeof (float);
        const int64_t stride = (int64_t) np * 3 * C;

        hart_matrix_linear (be, st->qkv, st->a + t0 * C, &b->w_qkv, b->b_qkv,
            (int) nt);
        be->ops->rope (be, st->qkv, stride, 3 * C, st->rope_cos + t0 * hd,
            st->rope_sin + t0 * hd, (int64_t) l * hd, nr, np, H, hd);
        be->ops->rope (be, st->qkv + C, stride, 3 * C, st->rope_cos + t0 * hd,
            st->rope_sin + t0 * hd, (int64_t) l * hd, nr, np, H, hd);
        be->ops->copy_2d (be, st->q + t0 * C, row, st->qkv, 3 * row, row, nt);
        if (st->half_kv) {
          const gsize at = (gsize) r0 * row_stride_e +
              (gsize) (st->kv_len + p0) * hd;
          be->ops->to_half_heads (be, (uint16_t *) kc + at, row_stride_e,
              head_stride_e, st->qkv + C, stride, 3 * C, nr, np, H, hd);
          be->ops->to_half_heads (be, (uint16_t *) vc + at, row_stride_e,
              head_stride_e, st->qkv + 2 * C, stride, 3 * C, nr, np, H, hd);
        } else {
          for (int r = 0; r < nr; r++) {
            const gsize at = (gsize) (r0 + r) * row_stride_e +
                (gsize) (st->kv_len + p0) * C;
            be->ops->copy_2d (be, (float *) kc + at, row, st->qkv +
                r * stride + C, 3 * row, row, np);
            be->ops->copy_2d (be, (float *) vc + at, row, st->qkv +
                r * stride + 2 * C, 3 * row, row, np);
          }
        }
      }
      r0 += rows_per > 1 ? rows_per : 1;
    }
    if (st->half_kv) {
      p.k_half = (const uint16_t *) kc;
      p.v_half = (const uint16_t *) vc;
      p.kv_half_batch_stride = row_stride_e;
      p.kv_half_head_stride = head_stride_e;
    } else {
      p.k = (const float *) kc;
      p.k_batch_stride = row_stride_e;
      p.k_row_stride = C;
      p.v = (const float *) vc;
      p.v_batch_stride = row_stride_e;
      p.v_row_stride = C;
    }
    hart_attention_in (be, &p, b->w_qkv.dtype);
    hart_matrix_linear (be, st->tmp, st->attn, &b->w_proj, b->b_proj,
        (int) n_tok);
    be->ops->add (be, x, x, st->tmp, n_tok * C);

    /* SwiGLU MLP, same norm weight (docs/algorithm.md §5.7), in chunks */
    be->ops->rms_norm (be, st->a, x, b->ln, (int) n_tok, C, eps);
    for (gsize t0 = 0; t0 < n_tok; t0 += (gsize) st->chunk_rows) {
      const int nt = (int) MIN ((gsize) st->chunk_rows, n_tok - t0);
      hart_matrix_linear (be, st->gate, st->a + t0 * C, &b->w_gate, NULL, nt);
      hart_matrix_linear (be, st->up, st->a + t0 * C, &b->w_up, NULL, nt);
      be->ops->swiglu (be, st->gate, st->gate, st->up, (gsize) nt * F);
      hart_matrix_linear (be, st->tmp + t0 * C, st->gate, &b->w_down, NULL, nt);
    }
    be->ops->add (be, x, x, st->tmp, n_tok * C);
  }
  if (!last)
    st->kv_len = kv_total;
  return be->ops->synchronize (be, error);
}

void
hart_transformer_logits (HartTransformerState * st, const float *h, int rows,
    int64_t batch_stride, float *logits)
{
  HartTransformer *tf = st->tf;
  HartBackend *be = st->be;
  const int C = tf->cfg.embed_dim;
  const gsize item = (gsize) rows * C;

  for (int r = 0; r < st->rows; r++)
    be->ops->copy (be, st->head_rows + r * item, h + r * batch_stride,
        item * sizeof (float));
  be->ops->rms_norm (be, st->head_rows, st->head_rows, tf->head_norm,
      st->rows * rows, C, (float) tf->cfg.norm_eps);
  /* scale = m[:, 0:C], shift = m[:, C:2C] (docs/algorithm.md §5.8) */
  be->ops->modulate (be, st->head_rows, st->head_mod, st->head_mod + C,
      2 * C, st->rows, rows, C);
  hart_matrix_linear (be, logits, st->head_rows, &tf->w_head, tf->b_head,
      st->rows * rows);
}
