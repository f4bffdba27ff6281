/* gst-hart — the precision modes (docs/precision.md)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * On the bundled shapes-64px model (trained: its distributions are peaked
 * as a real model's are, unlike the random fixtures'):
 *  - the fidelity method itself: the reference against itself gives no
 *    error, every code alike and identical pictures;
 *  - bf16 against fp32 within the bounds docs/precision.md states (its
 *    measured values are well inside them);
 *  - bf16 is deterministic, and differs from fp32;
 *  - precisions a device lacks fail with HART_ERROR_UNSUPPORTED.
 */
#include "hart/hart.h"
#include "hart/bundled-model.h"
#include "hart/fidelity.h"
#include "hart/text-encoder.h"
#include "tests/hart-test-bf16.h"

#include <glib.h>
#include <math.h>
#include <string.h>

typedef struct
{
  char *dir;
  HartEngine *fp32_engine;
  HartModel *fp32;
  HartContext *ctx;
} Fixture;

static void
fixture_set_up (Fixture * f, gconstpointer data)
{
  const char *const prompts[] = { "a red circle on a blue background",
    "a small green square in the top left corner"
  };
  GError *error = NULL;
  HartTextEncoder *encoder;
  char *qwen;

  f->dir = hart_bundled_model_path (&error);
  g_assert_no_error (error);
  f->fp32_engine = hart_engine_new_with_precision ("cpu", 0, 0,
      HART_PRECISION_FP32, &error);
  g_assert_no_error (error);
  f->fp32 = hart_model_load (f->fp32_engine, f->dir, TRUE, &error);
  g_assert_no_error (error);
  qwen = hart_text_encoder_default_dir (f->dir);
  encoder = hart_text_encoder_load (f->fp32_engine, qwen, NULL, &error);
  g_assert_no_error (error);
  f->ctx = hart_text_encoder_encode (encoder, prompts, 2,
      hart_model_get_transformer_config (f->fp32)->context_token, NULL, &error);
  g_assert_no_error (error);
  hart_text_encoder_free (encoder);
  g_free (qwen);
}

static void
fixture_tear_down (Fixture * f, gconstpointer data)
{
  hart_context_free (f->ctx);
  hart_model_unref (f->fp32);
  hart_engine_unref (f->fp32_engine);
  g_free (f->dir);
}

static HartModel *
load_in (Fixture * f, HartPrecision precision, HartEngine ** engine)
{
  GError *error = NULL;
  HartModel *model;

  *engine = hart_engine_new_with_precision ("cpu", 0, 0, precision, &error);
  if (precision == HART_PRECISION_BF16
      && !hart_test_bf16_go_on (*engine == NULL,
          error ? error->message : NULL)) {
    g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
    g_clear_error (&error);
    return NULL;                /* refused, as this machine expects */
  }
  g_assert_no_error (error);
  g_assert_cmpint (hart_engine_get_precision (*engine), ==, precision);
  model = hart_model_load (*engine, f->dir, TRUE, &error);
  g_assert_no_error (error);
  return model;
}

static void
params_for (HartGenerateParams * params, guint64 seed)
{
  hart_generate_params_init (params);
  params->seed = seed;
}

/* fp32 against a second fp32 model: the observer, the forcing and the
 * comparisons are exact, so any error the bf16 test reports is bf16's */
static void
test_reference_against_itself (Fixture * f, gconstpointer data)
{
  HartEngine *engine;
  HartModel *again = load_in (f, HART_PRECISION_FP32, &engine);
  HartGenerateParams params;
  HartFidelityReport report;
  GError *error = NULL;

  params_for (&params, 5);
  g_assert_true (hart_fidelity_compare (f->fp32, again, f->ctx, &params,
          &report, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (report.n_stages, ==,
      hart_model_get_transformer_config (f->fp32)->n_scales);
  for (int si = 0; si < report.n_stages; si++) {
    const HartFidelityStage *s = &report.stages[si];
    g_assert_cmpint (s->n_tokens, ==, 2 * s->side * s->side);
    g_assert_cmpfloat (s->logit_rms, >, 0.1);
    g_assert_cmpfloat (s->logit_max_error, ==, 0.0);
    g_assert_cmpfloat (s->kl_max, ==, 0.0);
    g_assert_cmpfloat (s->same_code, ==, 1.0);
  }
  g_assert_true (isinf (report.psnr_same_tokens));
  g_assert_true (isinf (report.psnr_free));
  hart_model_unref (again);
  hart_engine_unref (engine);
}

/* bf16 against fp32: the bounds of docs/precision.md, "Fidelity" */
static void
test_bf16_fidelity (Fixture * f, gconstpointer data)
{
  HartEngine *engine;
  HartModel *bf16 = load_in (f, HART_PRECISION_BF16, &engine);
  GError *error = NULL;
  double same = 0;
  int n = 0;

  if (bf16 == NULL)
    return;

  for (guint64 seed = 1; seed <= 3; seed++) {
    HartGenerateParams params;
    HartFidelityReport report;

    params_for (&params, seed);
    g_assert_true (hart_fidelity_compare (f->fp32, bf16, f->ctx, &params,
            &report, NULL, &error));
    g_assert_no_error (error);
    for (int si = 0; si < report.n_stages; si++) {
      const HartFidelityStage *s = &report.stages[si];
      g_test_message ("seed %" G_GUINT64_FORMAT " scale %d: logit rms %.3g "
          "error %.3g (max %.3g), KL mean %.3g max %.3g, same code %.3f",
          seed, s->side, s->logit_rms, s->logit_rms_error,
          s->logit_max_error, s->kl_mean, s->kl_max, s->same_code);
      /* bf16 moves the logits, never by more than a few percent */
      g_assert_cmpfloat (s->logit_max_error, >, 0.0);
      g_assert_cmpfloat (s->logit_rms_error, <, 0.05 * s->logit_rms);
      g_assert_cmpfloat (s->kl_mean, <, 0.02);
      same += s->same_code * s->n_tokens;
      n += s->n_tokens;
    }
    g_test_message ("seed %" G_GUINT64_FORMAT ": PSNR %.2f dB from the fp32 "
        "tokens, %.2f dB alone", seed, report.psnr_same_tokens,
        report.psnr_free);
    /* from the same tokens only the diffusion and decoder differ */
    g_assert_cmpfloat (report.psnr_same_tokens, >, 40.0);
    g_assert_false (isinf (report.psnr_same_tokens));
    /* alone the tokens cascade: a loose gate (docs/precision.md) */
    g_assert_cmpfloat (report.psnr_free, >, 8.0);
  }
  g_test_message ("same code: %.4f of %d codes", same / n, n);
  g_assert_cmpfloat (same / n, >, 0.9);
  hart_model_unref (bf16);
  hart_engine_unref (engine);
}

static gboolean
images_equal (HartImage ** a, HartImage ** b)
{
  for (int i = 0; a[i] || b[i]; i++) {
    if (!a[i] || !b[i] || a[i]->height != b[i]->height
        || a[i]->stride != b[i]->stride
        || memcmp (a[i]->rgb, b[i]->rgb, (gsize) a[i]->stride *
            a[i]->height) != 0)
      return FALSE;
  }
  return TRUE;
}

static void
test_bf16_deterministic (Fixture * f, gconstpointer data)
{
  HartEngine *engine;
  HartModel *bf16 = load_in (f, HART_PRECISION_BF16, &engine);
  HartGenerateParams params;
  GError *error = NULL;
  HartImage **a, **b, **ref;

  if (bf16 == NULL)
    return;
  params_for (&params, 2);
  a = hart_model_generate (bf16, f->ctx, &params, NULL, &error);
  g_assert_no_error (error);
  b = hart_model_generate (bf16, f->ctx, &params, NULL, &error);
  g_assert_no_error (error);
  ref = hart_model_generate (f->fp32, f->ctx, &params, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (images_equal (a, b));
  g_assert_false (images_equal (a, ref));
  if (hart_test_bf16_flags_known ())
    g_assert_true (g_str_has_prefix (hart_engine_get_precision_impl (engine),
            hart_test_bf16_native ()? "bf16 (oneDNN " : "bf16 (bf16 widened"));
  hart_images_free (a);
  hart_images_free (b);
  hart_images_free (ref);
  hart_model_unref (bf16);
  hart_engine_unref (engine);
}

/* The text encoder in bf16 (matrices resident in bf16, bf16 attention)
 * against fp32: the same prompts give contexts within 2 % RMS, and the
 * mask and positions are the same. */
static void
test_bf16_text_encoder (Fixture * f, gconstpointer data)
{
  const char *const prompts[] = { "a red circle on a blue background",
    "a small green square in the top left corner"
  };
  GError *error = NULL;
  HartEngine *engine = hart_engine_new_with_precision ("cpu", 0, 0,
      HART_PRECISION_BF16, &error);
  char *qwen = hart_text_encoder_default_dir (f->dir);
  HartTextEncoder *encoder;
  HartContext *ctx;
  double sq = 0, ref_sq = 0;
  gsize n;

  if (!hart_test_bf16_go_on (engine == NULL, error ? error->message : NULL)) {
    g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
    g_clear_error (&error);
    g_free (qwen);
    return;
  }
  g_assert_no_error (error);
  encoder = hart_text_encoder_load (engine, qwen, NULL, &error);
  g_assert_no_error (error);
  ctx = hart_text_encoder_encode (encoder, prompts, 2, f->ctx->tokens, NULL,
      &error);
  g_assert_no_error (error);
  g_assert_cmpint (ctx->batch, ==, f->ctx->batch);
  g_assert_cmpint (ctx->dim, ==, f->ctx->dim);
  n = (gsize) ctx->batch * ctx->tokens;
  g_assert_cmpmem (ctx->mask, n, f->ctx->mask, n);
  g_assert_cmpmem (ctx->positions, n * sizeof (int32_t), f->ctx->positions,
      n * sizeof (int32_t));
  for (gsize i = 0; i < n * ctx->dim; i++) {
    double d = (double) ctx->data[i] - f->ctx->data[i];
    sq += d * d;
    ref_sq += (double) f->ctx->data[i] * f->ctx->data[i];
  }
  g_test_message ("text encoder: bf16 context RMS error %.3g of RMS %.3g",
      sqrt (sq / (n * ctx->dim)), sqrt (ref_sq / (n * ctx->dim)));
  g_assert_cmpfloat (sq, >, 0.0);
  g_assert_cmpfloat (sqrt (sq), <, 0.02 * sqrt (ref_sq));
  hart_context_free (ctx);
  hart_text_encoder_free (encoder);
  g_free (qwen);
  hart_engine_unref (engine);
}

static void
test_refusals (void)
{
  GError *error = NULL;
  HartPrecision p;
  HartEngine *engine;

  g_assert_false (hart_precision_from_string ("fp8", &p, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  for (p = HART_PRECISION_FP32; p <= HART_PRECISION_AUTO; p++) {
    HartPrecision back;
    g_assert_true (hart_precision_from_string (hart_precision_to_string (p),
            &back, NULL));
    g_assert_cmpint (back, ==, p);
  }
  /* no backend has fp16 yet */
  engine = hart_engine_new_with_precision ("cpu", 0, 0, HART_PRECISION_FP16,
      &error);
  g_assert_null (engine);
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "precision fp16 is not available "
          "on device cpu"));
  g_clear_error (&error);
  /* auto resolves to something the engine runs, never to auto: bf16 where
   * the CPU's bf16 units run it (its flags say so), fp32 elsewhere, where
   * bf16's products would run widened at fp32's speed */
  engine = hart_engine_new_with_precision ("cpu", 0, 0, HART_PRECISION_AUTO,
      &error);
  g_assert_no_error (error);
  g_assert_cmpint (hart_engine_get_precision (engine), !=, HART_PRECISION_AUTO);
  if (hart_test_bf16_flags_known ())
    g_assert_cmpint (hart_engine_get_precision (engine), ==,
        hart_test_bf16_native ()? HART_PRECISION_BF16 : HART_PRECISION_FP32);
  hart_engine_unref (engine);
#ifdef HART_HAVE_ONEDNN
  /* bf16 runs on every CPU of a oneDNN build; its implementation names the
   * widened products exactly where the CPU has no bf16 unit */
  engine = hart_engine_new_with_precision ("cpu", 0, 0, HART_PRECISION_BF16,
      &error);
  g_assert_no_error (error);
  g_test_message ("bf16 on this CPU: %s",
      hart_engine_get_precision_impl (engine));
  if (hart_test_bf16_flags_known ())
    g_assert_cmpint (strstr (hart_engine_get_precision_impl (engine),
            "widened") != NULL, ==, !hart_test_bf16_native ());
  hart_engine_unref (engine);
  /* and HART_CPU_BF16=widened asks for the widened products anywhere */
  g_setenv ("HART_CPU_BF16", "widened", TRUE);
  engine = hart_engine_new_with_precision ("cpu", 0, 0, HART_PRECISION_BF16,
      &error);
  g_unsetenv ("HART_CPU_BF16");
  g_assert_no_error (error);
  g_assert_nonnull (strstr (hart_engine_get_precision_impl (engine),
          "widened"));
  hart_engine_unref (engine);
#endif
#ifndef HART_HAVE_ONEDNN
  engine = hart_engine_new_with_precision ("cpu", 0, 0, HART_PRECISION_BF16,
      &error);
  g_assert_null (engine);
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "no oneDNN"));
  g_clear_error (&error);
#endif
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/precision/refusals", test_refusals);
  g_test_add ("/precision/fidelity-method", Fixture, NULL, fixture_set_up,
      test_reference_against_itself, fixture_tear_down);
#ifdef HART_HAVE_ONEDNN
  g_test_add ("/precision/bf16-fidelity", Fixture, NULL, fixture_set_up,
      test_bf16_fidelity, fixture_tear_down);
  g_test_add ("/precision/bf16-deterministic", Fixture, NULL, fixture_set_up,
      test_bf16_deterministic, fixture_tear_down);
  g_test_add ("/precision/bf16-text-encoder", Fixture, NULL, fixture_set_up,
      test_bf16_text_encoder, fixture_tear_down);
#endif
  return g_test_run ();
}
