/* gst-hart — `hart bench`: warm timings per stage, precision against
 * precision, in one process
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * hart bench [--model DIR] (--context FILE | --prompt TEXT)
 *            [--precision fp32,bf16] [--repeat N] [--seed N] [--threads N]
 *            [--device cpu|cuda|auto] [--device-id N] [--ops]
 *
 * For each precision in turn: an engine, the model (and with --prompt the
 * text encoder, both loaded as hartsrc holds them: the peak is that of
 * HART and the encoder in one process), then N generations of the same
 * image (a batch: several --prompt, or a context of several rows; the
 * table then adds images per second).  The first is cold
 * (one-time allocations, oneDNN's kernel generation); the table gives the
 * fastest of the others per stage, and the ratio of each precision's time
 * to the first precision's.  Peak RSS is the process's high-water mark
 * while that precision ran (reset between precisions through
 * /proc/self/clear_refs).  docs/precision.md, "Benchmarks", has figures.
 * --device picks the engine's device (default: the CPU, where the
 * benchmarks of docs/precision.md ran).  With --ops, the engine times its
 * backend's ops (hart_engine_time_ops),
 * and each stage of the last generation is broken down by op: where its
 * time goes, and the products' rate (docs/performance.md, "Where the time
 * goes").
 */
#include "hart-cli.h"
#include "hart/bundled-model.h"
#include "hart/hart.h"
#include "hart/text-encoder.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 64
/* Entries of an op-time snapshot (hart_engine_get_op_times) */
#define MAX_OPS 64
/* What each op took during one row (stage) */
typedef HartOpTime RowOpTimes[MAX_OPS];

typedef struct
{
  char what[MAX_ROWS][64];
  double best[MAX_ROWS];        /* seconds, warm; NAN before */
  int n_rows;
  gint64 last;
  int row;
  gboolean warm;
  /* --ops: the engine whose ops are timed, the totals at the start of the
   * current row, and per row of the current generation its seconds and
   * what its ops took */
  HartEngine *engine;
  HartOpTime start[MAX_OPS];
  int n_ops;
  double seconds[MAX_ROWS];
  RowOpTimes *ops;              /* [MAX_ROWS] */
} StageTimes;

/* At a row's end: what each op took during it */
static void
take_op_times (StageTimes * t, int ended_row)
{
  HartOpTime now[MAX_OPS];

  t->n_ops = MIN (hart_engine_get_op_times (t->engine, now, MAX_OPS), MAX_OPS);
  if (ended_row >= 0 && ended_row < MAX_ROWS) {
    for (int i = 0; i < t->n_ops; i++) {
      t->ops[ended_row][i] = now[i];
      t->ops[ended_row][i].calls -= t->start[i].calls;
      t->ops[ended_row][i].seconds -= t->start[i].seconds;
      t->ops[ended_row][i].flops -= t->start[i].flops;
    }
  }
  memcpy (t->start, now, sizeof now);
}

static void
on_progress (int stage, int n_stages, const char *what, gpointer data)
{
  StageTimes *t = data;
  gint64 now = g_get_monotonic_time ();

  /* the row that ends now is the previous call's stage */
  if (stage > 0 && t->row >= 0 && t->row < MAX_ROWS) {
    double s = (now - t->last) / 1e6;
    if (t->warm && (isnan (t->best[t->row]) || s < t->best[t->row]))
      t->best[t->row] = s;
    t->seconds[t->row] = s;
  }
  if (t->ops != NULL)
    take_op_times (t, stage > 0 ? t->row : -1);
  t->row = stage;
  if (stage < n_stages && stage < MAX_ROWS) {
    g_strlcpy (t->what[stage], what, sizeof t->what[stage]);
    t->n_rows = MAX (t->n_rows, stage + 1);
  }
  t->last = now;
}

/* VmHWM of this process in bytes (0 when unknown) */
static guint64
peak_rss (void)
{
  char *status = NULL;
  guint64 kib = 0;

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL)) {
    const char *line = strstr (status, "VmHWM:");
    if (line)
      kib = g_ascii_strtoull (line + 6, NULL, 10);
  }
  g_free (status);
  return kib * 1024;
}

static void
reset_peak_rss (void)
{
  /* "5": reset the peak resident set size (proc(5)); no error if absent */
  FILE *f = fopen ("/proc/self/clear_refs", "w");
  if (f) {
    fputs ("5", f);
    fclose (f);
  }
}

typedef struct
{
  HartPrecision precision;
  char impl[128];
  char device[32];              /* the engine's: "cpu", "cuda:0" */
  const char *text_matrices;    /* where the text encoder's matrices are */
  StageTimes times;
  double total, load, encode;
  int images;                   /* per generation: the context's batch */
  guint64 peak;
} PrecisionRun;

static gboolean
run_precision (PrecisionRun * pr, const char *device, int device_id,
    const char *model_dir, const char *context, char **prompts,
    const char *text_encoder, guint64 seed, int repeat, int n_threads,
    gboolean time_ops, GError ** error)
{
  HartEngine *engine = NULL;
  HartModel *model = NULL;
  HartTextEncoder *encoder = NULL;
  HartContext *ctx = NULL;
  HartGenerateParams params;
  gboolean ok = FALSE;
  gint64 t0;

  reset_peak_rss ();
  for (int i = 0; i < MAX_ROWS; i++)
    pr->times.best[i] = NAN;
  pr->total = NAN;
  t0 = g_get_monotonic_time ();
  if (!(engine = hart_engine_new_with_precision (device, device_id, n_threads,
              pr->precision, error)))
    goto out;
  if (time_ops) {
    hart_engine_time_ops (engine);
    pr->times.engine = engine;
    pr->times.ops = g_malloc0 (MAX_ROWS * sizeof *pr->times.ops);
  }
  if (!(model = hart_model_load (engine, model_dir, TRUE, error)))
    goto out;
  g_strlcpy (pr->impl, hart_engine_get_precision_impl (engine),
      sizeof pr->impl);
  g_strlcpy (pr->device, hart_engine_get_device (engine), sizeof pr->device);
  if (prompts) {
    char *qwen_dir = text_encoder ? g_strdup (text_encoder) :
        hart_text_encoder_default_dir (model_dir);
    encoder = hart_text_encoder_load (engine, qwen_dir, NULL, error);
    g_free (qwen_dir);
    if (encoder == NULL)
      goto out;
    pr->text_matrices = hart_text_encoder_matrices_name
        (hart_text_encoder_get_matrices (encoder));
  }
  pr->load = (g_get_monotonic_time () - t0) / 1e6;
  if (prompts) {
    t0 = g_get_monotonic_time ();
    ctx = hart_text_encoder_encode (encoder, (const char *const *) prompts,
        g_strv_length (prompts),
        hart_model_get_transformer_config (model)->context_token, NULL, error);
    pr->encode = (g_get_monotonic_time () - t0) / 1e6;
  } else {
    ctx = hart_model_load_context (model, context, error);
  }
  if (ctx == NULL)
    goto out;

  hart_generate_params_init (&params);
  params.seed = seed;
  params.progress = on_progress;
  params.progress_data = &pr->times;
  for (int r = 0; r < repeat; r++) {
    HartImage **images;

    pr->times.warm = repeat == 1 || r > 0;
    pr->times.row = -1;
    t0 = g_get_monotonic_time ();
    if (!(images = hart_model_generate (model, ctx, &params, NULL, error)))
      goto out;
    for (pr->images = 0; images[pr->images] != NULL; pr->images++);
    hart_images_free (images);
    if (pr->times.warm) {
      double s = (g_get_monotonic_time () - t0) / 1e6;
      if (isnan (pr->total) || s < pr->total)
        pr->total = s;
    }
    fprintf (stderr, "  %s: generation %d of %d done\n",
        hart_precision_to_string (pr->precision), r + 1, repeat);
  }
  pr->peak = peak_rss ();
  ok = TRUE;

out:
  hart_context_free (ctx);
  hart_text_encoder_free (encoder);
  hart_model_unref (model);
  hart_engine_unref (engine);
  pr->times.engine = NULL;
  return ok;
}

static int
compare_seconds (gconstpointer a, gconstpointer b)
{
  const HartOpTime *x = a, *y = b;

  return (x->seconds < y->seconds) - (x->seconds > y->seconds);
}

/* One block of the --ops breakdown: the ops and the timed host work
 * ("(host) sampling", "(host) diffusion steps") that took at least 0.5 %
 * of the row (the others summed in one line), then the rest (the engine's
 * own loops, uploads' staging, waits: host work nothing timed) */
static void
print_op_block (const char *what, double seconds, const HartOpTime * ops,
    int n_ops)
{
  HartOpTime sorted[MAX_OPS];
  double in_ops = 0, rest = 0;
  guint64 rest_calls = 0;

  memcpy (sorted, ops, n_ops * sizeof *ops);
  qsort (sorted, n_ops, sizeof *sorted, compare_seconds);
  printf ("%-28s %9.3f s\n", what, seconds);
  for (int i = 0; i < n_ops; i++) {
    const HartOpTime *o = &sorted[i];

    if (o->calls == 0)
      continue;
    in_ops += o->seconds;
    if (o->seconds < 0.005 * seconds) {
      rest += o->seconds;
      rest_calls += o->calls;
      continue;
    }
    printf ("  %-22s %8" G_GUINT64_FORMAT " calls %9.3f s %5.1f %%",
        o->op, o->calls, o->seconds, 100 * o->seconds / seconds);
    if (o->flops > 0 && o->seconds > 0)
      printf (" %8.1f GFLOP/s", o->flops / o->seconds / 1e9);
    printf ("\n");
  }
  if (rest_calls > 0)
    printf ("  %-22s %8" G_GUINT64_FORMAT " calls %9.3f s %5.1f %%\n",
        "(other ops)", rest_calls, rest, 100 * rest / seconds);
  printf ("  %-22s %14s %9.3f s %5.1f %%\n", "(the rest)", "",
      seconds - in_ops, 100 * (seconds - in_ops) / seconds);
}

/* --ops: each row of the last generation, then the whole of it */
static void
print_op_times (const PrecisionRun * pr, int repeat)
{
  const StageTimes *t = &pr->times;
  HartOpTime all[MAX_OPS];
  double total = 0;

  printf ("\nwhere the time goes: %s, generation %d of %d, op by op "
      "(wall time inside each op; GFLOP/s of its nominal work)\n",
      hart_precision_to_string (pr->precision), repeat, repeat);
  memset (all, 0, sizeof all);
  for (int row = 0; row < t->n_rows; row++) {
    print_op_block (t->what[row], t->seconds[row], t->ops[row], t->n_ops);
    total += t->seconds[row];
    for (int i = 0; i < t->n_ops; i++) {
      all[i].op = t->ops[row][i].op;
      all[i].calls += t->ops[row][i].calls;
      all[i].seconds += t->ops[row][i].seconds;
      all[i].flops += t->ops[row][i].flops;
    }
  }
  print_op_block ("all stages", total, all, t->n_ops);
}

int
hart_cli_bench (int argc, char **argv)
{
  char *model_dir = NULL, *context = NULL, *precisions = NULL;
  char **prompts = NULL, *text_encoder = NULL, *device = NULL;
  gint64 seed = 1;
  int repeat = 2, n_threads = 0, status = 1, n_runs = 0, device_id = 0;
  gboolean time_ops = FALSE;
  GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir,
        "HART release folder (default: the bundled shapes-64px model)", "DIR"},
    {"context", 'c', 0, G_OPTION_ARG_FILENAME, &context,
        "Text context file (safetensors)", "FILE"},
    {"prompt", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &prompts,
          "Prompt, encoded by the text encoder (kept loaded, as by hartsrc)",
        "TEXT"},
    {"text-encoder", 0, 0, G_OPTION_ARG_FILENAME, &text_encoder,
        "Qwen2 text encoder folder (default: beside the model)", "DIR"},
    {"precision", 0, 0, G_OPTION_ARG_STRING, &precisions,
          "Comma-separated precisions, the first the reference (fp32,bf16)",
        "LIST"},
    {"repeat", 'r', 0, G_OPTION_ARG_INT, &repeat,
        "Generations per precision; the first is cold when N > 1 (2)", "N"},
    {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (1)", "N"},
    {"threads", 0, 0, G_OPTION_ARG_INT, &n_threads,
        "CPU threads (0: every core, or HART_NUM_THREADS)", "N"},
    {"device", 0, 0, G_OPTION_ARG_STRING, &device,
        "cpu, cuda or auto (cpu)", "DEV"},
    {"device-id", 0, 0, G_OPTION_ARG_INT, &device_id, "GPU index (0)", "N"},
    {"ops", 0, 0, G_OPTION_ARG_NONE, &time_ops,
        "Break each stage of the last generation down by op", NULL},
    {NULL}
  };
  GOptionContext *octx = g_option_context_new ("- time a generation per "
      "precision");
  GError *error = NULL;
  char **names = NULL;
  PrecisionRun *runs = NULL;

  g_option_context_add_main_entries (octx, entries, NULL);
  if (!g_option_context_parse (octx, &argc, &argv, &error)) {
    fprintf (stderr, "hart bench: %s\n", error->message);
    status = 2;
    goto out;
  }
  if ((context == NULL) == (prompts == NULL) || repeat < 1 || repeat > 100) {
    fprintf (stderr, "hart bench: one of --context and --prompt is needed, "
        "and --repeat in 1 … 100\n");
    status = 2;
    goto out;
  }
  if (model_dir == NULL && !(model_dir = hart_bundled_model_path (&error))) {
    fprintf (stderr, "hart bench: %s\n", error->message);
    status = 2;
    goto out;
  }
  if (device == NULL)
    device = g_strdup ("cpu");
  names = g_strsplit (precisions ? precisions : "fp32,bf16", ",", -1);
  n_runs = g_strv_length (names);
  runs = g_new0 (PrecisionRun, MAX (n_runs, 1));
  for (int i = 0; i < n_runs; i++) {
    if (!hart_precision_from_string (names[i], &runs[i].precision, &error)) {
      fprintf (stderr, "hart bench: %s\n", error->message);
      status = 2;
      goto out;
    }
  }
  /* Every precision must be available before the first one runs: an
   * hour of fp32 must not end in a refusal.  Asked for, a missing one is
   * an error; by default (fp32,bf16) it is left out, and said so. */
  for (int i = 0; i < n_runs; i++) {
    HartEngine *probe = hart_engine_new_with_precision (device, device_id,
        n_threads, runs[i].precision, &error);

    if (probe != NULL) {
      hart_engine_unref (probe);
      continue;
    }
    if (precisions != NULL || i == 0) {
      fprintf (stderr, "hart: error: %s: %s\n", names[i], error->message);
      status = 1;
      goto out;
    }
    fprintf (stderr, "hart bench: %s left out: %s\n", names[i], error->message);
    g_clear_error (&error);
    g_free (names[i]);
    /* names moves with its NULL terminator; runs has n_runs entries */
    memmove (&names[i], &names[i + 1], (n_runs - i) * sizeof *names);
    memmove (&runs[i], &runs[i + 1], (n_runs - i - 1) * sizeof *runs);
    n_runs--;
    i--;
  }
  for (int i = 0; i < n_runs; i++) {
    fprintf (stderr, "hart bench: %s …\n", names[i]);
    if (!run_precision (&runs[i], device, device_id, model_dir, context,
            prompts, text_encoder, (guint64) seed, repeat, n_threads,
            time_ops, &error)) {
      fprintf (stderr, "hart: error: %s: %s\n", names[i], error->message);
      goto out;
    }
  }

  printf ("model %s, %s, %d thread(s), %d image(s) a generation, %s\n",
      model_dir, runs[0].device,
      n_threads ? n_threads : (int) g_get_num_processors (), runs[0].images,
      repeat > 1 ? "warm: fastest of the generations after the first" :
      "one (cold) generation");
  for (int i = 0; i < n_runs; i++) {
    printf ("%-5s %s; load %.1f s%s; peak RSS %.2f GiB\n",
        hart_precision_to_string (runs[i].precision), runs[i].impl,
        runs[i].load, prompts ? " (HART and text encoder)" : "",
        runs[i].peak / (double) (1u << 30));
    if (runs[i].text_matrices)
      printf ("      text encoder's matrices: %s\n", runs[i].text_matrices);
  }
  printf ("\n%-28s", "stage (seconds)");
  for (int i = 0; i < n_runs; i++)
    printf (" %9s", hart_precision_to_string (runs[i].precision));
  for (int i = 1; i < n_runs; i++)
    printf ("   %s/%s", names[0], names[i]);
  printf ("\n");
  if (prompts) {
    printf ("%-28s", "text encoder (cold)");
    for (int i = 0; i < n_runs; i++)
      printf (" %9.3f", runs[i].encode);
    for (int i = 1; i < n_runs; i++)
      printf (" %9.2fx", runs[0].encode / runs[i].encode);
    printf ("\n");
  }
  for (int row = 0; row < runs[0].times.n_rows; row++) {
    printf ("%-28s", runs[0].times.what[row]);
    for (int i = 0; i < n_runs; i++)
      printf (" %9.3f", runs[i].times.best[row]);
    for (int i = 1; i < n_runs; i++)
      printf (" %9.2fx", runs[0].times.best[row] / runs[i].times.best[row]);
    printf ("\n");
  }
  printf ("%-28s", "generation");
  for (int i = 0; i < n_runs; i++)
    printf (" %9.3f", runs[i].total);
  for (int i = 1; i < n_runs; i++)
    printf (" %9.2fx", runs[0].total / runs[i].total);
  printf ("\n");
  /* a batch (several prompts, or a context of several rows): throughput */
  if (runs[0].images > 1) {
    printf ("%-28s", "images/s");
    for (int i = 0; i < n_runs; i++)
      printf (" %9.3f", runs[i].images / runs[i].total);
    printf ("\n");
  }
  for (int i = 0; time_ops && i < n_runs; i++)
    print_op_times (&runs[i], repeat);
  status = 0;

out:
  g_clear_error (&error);
  for (int i = 0; runs && i < n_runs; i++)
    g_free (runs[i].times.ops);
  g_free (runs);
  g_strfreev (names);
  g_option_context_free (octx);
  g_free (model_dir);
  g_free (context);
  g_free (precisions);
  g_free (text_encoder);
  g_free (device);
  g_strfreev (prompts);
  return status;
}
