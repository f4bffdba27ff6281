/* gst-hart — every op of the backend table on every backend: tested
 * against plain references, or timed
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   test-backend-ops [test|perf] [--op NAME[,NAME…]] [--backend NAME]
 *                    [--case TEXT] [--reps N] [--list]
 *
 * test (the default): each case of op-cases.c runs on every backend
 *   compiled in and available (the CPU always; CUDA when built and a device
 *   answers, else one SKIP line saying why); each output is compared with
 *   the plain reference (or the PyTorch golden) under the case's tolerance
 *   class (tolerance.c), and every backend but the CPU also with the CPU's
 *   output of the same inputs.  Then the backend-level checks
 *   (backend-checks.c).  Output is TAP, one line per case and backend; a
 *   failure names the op, the case, the backend, the tensor, the worst
 *   element and its error against the bound.  Exit status 1 on a failure.
 * perf: the perf cases (HART's shapes) on every backend: best of --reps
 *   timed calls after one warm-up, as ms and GFLOP/s (2 flops per
 *   multiply-add) or GB/s (bytes read + written) for data movement, with
 *   the ratio to the CPU's time in the same run and, on the CPU, the
 *   fraction of this machine's raw cblas_sgemm rate (OpenBLAS's own
 *   threads, 2048³, measured before and after; the better one counts).
 *   Never a pass/fail on times.
 * --op, --backend and --case (a substring of the case name) select; --list
 * prints the selected cases and checks instead of running them.
 *
 * $HART_FIXTURES (tests/fixtures) locates the PyTorch goldens; without it
 * the golden cases are skipped.  In test mode HART_CUDA_IM2COL_LIMIT is set
 * to 16 KiB (unless given) so that CUDA's conv2d runs its banded path on
 * the small test images.
 */
#include "op-harness.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Small enough that the banded im2col path of the CUDA conv2d runs with
 * several bands on the test images (see cuda-image.cu). */
#define TEST_IM2COL_LIMIT "16384"
#define TEST_ATTENTION_GEMM_BYTES "8192"

typedef struct
{
  const char *name;
  HartBackend *be;              /* NULL: unavailable, see skip */
  char *skip;
  /* multiplies FP32_REDUCTION bounds (tolerance.c) */
  double reduction_slack;
} Backend;

typedef struct
{
  gboolean perf;
  gboolean list;
  char **ops;                   /* NULL: every op */
  const char *backend;
  const char *case_text;
  int reps;
} Options;

static Options opt = { FALSE, FALSE, NULL, NULL, NULL, 3 };

static int tap_n;
static int n_failed;

static gboolean
op_selected (const char *op)
{
  if (opt.ops == NULL)
    return TRUE;
  for (char **o = opt.ops; *o; o++)
    if (strcmp (*o, op) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
case_selected (const OpCase * c)
{
  return c->perf == opt.perf && op_selected (c->def->op)
      && (opt.case_text == NULL || strstr (c->name, opt.case_text));
}

static gboolean
backend_selected (const char *name)
{
  return opt.backend == NULL || strcmp (opt.backend, name) == 0;
}

static void
tap_result (gboolean ok, const char *skip, const char *what,
    const GString * diag)
{
  tap_n++;
  if (skip != NULL) {
    printf ("ok %d - %s # SKIP %s\n", tap_n, what, skip);
    return;
  }
  printf ("%s %d - %s\n", ok ? "ok" : "not ok", tap_n, what);
  if (!ok) {
    /* one diagnostic line per line of the message */
    char **lines = g_strsplit (diag->str, "\n", -1);
    for (char **l = lines; *l; l++)
      if (**l)
        printf ("# %s\n", *l);
    g_strfreev (lines);
    n_failed++;
  }
  fflush (stdout);
}

/* ------------------------------------------------------------------ */
/* one case's host data                                                 */

typedef struct
{
  TensorList spec;
  void *host[OP_MAX_TENSORS];
  double *want[OP_MAX_TENSORS]; /* outputs only */
} CaseData;

static gsize
element_size (TensorType type)
{
  return type == TENSOR_U8 ? 1 : type == TENSOR_BF16 ? 2 : 4;
}

static gsize
tensor_bytes (const TensorSpec * t)
{
  return t->n * element_size (t->type);
}

static void
case_data_clear (CaseData * d)
{
  for (int i = 0; i < OP_MAX_TENSORS; i++) {
    g_free (d->host[i]);
    g_free (d->want[i]);
  }
  memset (d, 0, sizeof *d);
}

/* A stable seed per case, so that a case's inputs do not change when
 * others are added or selected. */
static guint32
case_seed (const OpCase * c)
{
  return g_str_hash (c->def->op) * 31u + g_str_hash (c->name);
}

static Goldens *goldens;
static char *goldens_skip;      /* why the golden cases are skipped */

static Goldens *
get_goldens (void)
{
  GError *error = NULL;

  if (goldens == NULL && goldens_skip == NULL) {
    goldens = goldens_open (&error);
    if (goldens == NULL) {
      goldens_skip = g_strdup_printf ("goldens: %s", error->message);
      g_clear_error (&error);
    }
  }
  return goldens;
}

static gboolean
is_golden (const OpCase * c)
{
  for (int i = 0; i < OP_MAX_TENSORS; i++)
    if (c->golden[i] != NULL)
      return TRUE;
  return FALSE;
}

/* Fills the inputs and, in test mode, the expected outputs.  FALSE with a
 * message when the goldens lack a tensor. */
static gboolean
case_data_init (CaseData * d, const OpCase * c, gboolean with_reference,
    GString * msg)
{
  GRand *rng = g_rand_new_with_seed (case_seed (c));
  GError *error = NULL;
  gboolean golden = is_golden (c);

  memset (d, 0, sizeof *d);
  c->def->tensors (c, &d->spec);
  for (int i = 0; i < d->spec.n; i++) {
    const TensorSpec *t = &d->spec.t[i];
    d->host[i] = g_malloc0 (MAX (tensor_bytes (t), 1));
    if (golden && c->golden[i] && t->role != ROLE_OUT) {
      const void *src = goldens_get (goldens, c->golden[i],
          t->type == TENSOR_U8 ? "U8" : "F32", t->n, &error);
      if (src == NULL)
        goto fail;
      memcpy (d->host[i], src, tensor_bytes (t));
    } else if (t->type == TENSOR_F32) {
      float *x = d->host[i];
      for (gsize j = 0; j < t->n; j++)
        x[j] = t->role == ROLE_OUT ? NAN :
            (float) g_rand_double_range (rng, t->lo, t->hi);
    } else if (t->type == TENSOR_BF16) {
      uint16_t *x = d->host[i];
      g_assert (t->role == ROLE_IN);
      for (gsize j = 0; j < t->n; j++)
        x[j] = hart_f32_to_bf16 ((float) g_rand_double_range (rng, t->lo,
                t->hi));
    }
  }
  /* a golden case's inputs all come from the file */
  if (c->def->fill && !golden)
    c->def->fill (c, rng, d->host);
  if (c->fill)
    c->fill (c, rng, d->host);

  if (with_reference) {
    for (int i = 0; i < d->spec.n; i++) {
      const TensorSpec *t = &d->spec.t[i];
      if (t->role == ROLE_IN)
        continue;
      g_assert (t->type == TENSOR_F32);
      d->want[i] = g_new (double, MAX (t->n, 1));
      if (golden) {
        const float *src = goldens_get (goldens, c->golden[i], "F32", t->n,
            &error);
        if (src == NULL)
          goto fail;
        for (gsize j = 0; j < t->n; j++)
          d->want[i][j] = src[j];
      } else {
        for (gsize j = 0; j < t->n; j++)
          d->want[i][j] = ((const float *) d->host[i])[j];
      }
    }
    if (!golden)
      c->def->reference (c, d->host, d->want);
  }
  g_rand_free (rng);
  return TRUE;

fail:
  g_string_append (msg, error->message);
  g_clear_error (&error);
  g_rand_free (rng);
  return FALSE;
}

/* ------------------------------------------------------------------ */
/* running on a backend                                                 */

typedef struct
{
  void *dev[OP_MAX_TENSORS];
} DeviceData;

static gboolean
device_upload (Backend * b, const CaseData * d, DeviceData * dd, GString * msg)
{
  HartBackend *be = b->be;
  GError *error = NULL;

  memset (dd, 0, sizeof *dd);
  for (int i = 0; i < d->spec.n; i++) {
    gsize bytes = tensor_bytes (&d->spec.t[i]);
    dd->dev[i] = be->ops->alloc (be, MAX (bytes, 1), &error);
    if (dd->dev[i] == NULL) {
      g_string_append_printf (msg, "alloc of %s: %s", d->spec.t[i].name,
          error->message);
      g_clear_error (&error);
      return FALSE;
    }
    if (bytes > 0)
      be->ops->upload (be, dd->dev[i], d->host[i], bytes);
  }
  return TRUE;
}

static void
device_free (Backend * b, DeviceData * dd)
{
  for (int i = 0; i < OP_MAX_TENSORS; i++)
    if (dd->dev[i] != NULL)
      b->be->ops->free (b->be, dd->dev[i]);
  memset (dd, 0, sizeof *dd);
}

static gboolean
synchronize (Backend * b, GString * msg)
{
  GError *error = NULL;
  if (b->be->ops->synchronize (b->be, &error))
    return TRUE;
  g_string_append_printf (msg, "device error: %s", error->message);
  g_clear_error (&error);
  return FALSE;
}

static void
describe_failure (GString * msg, const char *against, const OpCase * c,
    const char *backend, const TensorSpec * t, const ToleranceSpec * spec,
    double scale, const CompareResult * r, gboolean cross)
{
  g_string_append_printf (msg, "%s \"%s\" on %s: %s: %" G_GSIZE_FORMAT
      " of %" G_GSIZE_FORMAT " elements out of %s", c->def->op, c->name,
      backend, t->name, r->n_bad, t->n, spec->name);
  if (cross)
    g_string_append_printf (msg, " against the cpu backend");
  else
    g_string_append_printf (msg, " (|err| <= (%g + %g |%s|) x %g)",
        spec->atol, spec->rtol, against, scale);
  g_string_append_printf (msg, "\nmax error %.3g at [%" G_GSIZE_FORMAT
      "] (got %.9g, %s %.9g) vs bound %.3g\n", r->err, r->worst, r->got,
      against, r->want, r->bound);
}

/* c's call on b, under the case's kernel switch if it has one */
static void
case_run (const OpCase * c, Backend * b, void *const *dev)
{
  char *saved = NULL;

  if (c->env_name != NULL) {
    saved = g_strdup (g_getenv (c->env_name));
    g_setenv (c->env_name, c->env_value, TRUE);
  }
  c->def->run (b->be, c, dev);
  if (c->env_name != NULL) {
    if (saved != NULL)
      g_setenv (c->env_name, saved, TRUE);
    else
      g_unsetenv (c->env_name);
    g_free (saved);
  }
}

/* Why c cannot run on b (a skip), or NULL */
static const char *
case_unsupported (const OpCase * c, Backend * b)
{
  if (c->only_backend != NULL && strcmp (c->only_backend, b->name) != 0)
    return "a candidate kernel of another backend";
  if (c->def->unsupported != NULL)
    return c->def->unsupported (b->be);
  return NULL;
}

/* Runs case c on backend b and compares; returns the outputs (for the
 * cross-backend comparison) or NULL on failure. */
static float **
test_on_backend (const OpCase * c, const CaseData * d, Backend * b,
    float *const *cpu_got, GString * msg)
{
  const ToleranceSpec *spec = tolerance_spec (c->tol);
  int k = c->def->reduction ? c->def->reduction (c) : 1;
  double scale = spec->per_k ? MAX (1.0, k / 64.0) * b->reduction_slack : 1;
  float **got = g_new0 (float *, OP_MAX_TENSORS);
  DeviceData dd;
  gboolean ok = TRUE;

  if (!device_upload (b, d, &dd, msg)) {
    device_free (b, &dd);
    g_free (got);
    return NULL;
  }
  case_run (c, b, dd.dev);
  for (int i = 0; i < d->spec.n; i++)
    if (d->spec.t[i].role != ROLE_IN) {
      got[i] = g_new (float, MAX (d->spec.t[i].n, 1));
      b->be->ops->download (b->be, got[i], dd.dev[i],
          tensor_bytes (&d->spec.t[i]));
    }
  ok = synchronize (b, msg);
  device_free (b, &dd);

  for (int i = 0; ok && i < d->spec.n; i++) {
    CompareResult r;
    if (got[i] == NULL)
      continue;
    if (!compare_to_reference (got[i], d->want[i], d->spec.t[i].n, spec,
            scale, &r)) {
      describe_failure (msg, is_golden (c) ? "torch" : "ref", c, b->name,
          &d->spec.t[i], spec, scale, &r, FALSE);
      ok = FALSE;
    }
    if (cpu_got != NULL && cpu_got[i] != NULL
        && !compare_to_backend (got[i], cpu_got[i], d->spec.t[i].n, spec,
            c->bitwise_across_backends, &r)) {
      describe_failure (msg, "cpu", c, b->name, &d->spec.t[i], spec, 1, &r,
          TRUE);
      ok = FALSE;
    }
  }
  if (ok && c->check && !c->check (c, (void *const *) got, msg)) {
    char *where = g_strdup_printf ("%s \"%s\" on %s: ", c->def->op, c->name,
        b->name);
    g_string_prepend (msg, where);
    g_free (where);
    ok = FALSE;
  }
  if (!ok) {
    for (int i = 0; i < OP_MAX_TENSORS; i++)
      g_free (got[i]);
    g_free (got);
    return NULL;
  }
  return got;
}

static void
free_outputs (float **got)
{
  if (got == NULL)
    return;
  for (int i = 0; i < OP_MAX_TENSORS; i++)
    g_free (got[i]);
  g_free (got);
}

static void
test_case (const OpCase * c, Backend * backends, int n_backends)
{
  CaseData d;
  GString *msg = g_string_new (NULL);
  float **cpu_got = NULL;
  gboolean have_data;
  const char *skip = NULL;

  memset (&d, 0, sizeof d);
  if (is_golden (c) && get_goldens () == NULL)
    skip = goldens_skip;
  have_data = skip == NULL && case_data_init (&d, c, TRUE, msg);

  for (int bi = 0; bi < n_backends; bi++) {
    Backend *b = &backends[bi];
    char *what;
    float **got = NULL;

    if (b->be == NULL || !backend_selected (b->name))
      continue;
    what = g_strdup_printf ("%s / %s / %s", c->def->op, c->name, b->name);
    if (case_unsupported (c, b) != NULL) {
      tap_result (TRUE, case_unsupported (c, b), what, msg);
      g_free (what);
      continue;
    }
    if (skip == NULL && have_data) {
      g_string_truncate (msg, 0);
      got = test_on_backend (c, &d, b, cpu_got, msg);
    }
    tap_result (got != NULL, skip, what, msg);
    if (strcmp (b->name, "cpu") == 0)
      cpu_got = got;
    else
      free_outputs (got);
    g_free (what);
  }
  free_outputs (cpu_got);
  case_data_clear (&d);
  g_string_free (msg, TRUE);
}

static void
run_backend_checks (Backend * backends, int n_backends)
{
  gsize n;
  const BackendCheck *checks = backend_checks (&n);
  GString *msg = g_string_new (NULL);

  for (gsize i = 0; i < n; i++) {
    if (opt.ops != NULL && !op_selected (checks[i].name))
      continue;
    if (!checks[i].per_backend) {
      char *what;
      if (!backend_selected (checks[i].about))
        continue;
      what = g_strdup_printf ("backend / %s", checks[i].name);
      g_string_truncate (msg, 0);
      if (!hart_backend_is_compiled (checks[i].about))
        tap_result (TRUE, "not compiled in", what, msg);
      else
        tap_result (checks[i].func (NULL, checks[i].about, msg), NULL, what,
            msg);
      g_free (what);
      continue;
    }
    for (int bi = 0; bi < n_backends; bi++) {
      char *what;
      if (backends[bi].be == NULL || !backend_selected (backends[bi].name))
        continue;
      what = g_strdup_printf ("backend / %s / %s", checks[i].name,
          backends[bi].name);
      g_string_truncate (msg, 0);
      tap_result (checks[i].func (backends[bi].be, backends[bi].name, msg),
          NULL, what, msg);
      g_free (what);
    }
  }
  g_string_free (msg, TRUE);
}

/* ------------------------------------------------------------------ */
/* perf                                                                 */

/* Best wall time (s) of opt.reps calls after one warm-up call. */
static double
time_case (const OpCase * c, Backend * b, const CaseData * d, GString * msg)
{
  DeviceData dd;
  double best = INFINITY;

  if (!device_upload (b, d, &dd, msg)) {
    device_free (b, &dd);
    return NAN;
  }
  case_run (c, b, dd.dev);
  if (synchronize (b, msg)) {
    for (int r = 0; r < opt.reps; r++) {
      gint64 t0 = g_get_monotonic_time ();
      case_run (c, b, dd.dev);
      if (!synchronize (b, msg))
        break;
      best = MIN (best, (g_get_monotonic_time () - t0) / 1e6);
    }
  }
  device_free (b, &dd);
  return msg->len > 0 ? NAN : best;
}

/* GFLOP/s of cblas_sgemm itself on a 2048³ GEMM, with OpenBLAS's own
 * threading over n_threads: the ceiling of the CPU's GEMM-bound ops. */
static double
measure_raw_sgemm (int n_threads)
{
  const int n = 2048;
  gsize size = (gsize) n * n;
  float *a = g_new (float, size), *b = g_new (float, size);
  float *c = g_new (float, size);
  double best = INFINITY;

  for (gsize i = 0; i < size; i++) {
    a[i] = (float) ((i * 7919) % 1000) / 1000.0f - 0.5f;
    b[i] = (float) ((i * 104729) % 1000) / 1000.0f - 0.5f;
  }
#ifdef HART_HAVE_OPENBLAS_THREADS
  openblas_set_num_threads (n_threads);
#endif
  for (int r = 0; r <= opt.reps; r++) {
    gint64 t0 = g_get_monotonic_time ();
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a,
        n, b, n, 0.0f, c, n);
    if (r > 0)                  /* the first call warms up */
      best = MIN (best, (g_get_monotonic_time () - t0) / 1e6);
  }
#ifdef HART_HAVE_OPENBLAS_THREADS
  /* the backend runs OpenBLAS single-threaded inside its own threads */
  openblas_set_num_threads (1);
#endif
  g_free (a);
  g_free (b);
  g_free (c);
  return 2.0 * n * (double) n *n / best / 1e9;
}

typedef struct
{
  const OpCase *c;
  const char *backend;
  double seconds, flops, bytes, ratio;
  char *error;
} PerfRow;

static int
perf_run (GPtrArray * cases, Backend * backends, int n_backends)
{
  GArray *rows = g_array_new (FALSE, TRUE, sizeof (PerfRow));
  Backend *cpu = NULL;
  gboolean any_flops_on_cpu = FALSE;
  double raw_start = 0, raw_end = 0, raw;

  for (int bi = 0; bi < n_backends; bi++)
    if (backends[bi].be && strcmp (backends[bi].name, "cpu") == 0
        && backend_selected ("cpu"))
      cpu = &backends[bi];
  for (guint i = 0; cpu && i < cases->len; i++) {
    const OpCase *c = g_ptr_array_index (cases, i);
    double flops, bytes;
    if (!case_selected (c))
      continue;
    c->def->work (c, &flops, &bytes);
    any_flops_on_cpu |= flops > 0;
  }
  if (any_flops_on_cpu)
    raw_start = measure_raw_sgemm (cpu->be->n_threads);

  for (guint i = 0; i < cases->len; i++) {
    const OpCase *c = g_ptr_array_index (cases, i);
    CaseData d;
    GString *msg = g_string_new (NULL);
    double cpu_seconds = NAN;

    if (!case_selected (c))
      continue;
    case_data_init (&d, c, FALSE, msg);
    for (int bi = 0; bi < n_backends; bi++) {
      Backend *b = &backends[bi];
      PerfRow row = { c, b->name };
      if (b->be == NULL || !backend_selected (b->name)
          || case_unsupported (c, b) != NULL)
        continue;
      g_string_truncate (msg, 0);
      c->def->work (c, &row.flops, &row.bytes);
      row.seconds = time_case (c, b, &d, msg);
      if (msg->len > 0)
        row.error = g_strdup (msg->str);
      if (b == cpu)
        cpu_seconds = row.seconds;
      row.ratio = cpu_seconds / row.seconds;
      g_array_append_val (rows, row);
    }
    case_data_clear (&d);
    g_string_free (msg, TRUE);
  }
  if (any_flops_on_cpu)
    raw_end = measure_raw_sgemm (cpu->be->n_threads);
  raw = MAX (raw_start, raw_end);

  for (int bi = 0; bi < n_backends; bi++) {
    if (!backend_selected (backends[bi].name))
      continue;
    if (backends[bi].be == NULL)
      printf ("%s backend: not run (%s)\n", backends[bi].name,
          backends[bi].skip);
    else if (strcmp (backends[bi].name, "cpu") == 0)
      printf ("cpu backend, %d threads\n", backends[bi].be->n_threads);
    else
      printf ("%s backend, device %d\n", backends[bi].name,
          backends[bi].be->device_id);
  }
  if (any_flops_on_cpu)
    printf ("raw cblas_sgemm 2048x2048x2048 (OpenBLAS threads): %.1f GFLOP/s "
        "at start, %.1f at end; the better one = 100%% in \"of raw\"\n",
        raw_start, raw_end);
  printf ("\n%-14s %-40s %-5s %9s %10s %-6s %8s %7s\n", "op", "case",
      "on", "ms", "rate", "", "vs cpu", "of raw");
  printf ("%s\n", "-----------------------------------------------------------"
      "---------------------------------------------");
  for (guint i = 0; i < rows->len; i++) {
    PerfRow *r = &g_array_index (rows, PerfRow, i);
    gboolean on_cpu = strcmp (r->backend, "cpu") == 0;
    if (r->error != NULL) {
      printf ("%-14s %-40s %-5s failed: %s\n", r->c->def->op, r->c->name,
          r->backend, r->error);
      g_free (r->error);
      continue;
    }
    printf ("%-14s %-40.40s %-5s %9.2f %10.1f %-6s", r->c->def->op,
        r->c->name, r->backend, r->seconds * 1e3, r->flops > 0 ?
        r->flops / r->seconds / 1e9 : r->bytes / r->seconds / 1e9,
        r->flops > 0 ? "GFLOP/s" : "GB/s");
    if (isfinite (r->ratio) && !on_cpu)
      printf (" %7.2fx", r->ratio);
    else
      printf (" %8s", on_cpu ? "1" : "-");
    if (on_cpu && r->flops > 0 && raw > 0)
      printf (" %6.0f%%", 100.0 * r->flops / r->seconds / 1e9 / raw);
    printf ("\n");
  }
  g_array_free (rows, TRUE);
  return 0;
}

/* ------------------------------------------------------------------ */

static void
list_cases (GPtrArray * cases)
{
  gsize n;
  const BackendCheck *checks = backend_checks (&n);

  for (guint i = 0; i < cases->len; i++) {
    const OpCase *c = g_ptr_array_index (cases, i);
    if (case_selected (c))
      printf ("%-18s %-52s %s%s%s\n", c->def->op, c->name,
          tolerance_spec (c->tol)->name, is_golden (c) ? " golden" : "",
          c->bitwise_across_backends ? " bitwise-across-backends" : "");
  }
  if (opt.perf)
    return;
  for (gsize i = 0; i < n; i++)
    if (opt.ops == NULL || op_selected (checks[i].name))
      printf ("%-18s %-52s %s\n", "backend", checks[i].name,
          checks[i].per_backend ? "per backend" : checks[i].about);
}

static gboolean
parse_args (int argc, char **argv, GError ** error)
{
  char *ops = NULL;
  gboolean tap = FALSE;
  GOptionEntry entries[] = {
    {"op", 0, 0, G_OPTION_ARG_STRING, &ops,
        "Only these ops (comma-separated HartBackendOps entries, or backend "
          "check names)", "NAME"},
    {"backend", 0, 0, G_OPTION_ARG_STRING, &opt.backend,
        "Only this backend (cpu, cuda)", "NAME"},
    {"case", 0, 0, G_OPTION_ARG_STRING, &opt.case_text,
        "Only cases whose name contains TEXT", "TEXT"},
    {"reps", 0, 0, G_OPTION_ARG_INT, &opt.reps,
        "perf: timed calls per case (best counts; default 3)", "N"},
    {"list", 0, 0, G_OPTION_ARG_NONE, &opt.list,
        "List the selected cases instead of running them", NULL},
    {"tap", 0, 0, G_OPTION_ARG_NONE, &tap,
        "Accepted for meson; the output is always TAP", NULL},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("[test|perf]");
  gboolean ok;

  g_option_context_set_summary (ctx, "Every op of the backend table on every "
      "backend: test compares with plain references (TAP), perf times HART's "
      "shapes.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  ok = g_option_context_parse (ctx, &argc, &argv, error);
  g_option_context_free (ctx);
  if (ok && argc > 2) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
        "one mode only, test or perf");
    ok = FALSE;
  } else if (ok && argc == 2) {
    if (strcmp (argv[1], "perf") == 0)
      opt.perf = TRUE;
    else if (strcmp (argv[1], "test") != 0) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
          "unknown mode %s (test or perf)", argv[1]);
      ok = FALSE;
    }
  }
  if (ok && opt.reps < 1)
    opt.reps = 1;
  if (ops != NULL)
    opt.ops = g_strsplit (ops, ",", -1);
  g_free (ops);
  return ok;
}

int
main (int argc, char **argv)
{
  Backend backends[] = {
    {"cpu", NULL, NULL, 1.0},
    /* cuBLAS tiles and warp-tree sums: the factor test-ops.c allowed,
     * with which every op passed on an H200 (docs/performance.md) */
    {"cuda", NULL, NULL, 50.0},
  };
  const int n_backends = G_N_ELEMENTS (backends);
  GError *error = NULL;
  GPtrArray *cases;
  int status = 0;

  if (!parse_args (argc, argv, &error)) {
    g_printerr ("test-backend-ops: %s\n", error->message);
    g_clear_error (&error);
    return 2;
  }
  cases = op_cases_new ();
  if (opt.list) {
    list_cases (cases);
    goto out;
  }

  if (!opt.perf) {
    g_setenv ("HART_CUDA_IM2COL_LIMIT", TEST_IM2COL_LIMIT, FALSE);
    /* the blocked attention (HART_CUDA_ATTENTION=gemm) in blocks of a few
     * queries, so that the small cases cross block boundaries too */
    g_setenv ("HART_CUDA_ATTENTION_GEMM_BYTES", TEST_ATTENTION_GEMM_BYTES,
        FALSE);
  }
  for (int bi = 0; bi < n_backends; bi++) {
    Backend *b = &backends[bi];
    if (!backend_selected (b->name))
      continue;
    if (!hart_backend_is_compiled (b->name)) {
      b->skip = g_strdup ("not compiled in");
      continue;
    }
    b->be = hart_backend_new (b->name, 0, 0, &error);
    if (b->be == NULL) {
      b->skip = g_strdup (error->message);
      g_clear_error (&error);
    } else if (b->be->ops->init_half != NULL) {
      /* the half-precision ops are tested where the backend has them;
       * which kernels run them (the AMX attention or not) goes in the log,
       * so a run on a machine without AMX says so */
      b->be->ops->init_half (b->be);
      printf ("# %s: half precision on %s\n", b->name,
          b->be->half_impl ? b->be->half_impl : "none");
      /* HART_CPU_BF16=widened (the backend-ops-bf16-widened test): the
       * widened products must be what runs, or that test checks nothing */
      if (g_strcmp0 (b->name, "cpu") == 0
          && g_strcmp0 (g_getenv ("HART_CPU_BF16"), "widened") == 0
          && b->be->half_dtypes != 0
          && strstr (b->be->half_impl, "widened") == NULL) {
        printf ("Bail out! HART_CPU_BF16=widened, but bf16 runs on %s\n",
            b->be->half_impl);
        return 1;
      }
    }
    if (b->be != NULL && b->be->fp32_impl != NULL) {
      printf ("# %s: fp32 products on %s\n", b->name, b->be->fp32_impl);
    }
  }

  if (opt.perf) {
    status = perf_run (cases, backends, n_backends);
  } else {
    GString *none = g_string_new (NULL);
    for (int bi = 0; bi < n_backends; bi++)
      if (backends[bi].be == NULL && backend_selected (backends[bi].name)) {
        char *what = g_strdup_printf ("backend / %s", backends[bi].name);
        /* a compiled CPU backend must start; any other may be absent */
        if (strcmp (backends[bi].name, "cpu") == 0) {
          g_string_assign (none, backends[bi].skip);
          tap_result (FALSE, NULL, what, none);
        } else {
          tap_result (TRUE, backends[bi].skip, what, none);
        }
        g_free (what);
      }
    g_string_free (none, TRUE);
    for (guint i = 0; i < cases->len; i++) {
      const OpCase *c = g_ptr_array_index (cases, i);
      if (case_selected (c))
        test_case (c, backends, n_backends);
    }
    run_backend_checks (backends, n_backends);
    printf ("1..%d\n", tap_n);
    if (n_failed > 0)
      printf ("# %d of %d failed\n", n_failed, tap_n);
    status = n_failed > 0 ? 1 : 0;
  }

  for (int bi = 0; bi < n_backends; bi++) {
    hart_backend_free (backends[bi].be);
    g_free (backends[bi].skip);
  }
out:
  goldens_close (goldens);
  g_free (goldens_skip);
  op_cases_free (cases);
  g_strfreev (opt.ops);
  return status;
}
