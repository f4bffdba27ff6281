/* gst-hart — fidelity of a fast precision against the fp32 reference
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two runs observed stage by stage (HartStageObserver, model-private.h):
 * the reference's records its guided logits, codes and embeddings; the fast
 * one compares its logits with them and then continues from the
 * reference's codes.  docs/precision.md gives the method and the figures.
 */
#include "fidelity.h"
#include "model-private.h"
#include "draws.h"
#include "error.h"

#include <math.h>
#include <string.h>

typedef struct
{
  float *guided;                /* [B, l, V] */
  int32_t *idx;                 /* [B·l] */
  float *h;                     /* [B, l, Cv] */
  int l;
} RecordedStage;

typedef struct
{
  RecordedStage stages[HART_MAX_SCALES];
  gboolean compare;             /* FALSE: record (reference), TRUE: compare */
  HartFidelityReport *report;
  float *guided;                /* the fast run's, [B, l, V] scratch */
  gsize guided_n;
} Observation;

/* g = (1 + t)·cond − t·uncond, as the sampler forms it (hart/sampler.c) */
static void
guide (float *dst, const float *logits, gsize half, double cfg_t)
{
  const float a = (float) (1.0 + cfg_t), bt = (float) cfg_t;

  for (gsize i = 0; i < half; i++)
    dst[i] = a * logits[i] - bt * logits[half + i];
}

/* KL (softmax p ‖ softmax q) of one row of logits, in double */
static double
row_kl (const float *p, const float *q, int n)
{
  double pmax = -INFINITY, qmax = -INFINITY, ps = 0, qs = 0, kl = 0;

  for (int i = 0; i < n; i++) {
    pmax = MAX (pmax, p[i]);
    qmax = MAX (qmax, q[i]);
  }
  for (int i = 0; i < n; i++) {
    ps += exp (p[i] - pmax);
    qs += exp (q[i] - qmax);
  }
  for (int i = 0; i < n; i++) {
    double lp = p[i] - pmax - log (ps), lq = q[i] - qmax - log (qs);
    kl += exp (lp) * (lp - lq);
  }
  return MAX (kl, 0.0);
}

static void
observe_logits (int si, const float *logits, int batch, int l, int vocab,
    double cfg_t, gpointer data)
{
  Observation *o = data;
  const gsize half = (gsize) batch * l * vocab;
  RecordedStage *rec = &o->stages[si];
  HartFidelityStage *st;
  double sq = 0, ref_sq = 0, max_err = 0, kl_sum = 0, kl_max = 0;

  if (!o->compare) {
    rec->guided = g_new (float, half);
    rec->l = l;
    guide (rec->guided, logits, half, cfg_t);
    return;
  }
  if (o->guided_n < half) {
    g_free (o->guided);
    o->guided = g_new (float, half);
    o->guided_n = half;
  }
  guide (o->guided, logits, half, cfg_t);
  for (gsize i = 0; i < half; i++) {
    double d = (double) o->guided[i] - rec->guided[i];
    sq += d * d;
    ref_sq += (double) rec->guided[i] * rec->guided[i];
    max_err = MAX (max_err, fabs (d));
  }
  for (gsize r = 0; r < (gsize) batch * l; r++) {
    double kl = row_kl (rec->guided + r * vocab, o->guided + r * vocab, vocab);
    kl_sum += kl;
    kl_max = MAX (kl_max, kl);
  }
  st = &o->report->stages[si];
  st->n_tokens = batch * l;
  st->logit_rms_error = sqrt (sq / half);
  st->logit_max_error = max_err;
  st->logit_rms = sqrt (ref_sq / half);
  st->kl_mean = kl_sum / (batch * l);
  st->kl_max = kl_max;
}

static void
observe_sampled (int si, int32_t * idx, float *h, int batch, int l, int Cv,
    gpointer data)
{
  Observation *o = data;
  RecordedStage *rec = &o->stages[si];
  const gsize n = (gsize) batch * l;
  gsize same = 0;

  if (!o->compare) {
    rec->idx = g_memdup2 (idx, n * sizeof (int32_t));
    rec->h = g_memdup2 (h, n * Cv * sizeof (float));
    return;
  }
  for (gsize i = 0; i < n; i++)
    same += idx[i] == rec->idx[i];
  o->report->stages[si].same_code = (double) same / n;
  /* teacher forcing: continue from the reference's codes */
  memcpy (idx, rec->idx, n * sizeof (int32_t));
  memcpy (h, rec->h, n * Cv * sizeof (float));
}

/* One generation of MODEL on a run of its own, observed by O (or not). */
static HartImage **
generate_observed (HartModel * model, const HartContext * ctx,
    const HartGenerateParams * params, Observation * o, GCancellable * cancel,
    GError ** error)
{
  HartStageObserver observer = { observe_logits, observe_sampled, o };
  HartDraws *draws = hart_draws_new (params->seed, params->frame);
  HartRun *run = hart_run_new (model, ctx->batch);
  HartTokens *tokens;
  HartImage **images = NULL;

  if (o != NULL)
    hart_run_set_observer (run, &observer);
  tokens = hart_run_tokens (run, ctx, params, NULL, 0, draws, NULL, cancel,
      error);
  if (tokens != NULL)
    images = hart_run_refine (run, tokens, params, draws, NULL, cancel, error);
  hart_tokens_free (tokens);
  hart_run_free (run);
  hart_draws_free (draws);
  return images;
}

static double
psnr (HartImage ** a, HartImage ** b)
{
  double sq = 0;
  gsize n = 0;

  for (int i = 0; a[i] != NULL && b[i] != NULL; i++) {
    for (int y = 0; y < a[i]->height; y++) {
      const guint8 *ra = a[i]->rgb + (gsize) y * a[i]->stride;
      const guint8 *rb = b[i]->rgb + (gsize) y * b[i]->stride;
      for (int x = 0; x < 3 * a[i]->width; x++) {
        double d = (double) ra[x] - rb[x];
        sq += d * d;
      }
      n += 3 * (gsize) a[i]->width;
    }
  }
  if (sq == 0)
    return INFINITY;
  return 10.0 * log10 (255.0 * 255.0 / (sq / n));
}

gboolean
hart_fidelity_compare (HartModel * reference, HartModel * fast,
    const HartContext * ctx, const HartGenerateParams * params,
    HartFidelityReport * report, GCancellable * cancel, GError ** error)
{
  Observation o;
  HartImage **ref_images = NULL, **forced = NULL, **free_run = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (reference && fast && ctx && params && report, FALSE);
  memset (report, 0, sizeof *report);
  memset (&o, 0, sizeof o);
  if (strcmp (hart_model_get_fingerprint (reference),
          hart_model_get_fingerprint (fast)) != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "fidelity: the two models differ (fingerprints %.12s and %.12s): "
        "compare one model folder in two precisions",
        hart_model_get_fingerprint (reference),
        hart_model_get_fingerprint (fast));
    return FALSE;
  }
  if (params->reuse != NULL || params->keep_scales > 0
      || !hart_generate_refuse_draw_files (params, error)) {
    if (error && *error == NULL)
      g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
          "fidelity: kept scales (video) are not compared");
    return FALSE;
  }
  if (!hart_generate_check_context (reference, ctx, error)
      || !hart_generate_check_params (params, error))
    return FALSE;

  report->n_stages = reference->tcfg.n_scales;
  for (int si = 0; si < report->n_stages; si++)
    report->stages[si].side = reference->tcfg.patch_nums[si];
  o.report = report;
  if (!(ref_images = generate_observed (reference, ctx, params, &o, cancel,
              error)))
    goto out;
  o.compare = TRUE;
  if (!(forced = generate_observed (fast, ctx, params, &o, cancel, error))
      || !(free_run = generate_observed (fast, ctx, params, NULL, cancel,
              error)))
    goto out;
  report->psnr_same_tokens = psnr (ref_images, forced);
  report->psnr_free = psnr (ref_images, free_run);
  ok = TRUE;

out:
  for (int si = 0; si < HART_MAX_SCALES; si++) {
    g_free (o.stages[si].guided);
    g_free (o.stages[si].idx);
    g_free (o.stages[si].h);
  }
  g_free (o.guided);
  hart_images_free (ref_images);
  hart_images_free (forced);
  hart_images_free (free_run);
  return ok;
}
