/* gst-hart — `hart generate`
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * hart generate [--model DIR] --context FILE [--seed N] [--cfg X]
 *               [--record-draws FILE | --replay-draws FILE]
 *               [--memory-budget MIB] -o out.png
 * hart generate [--model DIR] --prompt TEXT [--prompt TEXT …]
 *               [--text-encoder DIR] [--text-tokenizer DIR] … -o out.png
 *
 * Without --model the bundled shapes-64px model is used (hart/bundled-model.h).
 * With --prompt the context comes from the Qwen2 text encoder, by default the
 * folder Qwen2-VL-1.5B-Instruct beside the model folder; the encoder is freed
 * before the generation starts, so its weights and the generation's buffers
 * are never resident together.
 *
 * --memory-budget (or $HART_MEMORY_BUDGET) refuses, before loading, a model
 * whose estimate (hart/memory.h) exceeds the budget.
 */
#include "hart-cli.h"
#include "png-write.h"
#include "hart/bundled-model.h"
#include "hart/hart.h"
#include "hart/text-encoder.h"

#include <glib.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  gboolean bar;                 /* draw a progress bar (terminal) */
  gboolean timings;             /* print the wall time of every stage */
  gint64 start, last;
  char last_what[64];
} Progress;

static void
print_progress (int stage, int n_stages, const char *what, gpointer data)
{
  Progress *p = data;
  gint64 now = g_get_monotonic_time ();

  if (p->timings) {
    if (stage == 0) {
      fprintf (stderr, "%-28s %9.3f s\n", "loading", (now - p->start) / 1e6);
      p->start = now;           /* "total" is the generation alone */
    }
    if (p->last_what[0])
      fprintf (stderr, "%-28s %9.3f s\n", p->last_what, (now - p->last) / 1e6);
    if (stage == n_stages)
      fprintf (stderr, "%-28s %9.3f s\n", "total", (now - p->start) / 1e6);
    g_strlcpy (p->last_what, stage == n_stages ? "" : what,
        sizeof p->last_what);
    p->last = now;
  }
  if (!p->bar)
    return;
  const int width = 30;
  int filled = n_stages > 0 ? stage * width / n_stages : width;
  fprintf (stderr, "\r[%.*s%*s] %3d%% %-28s", filled,
      "##############################", width - filled, "",
      n_stages > 0 ? stage * 100 / n_stages : 100, what);
  if (stage == n_stages)
    fputc ('\n', stderr);
  fflush (stderr);
}

int
hart_cli_generate (int argc, char **argv)
{
  char *model_dir = NULL, *context = NULL, *output = NULL, *device = NULL;
  char *record = NULL, *replay = NULL;
  char **prompts = NULL, *text_encoder = NULL, *text_tokenizer = NULL;
  gint64 seed = 1, memory_budget = 0;
  int top_k = 0, device_id = 0;
  double cfg = HART_DEFAULT_CFG, top_p = 0.0;
  gboolean no_smooth = FALSE, no_ema = FALSE, quiet = FALSE, timings = FALSE;
  Progress progress = { 0 };
  GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir,
        "HART release folder (hart-0.7b-1024px; default: the bundled "
          "shapes-64px model)", "DIR"},
    {"context", 'c', 0, G_OPTION_ARG_FILENAME, &context,
        "Text context file (safetensors: context_tensor [B, T, D], "
          "context_mask, context_position_ids)", "FILE"},
    {"prompt", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &prompts,
        "Prompt, encoded by the text encoder instead of --context (repeat "
          "for a batch)", "TEXT"},
    {"text-encoder", 0, 0, G_OPTION_ARG_FILENAME, &text_encoder,
        "Qwen2 text encoder folder (default: Qwen2-VL-1.5B-Instruct beside "
          "the model folder)", "DIR"},
    {"text-tokenizer", 0, 0, G_OPTION_ARG_FILENAME, &text_tokenizer,
        "Folder of the text encoder's tokenizer (default: the text encoder "
          "folder)", "DIR"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
          "Output PNG (for B > 1: out.png → out-0.png, out-1.png, …)",
        "FILE"},
    {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (1)", "N"},
    {"cfg", 0, 0, G_OPTION_ARG_DOUBLE, &cfg,
          "Classifier-free guidance scale (" G_STRINGIFY (HART_DEFAULT_CFG)
        ")", "X"},
    {"top-k", 0, 0, G_OPTION_ARG_INT, &top_k,
        "Top-k (0: the official 600/300 schedule)", "K"},
    {"top-p", 0, 0, G_OPTION_ARG_DOUBLE, &top_p, "Top-p (0: off)", "P"},
    {"no-smooth", 0, 0, G_OPTION_ARG_NONE, &no_smooth,
        "Plain sampling instead of the Gumbel-smooth path", NULL},
    {"no-ema", 0, 0, G_OPTION_ARG_NONE, &no_ema,
        "Use llm/model.safetensors instead of llm/ema_model.bin", NULL},
    {"device", 0, 0, G_OPTION_ARG_STRING, &device,
        "auto, cpu or cuda (auto)", "DEV"},
    {"device-id", 0, 0, G_OPTION_ARG_INT, &device_id, "GPU index (0)", "N"},
    {"record-draws", 0, 0, G_OPTION_ARG_FILENAME, &record,
        "Write every random draw to FILE (safetensors)", "FILE"},
    {"replay-draws", 0, 0, G_OPTION_ARG_FILENAME, &replay,
        "Take every random draw from FILE", "FILE"},
    {"memory-budget", 0, 0, G_OPTION_ARG_INT64, &memory_budget,
        "Refuse to load a model estimated to need more than MIB MiB (0: "
          "$HART_MEMORY_BUDGET or no budget)", "MIB"},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress bar", NULL},
    {"timings", 0, 0, G_OPTION_ARG_NONE, &timings,
        "Print the wall time of every stage", NULL},
    {NULL}
  };
  GOptionContext *octx = g_option_context_new ("- generate an image");
  GError *error = NULL;
  HartEngine *engine = NULL;
  HartModel *model = NULL;
  HartContext *ctx = NULL;
  HartTextEncoder *encoder = NULL;
  HartImage **images = NULL;
  HartGenerateParams params;
  int status = 1;

  g_option_context_add_main_entries (octx, entries, NULL);
  if (!g_option_context_parse (octx, &argc, &argv, &error)) {
    fprintf (stderr, "hart generate: %s\n", error->message);
    g_clear_error (&error);
    status = 2;
    goto out;
  }
  if ((context == NULL && prompts == NULL) || output == NULL) {
    fprintf (stderr, "hart generate: --context or --prompt, and -o are "
        "required (see hart generate --help)\n");
    status = 2;
    goto out;
  }
  if (model_dir == NULL) {
    if (!(model_dir = hart_bundled_model_path (&error))) {
      fprintf (stderr, "hart generate: %s\n", error->message);
      g_clear_error (&error);
      status = 2;
      goto out;
    }
    if (!quiet)
      fprintf (stderr, "hart generate: no --model: using the bundled model "
          "%s\n", model_dir);
  }
  if (context && prompts) {
    fprintf (stderr, "hart generate: --context and --prompt exclude each "
        "other\n");
    status = 2;
    goto out;
  }
  if (memory_budget < 0 || memory_budget > (gint64) (G_MAXUINT64 >> 20)) {
    fprintf (stderr, "hart generate: --memory-budget %" G_GINT64_FORMAT
        " is out of range (0 … %" G_GUINT64_FORMAT " MiB)\n", memory_budget,
        G_MAXUINT64 >> 20);
    status = 2;
    goto out;
  }
  if (record && replay) {
    fprintf (stderr, "hart generate: --record-draws and --replay-draws "
        "exclude each other\n");
    status = 2;
    goto out;
  }

  hart_generate_params_init (&params);
  params.seed = (guint64) seed;
  params.cfg = cfg;
  params.top_k = top_k;
  params.top_p = top_p;
  params.smooth = !no_smooth;
  params.record_draws = record;
  params.replay_draws = replay;
  progress.bar = !quiet && !timings && isatty (STDERR_FILENO);
  progress.timings = timings;
  progress.start = progress.last = g_get_monotonic_time ();
  if (progress.bar || progress.timings) {
    params.progress = print_progress;
    params.progress_data = &progress;
  }

  /* the model first: a context file is checked against its shape before
   * anything of the size its header claims is allocated */
  if (!(engine = hart_engine_new (device ? device : "auto", device_id, &error))
      || !(model = hart_model_load_with_budget (engine, model_dir, !no_ema,
              (guint64) memory_budget << 20, &error))
      || (context && !(ctx = hart_model_load_context (model, context, &error))))
    goto fail;
  if (prompts) {
    char *qwen_dir = text_encoder ? g_strdup (text_encoder) :
        hart_text_encoder_default_dir (model_dir);
    encoder = hart_text_encoder_load (engine, qwen_dir, text_tokenizer, &error);
    g_free (qwen_dir);
    if (encoder == NULL
        || !(ctx = hart_text_encoder_encode (encoder,
                (const char *const *) prompts, g_strv_length (prompts),
                hart_model_get_transformer_config (model)->context_token,
                NULL, &error)))
      goto fail;
    hart_text_encoder_free (encoder);
    encoder = NULL;
  }
  if (!(images = hart_model_generate (model, ctx, &params, NULL, &error)))
    goto fail;

  for (int b = 0; images[b]; b++) {
    char *path;
    if (images[1] == NULL) {
      path = g_strdup (output);
    } else {
      const char *dot = strrchr (output, '.');
      gsize stem = dot ? (gsize) (dot - output) : strlen (output);
      path = g_strdup_printf ("%.*s-%d%s", (int) stem, output, b,
          dot ? dot : "");
    }
    if (!hart_png_write (images[b], path, &error)) {
      g_free (path);
      goto fail;
    }
    if (!quiet)
      fprintf (stderr, "wrote %s (%d×%d, %s)\n", path, images[b]->width,
          images[b]->height, hart_engine_get_device (engine));
    g_free (path);
  }
  status = 0;
  goto out;

fail:
  fprintf (stderr, "hart: error: %s\n", error->message);
  g_clear_error (&error);
out:
  hart_images_free (images);
  hart_text_encoder_free (encoder);
  hart_model_unref (model);
  hart_engine_unref (engine);
  hart_context_free (ctx);
  g_option_context_free (octx);
  g_free (model_dir);
  g_free (context);
  g_free (output);
  g_free (device);
  g_free (record);
  g_free (replay);
  g_strfreev (prompts);
  g_free (text_encoder);
  g_free (text_tokenizer);
  return status;
}
