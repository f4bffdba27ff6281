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
 *
 * Video (docs/video.md): --frames N writes N frames (out.png → out-0000.png,
 * …) from one HartGenerator, with --seed-mode, --keep-scales,
 * --transition-frames and prompt changes --prompt-at FRAME:TEXT, as hartsrc
 * makes them; --batch N makes up to N successive frames in one call.  A
 * video keeps the text encoder loaded.
 */
#include "hart-cli.h"
#include "png-write.h"
#include "hart/bundled-model.h"
#include "hart/hart.h"
#include "hart/generator.h"
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

/* OUTPUT for image B of BATCH at FRAME of N_FRAMES: out.png, out-1.png
 * (batch), out-0007.png (video), out-0007-1.png (both). */
static char *
output_path (const char *output, int frame, int n_frames, int b, int batch)
{
  const char *dot = strrchr (output, '.');
  const char *slash = strrchr (output, '/');
  gsize stem;
  GString *path;

  if (dot != NULL && slash != NULL && dot < slash)
    dot = NULL;                 /* a dot in a folder name */
  if (n_frames == 1 && batch == 1)
    return g_strdup (output);
  stem = dot ? (gsize) (dot - output) : strlen (output);
  path = g_string_new_len (output, stem);
  if (n_frames > 1)
    g_string_append_printf (path, "-%04d", frame);
  if (batch > 1)
    g_string_append_printf (path, "-%d", b);
  g_string_append (path, dot ? dot : "");
  return g_string_free (path, FALSE);
}

static gboolean
write_images (HartImage ** images, const char *output, int frame,
    int n_frames, const char *device, gboolean quiet, GError ** error)
{
  int batch = 0;

  while (images[batch])
    batch++;
  for (int b = 0; b < batch; b++) {
    char *path = output_path (output, frame, n_frames, b, batch);

    if (!hart_png_write (images[b], path, error)) {
      g_free (path);
      return FALSE;
    }
    if (!quiet)
      fprintf (stderr, "wrote %s (%d×%d, %s)\n", path, images[b]->width,
          images[b]->height, device);
    g_free (path);
  }
  return TRUE;
}

/* A prompt change of --prompt-at FRAME:TEXT. */
typedef struct
{
  int frame;
  const char *text;
} PromptChange;

/* Parses every --prompt-at; FALSE with a message on a bad one. */
static gboolean
parse_prompt_changes (char **specs, int n_frames, GArray * changes)
{
  for (int i = 0; specs && specs[i]; i++) {
    char *end;
    gint64 frame = g_ascii_strtoll (specs[i], &end, 10);
    PromptChange c;

    if (end == specs[i] || *end != ':' || frame < 0 || frame >= n_frames) {
      fprintf (stderr, "hart generate: --prompt-at \"%s\": expected "
          "FRAME:TEXT with FRAME in 0 … %d\n", specs[i], n_frames - 1);
      return FALSE;
    }
    c.frame = (int) frame;
    c.text = end + 1;
    g_array_append_val (changes, c);
  }
  return TRUE;
}

/* The first frame after F at which --prompt-at changes the prompt, or
 * N_FRAMES. */
static int
next_change (GArray * changes, int f, int n_frames)
{
  int next = n_frames;

  for (guint i = 0; i < changes->len; i++) {
    const PromptChange *c = &g_array_index (changes, PromptChange, i);
    if (c->frame > f && c->frame < next)
      next = c->frame;
  }
  return next;
}

/* --frames: N frames from one generator (docs/video.md), up to BATCH of
 * them in one call ("Batches of frames"; a prompt change starts a new
 * batch). */
static gboolean
generate_video (HartModel * model, HartTextEncoder * encoder,
    const HartContext * ctx, const char *first_prompt, GArray * changes,
    int n_frames, int batch, gboolean increment, int keep_scales,
    int transition_frames, const HartGenerateParams * base,
    const char *output, const char *device, gboolean quiet, GError ** error)
{
  HartGenerator *gen = hart_generator_new (model, ctx ? ctx->batch : 1,
      error);
  gboolean ok = gen != NULL;

  if (ok && first_prompt)
    ok = hart_generator_set_prompt (gen, encoder, first_prompt, 0, NULL, NULL,
        error);
  else if (ok)
    ok = hart_generator_set_context (gen, ctx, 0, error);
  for (int f = 0; ok && f < n_frames;) {
    HartGenerateParams params = *base;
    HartImage **images;
    HartTokens *tokens;
    guint32 frames[HART_MAX_BATCH];
    int n;

    for (guint i = 0; ok && i < changes->len; i++) {
      const PromptChange *c = &g_array_index (changes, PromptChange, i);
      if (c->frame == f)
        ok = hart_generator_set_prompt (gen, encoder, c->text,
            transition_frames, NULL, NULL, error);
    }
    if (!ok)
      break;
    n = MIN (batch, next_change (changes, f, n_frames) - f);
    for (int i = 0; i < n; i++)
      frames[i] = increment ? (guint32) (f + i) : 0;
    params.frame = frames[0];
    params.keep_scales = keep_scales;
    if (n == 1) {
      images = hart_generator_next_images (gen, &params, NULL, NULL, error);
      ok = images != NULL && write_images (images, output, f, n_frames,
          device, quiet, error);
      hart_images_free (images);
      f++;
      continue;
    }
    tokens = hart_generator_next_token_batch (gen, &params, frames, n, NULL,
        error);
    images = tokens ? hart_generator_refine_batch (gen, tokens, &params,
        frames, NULL, error) : NULL;
    ok = images != NULL;
    for (int i = 0; ok && images[i]; i++) {
      HartImage *one[2] = { images[i], NULL };

      ok = write_images (one, output, f + i, n_frames, device, quiet, error);
    }
    if (tokens)
      f += tokens->batch;
    hart_images_free (images);
    hart_tokens_free (tokens);
  }
  hart_generator_free (gen);
  return ok;
}

int
hart_cli_generate (int argc, char **argv)
{
  char *model_dir = NULL, *context = NULL, *output = NULL, *device = NULL;
  char *record = NULL, *replay = NULL;
  char **prompts = NULL, *text_encoder = NULL, *text_tokenizer = NULL;
  char **prompt_at = NULL, *seed_mode = NULL, *precision_name = NULL;
  char *label = NULL;
  HartPrecision precision = HART_PRECISION_FP32;
  gint64 seed = 1, memory_budget = 0;
  int top_k = 0, device_id = 0, n_frames = 1, keep_scales = 0, n_threads = 0;
  int batch = 1;
  int transition_frames = 0;
  GArray *changes = g_array_new (FALSE, FALSE, sizeof (PromptChange));
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
    {"threads", 0, 0, G_OPTION_ARG_INT, &n_threads,
        "CPU threads (0: every core, or HART_NUM_THREADS)", "N"},
    {"precision", 0, 0, G_OPTION_ARG_STRING, &precision_name,
        "fp32 (the reference), bf16, fp16 or auto (fastest the device "
          "has) (fp32)", "P"},
    {"record-draws", 0, 0, G_OPTION_ARG_FILENAME, &record,
        "Write every random draw to FILE (safetensors)", "FILE"},
    {"replay-draws", 0, 0, G_OPTION_ARG_FILENAME, &replay,
        "Take every random draw from FILE", "FILE"},
    {"memory-budget", 0, 0, G_OPTION_ARG_INT64, &memory_budget,
        "Refuse to load a model estimated to need more than MIB MiB (0: "
          "$HART_MEMORY_BUDGET or no budget)", "MIB"},
    {"frames", 0, 0, G_OPTION_ARG_INT, &n_frames,
          "Video: generate N frames (out.png → out-0000.png, …; 1)",
        "N"},
    {"batch", 0, 0, G_OPTION_ARG_INT, &batch,
          "Video: up to N successive frames in one engine call (1 … "
          G_STRINGIFY (HART_MAX_BATCH)
          "; in fp32 the frames of --batch 1, byte for byte)",
        "N"},
    {"seed-mode", 0, 0, G_OPTION_ARG_STRING, &seed_mode,
        "Video: fixed (every frame the same draws) or increment (each "
          "frame its own) (fixed)", "MODE"},
    {"keep-scales", 0, 0, G_OPTION_ARG_INT, &keep_scales,
        "Video: keep the token maps of the first K scales from frame to "
          "frame (0)", "K"},
    {"transition-frames", 0, 0, G_OPTION_ARG_INT, &transition_frames,
        "Video: blend a new prompt in over N frames (0)", "N"},
    {"prompt-at", 0, 0, G_OPTION_ARG_STRING_ARRAY, &prompt_at,
          "Video: change the prompt at frame F (repeatable; needs --prompt)",
        "F:TEXT"},
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
  if (n_frames < 1 || keep_scales < 0 || transition_frames < 0 || batch < 1
      || batch > HART_MAX_BATCH || (seed_mode
          && strcmp (seed_mode, "fixed") != 0
          && strcmp (seed_mode, "increment") != 0)) {
    fprintf (stderr,
        "hart generate: --frames (≥ 1), --batch (1 … %d), "
        "--keep-scales, --transition-frames (≥ 0) or --seed-mode (fixed, "
        "increment) out of range\n", HART_MAX_BATCH);
    status = 2;
    goto out;
  }
  if (n_frames > 1 && (record || replay)) {
    fprintf (stderr, "hart generate: draw files record or replay one image, "
        "not --frames\n");
    status = 2;
    goto out;
  }
  if (prompt_at && (prompts == NULL || g_strv_length (prompts) != 1)) {
    fprintf (stderr, "hart generate: --prompt-at changes the one --prompt "
        "of a video\n");
    status = 2;
    goto out;
  }
  if (n_frames > 1 && prompts && g_strv_length (prompts) != 1) {
    fprintf (stderr, "hart generate: a video takes one --prompt (change it "
        "with --prompt-at)\n");
    status = 2;
    goto out;
  }
  if (!parse_prompt_changes (prompt_at, n_frames, changes)) {
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
  if ((precision_name && !hart_precision_from_string (precision_name,
              &precision, &error))
      || !(engine = hart_engine_new_with_precision (device ? device : "auto",
              device_id, n_threads, precision, &error)))
    goto fail;
  /* "cpu, bf16": which device and which precision made the pictures */
  label = g_strdup_printf ("%s, %s", hart_engine_get_device (engine),
      hart_precision_to_string (hart_engine_get_precision (engine)));
  if (timings)
    fprintf (stderr, "precision: %s\n",
        hart_engine_get_precision_impl (engine));
  if (!(model = hart_model_load_with_budget (engine, model_dir, !no_ema,
              (guint64) memory_budget << 20, &error))
      || (context && !(ctx = hart_model_load_context (model, context, &error))))
    goto fail;
  if (prompts) {
    char *qwen_dir = text_encoder ? g_strdup (text_encoder) :
        hart_text_encoder_default_dir (model_dir);
    encoder = hart_text_encoder_load (engine, qwen_dir, text_tokenizer, &error);
    g_free (qwen_dir);
    if (encoder == NULL)
      goto fail;
  }
  if (n_frames > 1 || changes->len > 0) {
    if (!generate_video (model, encoder, ctx, prompts ? prompts[0] : NULL,
            changes, n_frames, batch, seed_mode && strcmp (seed_mode,
                "increment") == 0, keep_scales, transition_frames, &params,
            output, label, quiet, &error))
      goto fail;
    status = 0;
    goto out;
  }
  if (prompts) {
    if (!(ctx = hart_text_encoder_encode (encoder,
                (const char *const *) prompts, g_strv_length (prompts),
                hart_model_get_transformer_config (model)->context_token,
                NULL, &error)))
      goto fail;
    /* one image: the encoder's weights go before the generation's buffers
     * come */
    hart_text_encoder_free (encoder);
    encoder = NULL;
  }
  params.keep_scales = 0;
  if (!(images = hart_model_generate (model, ctx, &params, NULL, &error))
      || !write_images (images, output, 0, 1, label, quiet, &error))
    goto fail;
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
  g_free (precision_name);
  g_free (label);
  g_free (record);
  g_free (replay);
  g_strfreev (prompts);
  g_free (text_encoder);
  g_free (text_tokenizer);
  g_strfreev (prompt_at);
  g_free (seed_mode);
  g_array_free (changes, TRUE);
  return status;
}
