/* gst-hart — the residual diffusion head (DiffLoss: SimpleMLPAdaLN + IDDPM)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/algorithm.md §7.  The network runs over the backend op table in chunks of rows;
 * what does not depend on the row is hoisted out of it (output-identical,
 * docs/algorithm.md §12 item 19): cond_embed(z) is computed once per sample, the time MLP
 * once per respaced step at load time, and silu(y) once per evaluation
 * instead of once per block.  The per-element IDDPM update (a few flops on
 * [n, Cv] after a network evaluation over [n, W]) runs on the host, in fp32
 * in the order the official code evaluates it, next to the draws that are
 * host memory anyway.
 */
#include "diffusion.h"
#include "error.h"
#include "kernels/op-timing.h"
#include "weights.h"

#include <math.h>
#include <string.h>

/* LayerNorm eps of in_ln and norm_final. */
#define DIFFUSION_LN_EPS 1e-6f
/* The sinusoid's max_period. */
#define DIFFUSION_MAX_PERIOD 10000.0
/* IDDPM samples are multiplied by DiffLoss.vae_scale. */
#define DIFFUSION_VAE_SCALE 0.6f
/* Rows per network chunk: 4096 rows × 7 × W floats of scratch (117 MB at
 * W = 1024), GEMMs still wide enough for any backend. */
#define DIFFUSION_CHUNK_ROWS 4096
/* Tokens per sample call; 4 images of 64 × 64 latents is 16384. */
#define DIFFUSION_MAX_ROWS (1 << 22)

typedef struct
{
  const float *ln_w, *ln_b;     /* in_ln [W] */
  HartMatrix mlp0_w, mlp2_w;    /* [W, W] */
  const float *mlp0_b, *mlp2_b; /* [W] */
  HartMatrix ada_w;             /* [3W, W]: rows shift, scale, gate */
  const float *ada_b;           /* [3W] */
} DiffusionBlock;

struct _HartDiffusion
{
  HartBackend *be;
  HartWeights *weights;
  int width;                    /* W */
  int depth;
  int cond_dim;                 /* C */
  int latent_channels;          /* Cv */
  int n_steps;                  /* S */
  HartDiffusionStep *steps;     /* [S] */

  const float *time_w1, *time_b1;       /* [W, 256], [W] */
  const float *time_w2, *time_b2;       /* [W, W], [W] */
  HartMatrix cond_w;            /* [W, C] */
  const float *cond_b;          /* [W] */
  const float *in_w, *in_b;     /* [W, Cv], [W] */
  DiffusionBlock *blocks;       /* [depth] */
  /* [2W, W], [2W]: rows shift, scale */
  HartMatrix final_ada_w;       /* [2W, W] */
  const float *final_ada_b;
  const float *final_w, *final_b;       /* [2Cv, W], [2Cv] */

  float *step_temb;             /* [S, W]: time MLP of T_n, row n */
};

/* ---- schedule ---- */

/* ᾱ(u) of the cosine schedule */
static double
cosine_alpha_bar (double u)
{
  const double c = cos ((u + 0.008) / 1.008 * G_PI / 2);
  return c * c;
}

gboolean
hart_diffusion_schedule_compute (int n_steps, HartDiffusionStep * steps,
    GError ** error)
{
  const int base = HART_DIFFUSION_BASE_STEPS;
  double *alpha_cumprod;
  double frac_stride, cur_idx, last, prev;
  gboolean *kept;
  int n;

  /* One step leaves the clipped log-variance table empty: the official
   * sampler cannot run it. */
  if (n_steps < 2 || n_steps > base) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "diffusion: %d sampling steps; expected 2 … %d", n_steps, base);
    return FALSE;
  }

  /* Base process: β_i = min(1 − ᾱ((i+1)/N) / ᾱ(i/N), 0.999),
   * ᾱ_i = Π_{j≤i} (1 − β_j), sequentially as np.cumprod. */
  alpha_cumprod = g_new (double, base);
  prev = 1.0;
  for (int i = 0; i < base; i++) {
    const double t1 = (double) i / base, t2 = (double) (i + 1) / base;
    const double beta = MIN (1 - cosine_alpha_bar (t2) / cosine_alpha_bar (t1),
        0.999);
    prev *= 1.0 - beta;
    alpha_cumprod[i] = prev;
  }

  /* Respacing (one section): keep round(k · 999 / (S − 1)) accumulated as
   * the official code does; Python's round() is half-to-even like rint(). */
  kept = g_new0 (gboolean, base);
  frac_stride = (double) (base - 1) / (n_steps - 1);
  cur_idx = 0.0;
  for (int k = 0; k < n_steps; k++) {
    const int t = (int) rint (cur_idx);
    kept[CLAMP (t, 0, base - 1)] = TRUE;
    cur_idx += frac_stride;
  }

  /* Respaced betas β'_n = 1 − ᾱ_{T_n} / ᾱ_{T_{n−1}}, then the quantities of
   * a GaussianDiffusion built on them (ᾱ' recomputed as a product). */
  n = 0;
  last = 1.0;
  for (int i = 0; i < base && n < n_steps; i++) {
    if (!kept[i])
      continue;
    steps[n].orig_t = i;
    steps[n].beta = 1 - alpha_cumprod[i] / last;
    last = alpha_cumprod[i];
    n++;
  }
  g_free (kept);
  g_free (alpha_cumprod);
  if (n != n_steps) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "diffusion: respacing to %d steps kept %d", n_steps, n);
    return FALSE;
  }

  prev = 1.0;
  for (n = 0; n < n_steps; n++) {
    HartDiffusionStep *st = &steps[n];
    const double ac_prev = prev;
    const double alpha = 1.0 - st->beta;
    const double ac = ac_prev * alpha;

    st->alpha_cumprod = ac;
    st->sqrt_recip_alpha_cumprod = sqrt (1.0 / ac);
    st->sqrt_recipm1_alpha_cumprod = sqrt (1.0 / ac - 1);
    st->posterior_coef1 = st->beta * sqrt (ac_prev) / (1.0 - ac);
    st->posterior_coef2 = (1.0 - ac_prev) * sqrt (alpha) / (1.0 - ac);
    /* log_var_min holds the unclipped log posterior variance for now */
    st->log_var_min = log (st->beta * (1.0 - ac_prev) / (1.0 - ac));
    st->log_var_max = log (st->beta);
    prev = ac;
  }
  /* "clipped": entry 0 (log 0 = −inf) replaced by entry 1 */
  steps[0].log_var_min = steps[1].log_var_min;
  return TRUE;
}

/* ---- loading ---- */

static gboolean
load_linear (HartWeights * w, const char *name, int out, int in,
    const float **weight, const float **bias, GError ** error)
{
  *weight = hart_weights_get (w, HART_DIMS (out, in), error, "%s.weight", name);
  if (*weight == NULL)
    return FALSE;
  *bias = hart_weights_get (w, HART_DIMS (out), error, "%s.bias", name);
  return *bias != NULL;
}

/* The same with the matrix in the loader's matrix type (the MLP's wide
 * products; the narrow ones, over the latent's Cv channels and the time
 * embedding computed once at load, stay fp32). */
static gboolean
load_matrix (HartWeights * w, const char *name, int out, int in,
    HartMatrix * weight, const float **bias, GError ** error)
{
  if (!hart_weights_get_matrix (w, weight, out, in, error, "%s.weight", name))
    return FALSE;
  *bias = hart_weights_get (w, HART_DIMS (out), error, "%s.bias", name);
  return *bias != NULL;
}

/* The 256 sinusoid features of timestep t, cos first (docs/algorithm.md §5.2):
 * f_k = exp ((float)(−ln 10000) · k / 128), e = [cos (t f_k) | sin (t f_k)]. */
static void
timestep_features (float t, float *e)
{
  const int half = HART_DIFFUSION_FREQ_DIM / 2;
  const float neg_log_period = (float) -log (DIFFUSION_MAX_PERIOD);

  for (int k = 0; k < half; k++) {
    const float freq = expf (neg_log_period * (float) k / (float) half);
    const float arg = t * freq;
    e[k] = cosf (arg);
    e[half + k] = sinf (arg);
  }
}

/* temb [n_t, W] = W2 · silu (W1 · e(t) + b1) + b2 for host timesteps t[n_t]. */
static gboolean
time_embed (HartDiffusion * d, const int *t, int n_t, float *temb,
    GError ** error)
{
  HartBackend *be = d->be;
  const gsize n_feat = (gsize) n_t * HART_DIFFUSION_FREQ_DIM;
  float *host = g_new (float, n_feat);
  float *feat, *hidden = NULL;
  gboolean ok = FALSE;

  for (int i = 0; i < n_t; i++)
    timestep_features ((float) t[i],
        host + (gsize) i * HART_DIFFUSION_FREQ_DIM);
  feat = be->ops->alloc (be, n_feat * sizeof (float), error);
  if (feat == NULL)
    goto out;
  hidden = be->ops->alloc (be, (gsize) n_t * d->width * sizeof (float), error);
  if (hidden == NULL)
    goto out;
  be->ops->upload (be, feat, host, n_feat * sizeof (float));
  be->ops->linear (be, hidden, feat, d->time_w1, d->time_b1, n_t,
      HART_DIFFUSION_FREQ_DIM, d->width);
  be->ops->silu (be, hidden, hidden, (gsize) n_t * d->width);
  be->ops->linear (be, temb, hidden, d->time_w2, d->time_b2, n_t, d->width,
      d->width);
  ok = be->ops->synchronize (be, error);

out:
  if (feat != NULL)
    be->ops->free (be, feat);
  if (hidden != NULL)
    be->ops->free (be, hidden);
  g_free (host);
  return ok;
}

HartDiffusion *
hart_diffusion_load (HartBackend * be, HartCheckpoint * llm_ckpt,
    const HartTransformerConfig * cfg, int latent_channels,
    HartDType matrix_dtype, GError ** error)
{
  HartDiffusion *d;
  HartWeights *w;
  const int W = cfg->diff_width;
  char name[96];
  int *orig_t = NULL;

  g_return_val_if_fail (be != NULL && llm_ckpt != NULL && cfg != NULL, NULL);

  if (W < 1 || cfg->diff_depth < 1 || cfg->embed_dim < 1 || latent_channels < 1) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "diffusion: invalid sizes (width %d, depth %d, condition %d, "
        "latent channels %d)", W, cfg->diff_depth, cfg->embed_dim,
        latent_channels);
    return NULL;
  }

  d = g_new0 (HartDiffusion, 1);
  d->be = be;
  d->width = W;
  d->depth = cfg->diff_depth;
  d->cond_dim = cfg->embed_dim;
  d->latent_channels = latent_channels;
  d->n_steps = cfg->num_sampling_steps;
  d->steps = g_new0 (HartDiffusionStep, MAX (d->n_steps, 1));
  d->blocks = g_new0 (DiffusionBlock, d->depth);
  d->weights = w = hart_weights_new (be, llm_ckpt, "diffloss.net.");
  hart_weights_set_matrix_dtype (w, matrix_dtype);

  if (!hart_diffusion_schedule_compute (d->n_steps, d->steps, error))
    goto fail;

  if (!load_linear (w, "time_embed.mlp.0", W, HART_DIFFUSION_FREQ_DIM,
          &d->time_w1, &d->time_b1, error)
      || !load_linear (w, "time_embed.mlp.2", W, W, &d->time_w2, &d->time_b2,
          error)
      || !load_matrix (w, "cond_embed", W, d->cond_dim, &d->cond_w,
          &d->cond_b, error)
      || !load_linear (w, "input_proj", W, latent_channels, &d->in_w,
          &d->in_b, error))
    goto fail;
  for (int j = 0; j < d->depth; j++) {
    DiffusionBlock *b = &d->blocks[j];
    g_snprintf (name, sizeof name, "res_blocks.%d.in_ln.weight", j);
    if ((b->ln_w = hart_weights_get (w, HART_DIMS (W), error, "%s", name))
        == NULL)
      goto fail;
    g_snprintf (name, sizeof name, "res_blocks.%d.in_ln.bias", j);
    if ((b->ln_b = hart_weights_get (w, HART_DIMS (W), error, "%s", name))
        == NULL)
      goto fail;
    g_snprintf (name, sizeof name, "res_blocks.%d.mlp.0", j);
    if (!load_matrix (w, name, W, W, &b->mlp0_w, &b->mlp0_b, error))
      goto fail;
    g_snprintf (name, sizeof name, "res_blocks.%d.mlp.2", j);
    if (!load_matrix (w, name, W, W, &b->mlp2_w, &b->mlp2_b, error))
      goto fail;
    g_snprintf (name, sizeof name, "res_blocks.%d.adaLN_modulation.1", j);
    if (!load_matrix (w, name, 3 * W, W, &b->ada_w, &b->ada_b, error))
      goto fail;
  }
  if (!load_matrix (w, "final_layer.adaLN_modulation.1", 2 * W, W,
          &d->final_ada_w, &d->final_ada_b, error)
      || !load_linear (w, "final_layer.linear", 2 * latent_channels, W,
          &d->final_w, &d->final_b, error))
    goto fail;

  d->step_temb = hart_weights_alloc (w, (gsize) d->n_steps * W, error);
  if (d->step_temb == NULL)
    goto fail;
  orig_t = g_new (int, d->n_steps);
  for (int n = 0; n < d->n_steps; n++)
    orig_t[n] = d->steps[n].orig_t;
  if (!time_embed (d, orig_t, d->n_steps, d->step_temb, error))
    goto fail;
  g_free (orig_t);
  return d;

fail:
  g_free (orig_t);
  hart_diffusion_free (d);
  return NULL;
}

void
hart_diffusion_free (HartDiffusion * d)
{
  if (d == NULL)
    return;
  hart_weights_free (d->weights);
  g_free (d->blocks);
  g_free (d->steps);
  g_free (d);
}

guint64
hart_diffusion_weights_bytes (const HartDiffusion * d)
{
  return hart_weights_bytes (d->weights);
}

const HartDiffusionStep *
hart_diffusion_get_schedule (const HartDiffusion * d, int *n_steps)
{
  if (n_steps != NULL)
    *n_steps = d->n_steps;
  return d->steps;
}

/* ---- network ---- */

typedef struct
{
  HartBackend *be;
  float *block;                 /* one allocation carved into: */
  float *xh;                    /* [rows, W] running state */
  float *sy;                    /* [rows, W] silu (temb + cond_embed (c)) */
  float *mod;                   /* [rows, 2W] shift | scale */
  float *gate;                  /* [rows, W] */
  float *hh;                    /* [rows, W] */
  float *h1;                    /* [rows, W] */
  gboolean borrowed;            /* block belongs to the caller */
} NetScratch;

/* NetScratch over ROWS rows: in BORROWED (7 · min (rows, chunk) · W
 * floats, not freed here) when given, else allocated. */
static gboolean
net_scratch_init (HartDiffusion * d, NetScratch * s, int rows,
    float *borrowed, GError ** error)
{
  const gsize rw = (gsize) MIN (rows, DIFFUSION_CHUNK_ROWS) * d->width;

  memset (s, 0, sizeof *s);
  s->be = d->be;
  s->borrowed = borrowed != NULL;
  s->block = borrowed ? borrowed : d->be->ops->alloc (d->be,
      7 * rw * sizeof (float), error);
  if (s->block == NULL)
    return FALSE;
  s->xh = s->block;
  s->sy = s->xh + rw;
  s->mod = s->sy + rw;
  s->gate = s->mod + 2 * rw;
  s->hh = s->gate + rw;
  s->h1 = s->hh + rw;
  return TRUE;
}

static void
net_scratch_clear (NetScratch * s)
{
  if (s->block != NULL && !s->borrowed)
    s->be->ops->free (s->be, s->block);
  s->block = NULL;
}

/* out [rows, out_ch] = the first out_ch channels of Net (x, t, c) for
 * x [rows, Cv], cemb = cond_embed (c) [rows, W] and temb = time MLP of t
 * [W].  out_ch is 2Cv, or Cv where only ε is needed. */
static void
net_forward (HartDiffusion * d, NetScratch * s, const float *x,
    const float *cemb, const float *temb, int rows, float *out, int out_ch)
{
  HartBackend *be = d->be;
  const int W = d->width, cv = d->latent_channels;

  for (int r0 = 0; r0 < rows; r0 += DIFFUSION_CHUNK_ROWS) {
    const int m = MIN (DIFFUSION_CHUNK_ROWS, rows - r0);
    const gsize mw = (gsize) m * W;

    /* xh = input_proj (x); sy = silu (temb + cond_embed (c)) */
    be->ops->linear (be, s->xh, x + (gsize) r0 * cv, d->in_w, d->in_b, m, cv,
        W);
    be->ops->copy (be, s->sy, cemb + (gsize) r0 * W, mw * sizeof (float));
    be->ops->add_row_vector (be, s->sy, temb, m, W);
    be->ops->silu (be, s->sy, s->sy, mw);

    for (int j = 0; j < d->depth; j++) {
      const DiffusionBlock *b = &d->blocks[j];
      /* (shift, scale) rows 0..2W of the modulation, gate rows 2W..3W */
      HartMatrix shift_scale = hart_matrix_rows (&b->ada_w, 0, 2 * W);
      HartMatrix gate = hart_matrix_rows (&b->ada_w, 2 * W, W);

      hart_matrix_linear (be, s->mod, s->sy, &shift_scale, b->ada_b, m);
      hart_matrix_linear (be, s->gate, s->sy, &gate, b->ada_b + 2 * W, m);
      be->ops->layer_norm (be, s->hh, s->xh, b->ln_w, b->ln_b, m, W,
          DIFFUSION_LN_EPS);
      be->ops->modulate (be, s->hh, s->mod + W, s->mod, 2 * W, m, 1, W);
      hart_matrix_linear (be, s->h1, s->hh, &b->mlp0_w, b->mlp0_b, m);
      be->ops->silu (be, s->h1, s->h1, mw);
      hart_matrix_linear (be, s->hh, s->h1, &b->mlp2_w, b->mlp2_b, m);
      /* xh += gate ⊙ h */
      be->ops->mul (be, s->hh, s->gate, s->hh, mw);
      be->ops->add (be, s->xh, s->xh, s->hh, mw);
    }

    /* final layer: (shift, scale) first, norm without affine */
    hart_matrix_linear (be, s->mod, s->sy, &d->final_ada_w, d->final_ada_b, m);
    be->ops->layer_norm (be, s->hh, s->xh, NULL, NULL, m, W, DIFFUSION_LN_EPS);
    be->ops->modulate (be, s->hh, s->mod + W, s->mod, 2 * W, m, 1, W);
    be->ops->linear (be, out + (gsize) r0 * out_ch, s->hh, d->final_w,
        d->final_b, m, W, out_ch);
  }
}

static gboolean
check_rows (HartDiffusion * d, int n, GError ** error)
{
  if (n < 1 || n > DIFFUSION_MAX_ROWS) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "diffusion: %d rows; expected 1 … %d", n, DIFFUSION_MAX_ROWS);
    return FALSE;
  }
  return TRUE;
}

gboolean
hart_diffusion_net (HartDiffusion * d, const float *x, int t_orig,
    const float *c, int n, float *out, GError ** error)
{
  HartBackend *be;
  NetScratch s = { 0 };
  float *cemb = NULL, *temb = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (d != NULL && x != NULL && c != NULL && out != NULL,
      FALSE);
  be = d->be;
  if (!check_rows (d, n, error))
    return FALSE;
  if (t_orig < 0 || t_orig >= HART_DIFFUSION_BASE_STEPS) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "diffusion: timestep %d; expected 0 … %d", t_orig,
        HART_DIFFUSION_BASE_STEPS - 1);
    return FALSE;
  }

  if ((cemb = be->ops->alloc (be, (gsize) n * d->width * sizeof (float),
              error)) == NULL
      || (temb = be->ops->alloc (be, (gsize) d->width * sizeof (float),
              error)) == NULL || !net_scratch_init (d, &s, n, NULL, error))
    goto out;
  if (!time_embed (d, &t_orig, 1, temb, error))
    goto out;
  hart_matrix_linear (be, cemb, c, &d->cond_w, d->cond_b, n);
  net_forward (d, &s, x, cemb, temb, n, out, 2 * d->latent_channels);
  ok = be->ops->synchronize (be, error);

out:
  if (!ok)
    be->ops->synchronize (be, NULL);
  net_scratch_clear (&s);
  if (cemb != NULL)
    be->ops->free (be, cemb);
  if (temb != NULL)
    be->ops->free (be, temb);
  return ok;
}

/* ---- sampler ---- */

/* One p_sample step on the host, in fp32 in the order of the official code
 * (gaussian_diffusion.py p_mean_variance / p_sample):
 *   ε = (1+s)·ε_c − s·ε_u (guided) or ε_c;  v = v_c
 *   logvar = ((v+1)/2)·log β' + (1 − (v+1)/2)·logvar_min
 *   x0 = clamp (√(1/ᾱ')·x − √(1/ᾱ'−1)·ε, −1, 1);  μ = c1·x0 + c2·x
 *   x = μ + [n ≠ 0]·exp (0.5·logvar)·Z·1.0
 * x [n, Cv]; out_c [n, 2Cv]; out_u [n, Cv] or NULL; noise [n, Cv] (the
 * conditional rows of Zn). */
static void
p_sample_update (const HartDiffusionStep * st, int step, int n, int cv,
    float cfg_scale, float *x, const float *out_c, const float *out_u,
    const float *noise)
{
  const float sra = (float) st->sqrt_recip_alpha_cumprod;
  const float srm1 = (float) st->sqrt_recipm1_alpha_cumprod;
  const float coef1 = (float) st->posterior_coef1;
  const float coef2 = (float) st->posterior_coef2;
  const float min_log = (float) st->log_var_min;
  const float max_log = (float) st->log_var_max;
  const float nonzero = step != 0 ? 1.0f : 0.0f;
  const float temperature = 1.0f;
  /* torch: cond_eps * (1 + cfg) − cfg * uncond_eps, Python scalars → fp32 */
  const float w_cond = (float) (1.0 + (double) cfg_scale);
  const float w_uncond = cfg_scale;

  for (int i = 0; i < n; i++) {
    for (int k = 0; k < cv; k++) {
      const gsize ix = (gsize) i * cv + k;
      const float *row = out_c + (gsize) i * 2 * cv;
      float eps = row[k];
      const float v = row[cv + k];
      float frac, log_var, x0, mean, sd;

      if (out_u != NULL)
        eps = eps * w_cond - w_uncond * out_u[ix];
      frac = (v + 1.0f) / 2.0f;
      log_var = frac * max_log + (1.0f - frac) * min_log;
      x0 = sra * x[ix] - srm1 * eps;
      /* torch.clamp: NaN stays NaN */
      if (x0 < -1.0f)
        x0 = -1.0f;
      else if (x0 > 1.0f)
        x0 = 1.0f;
      mean = coef1 * x0 + coef2 * x[ix];
      sd = nonzero * expf (0.5f * log_var);
      x[ix] = mean + sd * noise[ix] * temperature;
    }
  }
}

/* Rows [r0, r1) of a normal draw [rows, cv], into out's rows r0.. */
typedef struct
{
  const HartDraws *draws;
  HartDrawPurpose purpose;
  guint32 index;
  int halves;
  int64_t shape[2];
  float *out;
} NormalRows;

static void
normal_rows (gsize r0, gsize r1, gpointer data)
{
  const NormalRows *a = data;

  hart_draws_rows (a->draws, a->purpose, a->index, a->halves, 2, a->shape,
      r0, r1, a->out + r0 * a->shape[1]);
}

/* The first USED rows of the normal draw [rows, cv] into out: computed on
 * the backend's host threads, those rows alone (each row's values do not
 * depend on the others: Philox is counter-based), when the draws are
 * streamed; the whole tensor when a file replays or records them.  The
 * step noise is drawn for both halves of the official code's batch, of
 * which the sampler reads the first: half of its normals (log, sqrt and
 * cos in double each) were never read. */
static gboolean
draw_normal_rows (HartBackend * be, HartDraws * draws,
    HartDrawPurpose purpose, guint32 index, int halves, int rows, int cv,
    int used, float *out, GError ** error)
{
  const int64_t shape[2] = { rows, cv };
  NormalRows a = {.draws = draws,.purpose = purpose,.index = index,
    .halves = halves,.shape = {rows, cv},.out = out
  };
  const gsize n_threads = be ? (gsize) be->n_threads : 1;

  if (!hart_draws_streamed (draws))
    return hart_draws_normal (draws, purpose, index, halves, 2, shape, out,
        error);
  if (!hart_draws_rows_check (draws, halves, 2, shape, error))
    return FALSE;
  hart_backend_parallel_for (be, (gsize) used,
      MAX ((gsize) used / (4 * n_threads), (gsize) 64), normal_rows, &a);
  return TRUE;
}

/* The device buffers of a sampling over N rows, each from a 64-float
 * boundary of one workspace: cemb, x, out, the network's scratch. */
#define WORKSPACE_ALIGN 64
#define ALIGN_UP(n) (((n) + WORKSPACE_ALIGN - 1) / WORKSPACE_ALIGN * \
    WORKSPACE_ALIGN)

static void
workspace_layout (const HartDiffusion * d, int n, gboolean guided,
    gsize sizes[4])
{
  const gsize rw = (gsize) MIN (n, DIFFUSION_CHUNK_ROWS) * d->width;

  sizes[0] = ALIGN_UP ((gsize) (guided ? 2 * n : n) * d->width);
  sizes[1] = ALIGN_UP ((gsize) n * d->latent_channels);
  sizes[2] = ALIGN_UP ((gsize) n * 2 * d->latent_channels);
  sizes[3] = 7 * rw;
}

gsize
hart_diffusion_workspace_floats (const HartDiffusion * d, int n)
{
  gsize sizes[4];

  if (n < 1)
    return 0;
  workspace_layout (d, n, TRUE, sizes);
  return sizes[0] + sizes[1] + sizes[2] + sizes[3];
}

gboolean
hart_diffusion_sample (HartDiffusion * d, const float *z, int n,
    float cfg_scale, HartDraws * draws, float *res, GCancellable * cancel,
    GError ** error)
{
  return hart_diffusion_sample_in (d, z, n, cfg_scale, draws, res, NULL, 0,
      cancel, error);
}

gboolean
hart_diffusion_sample_in (HartDiffusion * d, const float *z, int n,
    float cfg_scale, HartDraws * draws, float *res, float *workspace,
    gsize workspace_floats, GCancellable * cancel, GError ** error)
{
  HartBackend *be;
  NetScratch s = { 0 };
  gsize sizes[4];
  gboolean borrowed = FALSE;
  /* DiffLoss.sample: the unguided path exactly when cfg == 1.0 */
  const gboolean guided = cfg_scale != 1.0f;
  const int W = d->width, cv = d->latent_channels;
  const int cond_rows = guided ? 2 * n : n;
  float *x = NULL, *noise = NULL, *out_c = NULL, *out_u = NULL;
  float *cemb = NULL, *x_dev = NULL, *out_dev = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (d != NULL && z != NULL && draws != NULL
      && res != NULL, FALSE);
  be = d->be;
  if (!check_rows (d, n, error))
    return FALSE;

  x = g_new (float, (gsize) n * cv);
  noise = g_new (float, (gsize) 2 * n * cv);
  out_c = g_new (float, (gsize) n * 2 * cv);
  if (guided)
    out_u = g_new (float, (gsize) n * cv);

  /* N0: [n, Cv] guided (the official code then duplicates it), [2n, Cv]
   * unguided (independent halves; only the conditional one is kept). */
  if (!draw_normal_rows (be, draws, HART_DRAW_N0, 0, guided ? 1 : 2,
          guided ? n : 2 * n, cv, n, noise, error))
    goto out;
  memcpy (x, noise, (gsize) n * cv * sizeof (float));

  workspace_layout (d, n, guided, sizes);
  borrowed = workspace != NULL
      && workspace_floats >= sizes[0] + sizes[1] + sizes[2] + sizes[3];
  if (borrowed) {
    g_debug ("diffusion: buffers in the caller's workspace");
    cemb = workspace;
    x_dev = cemb + sizes[0];
    out_dev = x_dev + sizes[1];
    if (!net_scratch_init (d, &s, n, out_dev + sizes[2], error))
      goto out;
  } else if ((cemb = be->ops->alloc (be, (gsize) cond_rows * W *
              sizeof (float), error)) == NULL
      || (x_dev = be->ops->alloc (be, (gsize) n * cv * sizeof (float),
              error)) == NULL
      || (out_dev = be->ops->alloc (be, (gsize) n * 2 * cv * sizeof (float),
              error)) == NULL || !net_scratch_init (d, &s, n, NULL, error))
    goto out;
  /* cond_embed (z) once for every step: [cond_rows, W] (the unguided path
   * only needs the conditional rows) */
  hart_matrix_linear (be, cemb, z, &d->cond_w, d->cond_b, cond_rows);

  for (int step = d->n_steps - 1; step >= 0; step--) {
    const float *temb = d->step_temb + (gsize) step * W;

    if (cancel != NULL && g_cancellable_is_cancelled (cancel)) {
      g_set_error (error, HART_ERROR, HART_ERROR_CANCELLED,
          "diffusion: cancelled");
      goto out;
    }
    be->ops->upload (be, x_dev, x, (gsize) n * cv * sizeof (float));
    /* the conditional branch: ε and v */
    net_forward (d, &s, x_dev, cemb, temb, n, out_dev, 2 * cv);
    be->ops->download (be, out_c, out_dev, (gsize) n * 2 * cv * sizeof (float));
    if (guided) {
      /* the unconditional branch sees the same x (the official code
       * evaluates [x_c ; x_c]); only its ε is used */
      net_forward (d, &s, x_dev, cemb + (gsize) n * W, temb, n, out_dev, cv);
      be->ops->download (be, out_u, out_dev, (gsize) n * cv * sizeof (float));
    }
    if (!be->ops->synchronize (be, error))
      goto out;
    {
      const guint64 t0 = hart_backend_host_clock (be);

      /* Zn [2n, Cv], drawn for both halves; the first n rows are used */
      if (!draw_normal_rows (be, draws, HART_DRAW_ZN, (guint32) step, 2,
              2 * n, cv, n, noise, error))
        goto out;
      p_sample_update (&d->steps[step], step, n, cv, cfg_scale, x, out_c,
          out_u, noise);
      hart_backend_host_done (be, HART_HOST_DIFFUSION_STEP, t0);
    }
  }

  for (gsize i = 0; i < (gsize) n * cv; i++)
    x[i] = x[i] * DIFFUSION_VAE_SCALE;
  be->ops->upload (be, res, x, (gsize) n * cv * sizeof (float));
  ok = be->ops->synchronize (be, error);

out:
  if (!ok)
    be->ops->synchronize (be, NULL);
  net_scratch_clear (&s);
  if (!borrowed) {
    if (cemb != NULL)
      be->ops->free (be, cemb);
    if (x_dev != NULL)
      be->ops->free (be, x_dev);
    if (out_dev != NULL)
      be->ops->free (be, out_dev);
  }
  g_free (x);
  g_free (noise);
  g_free (out_c);
  g_free (out_u);
  return ok;
}
