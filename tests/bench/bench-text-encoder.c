/* gst-hart — text encoder benchmark: load, then encode prompts, timed
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: bench-text-encoder --text-encoder DIR [--tokenizer DIR]
 *          [--prompt TEXT] [--max-tokens 300] [--repeat 3] [--device cpu]
 *          [--precision fp32] [--save-context FILE]
 *
 * Loads the text encoder once, encodes the prompt once to warm up and then
 * REPEAT times, and prints one JSON line: load seconds, the best and the
 * median encode seconds, the rows through Qwen2 (system prompt + max
 * tokens), where the layer matrices are (hart/text-encoder.h), the peak
 * resident memory (VmHWM) and what stays resident between encodes (VmRSS
 * at the end: the encoder's anonymous memory and the pages of its mapped
 * files; tests/bench/bench_text_encoder_memory.py).  --save-context writes the
 * context (a context file, docs/algorithm.md §11.1) so tests/bench/bench_text_encoder.py
 * can compare it with transformers' output.
 */
#include "hart/hart.h"
#include "hart/safetensors-write.h"
#include "hart/text-encoder.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field FIELD ("VmHWM:", "VmRSS:", "RssAnon:") of /proc/self/status in MiB
 * (Linux), or -1.  VmHWM counts the mmapped checkpoint pages touched while
 * loading; RssAnon after loading is what the encoder keeps. */
static double
proc_status_mib (const char *field)
{
  char *status = NULL, *line;
  double mib = -1;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, field);
  if (line != NULL)
    mib = g_ascii_strtod (line + strlen (field), NULL) / 1024.0;
  g_free (status);
  return mib;
}

/* The context as safetensors: context_tensor f32 [B, T, D], context_mask
 * u8 [B, T] (0/1), context_position_ids i64 [B, T]. */
static gboolean
save_context (const HartContext * ctx, const char *path, GError ** error)
{
  const gsize n = (gsize) ctx->batch * ctx->tokens;
  int64_t *positions = g_new (int64_t, n);
  HartSafetensorsWriter *w = hart_safetensors_writer_new ();
  gboolean ok;

  for (gsize i = 0; i < n; i++)
    positions[i] = ctx->positions[i];
  hart_safetensors_writer_add (w, "context_tensor", HART_DTYPE_F32, 3,
      (const int64_t[]) { ctx->batch, ctx->tokens, ctx->dim }, ctx->data);
  hart_safetensors_writer_add (w, "context_mask", HART_DTYPE_U8, 2,
      (const int64_t[]) { ctx->batch, ctx->tokens }, ctx->mask);
  hart_safetensors_writer_add (w, "context_position_ids", HART_DTYPE_I64, 2,
      (const int64_t[]) { ctx->batch, ctx->tokens }, positions);
  ok = hart_safetensors_writer_save (w, path, error);
  hart_safetensors_writer_free (w);
  g_free (positions);
  return ok;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  char *qwen_dir = NULL, *tok_dir = NULL, *prompt = NULL, *device = NULL;
  char *save = NULL, *precision_name = NULL;
  int max_tokens = 300, repeat = 3, S;
  GOptionEntry entries[] = {
    {"text-encoder", 0, 0, G_OPTION_ARG_FILENAME, &qwen_dir,
        "Qwen2 folder", "DIR"},
    {"tokenizer", 0, 0, G_OPTION_ARG_FILENAME, &tok_dir,
        "Tokenizer folder (default: the Qwen2 folder)", "DIR"},
    {"prompt", 0, 0, G_OPTION_ARG_STRING, &prompt, "Prompt", "TEXT"},
    {"max-tokens", 0, 0, G_OPTION_ARG_INT, &max_tokens,
        "Prompt tokens (300)", "N"},
    {"repeat", 0, 0, G_OPTION_ARG_INT, &repeat, "Timed runs (3)", "N"},
    {"device", 0, 0, G_OPTION_ARG_STRING, &device, "cpu, cuda, auto (cpu)",
        "DEV"},
    {"precision", 0, 0, G_OPTION_ARG_STRING, &precision_name,
        "fp32, bf16, fp16 or auto (fp32)", "P"},
    {"save-context", 0, 0, G_OPTION_ARG_FILENAME, &save,
        "Write the context to FILE", "FILE"},
    {NULL}
  };
  GOptionContext *octx = g_option_context_new ("- text encoder benchmark");
  GError *error = NULL;
  HartEngine *engine = NULL;
  HartTextEncoder *enc = NULL;
  HartContext *ctx = NULL;
  HartPrecision precision = HART_PRECISION_FP32;
  double load_s, anon_after_load, *times = NULL;
  gint64 t0;
  int status = 1;

  g_option_context_add_main_entries (octx, entries, NULL);
  if (!g_option_context_parse (octx, &argc, &argv, &error)
      || qwen_dir == NULL || repeat < 1) {
    g_printerr ("bench-text-encoder: %s\n", error ? error->message :
        "--text-encoder DIR is required, --repeat ≥ 1");
    g_clear_error (&error);
    goto out;
  }

  t0 = g_get_monotonic_time ();
  if ((precision_name && !hart_precision_from_string (precision_name,
              &precision, &error))
      || !(engine = hart_engine_new_with_precision (device ? device : "cpu",
              0, 0, precision, &error))
      || !(enc = hart_text_encoder_load (engine, qwen_dir, tok_dir, &error)))
    goto fail;
  load_s = (g_get_monotonic_time () - t0) / 1e6;
  anon_after_load = proc_status_mib ("RssAnon:");
  hart_text_encoder_get_system_ids (enc, &S);

  {
    const char *prompts[] = { prompt ? prompt : "a red circle" };
    times = g_new (double, repeat);
    for (int r = -1; r < repeat; r++) {
      hart_context_free (ctx);
      t0 = g_get_monotonic_time ();
      if (!(ctx = hart_text_encoder_encode (enc, prompts, 1, max_tokens,
                  NULL, &error)))
        goto fail;
      if (r >= 0)
        times[r] = (g_get_monotonic_time () - t0) / 1e6;
    }
  }
  if (save && !save_context (ctx, save, &error))
    goto fail;
  qsort (times, repeat, sizeof (double), compare_double);
  {
    int n_real = 0;
    for (int j = 0; j < max_tokens; j++)
      n_real += ctx->mask[j];
    printf ("{\"device\": \"%s\", \"precision\": \"%s\", "
        "\"matrices\": \"%s\", \"load_s\": %.3f, \"encode_best_s\": %.4f, "
        "\"encode_median_s\": %.4f, \"rows\": %d, \"system_tokens\": %d, "
        "\"prompt_tokens\": %d, \"peak_rss_mib\": %.0f, "
        "\"anon_rss_after_load_mib\": %.0f, \"anon_rss_end_mib\": %.0f, "
        "\"rss_end_mib\": %.0f}\n",
        hart_engine_get_device (engine),
        hart_precision_to_string (hart_engine_get_precision (engine)),
        hart_text_encoder_matrices_name (hart_text_encoder_get_matrices
            (enc)), load_s, times[0], times[repeat / 2], S + max_tokens, S,
        n_real, proc_status_mib ("VmHWM:"), anon_after_load,
        proc_status_mib ("RssAnon:"), proc_status_mib ("VmRSS:"));
  }
  status = 0;
  goto out;

fail:
  g_printerr ("bench-text-encoder: %s\n", error->message);
  g_clear_error (&error);
out:
  g_free (times);
  hart_context_free (ctx);
  hart_text_encoder_free (enc);
  hart_engine_unref (engine);
  g_option_context_free (octx);
  g_free (qwen_dir);
  g_free (tok_dir);
  g_free (prompt);
  g_free (device);
  g_free (save);
  g_free (precision_name);
  return status;
}
