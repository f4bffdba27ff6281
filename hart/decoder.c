/* gst-hart — the hybrid tokenizer's VAE decoder (fhat_to_img)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/algorithm.md §9, over the backend op table.  Activations are NCHW, one image at a
 * time, in three rotating buffers sized for the largest feature map:
 *   x — the running feature map,
 *   o — the output of the block being computed (swapped with x after it),
 *   t — scratch (normalised input, shortcut, upsampled map, Q/K/V).
 */
#include "decoder.h"
#include "error.h"
#include "weights.h"

#include <math.h>

/* ResnetBlocks per level: num_res_blocks (2) + 1 in the decoder. */
#define DECODER_BLOCKS_PER_LEVEL 3
/* GroupNorm of every decoder norm: 32 groups, eps 1e-6. */
#define DECODER_GN_GROUPS 32
#define DECODER_GN_EPS 1e-6f
/* Output image channels (RGB). */
#define DECODER_OUT_CHANNELS 3
/* Largest latent side accepted (1024 px needs 64; 16 × that is plenty). */
#define DECODER_MAX_LATENT_SIDE 1024

typedef struct
{
  int cin, cout;
  const float *norm1_w, *norm1_b;       /* [cin] */
  const float *conv1_w, *conv1_b;       /* [cout, cin, 3, 3], [cout] */
  const float *norm2_w, *norm2_b;       /* [cout] */
  const float *conv2_w, *conv2_b;       /* [cout, cout, 3, 3], [cout] */
  /* [cout, cin, 1, 1], [cout]; NULL when cin == cout */
  const float *nin_w, *nin_b;
} DecoderResBlock;

typedef struct
{
  int channels;                 /* c */
  const float *norm_w, *norm_b; /* [c] */
  const float *qkv_w, *qkv_b;   /* [3c, c, 1, 1], [3c]: rows q, k, v */
  const float *proj_w, *proj_b; /* [c, c, 1, 1], [c] */
} DecoderAttnBlock;

typedef struct
{
  int channels;                 /* ch · ch_mult[level] */
  DecoderResBlock block[DECODER_BLOCKS_PER_LEVEL];
  gboolean has_attn;            /* only the lowest resolution */
  DecoderAttnBlock attn[DECODER_BLOCKS_PER_LEVEL];
  const float *up_w, *up_b;     /* [c, c, 3, 3], [c]; NULL at level 0 */
} DecoderLevel;

struct _HartDecoder
{
  HartBackend *be;
  HartWeights *weights;
  int latent_channels;          /* Cv */
  int downsample;               /* 2^(n_levels − 1) */
  int n_levels;
  int low_channels;             /* ch · ch_mult[n_levels − 1] */
  int post_quant_k;             /* quant_conv_ks */

  const float *post_quant_w, *post_quant_b;     /* [Cv, Cv, k, k], [Cv] */
  const float *conv_in_w, *conv_in_b;   /* [low, Cv, 3, 3], [low] */
  DecoderResBlock mid_block_1, mid_block_2;
  DecoderAttnBlock mid_attn;
  DecoderLevel level[HART_MAX_LEVELS];  /* indexed as "up.<level>" */
  const float *norm_out_w, *norm_out_b; /* [ch·ch_mult[0]] */
  const float *conv_out_w, *conv_out_b; /* [3, ch·ch_mult[0], 3, 3], [3] */
  HartDType conv_dtype;         /* F32, or BF16: hart_decoder_set_precision */
};

/* ---- loading ---- */

static gboolean
load_norm (HartWeights * w, const char *name, int c, const float **weight,
    const float **bias, GError ** error)
{
  *weight = hart_weights_get (w, HART_DIMS (c), error, "%s.weight", name);
  if (*weight == NULL)
    return FALSE;
  *bias = hart_weights_get (w, HART_DIMS (c), error, "%s.bias", name);
  return *bias != NULL;
}

static gboolean
load_conv (HartWeights * w, const char *name, int cout, int cin, int k,
    const float **weight, const float **bias, GError ** error)
{
  *weight = hart_weights_get (w, HART_DIMS (cout, cin, k, k), error,
      "%s.weight", name);
  if (*weight == NULL)
    return FALSE;
  *bias = hart_weights_get (w, HART_DIMS (cout), error, "%s.bias", name);
  return *bias != NULL;
}

static gboolean
load_res_block (HartWeights * w, const char *name, int cin, int cout,
    DecoderResBlock * rb, GError ** error)
{
  char *sub;
  gboolean ok;

  rb->cin = cin;
  rb->cout = cout;
#define SUB(s) (g_free (sub), sub = g_strconcat (name, s, NULL))
  sub = NULL;
  ok = load_norm (w, SUB (".norm1"), cin, &rb->norm1_w, &rb->norm1_b, error)
      && load_conv (w, SUB (".conv1"), cout, cin, 3, &rb->conv1_w,
      &rb->conv1_b, error)
      && load_norm (w, SUB (".norm2"), cout, &rb->norm2_w, &rb->norm2_b, error)
      && load_conv (w, SUB (".conv2"), cout, cout, 3, &rb->conv2_w,
      &rb->conv2_b, error);
  if (ok && cin != cout)
    ok = load_conv (w, SUB (".nin_shortcut"), cout, cin, 1, &rb->nin_w,
        &rb->nin_b, error);
#undef SUB
  g_free (sub);
  return ok;
}

static gboolean
load_attn_block (HartWeights * w, const char *name, int c,
    DecoderAttnBlock * ab, GError ** error)
{
  char *norm = g_strconcat (name, ".norm", NULL);
  char *qkv = g_strconcat (name, ".qkv", NULL);
  char *proj = g_strconcat (name, ".proj_out", NULL);
  gboolean ok;

  ab->channels = c;
  ok = load_norm (w, norm, c, &ab->norm_w, &ab->norm_b, error)
      && load_conv (w, qkv, 3 * c, c, 1, &ab->qkv_w, &ab->qkv_b, error)
      && load_conv (w, proj, c, c, 1, &ab->proj_w, &ab->proj_b, error);
  g_free (norm);
  g_free (qkv);
  g_free (proj);
  return ok;
}

HartDecoder *
hart_decoder_load (HartBackend * be, HartCheckpoint * tokenizer_ckpt,
    const HartAutoencoderConfig * cfg, GError ** error)
{
  HartDecoder *dec;
  HartWeights *w;
  int block_in;
  char name[96];

  g_return_val_if_fail (be != NULL && tokenizer_ckpt != NULL && cfg != NULL,
      NULL);

  if (cfg->n_levels < 1 || cfg->n_levels > HART_MAX_LEVELS
      || cfg->z_channels < 1 || cfg->ch < 1 || cfg->quant_conv_ks < 1
      || cfg->quant_conv_ks % 2 == 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "decoder: invalid autoencoder configuration (%d levels, z_channels "
        "%d, ch %d, quant_conv_ks %d)", cfg->n_levels, cfg->z_channels,
        cfg->ch, cfg->quant_conv_ks);
    return NULL;
  }
  for (int l = 0; l < cfg->n_levels; l++) {
    const int c = cfg->ch * cfg->ch_mult[l];
    if (cfg->ch_mult[l] < 1 || c % DECODER_GN_GROUPS != 0) {
      g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
          "decoder: level %d has %d channels (ch %d × ch_mult %d); "
          "GroupNorm needs a positive multiple of %d", l, c, cfg->ch,
          cfg->ch_mult[l], DECODER_GN_GROUPS);
      return NULL;
    }
  }

  dec = g_new0 (HartDecoder, 1);
  dec->be = be;
  dec->latent_channels = cfg->z_channels;
  dec->n_levels = cfg->n_levels;
  dec->downsample = 1 << (cfg->n_levels - 1);
  dec->low_channels = cfg->ch * cfg->ch_mult[cfg->n_levels - 1];
  dec->post_quant_k = cfg->quant_conv_ks;
  dec->weights = w = hart_weights_new (be, tokenizer_ckpt, "vae.");

  block_in = dec->low_channels;
  if (!load_conv (w, "post_quant_conv", cfg->z_channels, cfg->z_channels,
          cfg->quant_conv_ks, &dec->post_quant_w, &dec->post_quant_b, error)
      || !load_conv (w, "decoder.conv_in", block_in, cfg->z_channels, 3,
          &dec->conv_in_w, &dec->conv_in_b, error)
      || !load_res_block (w, "decoder.mid.block_1", block_in, block_in,
          &dec->mid_block_1, error)
      || !load_attn_block (w, "decoder.mid.attn_1", block_in, &dec->mid_attn,
          error)
      || !load_res_block (w, "decoder.mid.block_2", block_in, block_in,
          &dec->mid_block_2, error))
    goto fail;

  /* Levels from the lowest resolution up, as the forward pass meets them. */
  for (int l = cfg->n_levels - 1; l >= 0; l--) {
    DecoderLevel *lv = &dec->level[l];
    lv->channels = cfg->ch * cfg->ch_mult[l];
    lv->has_attn = (l == cfg->n_levels - 1);
    for (int b = 0; b < DECODER_BLOCKS_PER_LEVEL; b++) {
      g_snprintf (name, sizeof name, "decoder.up.%d.block.%d", l, b);
      if (!load_res_block (w, name, block_in, lv->channels, &lv->block[b],
              error))
        goto fail;
      block_in = lv->channels;
      if (lv->has_attn) {
        g_snprintf (name, sizeof name, "decoder.up.%d.attn.%d", l, b);
        if (!load_attn_block (w, name, block_in, &lv->attn[b], error))
          goto fail;
      }
    }
    if (l != 0) {
      g_snprintf (name, sizeof name, "decoder.up.%d.upsample.conv", l);
      if (!load_conv (w, name, block_in, block_in, 3, &lv->up_w, &lv->up_b,
              error))
        goto fail;
    }
  }
  if (!load_norm (w, "decoder.norm_out", block_in, &dec->norm_out_w,
          &dec->norm_out_b, error)
      || !load_conv (w, "decoder.conv_out", DECODER_OUT_CHANNELS, block_in, 3,
          &dec->conv_out_w, &dec->conv_out_b, error))
    goto fail;
  return dec;

fail:
  hart_decoder_free (dec);
  return NULL;
}

void
hart_decoder_free (HartDecoder * dec)
{
  if (dec == NULL)
    return;
  hart_weights_free (dec->weights);
  g_free (dec);
}

guint64
hart_decoder_weights_bytes (const HartDecoder * dec)
{
  return hart_weights_bytes (dec->weights);
}

int
hart_decoder_get_latent_channels (const HartDecoder * dec)
{
  return dec->latent_channels;
}

void
hart_decoder_set_precision (HartDecoder * dec, HartDType dtype)
{
  dec->conv_dtype = dtype;
}

int
hart_decoder_get_downsample (const HartDecoder * dec)
{
  return dec->downsample;
}

/* ---- forward ---- */

typedef struct
{
  HartBackend *be;
  HartDType conv_dtype;         /* the decoder's (hart_decoder_set_precision) */
  float *x, *o, *t;             /* each [max_elems] */
  /* [h · w] of 1.0: the rank-1 bias term of the attention projection */
  float *ones;
} DecoderBuffers;

static void
swap_xo (DecoderBuffers * bufs)
{
  float *tmp = bufs->x;
  bufs->x = bufs->o;
  bufs->o = tmp;
}

/* t = silu (GroupNorm (src)) for src [c, hw].  Its reader is always a
 * convolution: in a half precision, one that rounds t to bf16, so the
 * backend's one-pass group_norm_silu_half serves (the fp32 ops are the
 * reference, and in bf16 were a third of the decoder's time). */
static void
norm_silu (const DecoderBuffers * bufs, float *dst, const float *src,
    const float *w, const float *b, int c, int hw)
{
  HartBackend *be = bufs->be;

  if (bufs->conv_dtype != HART_DTYPE_F32
      && be->ops->group_norm_silu_half != NULL
      && (be->half_dtypes & (1u << bufs->conv_dtype))) {
    be->ops->group_norm_silu_half (be, dst, src, w, b, 1, c, hw,
        DECODER_GN_GROUPS, DECODER_GN_EPS);
    return;
  }
  be->ops->group_norm (be, dst, src, w, b, 1, c, hw, DECODER_GN_GROUPS,
      DECODER_GN_EPS);
  be->ops->silu (be, dst, dst, (gsize) c * hw);
}

/* x [cin, H, W] ←
 *   S(x) + conv2 (silu (GN2 (conv1 (silu (GN1 (x)))))) [cout, H, W] */
static void
res_block_forward (DecoderBuffers * bufs, const DecoderResBlock * rb,
    int height, int width)
{
  HartBackend *be = bufs->be;
  const int hw = height * width;
  const gsize n_out = (gsize) rb->cout * hw;
  const HartConv2dParams conv1 = {
    .y = bufs->o,.x = bufs->t,.w = rb->conv1_w,.bias = rb->conv1_b,
    .batch = 1,.cin = rb->cin,.height = height,.width = width,
    .cout = rb->cout,.k = 3,.pad = 1,
  };
  const HartConv2dParams conv2 = {
    .y = bufs->o,.x = bufs->t,.w = rb->conv2_w,.bias = rb->conv2_b,
    .batch = 1,.cin = rb->cout,.height = height,.width = width,
    .cout = rb->cout,.k = 3,.pad = 1,
  };
  const HartConv2dParams shortcut = {
    .y = bufs->t,.x = bufs->x,.w = rb->nin_w,.bias = rb->nin_b,
    .batch = 1,.cin = rb->cin,.height = height,.width = width,
    .cout = rb->cout,.k = 1,.pad = 0,
  };

  norm_silu (bufs, bufs->t, bufs->x, rb->norm1_w, rb->norm1_b, rb->cin, hw);
  hart_conv2d_in (be, &conv1, bufs->conv_dtype);
  norm_silu (bufs, bufs->t, bufs->o, rb->norm2_w, rb->norm2_b, rb->cout, hw);
  hart_conv2d_in (be, &conv2, bufs->conv_dtype);
  if (rb->nin_w != NULL) {
    hart_conv2d_in (be, &shortcut, bufs->conv_dtype);
    be->ops->add (be, bufs->o, bufs->t, bufs->o, n_out);
  } else {
    be->ops->add (be, bufs->o, bufs->x, bufs->o, n_out);
  }
  swap_xo (bufs);
}

/* x [c, hw] ← x + proj_out (softmax (q kᵀ · c^-½) v) with q, k, v the three
 * thirds of the 1×1 qkv conv of GN(x): one head of width c over the hw
 * pixels (row-major). */
static void
attn_block_forward (DecoderBuffers * bufs, const DecoderAttnBlock * ab, int hw)
{
  HartBackend *be = bufs->be;
  const int c = ab->channels;
  HartAttentionParams p = { 0 };
  float *normed = bufs->o;      /* [c, hw] */
  float *qkv = bufs->t;         /* [hw, 3c] token-major */
  float *att = bufs->o;         /* [hw, c] token-major, after normed is used */

  be->ops->group_norm (be, normed, bufs->x, ab->norm_w, ab->norm_b, 1, c, hw,
      DECODER_GN_GROUPS, DECODER_GN_EPS);
  /* qkv [hw, 3c] = normedᵀ [hw, c] · Wqkvᵀ [c, 3c] + b: the 1×1 conv and the
   * NCHW → token-major transpose in one GEMM */
  be->ops->gemm (be, TRUE, TRUE, hw, 3 * c, c, 1.0f, normed, hw, ab->qkv_w, c,
      0.0f, qkv, 3 * c);
  be->ops->add_row_vector (be, qkv, ab->qkv_b, hw, 3 * c);

  p.batch = 1;
  p.q_heads = p.kv_heads = 1;
  p.q_len = p.kv_len = hw;
  p.head_dim = c;
  /* torch multiplies the fp32 scores by the Python double c^-0.5 → fp32 */
  p.scale = (float) pow ((double) c, -0.5);
  p.q = qkv;
  p.k = qkv + c;
  p.v = qkv + 2 * c;
  p.q_row_stride = p.k_row_stride = p.v_row_stride = 3 * c;
  p.q_batch_stride = p.k_batch_stride = p.v_batch_stride = (int64_t) hw *3 * c;
  p.out = att;
  p.out_row_stride = c;
  p.out_batch_stride = (int64_t) hw *c;
  be->ops->attention (be, &p);

  /* proj [c, hw] = b ⊗ 1 + Wp [c, c] · attᵀ [c, hw] (bias first, as a conv
   * accumulates onto it), into qkv's buffer, then x + proj. */
  be->ops->gemm (be, FALSE, FALSE, c, hw, 1, 1.0f, ab->proj_b, 1, bufs->ones,
      hw, 0.0f, bufs->t, hw);
  be->ops->gemm (be, FALSE, TRUE, c, hw, c, 1.0f, ab->proj_w, c, att, c, 1.0f,
      bufs->t, hw);
  be->ops->add (be, bufs->x, bufs->x, bufs->t, (gsize) c * hw);
}

static gboolean
check_cancelled (GCancellable * cancel, GError ** error)
{
  if (cancel != NULL && g_cancellable_is_cancelled (cancel)) {
    g_set_error (error, HART_ERROR, HART_ERROR_CANCELLED, "decoder: cancelled");
    return TRUE;
  }
  return FALSE;
}

/* Elements of the largest activation of one image at latent size h × w. */
static gsize
decoder_max_elements (const HartDecoder * dec, int h, int w)
{
  gsize hw = (gsize) h * w;
  gsize m = MAX ((gsize) dec->latent_channels, (gsize) dec->low_channels) * hw;
  int block_in = dec->low_channels;

  m = MAX (m, 3 * (gsize) dec->low_channels * hw);      /* qkv */
  for (int l = dec->n_levels - 1; l >= 0; l--) {
    const int c = dec->level[l].channels;
    m = MAX (m, (gsize) MAX (block_in, c) * hw);
    block_in = c;
    if (l != 0) {
      hw *= 4;
      m = MAX (m, (gsize) c * hw);
    }
  }
  return m;
}

/* The four buffers in a workspace: each starts on a 256-byte boundary. */
#define WORKSPACE_ALIGN_FLOATS 64
#define ROUND_UP_FLOATS(n) \
  (((n) + WORKSPACE_ALIGN_FLOATS - 1) / WORKSPACE_ALIGN_FLOATS \
      * WORKSPACE_ALIGN_FLOATS)

gsize
hart_decoder_workspace_floats (const HartDecoder * dec, int h, int w)
{
  if (h < 1 || w < 1 || h > DECODER_MAX_LATENT_SIDE
      || w > DECODER_MAX_LATENT_SIDE)
    return 0;
  return 3 * ROUND_UP_FLOATS (decoder_max_elements (dec, h, w))
  + (gsize) h *w;
}

gboolean
hart_decoder_forward (HartDecoder * dec, const float *f_hat, int batch,
    int h, int w, float *image, GCancellable * cancel, GError ** error)
{
  return hart_decoder_forward_in (dec, f_hat, batch, h, w, image, NULL, 0,
      cancel, error);
}

gboolean
hart_decoder_forward_in (HartDecoder * dec, const float *f_hat, int batch,
    int h, int w, float *image, float *workspace, gsize workspace_floats,
    GCancellable * cancel, GError ** error)
{
  HartBackend *be;
  DecoderBuffers bufs = { 0 };
  const int cv = dec->latent_channels;
  const int low = dec->low_channels;
  gsize max_elems, latent_elems, image_elems;
  int out_h, out_w;
  gboolean ok = FALSE, borrowed = FALSE;

  g_return_val_if_fail (dec != NULL && f_hat != NULL && image != NULL, FALSE);
  be = dec->be;

  if (batch < 1 || h < 1 || w < 1 || h > DECODER_MAX_LATENT_SIDE
      || w > DECODER_MAX_LATENT_SIDE) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "decoder: latent batch %d × %d × %d is out of range "
        "(1 … %d per side)", batch, h, w, DECODER_MAX_LATENT_SIDE);
    return FALSE;
  }
  out_h = h * dec->downsample;
  out_w = w * dec->downsample;
  if ((gint64) out_h * out_w > G_MAXINT / 4) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "decoder: a %d × %d image is too large", out_w, out_h);
    return FALSE;
  }
  latent_elems = (gsize) cv *h * w;
  image_elems = (gsize) DECODER_OUT_CHANNELS *out_h * out_w;
  max_elems = decoder_max_elements (dec, h, w);

  bufs.be = be;
  bufs.conv_dtype = dec->conv_dtype;
  if (workspace != NULL && workspace_floats >= 3 * ROUND_UP_FLOATS (max_elems)
      + (gsize) h * w) {
    bufs.x = workspace;
    bufs.o = bufs.x + ROUND_UP_FLOATS (max_elems);
    bufs.t = bufs.o + ROUND_UP_FLOATS (max_elems);
    bufs.ones = bufs.t + ROUND_UP_FLOATS (max_elems);
    borrowed = TRUE;
    g_debug ("decoder: activations in the caller's workspace");
  } else if ((bufs.x = be->ops->alloc (be, max_elems * sizeof (float),
              error)) == NULL
      || (bufs.o = be->ops->alloc (be, max_elems * sizeof (float),
              error)) == NULL
      || (bufs.t = be->ops->alloc (be, max_elems * sizeof (float),
              error)) == NULL
      || (bufs.ones = be->ops->alloc (be, (gsize) h * w * sizeof (float),
              error)) == NULL)
    goto out;
  be->ops->fill (be, bufs.ones, 1.0f, (gsize) h * w);

  for (int b = 0; b < batch; b++) {
    const float *latent = f_hat + (gsize) b * latent_elems;
    float *img = image + (gsize) b * image_elems;
    int height = h, width = w;
    const HartConv2dParams post_quant = {
      .y = bufs.t,.x = latent,.w = dec->post_quant_w,
      .bias = dec->post_quant_b,.batch = 1,.cin = cv,.height = h,
      .width = w,.cout = cv,.k = dec->post_quant_k,
      .pad = dec->post_quant_k / 2,
    };
    const HartConv2dParams conv_in = {
      .y = bufs.x,.x = bufs.t,.w = dec->conv_in_w,.bias = dec->conv_in_b,
      .batch = 1,.cin = cv,.height = h,.width = w,.cout = low,.k = 3,
      .pad = 1,
    };

    if (check_cancelled (cancel, error))
      goto out;
    /* z = post_quant_conv (f_hat) [Cv, h, w]; x = conv_in (z) [low, h, w] */
    hart_conv2d_in (be, &post_quant, dec->conv_dtype);
    hart_conv2d_in (be, &conv_in, dec->conv_dtype);

    res_block_forward (&bufs, &dec->mid_block_1, h, w);
    attn_block_forward (&bufs, &dec->mid_attn, h * w);
    if (check_cancelled (cancel, error))
      goto out;
    res_block_forward (&bufs, &dec->mid_block_2, h, w);

    for (int l = dec->n_levels - 1; l >= 0; l--) {
      const DecoderLevel *lv = &dec->level[l];
      for (int i = 0; i < DECODER_BLOCKS_PER_LEVEL; i++) {
        if (check_cancelled (cancel, error))
          goto out;
        res_block_forward (&bufs, &lv->block[i], height, width);
        if (lv->has_attn)
          attn_block_forward (&bufs, &lv->attn[i], height * width);
      }
      if (l != 0) {
        if (check_cancelled (cancel, error))
          goto out;
        /* nearest ×2 then 3×3 conv: [c, H, W] → [c, 2H, 2W] */
        be->ops->upsample_nearest2x (be, bufs.t, bufs.x, 1, lv->channels,
            height, width);
        height *= 2;
        width *= 2;
        hart_conv2d_in (be, &(const HartConv2dParams) {
              .y = bufs.o,.x = bufs.t,.w = lv->up_w,.bias = lv->up_b,
              .batch = 1,.cin = lv->channels,.height = height,
              .width = width,.cout = lv->channels,.k = 3,.pad = 1,
            }, dec->conv_dtype);
        swap_xo (&bufs);
      }
    }

    /* img [3, H, W] = clamp (conv_out (silu (GN (x))), -1, 1) */
    norm_silu (&bufs, bufs.t, bufs.x, dec->norm_out_w, dec->norm_out_b,
        dec->level[0].channels, height * width);
    hart_conv2d_in (be, &(const HartConv2dParams) {
          .y = img,.x = bufs.t,.w = dec->conv_out_w,.bias = dec->conv_out_b,
          .batch = 1,.cin = dec->level[0].channels,.height = height,
          .width = width,.cout = DECODER_OUT_CHANNELS,.k = 3,.pad = 1,
        }, dec->conv_dtype);
    be->ops->clamp (be, img, img, -1.0f, 1.0f, image_elems);
  }
  ok = be->ops->synchronize (be, error);

out:
  if (!ok)
    /* drain queued work before the buffers it uses are freed; an error from
     * it is secondary to the one already set */
    be->ops->synchronize (be, NULL);
  if (!borrowed) {
    float *to_free[] = { bufs.x, bufs.o, bufs.t, bufs.ones };
    for (guint i = 0; i < G_N_ELEMENTS (to_free); i++)
      if (to_free[i] != NULL)
        be->ops->free (be, to_free[i]);
  }
  return ok;
}
