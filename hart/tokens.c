/* gst-hart — token frames: the output of the autoregressive stage
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layout (little-endian, docs/token-frames.md):
 *   0   8  magic "HARTTOKF"
 *   8   4  version (1)
 *  12   4  header size (128)
 *  16  64  fingerprint, ASCII hex, NUL-padded
 *  80   4  batch B          84  4  latent channels Cv
 *  88   4  side P           92  4  embed dim C
 *  96   4  scales SN       100  4  stage tokens S
 * 104   4  cfg scale (f32) 108  4  frame
 * 112   8  seed            120  4  dtype (0 = f32)   124  4  reserved
 * 128      f_hat [B, Cv, P, P], last_h [B, P², Cv], z [2B, P², C],
 *          stage_h [B, S, Cv] (f32)
 */
#include "hart.h"
#include "tokens.h"
#include "error.h"

#include <math.h>
#include <string.h>

#define HEADER_SIZE HART_TOKENS_HEADER_SIZE
#define MAX_DIM (1 << 16)

static gsize
f_hat_len (const HartTokens * t)
{
  return (gsize) t->batch * t->latent_channels * t->side * t->side;
}

static gsize
last_len (const HartTokens * t)
{
  return (gsize) t->batch * t->side * t->side * t->latent_channels;
}

static gsize
z_len (const HartTokens * t)
{
  return (gsize) 2 *t->batch * t->side * t->side * t->embed_dim;
}

static gsize
stage_len (const HartTokens * t)
{
  return (gsize) t->batch * t->stage_tokens * t->latent_channels;
}

HartTokens *
hart_tokens_new (int batch, int latent_channels, int side, int embed_dim,
    int n_scales, int stage_tokens)
{
  HartTokens *t = g_new0 (HartTokens, 1);
  t->batch = batch;
  t->latent_channels = latent_channels;
  t->side = side;
  t->embed_dim = embed_dim;
  t->n_scales = n_scales;
  t->stage_tokens = stage_tokens;
  t->f_hat = g_new0 (float, f_hat_len (t));
  t->last_h = g_new0 (float, last_len (t));
  t->z = g_new0 (float, z_len (t));
  t->stage_h = g_new0 (float, MAX (stage_len (t), 1));
  return t;
}

HartTokens *
hart_tokens_copy (const HartTokens * src)
{
  HartTokens *t = hart_tokens_new (src->batch, src->latent_channels,
      src->side, src->embed_dim, src->n_scales, src->stage_tokens);
  memcpy (t->fingerprint, src->fingerprint, sizeof t->fingerprint);
  t->cfg_scale = src->cfg_scale;
  t->seed = src->seed;
  t->frame = src->frame;
  memcpy (t->f_hat, src->f_hat, f_hat_len (t) * sizeof (float));
  memcpy (t->last_h, src->last_h, last_len (t) * sizeof (float));
  memcpy (t->z, src->z, z_len (t) * sizeof (float));
  memcpy (t->stage_h, src->stage_h, stage_len (t) * sizeof (float));
  return t;
}

HartTokens *
hart_tokens_gather (const HartTokens * const *srcs, const int *items, int n)
{
  const HartTokens *s0;
  HartTokens *t;
  gsize f_hat_one, last_one, z_one, stage_one;

  g_return_val_if_fail (srcs != NULL && items != NULL && n >= 1
      && n <= HART_MAX_BATCH, NULL);
  s0 = srcs[0];
  for (int i = 0; i < n; i++)
    g_return_val_if_fail (srcs[i]->latent_channels == s0->latent_channels
        && srcs[i]->side == s0->side && srcs[i]->embed_dim == s0->embed_dim
        && srcs[i]->n_scales == s0->n_scales
        && srcs[i]->stage_tokens == s0->stage_tokens && items[i] >= 0
        && items[i] < srcs[i]->batch, NULL);
  t = hart_tokens_new (n, s0->latent_channels, s0->side, s0->embed_dim,
      s0->n_scales, s0->stage_tokens);
  memcpy (t->fingerprint, s0->fingerprint, sizeof t->fingerprint);
  t->cfg_scale = s0->cfg_scale;
  t->seed = s0->seed;
  t->frame = s0->frame;
  f_hat_one = f_hat_len (s0) / s0->batch;
  last_one = last_len (s0) / s0->batch;
  z_one = z_len (s0) / (2 * (gsize) s0->batch);
  stage_one = stage_len (s0) / s0->batch;
  for (int i = 0; i < n; i++) {
    const HartTokens *src = srcs[i];
    const gsize b = (gsize) items[i];

    memcpy (t->f_hat + i * f_hat_one, src->f_hat + b * f_hat_one,
        f_hat_one * sizeof (float));
    memcpy (t->last_h + i * last_one, src->last_h + b * last_one,
        last_one * sizeof (float));
    /* z: the conditional rows of every image, then the unconditional */
    memcpy (t->z + i * z_one, src->z + b * z_one, z_one * sizeof (float));
    memcpy (t->z + (n + i) * z_one, src->z + (src->batch + b) * z_one,
        z_one * sizeof (float));
    memcpy (t->stage_h + i * stage_one, src->stage_h + b * stage_one,
        stage_one * sizeof (float));
  }
  return t;
}

void
hart_tokens_free (HartTokens * t)
{
  if (t == NULL)
    return;
  g_free (t->f_hat);
  g_free (t->last_h);
  g_free (t->z);
  g_free (t->stage_h);
  g_free (t);
}

gsize
hart_tokens_serialized_size (const HartTokens * t)
{
  return HEADER_SIZE + (f_hat_len (t) + last_len (t) + z_len (t) +
      stage_len (t)) * sizeof (float);
}

static void
put_u32 (guint8 * p, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, 4);
}

static guint32
get_u32 (const guint8 * p)
{
  guint32 v;
  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static void
put_floats (guint8 * dst, const float *src, gsize n)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  memcpy (dst, src, n * sizeof (float));
#else
  for (gsize i = 0; i < n; i++) {
    guint32 v;
    memcpy (&v, &src[i], 4);
    put_u32 (dst + 4 * i, v);
  }
#endif
}

static void
get_floats (float *dst, const guint8 * src, gsize n)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  memcpy (dst, src, n * sizeof (float));
#else
  for (gsize i = 0; i < n; i++) {
    guint32 v = get_u32 (src + 4 * i);
    memcpy (&dst[i], &v, 4);
  }
#endif
}

void
hart_tokens_serialize (const HartTokens * t, guint8 * dst)
{
  guint64 seed = GUINT64_TO_LE (t->seed);
  guint32 cfg_bits;
  guint8 *p;

  memset (dst, 0, HEADER_SIZE);
  memcpy (dst, HART_TOKENS_MAGIC, 8);
  put_u32 (dst + 8, HART_TOKENS_VERSION);
  put_u32 (dst + 12, HEADER_SIZE);
  memcpy (dst + 16, t->fingerprint, MIN (strlen (t->fingerprint), 64));
  put_u32 (dst + 80, t->batch);
  put_u32 (dst + 84, t->latent_channels);
  put_u32 (dst + 88, t->side);
  put_u32 (dst + 92, t->embed_dim);
  put_u32 (dst + 96, t->n_scales);
  put_u32 (dst + 100, t->stage_tokens);
  memcpy (&cfg_bits, &t->cfg_scale, 4);
  put_u32 (dst + 104, cfg_bits);
  put_u32 (dst + 108, t->frame);
  memcpy (dst + 112, &seed, 8);
  put_u32 (dst + 120, 0);
  p = dst + HEADER_SIZE;
  put_floats (p, t->f_hat, f_hat_len (t));
  p += f_hat_len (t) * sizeof (float);
  put_floats (p, t->last_h, last_len (t));
  p += last_len (t) * sizeof (float);
  put_floats (p, t->z, z_len (t));
  p += z_len (t) * sizeof (float);
  put_floats (p, t->stage_h, stage_len (t));
}

gboolean
hart_tokens_read_header (const guint8 * data, gsize size,
    HartTokensHeader * h, GError ** error)
{
  HartTokens probe = { 0 };
  guint32 version, header, dtype, cfg_bits;
  guint64 seed;

  if (size < HEADER_SIZE) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "shorter than the 128-byte header (%" G_GSIZE_FORMAT " bytes)", size);
    return FALSE;
  }
  if (memcmp (data, HART_TOKENS_MAGIC, 8) != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "expected the magic \"" HART_TOKENS_MAGIC "\", found %02x %02x %02x "
        "%02x %02x %02x %02x %02x", data[0], data[1], data[2], data[3],
        data[4], data[5], data[6], data[7]);
    return FALSE;
  }
  version = get_u32 (data + 8);
  header = get_u32 (data + 12);
  dtype = get_u32 (data + 120);
  if (version != HART_TOKENS_VERSION || header != HEADER_SIZE || dtype != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "version %u, header size %u, dtype %u; expected version %d, header "
        "size %d, dtype 0 (f32)", version, header, dtype, HART_TOKENS_VERSION,
        HEADER_SIZE);
    return FALSE;
  }
  probe.batch = (int) MIN (get_u32 (data + 80), G_MAXINT);
  probe.latent_channels = (int) MIN (get_u32 (data + 84), G_MAXINT);
  probe.side = (int) MIN (get_u32 (data + 88), G_MAXINT);
  probe.embed_dim = (int) MIN (get_u32 (data + 92), G_MAXINT);
  probe.n_scales = (int) MIN (get_u32 (data + 96), G_MAXINT);
  probe.stage_tokens = (int) MIN (get_u32 (data + 100), G_MAXINT);
  if (probe.batch < 1 || probe.batch > HART_MAX_BATCH
      || probe.latent_channels < 1
      || probe.latent_channels > 4096 || probe.side < 1
      || probe.side > 1024 || probe.embed_dim < 1
      || probe.embed_dim > MAX_DIM || probe.n_scales < 2
      || probe.n_scales > 64 || probe.stage_tokens < 0
      || probe.stage_tokens > probe.side * probe.side * probe.n_scales) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "implausible dimensions B %d, Cv %d, P %d, C %d, scales %d, stage "
        "tokens %d (bounds: B 1-%d, Cv 1-4096, P 1-1024, C 1-%d, scales "
        "2-64, stage tokens <= P*P*scales)", probe.batch,
        probe.latent_channels, probe.side, probe.embed_dim, probe.n_scales,
        probe.stage_tokens, HART_MAX_BATCH, MAX_DIM);
    return FALSE;
  }
  /* the fingerprint ends up in messages and caps (and GStreamer drops debug
   * text that is not UTF-8): hex digits, then NUL padding, nothing else */
  for (int i = 0, end = 0; i < 64; i++) {
    const guint8 c = data[16 + i];

    if (c == '\0')
      end = 1;
    else if (end || !g_ascii_isxdigit (c)) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "the fingerprint is not ASCII hex (byte %d is 0x%02x)", i, c);
      return FALSE;
    }
  }
  memcpy (h->fingerprint, data + 16, 64);
  h->fingerprint[64] = '\0';
  h->batch = probe.batch;
  h->latent_channels = probe.latent_channels;
  h->side = probe.side;
  h->embed_dim = probe.embed_dim;
  h->n_scales = probe.n_scales;
  h->stage_tokens = probe.stage_tokens;
  cfg_bits = get_u32 (data + 104);
  memcpy (&h->cfg_scale, &cfg_bits, 4);
  h->frame = get_u32 (data + 108);
  memcpy (&seed, data + 112, 8);
  h->seed = GUINT64_FROM_LE (seed);
  /* within the bounds above no product overflows 64 bits */
  h->frame_size = hart_tokens_serialized_size (&probe);
  return TRUE;
}

HartTokens *
hart_tokens_parse (const guint8 * data, gsize size, GError ** error)
{
  HartTokensHeader h;
  HartTokens *t;

  if (!hart_tokens_read_header (data, size, &h, error)) {
    g_prefix_error (error, "token frame: ");
    return NULL;
  }
  if (size != h.frame_size) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "token frame: %" G_GSIZE_FORMAT " bytes, but its header describes %"
        G_GUINT64_FORMAT, size, h.frame_size);
    return NULL;
  }
  t = hart_tokens_new (h.batch, h.latent_channels, h.side, h.embed_dim,
      h.n_scales, h.stage_tokens);
  memcpy (t->fingerprint, h.fingerprint, sizeof t->fingerprint);
  t->cfg_scale = h.cfg_scale;
  t->frame = h.frame;
  t->seed = h.seed;
  data += HEADER_SIZE;
  get_floats (t->f_hat, data, f_hat_len (t));
  data += f_hat_len (t) * sizeof (float);
  get_floats (t->last_h, data, last_len (t));
  data += last_len (t) * sizeof (float);
  get_floats (t->z, data, z_len (t));
  data += z_len (t) * sizeof (float);
  get_floats (t->stage_h, data, stage_len (t));

  /* A frame is data from outside the process: a NaN or Inf in it would
   * reach the diffusion and the decoder and come out as a black image. */
  if (!isfinite (t->cfg_scale)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "token frame: cfg scale is %s", hart_non_finite_name (t->cfg_scale));
    hart_tokens_free (t);
    return NULL;
  }
  if (!hart_check_finite (t->f_hat, f_hat_len (t), error, HART_ERROR_FORMAT,
          "token frame: f_hat")
      || !hart_check_finite (t->last_h, last_len (t), error,
          HART_ERROR_FORMAT, "token frame: last_h")
      || !hart_check_finite (t->z, z_len (t), error, HART_ERROR_FORMAT,
          "token frame: z")
      || !hart_check_finite (t->stage_h, stage_len (t), error,
          HART_ERROR_FORMAT, "token frame: stage_h")) {
    hart_tokens_free (t);
    return NULL;
  }
  return t;
}
