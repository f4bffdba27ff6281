/* gst-hart — whole-image generation
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The order of work follows docs/algorithm.md §6: stages 0 … SN−2 (transformer, guided
 * sampling, latent update), the last stage (transformer, sampling, diffusion
 * condition), the residual diffusion, then the decoder.  The first half
 * ends in a token frame (hart_model_generate_tokens), the second starts from
 * one (hart_model_refine); hart_model_generate is both.
 *
 * Every buffer of a generation belongs to a HartRun (model-private.h): one
 * caller's state, allocated at its first frame and reused by the next ones
 * (a HartGenerator keeps one from frame to frame; the hart_model_* calls
 * make one per call).  The model itself is only read, so runs on one model
 * proceed side by side; on a backend that cannot take ops from several
 * threads the engine lets one run at a time on the device
 * (hart_engine_enter).
 */
#include "hart.h"
#include "engine-private.h"
#include "model-private.h"
#include "draws.h"
#include "sampler.h"
#include "trace.h"
#include "kernels/op-timing.h"

#include <math.h>
#include <string.h>

/* Progress steps of a generation: the SN stages, diffusion, decoder. */
#define N_PROGRESS(SN) ((SN) + 2)
/* A stage's logits are computed and sampled this many positions at a time
 * (8 MB per image, against 134 MB for the last stage of a 1024² frame
 * whole); memory.c counts them so. */
#define HART_LOGITS_CHUNK 256

void
hart_generate_params_init (HartGenerateParams * params)
{
  memset (params, 0, sizeof *params);
  params->seed = 1;
  params->cfg = HART_DEFAULT_CFG;
  params->smooth = TRUE;
}

/* ---- helpers ---- */

typedef struct
{
  HartBackend *be;
  GPtrArray *dev;               /* device buffers to free */
  GArray *dev_floats;           /* their sizes, for scratch_zero */
  GPtrArray *host;              /* host buffers to free */
  GArray *host_bytes;
} Scratch;

static void
scratch_init (Scratch * s, HartBackend * be)
{
  s->be = be;
  s->dev = g_ptr_array_new ();
  s->dev_floats = g_array_new (FALSE, FALSE, sizeof (gsize));
  s->host = g_ptr_array_new ();
  s->host_bytes = g_array_new (FALSE, FALSE, sizeof (gsize));
}

static float *
scratch_dev (Scratch * s, gsize n, GError ** error)
{
  float *p = s->be->ops->alloc (s->be, n * sizeof (float), error);
  if (p) {
    s->be->ops->fill (s->be, p, 0.0f, n);
    g_ptr_array_add (s->dev, p);
    g_array_append_val (s->dev_floats, n);
  }
  return p;
}

/* Host buffers copied to or from the device every stage (the logits, the
 * token maps): the backend's host memory, page-locked on CUDA. */
static gpointer
scratch_host (Scratch * s, gsize bytes, GError ** error)
{
  GError *why = NULL;
  gpointer p = s->be->ops->alloc_host (s->be, bytes, &why);
  if (p == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "out of memory (%" G_GSIZE_FORMAT " bytes of host scratch): %s",
        bytes, why ? why->message : "?");
    g_clear_error (&why);
  } else {
    g_ptr_array_add (s->host, p);
    g_array_append_val (s->host_bytes, bytes);
  }
  return p;
}

/* Every buffer back to zeros, as freshly allocated: a reused run starts
 * each frame from the state a new one would have (f_hat accumulates). */
static void
scratch_zero (Scratch * s)
{
  for (guint i = 0; i < s->dev->len; i++)
    s->be->ops->fill (s->be, g_ptr_array_index (s->dev, i), 0.0f,
        g_array_index (s->dev_floats, gsize, i));
  for (guint i = 0; i < s->host->len; i++)
    memset (g_ptr_array_index (s->host, i), 0, g_array_index (s->host_bytes,
            gsize, i));
}

static void
scratch_clear (Scratch * s)
{
  if (s->dev == NULL)
    return;
  for (guint i = 0; i < s->dev->len; i++)
    s->be->ops->free (s->be, g_ptr_array_index (s->dev, i));
  g_ptr_array_free (s->dev, TRUE);
  g_array_free (s->dev_floats, TRUE);
  for (guint i = 0; i < s->host->len; i++)
    s->be->ops->free_host (s->be, g_ptr_array_index (s->host, i));
  g_ptr_array_free (s->host, TRUE);
  g_array_free (s->host_bytes, TRUE);
  memset (s, 0, sizeof *s);
}

static void
progress (const HartGenerateParams * params, int stage, int n, const char *what)
{
  if (params->progress)
    params->progress (stage, n, what, params->progress_data);
}

/* [B, l, Cv] token-major → [B, Cv, l] channel-major */
static void
tokens_to_nchw (const float *src, float *dst, int batch, int l, int Cv)
{
  for (int b = 0; b < batch; b++)
    for (int t = 0; t < l; t++)
      for (int c = 0; c < Cv; c++)
        dst[((gsize) b * Cv + c) * l + t] = src[((gsize) b * l + t) * Cv + c];
}

gboolean
hart_generate_check_context (const HartModel * model, const HartContext * ctx,
    GError ** error)
{
  gsize n, bad;

  if (ctx->tokens != model->tcfg.context_token
      || ctx->dim != model->tcfg.context_dim) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "context is [%d, %d, %d] but the model expects [B, %d, %d]",
        ctx->batch, ctx->tokens, ctx->dim, model->tcfg.context_token,
        model->tcfg.context_dim);
    return FALSE;
  }
  if (ctx->batch < 1 || ctx->batch > HART_MAX_BATCH) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "batch %d is outside [1, %d]", ctx->batch, HART_MAX_BATCH);
    return FALSE;
  }
  n = (gsize) ctx->batch * ctx->tokens * ctx->dim;
  bad = hart_find_non_finite (ctx->data, n);
  if (bad < n) {
    g_set_error (error, HART_ERROR, HART_ERROR_NUMERIC,
        "context value %" G_GSIZE_FORMAT " is not finite", bad);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_reuse (const HartModel * model, int batch, const HartTokens * r,
    int keep_scales, GError ** error)
{
  if (keep_scales <= 0 || r == NULL)
    return TRUE;
  if (keep_scales > model->tcfg.n_scales - 1) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "keep-scales %d: the model has %d scales, at most %d can be kept",
        keep_scales, model->tcfg.n_scales, model->tcfg.n_scales - 1);
    return FALSE;
  }
  if (strcmp (r->fingerprint, model->fingerprint) != 0 || r->batch != batch) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "the tokens to reuse come from another model or batch size "
        "(model %.12s…, batch %d; expected %.12s…, batch %d)",
        r->fingerprint, r->batch, model->fingerprint, batch);
    return FALSE;
  }
  return TRUE;
}

gboolean
hart_generate_check_params (const HartGenerateParams * params, GError ** error)
{
  if (!(params->cfg >= 0.0 && params->cfg <= HART_MAX_CFG)
      || !(params->top_p >= 0.0 && params->top_p <= 1.0)
      || params->top_k < 0 || params->keep_scales < 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "invalid sampling settings: cfg %g (expected 0 … %g), top-k %d "
        "(≥ 0), top-p %g (0 … 1), keep-scales %d (≥ 0)", params->cfg,
        HART_MAX_CFG, params->top_k, params->top_p, params->keep_scales);
    return FALSE;
  }
  return TRUE;
}

/* ---- stages 0 … SN−1 (docs/algorithm.md §6.3–§6.4 step 4) ---- */

/* What the stages share: the model's sizes, the transformer state, the
 * scratch buffers and the token frame being filled. */
typedef struct
{
  HartModel *model;
  HartBackend *be;
  const HartGenerateParams *params;
  const HartTokens *reuse;      /* video: token maps to keep, or NULL */
  int keep;                     /* stages taken from reuse */
  HartDraws *draws;
  HartSafetensorsWriter *trace;
  HartRun *run;                 /* for its whole logits (stage_sample) */
  int B, SN, T, C, V, Cv, P, L;
  gsize fhat_n;                 /* B · Cv · L */
  HartTransformerState *st;     /* the run's */
  HartTokens *tokens;           /* the frame being filled */
  /* the run's scratch: */
  float *x, *logits, *fhat, *latent_scratch, *h_dev, *next, *z; /* device */
  float *logits_host, *h_host, *h_nchw; /* host */
  int32_t *idx;                 /* host: the sampled codes of a stage */
  double ratio;                 /* si / (SN − 1), kept by the last stage */
  int stage_offset;             /* rows of stage_h written so far */
  const HartStageObserver *observer;    /* the run's, or NULL */
} Stages;

/* One caller's buffers (model-private.h). */
struct _HartRun
{
  HartModel *model;
  HartBackend *be;
  int batch;
  /* stages: the transformer state and the stages' scratch (Stages) */
  HartTransformerState *st;
  Scratch stage_scratch;
  float *x, *logits, *fhat, *latent_scratch, *h_dev, *next, *z;
  float *logits_host, *h_host, *h_nchw;
  int32_t *idx;
  /* a whole stage's logits, made the first time a frame reads them whole
   * (stage_sample) */
  Scratch whole_logits_scratch;
  float *whole_logits, *whole_logits_host;
  /* refinement: the image, and (for a run that never ran the stages) its
   * own copies of what it otherwise borrows from the stages' scratch */
  Scratch refine_scratch;
  float *img;
  float *rz, *res, *rfhat, *sum_host, *nchw_host;
  float *img_host;              /* run->img on the host: itself (host memory)
                                 * or page-locked (alloc_host) */
  const HartStageObserver *observer;
};

void
hart_run_set_observer (HartRun * run, const HartStageObserver * observer)
{
  run->observer = observer;
}

HartRun *
hart_run_new (HartModel * model, int batch)
{
  HartRun *run = g_new0 (HartRun, 1);

  run->model = hart_model_ref (model);
  run->be = hart_engine_get_backend (model->engine);
  run->batch = batch;
  return run;
}

void
hart_run_free (HartRun * run)
{
  if (run == NULL)
    return;
  hart_transformer_state_free (run->st);
  scratch_clear (&run->stage_scratch);
  scratch_clear (&run->whole_logits_scratch);
  scratch_clear (&run->refine_scratch);
  hart_model_unref (run->model);
  g_free (run);
}

int
hart_run_get_batch (const HartRun * run)
{
  return run->batch;
}

/* The stages' buffers: allocated by the first frame, zeroed for the next.
 * The logits hold HART_LOGITS_CHUNK positions of a stage (stage_sample). */
static gboolean
run_stage_buffers (HartRun * run, GError ** error)
{
  const HartTransformerConfig *c = &run->model->tcfg;
  const int B = run->batch, C = c->embed_dim, V = run->model->acfg.vocab_size;
  const int Cv = run->model->acfg.z_channels;
  const int P = c->patch_nums[c->n_scales - 1], L = P * P;
  const gsize logit_positions = MIN (L, HART_LOGITS_CHUNK);
  const int max_tokens = MAX (c->context_token, L);
  const gsize fhat_n = (gsize) B * Cv * L;
  Scratch *s = &run->stage_scratch;
  gsize workspace;

  if (run->st != NULL) {
    scratch_zero (s);
    return TRUE;
  }
  scratch_init (s, run->be);
  /* the refinement borrows the KV cache's memory (run_refine) */
  workspace = MAX (hart_diffusion_workspace_floats (run->model->diffusion,
          B * L), hart_decoder_workspace_floats (run->model->decoder, P, P));
  if (!(run->st = hart_transformer_state_new (run->model->transformer, B,
              workspace, error))
      || !(run->x = scratch_dev (s, (gsize) 2 * B * max_tokens * C, error))
      || !(run->logits = scratch_dev (s, 2 * B * logit_positions * V, error))
      || !(run->fhat = scratch_dev (s, fhat_n, error))
      || !(run->latent_scratch = scratch_dev (s, 2 * fhat_n, error))
      || !(run->h_dev = scratch_dev (s, fhat_n, error))
      || !(run->next = scratch_dev (s, fhat_n, error))
      || !(run->z = scratch_dev (s, (gsize) 2 * B * L * C, error))
      /* the logits are read where they are when the backend's memory is
       * the host's */
      || !(run->logits_host = run->be->host_memory ? run->logits :
          scratch_host (s, 2 * B * logit_positions * V * sizeof (float), error))
      || !(run->h_host = scratch_host (s, fhat_n * sizeof (float), error))
      || !(run->h_nchw = scratch_host (s, fhat_n * sizeof (float), error))
      || !(run->idx = scratch_host (s, (gsize) B * L * sizeof (int32_t),
              error))) {
    g_clear_pointer (&run->st, hart_transformer_state_free);
    scratch_clear (s);
    return FALSE;
  }
  return TRUE;
}

/* A whole stage's logits [2B, L, V] (134 MB per image at 1024²), for a
 * frame that reads them whole: made once per run, kept for its next
 * frames. */
static gboolean
run_whole_logits (HartRun * run, GError ** error)
{
  const HartTransformerConfig *c = &run->model->tcfg;
  const int P = c->patch_nums[c->n_scales - 1];
  const gsize n = (gsize) 2 * run->batch * P * P * run->model->acfg.vocab_size;
  Scratch *s = &run->whole_logits_scratch;

  if (run->whole_logits != NULL)
    return TRUE;
  scratch_init (s, run->be);
  if (!(run->whole_logits = scratch_dev (s, n, error))
      || !(run->whole_logits_host = run->be->host_memory ? run->whole_logits
          : scratch_host (s, n * sizeof (float), error))) {
    scratch_clear (s);
    run->whole_logits = NULL;
    return FALSE;
  }
  return TRUE;
}

/* Takes the run's buffers, starts the transformer on the context and
 * builds stage 0's input.  stages_end frees what is the frame's, even on
 * failure. */
static gboolean
stages_begin (Stages * r, HartRun * run, const HartContext * ctx,
    const HartGenerateParams * params, const HartTokens * reuse, int keep,
    HartDraws * draws, HartSafetensorsWriter * trace, GError ** error)
{
  HartModel *model = run->model;
  const HartTransformerConfig *c = &model->tcfg;

  memset (r, 0, sizeof *r);
  r->model = model;
  r->be = run->be;
  r->params = params;
  r->reuse = reuse;
  r->keep = reuse != NULL ? keep : 0;
  r->draws = draws;
  r->trace = trace;
  r->B = ctx->batch;
  r->SN = c->n_scales;
  r->T = c->context_token;
  r->C = c->embed_dim;
  r->V = model->acfg.vocab_size;
  r->Cv = model->acfg.z_channels;
  r->P = c->patch_nums[r->SN - 1];
  r->L = r->P * r->P;
  r->fhat_n = (gsize) r->B * r->Cv * r->L;

  if (!run_stage_buffers (run, error))
    return FALSE;
  r->st = run->st;
  r->x = run->x;
  r->logits = run->logits;
  r->fhat = run->fhat;
  r->latent_scratch = run->latent_scratch;
  r->h_dev = run->h_dev;
  r->next = run->next;
  r->z = run->z;
  r->logits_host = run->logits_host;
  r->h_host = run->h_host;
  r->h_nchw = run->h_nchw;
  r->idx = run->idx;
  r->observer = run->observer;
  r->run = run;

  r->tokens = hart_tokens_new (r->B, r->Cv, r->P, r->C, r->SN,
      c->image_tokens - r->L + 1);
  g_strlcpy (r->tokens->fingerprint, model->fingerprint,
      sizeof r->tokens->fingerprint);
  r->tokens->seed = params->seed;
  r->tokens->frame = params->frame;

  if (!hart_transformer_begin (r->st, ctx->data, ctx->positions, error))
    return FALSE;
  hart_transformer_stage0_input (r->st, r->x);
  return TRUE;
}

static void
stages_end (Stages * r)
{
  hart_tokens_free (r->tokens);
}

/* Video: stage SI's token map [B, l, Cv] comes from the previous frame. */
static void
stage_reuse (Stages * r, int l)
{
  const int Cv = r->Cv;

  for (int b = 0; b < r->B; b++)
    memcpy (r->h_host + (gsize) b * l * Cv, r->reuse->stage_h +
        ((gsize) b * r->tokens->stage_tokens + r->stage_offset) * Cv,
        (gsize) l * Cv * sizeof (float));
}

/* Stage SI's logits, then guided sampling (docs/algorithm.md §6.3 steps
 * 2–6): the codes in idx, their embedding in h_host.  The logits are
 * computed and sampled HART_LOGITS_CHUNK positions at a time: every row's
 * logits and draws are its own, and the products keep a row's bits
 * whatever the rows around it in fp32 (kernels/cpu/cpu-gemm.c), so the
 * parts give the bits of the whole.  Whole where something reads them
 * whole: an observer, a trace, draws replayed from or recorded to a
 * file. */
static gboolean
stage_sample (Stages * r, int si, int l, GError ** error)
{
  HartBackend *be = r->be;
  const HartGenerateParams *params = r->params;
  const int B = r->B, T = r->T, C = r->C, V = r->V;
  const gboolean whole = r->observer != NULL || r->trace != NULL
      || !hart_draws_streamed (r->draws);
  int chunk = HART_LOGITS_CHUNK;
  float *logits = r->logits, *logits_host = r->logits_host;
  HartStageSampling samp;

  {
    /* tests make the chunks small, to chunk the tiny models' stages */
    const char *env = g_getenv ("HART_LOGITS_CHUNK");
    guint64 v;
    if (env != NULL && g_ascii_string_to_unsigned (env, 10, 1,
            HART_LOGITS_CHUNK, &v, NULL))
      chunk = (int) v;
  }
  chunk = whole ? l : MIN (l, chunk);

  if (chunk > HART_LOGITS_CHUNK) {
    if (!run_whole_logits (r->run, error))
      return FALSE;
    logits = r->run->whole_logits;
    logits_host = r->run->whole_logits_host;
  }
  samp.stage = si;
  samp.ratio = r->ratio;
  samp.cfg_t = params->cfg * r->ratio;
  samp.top_k = params->top_k > 0 ? params->top_k
      : hart_sampler_default_top_k (si);
  samp.top_p = params->top_p;
  samp.smooth = params->smooth;
  for (int p0 = 0; p0 < l; p0 += chunk) {
    const int pc = MIN (chunk, l - p0);

    if (si == 0)                /* only the last context position (docs/algorithm.md §6.3 step 3) */
      hart_transformer_logits (r->st, r->x + (gsize) (T - 1) * C, 1,
          (int64_t) T * C, logits);
    else
      hart_transformer_logits (r->st, r->x + (gsize) p0 * C, pc,
          (int64_t) l * C, logits);
    if (logits_host != logits)
      be->ops->download (be, logits_host, logits, (gsize) 2 * B * pc * V *
          sizeof (float));
    if (!be->ops->synchronize (be, error))
      return FALSE;
    if (r->observer)            /* whole: pc = l */
      r->observer->logits (si, logits_host, B, l, V, samp.cfg_t,
          r->observer->data);
    {
      const guint64 t0 = hart_backend_host_clock (be);
      gboolean ok = hart_sample_stage_part (be, logits_host, B, l, p0, pc, V,
          &samp, r->draws, r->model->latent->codebook, r->Cv, r->idx,
          r->h_host, error);

      hart_backend_host_done (be, HART_HOST_SAMPLING, t0);
      if (!ok)
        return FALSE;
    }
  }
  if (r->observer)
    r->observer->sampled (si, r->idx, r->h_host, B, l, r->Cv,
        r->observer->data);
  hart_trace_stage_sampling (r->trace, be, si, r->idx, logits_host, B, l, V);
  return TRUE;
}

/* Every stage but the last: keeps the token map in the frame (video), adds
 * it to the latent f_hat and builds the next stage's input from it. */
static void
stage_advance (Stages * r, int si, int l)
{
  HartBackend *be = r->be;
  HartLatent *latent = r->model->latent;
  const int B = r->B, Cv = r->Cv;
  const int pn = r->model->tcfg.patch_nums[si];
  const int pn_next = r->model->tcfg.patch_nums[si + 1];

  for (int b = 0; b < B; b++)
    memcpy (r->tokens->stage_h + ((gsize) b * r->tokens->stage_tokens +
            r->stage_offset) * Cv, r->h_host + (gsize) b * l * Cv,
        (gsize) l * Cv * sizeof (float));
  r->stage_offset += l;
  tokens_to_nchw (r->h_host, r->h_nchw, B, l, Cv);
  be->ops->upload (be, r->h_dev, r->h_nchw, (gsize) B * Cv * l *
      sizeof (float));
  hart_latent_update (latent, B, hart_latent_phi_index (latent, si, r->SN),
      r->h_dev, pn, r->fhat, r->next, pn_next, r->latent_scratch);
  hart_transformer_stage_input (r->st, si + 1, r->next, pn_next, r->x);
  hart_trace_stage_latent (r->trace, be, si, r->fhat, r->next, B, Cv, r->P,
      pn_next);
}

/* One stage: the transformer's forward, then the stage's token map,
 * sampled or (video) reused, and for all but the last the latent update. */
static gboolean
run_stage (Stages * r, int si, GCancellable * cancel, GError ** error)
{
  const int pn = r->model->tcfg.patch_nums[si];
  const int l = si == 0 ? 1 : pn * pn;
  const gboolean last = si == r->SN - 1;
  const int keep = r->keep;
  char what[64];

  g_snprintf (what, sizeof what, "stage %d/%d (%d×%d)", si + 1, r->SN, pn, pn);
  progress (r->params, si, N_PROGRESS (r->SN), what);
  if (hart_error_if_cancelled (cancel, error))
    return FALSE;
  if (last) {
    /* B MaskGIT orders: no effect with one iteration, but they hold a
     * place in the official draw order (docs/algorithm.md §6.4
     * step 1, §10). */
    for (int b = 0; b < r->B; b++)
      if (!hart_draws_permutation (r->draws, r->L, error))
        return FALSE;
  }
  /* The KV cache needs every stage's forward, kept or not. */
  if (!hart_transformer_forward_stage (r->st, si, r->x, cancel, error))
    return FALSE;
  /* The last stage reuses the ratio of stage SN−2 (docs/algorithm.md §6.2, §6.4
   * step 3). */
  if (!last)
    r->ratio = (double) si / (double) (r->SN - 1);

  if (si < keep)
    stage_reuse (r, l);
  else if (!stage_sample (r, si, l, error))
    return FALSE;
  if (!last)
    stage_advance (r, si, l);
  return TRUE;
}

/* Diffusion condition z = RMSNorm(H + word_embed(E[idx])) with the hard
 * codes of the last stage (docs/algorithm.md §6.4 step 4), and the rest of the frame. */
static gboolean
stages_finish (Stages * r, GError ** error)
{
  HartBackend *be = r->be;
  HartTokens *tokens = r->tokens;
  const int B = r->B, L = r->L, C = r->C, Cv = r->Cv;
  const gsize fhat_n = r->fhat_n;
  float *codes = r->h_nchw;     /* reuse: E[idx] [B, L, Cv] */

  for (gsize i = 0; i < (gsize) B * L; i++)
    memcpy (codes + i * Cv, r->model->latent->codebook + (gsize) r->idx[i] *
        Cv, Cv * sizeof (float));
  be->ops->upload (be, r->h_dev, codes, fhat_n * sizeof (float));
  hart_transformer_diffusion_condition (r->st, r->x, r->h_dev, L, r->z);

  be->ops->download (be, tokens->z, r->z, (gsize) 2 * B * L * C *
      sizeof (float));
  be->ops->download (be, tokens->f_hat, r->fhat, fhat_n * sizeof (float));
  memcpy (tokens->last_h, r->h_host, fhat_n * sizeof (float));
  tokens->cfg_scale = (float) (r->params->cfg * r->ratio);
  if (!be->ops->synchronize (be, error))
    return FALSE;
  hart_trace_add (r->trace, be, "last_z", tokens->z, FALSE, 3,
      HART_SHAPE (2 * B, L, C));
  hart_trace_add (r->trace, be, "last_h", r->h_host, FALSE, 3,
      HART_SHAPE (B, L, Cv));
  return TRUE;
}

/* Stages 0 … SN−1: everything up to the diffusion condition. */
static HartTokens *
run_tokens (HartRun * run, const HartContext * ctx,
    const HartGenerateParams * params, const HartTokens * reuse, int keep,
    HartDraws * draws, HartSafetensorsWriter * trace, GCancellable * cancel,
    GError ** error)
{
  Stages r;
  HartTokens *tokens = NULL;
  gboolean ok;

  ok = stages_begin (&r, run, ctx, params, reuse, keep, draws, trace, error);
  for (int si = 0; ok && si < r.SN; si++)
    ok = run_stage (&r, si, cancel, error);
  if (ok && stages_finish (&r, error)) {
    tokens = r.tokens;
    r.tokens = NULL;
  }
  if (!ok)
    /* drain queued work before a later frame reuses the buffers; an error
     * from it is secondary to the one already set */
    r.be->ops->synchronize (r.be, NULL);
  stages_end (&r);
  return tokens;
}

/* ---- residual diffusion and decoder ---- */

/* The refinement's buffers: the image is the run's own; z, res, f_hat and
 * the two host planes are the stages' (idle by now) when the run has them. */
static gboolean
run_refine_buffers (HartRun * run, GError ** error)
{
  const HartModel *model = run->model;
  const int SN = model->tcfg.n_scales, B = run->batch;
  const int P = model->tcfg.patch_nums[SN - 1], L = P * P;
  const int C = model->tcfg.embed_dim, Cv = model->acfg.z_channels;
  const int W = hart_model_get_width (model);
  const gsize fhat_n = (gsize) B * Cv * L;
  Scratch *s = &run->refine_scratch;

  if (s->dev == NULL) {
    scratch_init (s, run->be);
    if (!(run->img = scratch_dev (s, (gsize) B * 3 * W * W, error))
        || !(run->img_host = run->be->host_memory ? run->img :
            scratch_host (s, (gsize) B * 3 * W * W * sizeof (float), error)))
      return FALSE;
  }
  if (run->st != NULL) {
    run->rz = run->z;
    run->res = run->next;
    run->rfhat = run->fhat;
    run->sum_host = run->h_host;
    run->nchw_host = run->h_nchw;
  } else if (run->rz == NULL) {
    if (!(run->rz = scratch_dev (s, (gsize) 2 * B * L * C, error))
        || !(run->res = scratch_dev (s, fhat_n, error))
        || !(run->rfhat = scratch_dev (s, fhat_n, error))
        || !(run->sum_host = scratch_host (s, fhat_n * sizeof (float), error))
        || !(run->nchw_host = scratch_host (s, fhat_n * sizeof (float), error))) {
      run->rz = NULL;
      return FALSE;
    }
  }
  return TRUE;
}

/* Residual diffusion and decoder (docs/algorithm.md §6.4 steps 5–7, §9). */
static HartImage **
run_refine (HartRun * run, const HartTokens * tokens,
    const HartGenerateParams * params, HartDraws * draws,
    HartSafetensorsWriter * trace, GCancellable * cancel, GError ** error)
{
  HartModel *model = run->model;
  HartBackend *be = run->be;
  const int SN = model->tcfg.n_scales, n_progress = N_PROGRESS (SN);
  const int B = tokens->batch, Cv = tokens->latent_channels;
  const int P = tokens->side, L = P * P, C = tokens->embed_dim;
  const int W = hart_model_get_width (model);
  const gsize fhat_n = (gsize) B * Cv * L;
  HartImage **images = NULL;
  float *workspace = NULL;
  gsize workspace_floats = 0;

  if (strcmp (tokens->fingerprint, model->fingerprint) != 0
      || Cv != model->acfg.z_channels
      || P != model->tcfg.patch_nums[SN - 1] || C != model->tcfg.embed_dim) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "token frame of model %.12s… (Cv %d, side %d, width %d) does not fit "
        "this model %.12s… (Cv %d, side %d, width %d)", tokens->fingerprint,
        Cv, P, C, model->fingerprint, model->acfg.z_channels,
        model->tcfg.patch_nums[SN - 1], model->tcfg.embed_dim);
    return NULL;
  }
  if (B != run->batch) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "token frame of %d images, but this generator makes %d", B, run->batch);
    return NULL;
  }
  /* The elements check frames when they parse them; a caller of the API
   * may hand over anything. */
  if (!isfinite (tokens->cfg_scale)) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "token frame: cfg scale is %s",
        hart_non_finite_name (tokens->cfg_scale));
    return NULL;
  }
  progress (params, SN, n_progress, "residual diffusion");
  if (!run_refine_buffers (run, error))
    return NULL;
  be->ops->upload (be, run->rz, tokens->z, (gsize) 2 * B * L * C *
      sizeof (float));
  /* The diffusion's and the decoder's buffers go in the KV cache when the
   * run has one: it is idle until the next frame begins. */
  if (run->st != NULL)
    workspace = hart_transformer_state_workspace (run->st, &workspace_floats);
  if (!hart_diffusion_sample_in (model->diffusion, run->rz, B * L,
          tokens->cfg_scale, draws, run->res, workspace, workspace_floats,
          cancel, error))
    goto out;
  hart_trace_add (trace, be, "diff_out", run->res, TRUE, 2,
      HART_SHAPE (B * L, Cv));

  /* f_hat += (h + res), token-major → NCHW, no Φ (docs/algorithm.md §6.4 step 6) */
  be->ops->download (be, run->sum_host, run->res, fhat_n * sizeof (float));
  for (gsize i = 0; i < fhat_n; i++)
    run->sum_host[i] = tokens->last_h[i] + run->sum_host[i];
  tokens_to_nchw (run->sum_host, run->nchw_host, B, L, Cv);
  for (gsize i = 0; i < fhat_n; i++)
    run->nchw_host[i] = tokens->f_hat[i] + run->nchw_host[i];
  /* One pass over the small latent, already on the host: a NaN made by the
   * diffusion (or brought by the frame) stops here, before the decoder
   * spends its time and smears it over the image. */
  if (!hart_check_finite (run->nchw_host, fhat_n, error, HART_ERROR_NUMERIC,
          "the final latent (f_hat + h + diffusion residual)"))
    goto out;
  be->ops->upload (be, run->rfhat, run->nchw_host, fhat_n * sizeof (float));
  hart_trace_add (trace, be, "fhat_final", run->nchw_host, FALSE, 4,
      HART_SHAPE (B, Cv, P, P));

  progress (params, SN + 1, n_progress, "decoder");
  if (!hart_decoder_forward_in (model->decoder, run->rfhat, B, P, P, run->img,
          workspace, workspace_floats, cancel, error)
      || !be->ops->synchronize (be, error))
    goto out;
  hart_trace_add (trace, be, "decoder_out", run->img, TRUE, 4,
      HART_SHAPE (B, 3, W, W));
  images = hart_images_from_device (be, run->img, B, W, W, run->img_host,
      error);
  if (images)
    progress (params, n_progress, n_progress, "done");

out:
  if (images == NULL)
    be->ops->synchronize (be, NULL);
  return images;
}

HartTokens *
hart_run_tokens (HartRun * run, const HartContext * ctx,
    const HartGenerateParams * params, const HartTokens * reuse, int keep,
    HartDraws * draws, HartSafetensorsWriter * trace, GCancellable * cancel,
    GError ** error)
{
  HartTokens *tokens;

  /* the context and the settings are the caller's to check, once
   * (hart_generate_check_context, hart_generate_check_params) */
  if (!check_reuse (run->model, ctx->batch, reuse, keep, error))
    return NULL;
  if (ctx->batch != run->batch) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "context of %d prompts, but this generator makes %d images",
        ctx->batch, run->batch);
    return NULL;
  }
  hart_engine_enter (run->model->engine);
  tokens = run_tokens (run, ctx, params, reuse, keep, draws, trace, cancel,
      error);
  hart_engine_leave (run->model->engine);
  return tokens;
}

HartImage **
hart_run_refine (HartRun * run, const HartTokens * tokens,
    const HartGenerateParams * params, HartDraws * draws,
    HartSafetensorsWriter * trace, GCancellable * cancel, GError ** error)
{
  HartImage **images;

  hart_engine_enter (run->model->engine);
  images = run_refine (run, tokens, params, draws, trace, cancel, error);
  hart_engine_leave (run->model->engine);
  return images;
}

/* ---- public entry points: one run per call ---- */

HartImage **
hart_model_generate (HartModel * model, const HartContext * ctx,
    const HartGenerateParams * params, GCancellable * cancel, GError ** error)
{
  HartDraws *draws;
  HartImage **images = NULL;
  HartTokens *tokens;
  HartSafetensorsWriter *trace;
  HartRun *run;

  if (!hart_generate_check_context (model, ctx, error)
      || !hart_generate_check_params (params, error))
    return NULL;
  if (params->replay_draws) {
    if (!(draws = hart_draws_new_replay (params->replay_draws, error)))
      return NULL;
  } else {
    draws = hart_draws_new (params->seed, params->frame);
  }
  if (params->record_draws)
    hart_draws_set_record_path (draws, params->record_draws);

  run = hart_run_new (model, ctx->batch);
  trace = hart_trace_begin ();
  tokens = hart_run_tokens (run, ctx, params, params->reuse,
      params->keep_scales, draws, trace, cancel, error);
  if (tokens)
    images = hart_run_refine (run, tokens, params, draws, trace, cancel, error);
  hart_trace_end (trace);
  hart_tokens_free (tokens);
  hart_run_free (run);

  if (images && !hart_draws_finish (draws, error)) {
    hart_images_free (images);
    images = NULL;
  }
  hart_draws_free (draws);
  return images;
}

gboolean
hart_generate_refuse_draw_files (const HartGenerateParams * params,
    GError ** error)
{
  if (params->record_draws || params->replay_draws) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "recording or replaying draw files needs the whole generation "
        "(hart_model_generate), not one half of it");
    return FALSE;
  }
  return TRUE;
}

HartTokens *
hart_model_generate_tokens (HartModel * model, const HartContext * ctx,
    const HartGenerateParams * params, GCancellable * cancel, GError ** error)
{
  HartDraws *draws;
  HartTokens *tokens;
  HartRun *run;

  if (!hart_generate_check_context (model, ctx, error)
      || !hart_generate_check_params (params, error)
      || !hart_generate_refuse_draw_files (params, error))
    return NULL;
  draws = hart_draws_new (params->seed, params->frame);
  run = hart_run_new (model, ctx->batch);
  tokens = hart_run_tokens (run, ctx, params, params->reuse,
      params->keep_scales, draws, NULL, cancel, error);
  hart_run_free (run);
  hart_draws_free (draws);
  return tokens;
}

HartImage **
hart_model_refine (HartModel * model, const HartTokens * tokens,
    const HartGenerateParams * params, GCancellable * cancel, GError ** error)
{
  HartDraws *draws;
  HartImage **images;
  HartRun *run;

  if (!hart_generate_refuse_draw_files (params, error))
    return NULL;
  if (tokens->batch < 1 || tokens->batch > HART_MAX_BATCH) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "token frame: batch %d is outside [1, %d]", tokens->batch,
        HART_MAX_BATCH);
    return NULL;
  }
  draws = hart_draws_new (params->seed, params->frame);
  run = hart_run_new (model, tokens->batch);
  images = hart_run_refine (run, tokens, params, draws, NULL, cancel, error);
  hart_run_free (run);
  hart_draws_free (draws);
  return images;
}
