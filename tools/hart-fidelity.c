/* gst-hart — `hart fidelity`: a fast precision against the fp32 reference
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * hart fidelity [--model DIR] (--context FILE | --prompt TEXT)
 *               [--precision bf16] [--reference fp32] [--seed N] [--cfg X]
 *               [--device cpu|cuda|auto] [--device-id N]
 *
 * Loads the model twice, in the reference precision and in the fast one,
 * and prints hart_fidelity_compare's report (hart/fidelity.h): per scale
 * the guided logits' error and KL divergence under teacher forcing and the
 * share of codes the same draws pick alike, then the PSNR of the pictures.
 * With --prompt the context is encoded once, by the reference engine's
 * text encoder, so that only HART's precision differs.  Both engines run
 * on --device (cpu by default): on cuda, the figures judge the CUDA
 * backend's bf16 against its own fp32 (docs/precision.md).
 */
#include "hart-cli.h"
#include "hart/bundled-model.h"
#include "hart/fidelity.h"
#include "hart/hart.h"
#include "hart/text-encoder.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>

int
hart_cli_fidelity (int argc, char **argv)
{
  char *model_dir = NULL, *context = NULL, *fast_name = NULL;
  char *reference_name = NULL, **prompts = NULL, *text_encoder = NULL;
  char *device = NULL;
  int device_id = 0;
  gint64 seed = 1;
  double cfg = HART_DEFAULT_CFG;
  int n_threads = 0, status = 1;
  GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir,
        "HART release folder (default: the bundled shapes-64px model)", "DIR"},
    {"context", 'c', 0, G_OPTION_ARG_FILENAME, &context,
        "Text context file (safetensors)", "FILE"},
    {"prompt", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &prompts,
        "Prompt, encoded by the reference's text encoder", "TEXT"},
    {"text-encoder", 0, 0, G_OPTION_ARG_FILENAME, &text_encoder,
        "Qwen2 text encoder folder (default: beside the model)", "DIR"},
    {"precision", 0, 0, G_OPTION_ARG_STRING, &fast_name,
        "The precision judged (bf16)", "P"},
    {"reference", 0, 0, G_OPTION_ARG_STRING, &reference_name,
        "The reference precision (fp32)", "P"},
    {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (1)", "N"},
    {"cfg", 0, 0, G_OPTION_ARG_DOUBLE, &cfg,
        "Classifier-free guidance scale", "X"},
    {"threads", 0, 0, G_OPTION_ARG_INT, &n_threads,
        "CPU threads (0: every core, or HART_NUM_THREADS)", "N"},
    {"device", 0, 0, G_OPTION_ARG_STRING, &device,
        "cpu, cuda or auto, for both engines (cpu)", "DEV"},
    {"device-id", 0, 0, G_OPTION_ARG_INT, &device_id, "GPU index (0)", "N"},
    {NULL}
  };
  GOptionContext *octx = g_option_context_new ("- compare a precision with "
      "the fp32 reference");
  GError *error = NULL;
  HartPrecision fast_p = HART_PRECISION_BF16, ref_p = HART_PRECISION_FP32;
  HartEngine *ref_engine = NULL, *fast_engine = NULL;
  HartModel *ref_model = NULL, *fast_model = NULL;
  HartTextEncoder *encoder = NULL;
  HartContext *ctx = NULL;
  HartGenerateParams params;
  HartFidelityReport report;

  g_option_context_add_main_entries (octx, entries, NULL);
  if (!g_option_context_parse (octx, &argc, &argv, &error)) {
    fprintf (stderr, "hart fidelity: %s\n", error->message);
    status = 2;
    goto out;
  }
  if ((context == NULL) == (prompts == NULL)) {
    fprintf (stderr, "hart fidelity: one of --context and --prompt is "
        "needed\n");
    status = 2;
    goto out;
  }
  if ((fast_name && !hart_precision_from_string (fast_name, &fast_p, &error))
      || (reference_name
          && !hart_precision_from_string (reference_name, &ref_p, &error))) {
    fprintf (stderr, "hart fidelity: %s\n", error->message);
    status = 2;
    goto out;
  }
  if (model_dir == NULL && !(model_dir = hart_bundled_model_path (&error))) {
    fprintf (stderr, "hart fidelity: %s\n", error->message);
    status = 2;
    goto out;
  }

  if (!(ref_engine = hart_engine_new_with_precision (device ? device : "cpu",
              device_id, n_threads, ref_p, &error))
      || !(fast_engine = hart_engine_new_with_precision (device ? device :
              "cpu", device_id, n_threads, fast_p, &error))
      || !(ref_model = hart_model_load (ref_engine, model_dir, TRUE, &error))
      || !(fast_model = hart_model_load (fast_engine, model_dir, TRUE, &error)))
    goto fail;
  if (prompts) {
    char *qwen_dir = text_encoder ? g_strdup (text_encoder) :
        hart_text_encoder_default_dir (model_dir);
    encoder = hart_text_encoder_load (ref_engine, qwen_dir, NULL, &error);
    g_free (qwen_dir);
    if (encoder == NULL
        || !(ctx = hart_text_encoder_encode (encoder,
                (const char *const *) prompts, g_strv_length (prompts),
                hart_model_get_transformer_config (ref_model)->context_token,
                NULL, &error)))
      goto fail;
  } else if (!(ctx = hart_model_load_context (ref_model, context, &error))) {
    goto fail;
  }
  hart_generate_params_init (&params);
  params.seed = (guint64) seed;
  params.cfg = cfg;
  if (!hart_fidelity_compare (ref_model, fast_model, ctx, &params, &report,
          NULL, &error))
    goto fail;

  printf ("%s against %s, device %s, seed %" G_GINT64_FORMAT ", model %s\n",
      hart_engine_get_precision_impl (fast_engine),
      hart_engine_get_precision_impl (ref_engine),
      hart_engine_get_device (fast_engine), seed, model_dir);
  printf ("teacher forcing (the fast model on the reference's codes):\n");
  printf ("%6s %7s %12s %12s %10s %10s %10s %9s\n", "scale", "codes",
      "logit rms", "rms error", "max error", "KL mean", "KL max", "same code");
  for (int si = 0; si < report.n_stages; si++) {
    const HartFidelityStage *s = &report.stages[si];
    printf ("%3d×%-2d %7d %12.4g %12.4g %10.4g %10.3g %10.3g %8.2f%%\n",
        s->side, s->side, s->n_tokens, s->logit_rms, s->logit_rms_error,
        s->logit_max_error, s->kl_mean, s->kl_max, 100.0 * s->same_code);
  }
  printf ("PSNR against the reference's picture: %.2f dB refined from the "
      "reference's tokens, %.2f dB generated alone\n",
      report.psnr_same_tokens, report.psnr_free);
  status = 0;
  goto out;

fail:
  fprintf (stderr, "hart: error: %s\n", error->message);
out:
  g_clear_error (&error);
  hart_context_free (ctx);
  hart_text_encoder_free (encoder);
  hart_model_unref (fast_model);
  hart_model_unref (ref_model);
  hart_engine_unref (fast_engine);
  hart_engine_unref (ref_engine);
  g_option_context_free (octx);
  g_free (model_dir);
  g_free (context);
  g_free (fast_name);
  g_free (reference_name);
  g_free (device);
  g_free (text_encoder);
  g_strfreev (prompts);
  return status;
}
