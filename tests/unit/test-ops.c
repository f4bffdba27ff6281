/* gst-hart — tests of every backend op against naive references and
 * PyTorch goldens
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each op of HartBackendOps runs on random inputs (fixed-seed GRand) of odd
 * and tiny shapes and is compared with a plain implementation written here,
 * accumulating in double.  A second set of checks compares against outputs
 * of PyTorch stored in $HART_FIXTURES/ops/goldens.safetensors (made by
 * tests/reference/make_op_goldens.py) and against a few values computed by
 * hand.  Every test runs on every backend compiled in and available; the
 * CUDA backend gets looser tolerances (see TestBackend.tol).
 *
 * Tolerances, unless a test says otherwise: |got − want| ≤ atol + rtol·|want|
 * with the reference in double.  fp32 sums of K terms of size ~1 carry a
 * relative error of about K·2^-24 in the worst case (a few 1e-6 for the
 * sizes here), so rtol 1e-5 / atol 1e-5 leaves a safety margin of ~5 while
 * still catching any indexing or formula error (those give O(1) errors).
 */
#include "kernels/backend.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

typedef struct
{
  const char *name;
  HartBackend *be;
  /* multiplies every tolerance: 1 for the fp32 CPU reference; GPU GEMMs
   * may use TF32/reduced-precision accumulations */
  double tol;
} TestBackend;

#define BE(data) (((const TestBackend *) (data))->be)
#define TOL(data) (((const TestBackend *) (data))->tol)

/* ------------------------------------------------------------------ */
/* helpers                                                              */

static void
rand_fill (GRand * rng, float *x, gsize n, double lo, double hi)
{
  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rng, lo, hi);
}

static float *
rand_new (GRand * rng, gsize n, double lo, double hi)
{
  float *x = g_new (float, MAX (n, 1));
  rand_fill (rng, x, n, lo, hi);
  return x;
}

/* Device copy of a host array. */
static float *
dev_upload (HartBackend * be, const void *host, gsize bytes)
{
  GError *error = NULL;
  void *d = be->ops->alloc (be, bytes, &error);
  g_assert_no_error (error);
  g_assert_nonnull (d);
  if (bytes > 0)
    be->ops->upload (be, d, host, bytes);
  return d;
}

/* Device output buffer poisoned with NaN, so an element the op forgets to
 * write fails the comparison. */
static float *
dev_poisoned (HartBackend * be, gsize n)
{
  GError *error = NULL;
  float *d = be->ops->alloc (be, MAX (n, 1) * sizeof (float), &error);
  g_assert_no_error (error);
  be->ops->fill (be, d, NAN, n);
  return d;
}

static float *
dev_download (HartBackend * be, const float *d, gsize n)
{
  GError *error = NULL;
  float *h = g_new (float, MAX (n, 1));
  be->ops->download (be, h, d, n * sizeof (float));
  g_assert_true (be->ops->synchronize (be, &error));
  g_assert_no_error (error);
  return h;
}

static void
dev_free (HartBackend * be, void *d)
{
  be->ops->free (be, d);
}

/* Compares got[i] with want[i]; reports the worst element and fails the
 * test (without aborting) if any is out of tolerance or NaN. */
static gboolean
check_close (const char *what, const float *got, const double *want,
    gsize n, double atol, double rtol)
{
  gsize worst = 0, n_bad = 0;
  double worst_excess = -1.0;

  for (gsize i = 0; i < n; i++) {
    double err = fabs ((double) got[i] - want[i]);
    double allowed = atol + rtol * fabs (want[i]);
    double excess = isnan (err) ? INFINITY : err - allowed;
    if (isnan (want[i]) && isnan (got[i]))
      continue;
    if (excess > 0)
      n_bad++;
    if (excess > worst_excess || i == 0) {
      worst_excess = excess;
      worst = i;
    }
  }
  if (n_bad > 0) {
    g_test_message ("%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
        " elements out of tolerance; worst [%" G_GSIZE_FORMAT "] got %.9g "
        "want %.9g (atol %g rtol %g)", what, n_bad, n, worst,
        (double) got[worst], want[worst], atol, rtol);
    g_test_fail ();
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_close_f (const char *what, const float *got, const float *want,
    gsize n, double atol, double rtol)
{
  double *w = g_new (double, MAX (n, 1));
  gboolean ok;
  for (gsize i = 0; i < n; i++)
    w[i] = want[i];
  ok = check_close (what, got, w, n, atol, rtol);
  g_free (w);
  return ok;
}

/* ------------------------------------------------------------------ */
/* golden file: a tiny safetensors reader (F32 and U8 only)             */

typedef struct
{
  GBytes *bytes;
  JsonObject *header;
  JsonParser *parser;
  gsize data_start;
} Goldens;

static Goldens *
goldens_open (void)
{
  const char *dir = g_getenv ("HART_FIXTURES");
  char *path;
  GError *error = NULL;
  char *contents = NULL;
  gsize len = 0;
  guint64 hlen = 0;
  Goldens *g;

  if (dir == NULL) {
    g_test_skip ("HART_FIXTURES is not set");
    return NULL;
  }
  path = g_build_filename (dir, "ops", "goldens.safetensors", NULL);
  if (!g_file_get_contents (path, &contents, &len, &error)) {
    g_test_message ("cannot read %s: %s", path, error->message);
    g_test_fail ();
    g_clear_error (&error);
    g_free (path);
    return NULL;
  }
  g_free (path);
  g_assert_cmpuint (len, >=, 8);
  for (int i = 7; i >= 0; i--)
    hlen = (hlen << 8) | (guint8) contents[i];
  g_assert_cmpuint (hlen, <=, len - 8);

  g = g_new0 (Goldens, 1);
  g->bytes = g_bytes_new_take (contents, len);
  g->parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (g->parser, contents + 8,
          (gssize) hlen, &error));
  g_assert_no_error (error);
  g->header = json_node_get_object (json_parser_get_root (g->parser));
  g->data_start = 8 + hlen;
  return g;
}

static void
goldens_close (Goldens * g)
{
  if (g == NULL)
    return;
  g_object_unref (g->parser);
  g_bytes_unref (g->bytes);
  g_free (g);
}

/* Pointer to the raw data of `name`; checks dtype and element count. */
static const void *
goldens_get (Goldens * g, const char *name, const char *dtype, gsize n_expected)
{
  JsonObject *t;
  JsonArray *off;
  gsize size = 0, begin, end, elem = g_str_equal (dtype, "U8") ? 1 : 4;
  const guint8 *data = g_bytes_get_data (g->bytes, &size);

  g_assert_true (json_object_has_member (g->header, name));
  t = json_object_get_object_member (g->header, name);
  g_assert_cmpstr (json_object_get_string_member (t, "dtype"), ==, dtype);
  off = json_object_get_array_member (t, "data_offsets");
  begin = (gsize) json_array_get_int_element (off, 0);
  end = (gsize) json_array_get_int_element (off, 1);
  g_assert_cmpuint (end - begin, ==, n_expected * elem);
  g_assert_cmpuint (g->data_start + end, <=, size);
  return data + g->data_start + begin;
}

/* Little-endian host assumed (x86-64, aarch64): data is used in place. */
static const float *
goldens_f32 (Goldens * g, const char *name, gsize n_expected)
{
  return goldens_get (g, name, "F32", n_expected);
}

/* ------------------------------------------------------------------ */
/* memory                                                               */

static void
test_memory (gconstpointer data)
{
  HartBackend *be = BE (data);
  GError *error = NULL;
  float host[37], back[37];
  float *a, *b;
  void *huge;
  /* more than any machine has: must fail with a GError, not abort */
  const gsize huge_bytes = (gsize) 1 << 60;
  char *bytes_str;

  for (int i = 0; i < 37; i++)
    host[i] = (float) i *0.5f - 3.0f;
  a = dev_upload (be, host, sizeof host);
  b = dev_poisoned (be, 37);
  be->ops->copy (be, b, a, sizeof host);
  be->ops->download (be, back, b, sizeof back);
  g_assert_true (be->ops->synchronize (be, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (back, sizeof back, host, sizeof host);

  be->ops->fill (be, b, 2.5f, 37);
  be->ops->download (be, back, b, sizeof back);
  for (int i = 0; i < 37; i++)
    g_assert_cmpfloat (back[i], ==, 2.5f);
  /* fill of a prefix leaves the rest alone */
  be->ops->fill (be, b, -1.0f, 3);
  be->ops->download (be, back, b, sizeof back);
  g_assert_cmpfloat (back[2], ==, -1.0f);
  g_assert_cmpfloat (back[3], ==, 2.5f);
  dev_free (be, a);
  dev_free (be, b);

  /* zero-byte allocations are valid and freeable */
  a = be->ops->alloc (be, 0, &error);
  g_assert_no_error (error);
  dev_free (be, a);

  huge = be->ops->alloc (be, huge_bytes, &error);
  g_assert_null (huge);
  g_assert_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_OUT_OF_MEMORY);
  bytes_str = g_strdup_printf ("%" G_GSIZE_FORMAT, huge_bytes);
  g_assert_nonnull (strstr (error->message, bytes_str));
  g_free (bytes_str);
  g_clear_error (&error);
}

static void
test_backend_new (void)
{
  GError *error = NULL;
  HartBackend *be = hart_backend_new ("cpu", 0, 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (be);
  g_assert_cmpint (be->n_threads, >=, 1);
  g_assert_cmpstr (be->ops->name, ==, "cpu");
  hart_backend_free (be);

  be = hart_backend_new ("cpu", 0, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpint (be->n_threads, ==, 3);
  hart_backend_free (be);

  be = hart_backend_cpu_new (-1, &error);
  g_assert_null (be);
  g_assert_error (error, HART_BACKEND_ERROR, HART_BACKEND_ERROR_UNAVAILABLE);
  g_clear_error (&error);
}

/* Every slot of the table is set (the model code calls them blindly). */
static void
test_op_table_complete (gconstpointer data)
{
  const HartBackendOps *ops = BE (data)->ops;
  const gpointer *slot = (const gpointer *) ops;
  gsize n_slots = sizeof *ops / sizeof (gpointer);

  g_assert_nonnull (ops->name);
  for (gsize i = 1; i < n_slots; i++) {
    if (slot[i] == NULL) {
      g_test_message ("op table slot %" G_GSIZE_FORMAT " is NULL", i);
      g_test_fail ();
    }
  }
}

/* ------------------------------------------------------------------ */
/* GEMM                                                                 */

/* C = alpha op(A) op(B) + beta C in double; op(A)[i][p] is
 * a[p*lda + i] when transposed, a[i*lda + p] otherwise. */
static void
naive_gemm (double *c, gboolean ta, gboolean tb, int m, int n, int k,
    double alpha, const float *a, int lda, const float *b, int ldb,
    double beta, const float *c0, int ldc)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double s = 0.0;
      for (int p = 0; p < k; p++) {
        double av = ta ? a[(gsize) p * lda + i] : a[(gsize) i * lda + p];
        double bv = tb ? b[(gsize) j * ldb + p] : b[(gsize) p * ldb + j];
        s += av * bv;
      }
      c[(gsize) i * ldc + j] = alpha * s + beta * c0[(gsize) i * ldc + j];
    }
}

static void
run_gemm_case (const TestBackend * tb_, GRand * rng, gboolean ta,
    gboolean tb, int m, int n, int k, float alpha, float beta, int pad)
{
  HartBackend *be = tb_->be;
  /* stored shapes: A is [m, k] or [k, m]; B is [k, n] or [n, k] */
  int a_rows = ta ? k : m, a_cols = ta ? m : k;
  int b_rows = tb ? n : k, b_cols = tb ? k : n;
  int lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
  gsize na = (gsize) a_rows * lda, nb = (gsize) b_rows *ldb,
      nc = (gsize) m * ldc;
  float *a = rand_new (rng, na, -1, 1), *b = rand_new (rng, nb, -1, 1);
  float *c0 = rand_new (rng, nc, -1, 1);
  double *want = g_new (double, MAX (nc, 1));
  float *da = dev_upload (be, a, na * 4), *db = dev_upload (be, b, nb * 4);
  float *dc = dev_upload (be, c0, nc * 4), *got;
  char *what = g_strdup_printf ("gemm ta=%d tb=%d m=%d n=%d k=%d pad=%d",
      ta, tb, m, n, k, pad);

  naive_gemm (want, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc);
  be->ops->gemm (be, ta, tb, m, n, k, alpha, da, lda, db, ldb, beta, dc, ldc);
  got = dev_download (be, dc, nc);
  /* padding columns of C must be untouched */
  for (int i = 0; i < m; i++)
    for (int j = n; j < ldc; j++)
      want[(gsize) i * ldc + j] = c0[(gsize) i * ldc + j];
  check_close (what, got, want, nc, 1e-5 * tb_->tol,
      1e-5 * tb_->tol * MAX (1, k / 64));

  g_free (what);
  g_free (a);
  g_free (b);
  g_free (c0);
  g_free (want);
  g_free (got);
  dev_free (be, da);
  dev_free (be, db);
  dev_free (be, dc);
}

static void
test_gemm (gconstpointer data)
{
  GRand *rng = g_rand_new_with_seed (101);
  static const int shapes[][3] = {
    {1, 1, 1}, {3, 7, 5}, {33, 65, 17}, {1, 257, 33}, {257, 3, 64},
    {65, 129, 257}, {300, 200, 64},     /* big enough to split across threads */
    {40, 520, 96},              /* split along n */
  };

  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int t = 0; t < 4; t++)
      run_gemm_case (data, rng, t & 1, (t >> 1) & 1, shapes[s][0],
          shapes[s][1], shapes[s][2], 0.75f, (s % 2) ? 0.0f : -0.5f,
          (int) (s % 3));
  /* k = 0: C = beta C */
  run_gemm_case (data, rng, FALSE, FALSE, 5, 6, 0, 1.0f, 0.5f, 1);
  g_rand_free (rng);
}

static void
test_gemm_batched (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (102);
  static const int cases[][4] = {       /* m, n, k, batch */
    {7, 5, 3, 5}, {33, 17, 65, 3}, {1, 1, 1, 1}, {64, 300, 64, 2},
    {16, 16, 16, 9},
  };

  for (gsize s = 0; s < G_N_ELEMENTS (cases); s++) {
    for (int t = 0; t < 4; t++) {
      gboolean ta = t & 1, tb = (t >> 1) & 1;
      int m = cases[s][0], n = cases[s][1], k = cases[s][2];
      int batch = cases[s][3];
      int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 1;
      /* matrices spaced with a gap, so strides are not just the size */
      int64_t sa = (int64_t) (ta ? k : m) * lda + 3;
      int64_t sb = (int64_t) (tb ? n : k) * ldb + 5;
      int64_t sc = (int64_t) m * ldc + 7;
      gsize na = sa * batch, nb = sb * batch, nc = sc * batch;
      float *a = rand_new (rng, na, -1, 1), *b = rand_new (rng, nb, -1, 1);
      float *c0 = rand_new (rng, nc, -1, 1), *got;
      double *want = g_new (double, nc);
      float *da = dev_upload (be, a, na * 4), *db = dev_upload (be, b, nb * 4);
      float *dc = dev_upload (be, c0, nc * 4);
      char *what = g_strdup_printf ("gemm_batched ta=%d tb=%d %dx%dx%d x %d",
          ta, tb, m, n, k, batch);

      for (gsize i = 0; i < nc; i++)
        want[i] = c0[i];
      for (int i = 0; i < batch; i++) {
        double *w = g_new (double, (gsize) m * ldc);
        naive_gemm (w, ta, tb, m, n, k, 1.5, a + i * sa, lda, b + i * sb, ldb,
            0.25, c0 + i * sc, ldc);
        for (int r = 0; r < m; r++)
          for (int c = 0; c < n; c++)
            want[i * sc + (gsize) r * ldc + c] = w[(gsize) r * ldc + c];
        g_free (w);
      }
      be->ops->gemm_batched (be, &(const HartGemmBatchedParams) {
            .trans_a = ta,.trans_b = tb,.m = m,.n = n,.k = k,.batch = batch,
            .alpha = 1.5f,.beta = 0.25f,.a = da,.lda = lda,.stride_a = sa,
            .b = db,.ldb = ldb,.stride_b = sb,.c = dc,.ldc = ldc,
            .stride_c = sc
          });
      got = dev_download (be, dc, nc);
      check_close (what, got, want, nc, 1e-5 * TOL (data),
          1e-5 * TOL (data) * MAX (1, k / 64));
      g_free (what);
      g_free (a);
      g_free (b);
      g_free (c0);
      g_free (got);
      g_free (want);
      dev_free (be, da);
      dev_free (be, db);
      dev_free (be, dc);
    }
  }
  g_rand_free (rng);
}

static void
test_linear (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (103);
  static const int cases[][3] = {       /* rows, in, out */
    {1, 1, 1}, {7, 33, 17}, {65, 64, 300}, {257, 96, 33}, {3, 1536, 7},
  };

  for (gsize s = 0; s < G_N_ELEMENTS (cases); s++) {
    for (int with_bias = 0; with_bias < 2; with_bias++) {
      int rows = cases[s][0], in = cases[s][1], out = cases[s][2];
      float *x = rand_new (rng, (gsize) rows * in, -1, 1);
      float *w = rand_new (rng, (gsize) out * in, -1, 1);
      float *bias = rand_new (rng, out, -2, 2), *got;
      double *want = g_new (double, (gsize) rows * out);
      float *dx = dev_upload (be, x, (gsize) rows * in * 4);
      float *dw = dev_upload (be, w, (gsize) out * in * 4);
      float *db = dev_upload (be, bias, (gsize) out * 4);
      float *dy = dev_poisoned (be, (gsize) rows * out);

      for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) {
          double acc = with_bias ? bias[o] : 0.0;
          for (int i = 0; i < in; i++)
            acc += (double) x[(gsize) r * in + i] * w[(gsize) o * in + i];
          want[(gsize) r * out + o] = acc;
        }
      be->ops->linear (be, dy, dx, dw, with_bias ? db : NULL, rows, in, out);
      got = dev_download (be, dy, (gsize) rows * out);
      check_close ("linear", got, want, (gsize) rows * out,
          1e-5 * TOL (data) * MAX (1, in / 64), 1e-5 * TOL (data));
      g_free (x);
      g_free (w);
      g_free (bias);
      g_free (got);
      g_free (want);
      dev_free (be, dx);
      dev_free (be, dw);
      dev_free (be, db);
      dev_free (be, dy);
    }
  }
  g_rand_free (rng);
}

/* ------------------------------------------------------------------ */
/* attention                                                            */

/* Textbook attention in double over the same strided layout. */
static void
naive_attention (double *out, const HartAttentionParams * p, const float *q,
    const float *k, const float *v)
{
  const int d = p->head_dim, group = p->q_heads / p->kv_heads;
  double *s = g_new (double, MAX (p->kv_len, 1));

  for (int b = 0; b < p->batch; b++)
    for (int h = 0; h < p->q_heads; h++)
      for (int i = 0; i < p->q_len; i++) {
        const float *qi = q + b * p->q_batch_stride + i * p->q_row_stride +
            h * d;
        double *o = out + b * p->out_batch_stride + i * p->out_row_stride +
            h * d;
        double mx = -INFINITY, sum = 0.0;
        for (int j = 0; j < p->kv_len; j++) {
          const float *kj = k + b * p->k_batch_stride + j * p->k_row_stride +
              (h / group) * d;
          gboolean visible = TRUE;
          double dot = 0.0;
          if (p->key_mask && !p->key_mask[b * p->kv_len + j])
            visible = FALSE;
          if (p->causal && j > i + p->causal_offset)
            visible = FALSE;
          for (int c = 0; c < d; c++)
            dot += (double) qi[c] * kj[c];
          s[j] = visible ? dot * p->scale : -INFINITY;
          mx = MAX (mx, s[j]);
        }
        for (int c = 0; c < d; c++)
          o[c] = 0.0;
        if (mx == -INFINITY)
          continue;             /* fully masked row: zeros */
        for (int j = 0; j < p->kv_len; j++) {
          s[j] = exp (s[j] - mx);
          sum += s[j];
        }
        for (int j = 0; j < p->kv_len; j++) {
          const float *vj = v + b * p->v_batch_stride + j * p->v_row_stride +
              (h / group) * d;
          for (int c = 0; c < d; c++)
            o[c] += s[j] / sum * vj[c];
        }
      }
  g_free (s);
}

typedef struct
{
  const char *what;
  int batch, q_heads, kv_heads, q_len, kv_len, head_dim;
  gboolean fused_qkv;           /* q, k, v read out of one [B, L, 3C] buffer */
  gboolean use_mask;
  gboolean mask_one_batch_fully;        /* batch 0 sees no key at all */
  gboolean causal;
  int causal_offset;
  int out_pad;                  /* extra floats per output row */
} AttnCase;

static void
run_attention_case (const TestBackend * tbk, GRand * rng, const AttnCase * ac)
{
  HartBackend *be = tbk->be;
  HartAttentionParams p = { 0 };
  const int d = ac->head_dim;
  const int cq = ac->q_heads * d, ckv = ac->kv_heads * d;
  float *qbuf, *kbuf, *vbuf, *got;
  float *dq, *dk, *dv, *dout, *dqkv = NULL;
  uint8_t *mask = NULL, *dmask = NULL;
  double *want;
  gsize nq, nk, nv, nout;

  p.batch = ac->batch;
  p.q_heads = ac->q_heads;
  p.kv_heads = ac->kv_heads;
  p.q_len = ac->q_len;
  p.kv_len = ac->kv_len;
  p.head_dim = d;
  p.scale = 1.0f / sqrtf ((float) d) * 1.7f;
  p.causal = ac->causal;
  p.causal_offset = ac->causal_offset;

  if (ac->fused_qkv) {
    /* self-attention on a fused projection: row = [q | k | v] */
    gsize n;
    g_assert_cmpint (ac->q_len, ==, ac->kv_len);
    g_assert_cmpint (cq, ==, ckv);
    n = (gsize) ac->batch * ac->q_len * 3 * cq;
    qbuf = rand_new (rng, n, -2, 2);
    kbuf = qbuf + cq;
    vbuf = qbuf + 2 * cq;
    p.q_row_stride = p.k_row_stride = p.v_row_stride = 3 * cq;
    p.q_batch_stride = p.k_batch_stride = p.v_batch_stride =
        (int64_t) ac->q_len * 3 * cq;
    dqkv = dev_upload (be, qbuf, n * 4);
    dq = dqkv;
    dk = dqkv + cq;
    dv = dqkv + 2 * cq;
    nq = nk = nv = 0;
  } else {
    /* separate buffers with padded rows and batches */
    p.q_row_stride = cq + 3;
    p.q_batch_stride = p.q_row_stride * ac->q_len + 5;
    p.k_row_stride = ckv + 1;
    p.k_batch_stride = p.k_row_stride * ac->kv_len + 2;
    p.v_row_stride = ckv + 4;
    p.v_batch_stride = p.v_row_stride * ac->kv_len;
    nq = p.q_batch_stride * ac->batch;
    nk = p.k_batch_stride * ac->batch;
    nv = p.v_batch_stride * ac->batch;
    qbuf = rand_new (rng, nq, -2, 2);
    kbuf = rand_new (rng, nk, -2, 2);
    vbuf = rand_new (rng, nv, -2, 2);
    dq = dev_upload (be, qbuf, nq * 4);
    dk = dev_upload (be, kbuf, nk * 4);
    dv = dev_upload (be, vbuf, nv * 4);
  }
  p.out_row_stride = cq + ac->out_pad;
  p.out_batch_stride = p.out_row_stride * ac->q_len;
  nout = p.out_batch_stride * ac->batch;

  if (ac->use_mask) {
    gsize nm = (gsize) ac->batch * ac->kv_len;
    mask = g_new (uint8_t, nm);
    for (gsize i = 0; i < nm; i++)
      mask[i] = g_rand_double (rng) < 0.7;
    if (ac->mask_one_batch_fully)
      memset (mask, 0, ac->kv_len);
    dmask = (uint8_t *) dev_upload (be, mask, nm);
  }

  want = g_new0 (double, nout);
  p.q = qbuf;
  p.k = kbuf;
  p.v = vbuf;
  p.key_mask = mask;
  naive_attention (want, &p, qbuf, kbuf, vbuf);
  /* padding between output rows is never written */
  dout = dev_poisoned (be, nout);
  for (gsize i = 0; i < nout; i++)
    if ((int64_t) (i % p.out_row_stride) >= cq)
      want[i] = NAN;

  p.q = dq;
  p.k = dk;
  p.v = dv;
  p.key_mask = dmask;
  p.out = dout;
  be->ops->attention (be, &p);
  got = dev_download (be, dout, nout);
  /* exp/sum in fp32 over kv_len terms, one fast-exp (<2 ulp) per score:
   * errors of a few 1e-6 relative to |v| ≤ 2 */
  check_close (ac->what, got, want, nout, 2e-5 * tbk->tol, 1e-5 * tbk->tol);
  if (ac->mask_one_batch_fully)
    for (gsize i = 0; i < (gsize) p.out_batch_stride; i++)
      if ((int64_t) (i % p.out_row_stride) < cq && got[i] != 0.0f) {
        g_test_message ("%s: fully masked row gives %g, not 0", ac->what,
            got[i]);
        g_test_fail ();
        break;
      }

  g_free (got);
  g_free (want);
  g_free (mask);
  if (dmask)
    dev_free (be, dmask);
  dev_free (be, dout);
  if (ac->fused_qkv) {
    g_free (qbuf);
    dev_free (be, dqkv);
  } else {
    g_free (qbuf);
    g_free (kbuf);
    g_free (vbuf);
    dev_free (be, dq);
    dev_free (be, dk);
    dev_free (be, dv);
  }
}

static void
test_attention (gconstpointer data)
{
  GRand *rng = g_rand_new_with_seed (104);
  static const AttnCase cases[] = {
    {"attn tiny", 1, 1, 1, 1, 1, 4},
    {"attn gqa kv300", 2, 4, 2, 70, 300, 16},
    {"attn mha d64 kv513", 1, 3, 3, 129, 513, 64},
    {"attn fused qkv", 2, 3, 3, 65, 65, 8,.fused_qkv = TRUE,.out_pad = 5},
    {"attn mask", 2, 4, 1, 33, 257, 16,.use_mask = TRUE},
    {"attn mask fully masked batch", 2, 2, 2, 7, 300, 8,.use_mask = TRUE,
        .mask_one_batch_fully = TRUE},
    {"attn causal", 1, 2, 2, 130, 130, 16,.causal = TRUE},
    {"attn causal fused", 2, 2, 2, 67, 67, 8,.fused_qkv = TRUE,
        .causal = TRUE},
    {"attn causal offset (kv cache)", 2, 4, 2, 37, 300, 8,.causal = TRUE,
        .causal_offset = 263},
    {"attn causal negative offset", 1, 2, 1, 20, 20, 8,.causal = TRUE,
        .causal_offset = -3},
    {"attn causal + mask", 2, 2, 2, 70, 70, 8,.causal = TRUE,
        .use_mask = TRUE},
    {"attn q longer than kv", 1, 2, 2, 300, 5, 32},
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    run_attention_case (data, rng, &cases[i]);
  g_rand_free (rng);
}

/* A negative causal offset hides every key from the first rows: zeros. */
static void
test_attention_masked_rows_zero (gconstpointer data)
{
  HartBackend *be = BE (data);
  HartAttentionParams p = { 0 };
  float q[4 * 2], k[4 * 2], v[4 * 2], out[4 * 2];
  float *dq, *dk, *dv, *dout;

  for (int i = 0; i < 8; i++) {
    q[i] = (float) i;
    k[i] = 1.0f;
    v[i] = (float) (i + 1);
  }
  dq = dev_upload (be, q, sizeof q);
  dk = dev_upload (be, k, sizeof k);
  dv = dev_upload (be, v, sizeof v);
  dout = dev_poisoned (be, 8);
  p.batch = 1;
  p.q_heads = p.kv_heads = 1;
  p.q_len = p.kv_len = 4;
  p.head_dim = 2;
  p.scale = 1.0f;
  p.q = dq;
  p.k = dk;
  p.v = dv;
  p.out = dout;
  p.q_row_stride = p.k_row_stride = p.v_row_stride = p.out_row_stride = 2;
  p.q_batch_stride = p.k_batch_stride = p.v_batch_stride =
      p.out_batch_stride = 8;
  p.causal = TRUE;
  p.causal_offset = -2;
  be->ops->attention (be, &p);
  be->ops->download (be, out, dout, sizeof out);
  /* rows 0, 1 see nothing; row 2 sees key 0 only (→ v0 = (1, 2)); row 3
   * sees keys 0, 1 with equal scores (k rows are equal) → mean of v0, v1 */
  g_assert_cmpfloat (out[0], ==, 0.0f);
  g_assert_cmpfloat (out[1], ==, 0.0f);
  g_assert_cmpfloat (out[2], ==, 0.0f);
  g_assert_cmpfloat (out[3], ==, 0.0f);
  g_assert_cmpfloat_with_epsilon (out[4], 1.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[5], 2.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[6], 2.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[7], 3.0f, 1e-6);
  dev_free (be, dq);
  dev_free (be, dk);
  dev_free (be, dv);
  dev_free (be, dout);
}

/* ------------------------------------------------------------------ */
/* normalisation, modulation, rope, softmax                             */

static void
test_layer_norm (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (105);
  static const int cases[][2] = { {1, 1}, {1, 3}, {7, 33}, {5, 1536}, {65, 7} };

  for (gsize s = 0; s < G_N_ELEMENTS (cases); s++)
    for (int affine = 0; affine < 4; affine++) {
      int rows = cases[s][0], dim = cases[s][1];
      gsize n = (gsize) rows * dim;
      float *x = rand_new (rng, n, -3, 5), *got;
      float *w = rand_new (rng, dim, -2, 2), *b = rand_new (rng, dim, -1, 1);
      double *want = g_new (double, n);
      float *dx = dev_upload (be, x, n * 4), *dy = dev_poisoned (be, n);
      float *dw = dev_upload (be, w, dim * 4), *db = dev_upload (be, b,
          dim * 4);
      const float eps = 1e-5f;
      gboolean use_w = affine & 1, use_b = affine & 2;

      for (int r = 0; r < rows; r++) {
        double mean = 0, var = 0;
        for (int c = 0; c < dim; c++)
          mean += x[r * dim + c];
        mean /= dim;
        for (int c = 0; c < dim; c++)
          var += (x[r * dim + c] - mean) * (x[r * dim + c] - mean);
        var /= dim;
        for (int c = 0; c < dim; c++)
          want[r * dim + c] = (x[r * dim + c] - mean) / sqrt (var + eps) *
              (use_w ? w[c] : 1.0) + (use_b ? b[c] : 0.0);
      }
      be->ops->layer_norm (be, dy, dx, use_w ? dw : NULL, use_b ? db : NULL,
          rows, dim, eps);
      got = dev_download (be, dy, n);
      check_close ("layer_norm", got, want, n, 1e-5 * TOL (data),
          1e-5 * TOL (data));
      g_free (x);
      g_free (w);
      g_free (b);
      g_free (got);
      g_free (want);
      dev_free (be, dx);
      dev_free (be, dy);
      dev_free (be, dw);
      dev_free (be, db);
    }
  g_rand_free (rng);
}

static void
test_rms_norm (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (106);
  static const int cases[][2] = { {1, 1}, {3, 7}, {7, 33}, {4, 1536} };

  for (gsize s = 0; s < G_N_ELEMENTS (cases); s++)
    for (int use_w = 0; use_w < 2; use_w++) {
      int rows = cases[s][0], dim = cases[s][1];
      gsize n = (gsize) rows * dim;
      float *x = rand_new (rng, n, -3, 4), *w = rand_new (rng, dim, -2, 2);
      float *got;
      double *want = g_new (double, n);
      float *dx = dev_upload (be, x, n * 4), *dy = dev_poisoned (be, n);
      float *dw = dev_upload (be, w, dim * 4);
      const float eps = 1e-6f;

      for (int r = 0; r < rows; r++) {
        double ss = 0;
        for (int c = 0; c < dim; c++)
          ss += (double) x[r * dim + c] * x[r * dim + c];
        for (int c = 0; c < dim; c++)
          want[r * dim + c] = x[r * dim + c] / sqrt (ss / dim + eps) *
              (use_w ? w[c] : 1.0);
      }
      be->ops->rms_norm (be, dy, dx, use_w ? dw : NULL, rows, dim, eps);
      got = dev_download (be, dy, n);
      check_close ("rms_norm", got, want, n, 1e-6 * TOL (data),
          1e-5 * TOL (data));
      g_free (x);
      g_free (w);
      g_free (got);
      g_free (want);
      dev_free (be, dx);
      dev_free (be, dy);
      dev_free (be, dw);
    }
  g_rand_free (rng);
}

static void
test_modulate (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (107);
  const int batch = 3, rows = 5, dim = 33;
  /* scale and shift read from one fused [batch, 2·dim] projection */
  const int64_t mod_stride = 2 * dim;
  gsize n = (gsize) batch * rows * dim;
  float *x = rand_new (rng, n, -2, 2);
  float *mod = rand_new (rng, batch * mod_stride, -1, 1), *got;
  double *want = g_new (double, n);
  float *dx = dev_upload (be, x, n * 4);
  float *dmod = dev_upload (be, mod, batch * mod_stride * 4);

  for (int b = 0; b < batch; b++)
    for (int t = 0; t < rows; t++)
      for (int c = 0; c < dim; c++) {
        gsize i = ((gsize) b * rows + t) * dim + c;
        want[i] = (double) x[i] * (1.0 + mod[b * mod_stride + dim + c]) +
            mod[b * mod_stride + c];
      }
  /* shift first, scale second in the fused buffer */
  be->ops->modulate (be, dx, dmod + dim, dmod, mod_stride, batch, rows, dim);
  got = dev_download (be, dx, n);
  check_close ("modulate", got, want, n, 1e-6, 1e-6);
  g_free (x);
  g_free (mod);
  g_free (got);
  g_free (want);
  dev_free (be, dx);
  dev_free (be, dmod);
  g_rand_free (rng);
}

static void
naive_group_norm (double *y, const float *x, const float *w, const float *b,
    int batch, int channels, int hw, int groups, double eps)
{
  int cpg = channels / groups;
  for (int n = 0; n < batch; n++)
    for (int g = 0; g < groups; g++) {
      const float *xg = x + ((gsize) n * channels + g * cpg) * hw;
      double mean = 0, var = 0;
      gsize len = (gsize) cpg * hw;
      for (gsize i = 0; i < len; i++)
        mean += xg[i];
      mean /= len;
      for (gsize i = 0; i < len; i++)
        var += (xg[i] - mean) * (xg[i] - mean);
      var /= len;
      for (int c = g * cpg; c < (g + 1) * cpg; c++)
        for (int i = 0; i < hw; i++) {
          gsize idx = ((gsize) n * channels + c) * hw + i;
          y[idx] = (x[idx] - mean) / sqrt (var + eps) * (w ? w[c] : 1.0) +
              (b ? b[c] : 0.0);
        }
    }
}

static void
test_group_norm (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (108);
  static const int cases[][4] = {       /* batch, channels, hw, groups */
    {1, 1, 1, 1}, {2, 12, 35, 4}, {2, 12, 35, 1}, {1, 12, 35, 12},
    {1, 64, 257, 32}, {3, 6, 7, 3},
  };

  for (gsize s = 0; s < G_N_ELEMENTS (cases); s++)
    for (int affine = 0; affine < 2; affine++) {
      int batch = cases[s][0], ch = cases[s][1], hw = cases[s][2];
      int groups = cases[s][3];
      gsize n = (gsize) batch * ch * hw;
      float *x = rand_new (rng, n, -2, 6), *got;
      float *w = rand_new (rng, ch, -2, 2), *b = rand_new (rng, ch, -1, 1);
      double *want = g_new (double, n);
      float *dx = dev_upload (be, x, n * 4), *dy = dev_poisoned (be, n);
      float *dw = dev_upload (be, w, ch * 4), *db = dev_upload (be, b, ch * 4);

      naive_group_norm (want, x, affine ? w : NULL, affine ? b : NULL, batch,
          ch, hw, groups, 1e-6);
      be->ops->group_norm (be, dy, dx, affine ? dw : NULL, affine ? db : NULL,
          batch, ch, hw, groups, 1e-6f);
      got = dev_download (be, dy, n);
      check_close ("group_norm", got, want, n, 1e-5 * TOL (data),
          1e-5 * TOL (data));
      g_free (x);
      g_free (w);
      g_free (b);
      g_free (got);
      g_free (want);
      dev_free (be, dx);
      dev_free (be, dy);
      dev_free (be, dw);
      dev_free (be, db);
    }
  g_rand_free (rng);
}

static void
test_rope (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (109);
  const int batch = 2, len = 5, heads = 3, hd = 8, h2 = hd / 2;
  /* q rows inside a fused qkv buffer: row stride 3·heads·hd */
  const int64_t row_stride = 3 * heads * hd, batch_stride = len * row_stride;

  for (int shared = 0; shared < 2; shared++) {
    const int64_t tbs = shared ? 0 : (int64_t) len * hd;
    gsize n = batch * batch_stride, nt = (gsize) batch * len * hd;
    float *x = rand_new (rng, n, -2, 2), *got;
    /* halves differ, as in HART's image RoPE (docs/algorithm.md §5.4) */
    float *cs = rand_new (rng, nt, -1, 1), *sn = rand_new (rng, nt, -1, 1);
    double *want = g_new (double, n);
    float *dx = dev_upload (be, x, n * 4);
    float *dc = dev_upload (be, cs, nt * 4), *ds = dev_upload (be, sn, nt * 4);

    for (gsize i = 0; i < n; i++)
      want[i] = x[i];
    for (int b = 0; b < batch; b++)
      for (int t = 0; t < len; t++)
        for (int h = 0; h < heads; h++)
          for (int d = 0; d < h2; d++) {
            gsize base = b * batch_stride + t * row_stride + h * hd;
            gsize tb = b * tbs + (gsize) t * hd;
            double lo = x[base + d], hi = x[base + d + h2];
            want[base + d] = lo * cs[tb + d] - hi * sn[tb + d];
            want[base + d + h2] = hi * cs[tb + d + h2] + lo * sn[tb + d + h2];
          }
    be->ops->rope (be, dx, batch_stride, row_stride, dc, ds, tbs, batch, len,
        heads, hd);
    got = dev_download (be, dx, n);
    check_close ("rope", got, want, n, 1e-6, 1e-6);
    g_free (x);
    g_free (cs);
    g_free (sn);
    g_free (got);
    g_free (want);
    dev_free (be, dx);
    dev_free (be, dc);
    dev_free (be, ds);
  }
  g_rand_free (rng);
}

static void
test_softmax (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (110);
  const int rows = 6, n = 65;
  gsize total = (gsize) rows * n;
  float *x = rand_new (rng, total, -10, 10), *got;
  double *want = g_new (double, total);
  float *dx;

  /* row 1: large values (overflow without max subtraction) */
  for (int j = 0; j < n; j++)
    x[n + j] += 1000.0f;
  /* row 2: some masked entries */
  for (int j = 0; j < n; j += 3)
    x[2 * n + j] = -INFINITY;
  /* row 3: everything masked → zeros */
  for (int j = 0; j < n; j++)
    x[3 * n + j] = -INFINITY;
  /* row 4: a single visible entry → exactly 1 there */
  for (int j = 0; j < n; j++)
    x[4 * n + j] = j == 17 ? 3.0f : -INFINITY;

  for (int r = 0; r < rows; r++) {
    double mx = -INFINITY, sum = 0;
    for (int j = 0; j < n; j++)
      mx = MAX (mx, x[r * n + j]);
    for (int j = 0; j < n; j++) {
      want[r * n + j] = mx == -INFINITY ? 0.0 : exp (x[r * n + j] - mx);
      sum += want[r * n + j];
    }
    for (int j = 0; j < n; j++)
      want[r * n + j] = sum > 0 ? want[r * n + j] / sum : 0.0;
  }
  dx = dev_upload (be, x, total * 4);
  be->ops->softmax (be, dx, rows, n);
  got = dev_download (be, dx, total);
  check_close ("softmax", got, want, total, 1e-7, 1e-5);
  g_assert_cmpfloat (got[4 * n + 17], ==, 1.0f);
  g_free (x);
  g_free (got);
  g_free (want);
  dev_free (be, dx);
  g_rand_free (rng);
}

/* ------------------------------------------------------------------ */
/* activations and elementwise                                          */

typedef enum
{
  EW_SILU, EW_GELU, EW_GELU_TANH, EW_SWIGLU, EW_ADD, EW_MUL, EW_AXPBY,
  EW_SCALE, EW_CLAMP, EW_N
} ElementwiseOp;

static const char *const ew_names[EW_N] = {
  "silu", "gelu", "gelu_tanh", "swiglu", "add", "mul", "axpby", "scale",
  "clamp"
};

static double
ew_reference (ElementwiseOp op, double a, double b)
{
  switch (op) {
    case EW_SILU:
      return a / (1.0 + exp (-a));
    case EW_GELU:
      return 0.5 * a * (1.0 + erf (a / sqrt (2.0)));
    case EW_GELU_TANH:
      return 0.5 * a * (1.0 + tanh (sqrt (2.0 / G_PI) * (a + 0.044715 * a * a
                  * a)));
    case EW_SWIGLU:
      return a / (1.0 + exp (-a)) * b;
    case EW_ADD:
      return a + b;
    case EW_MUL:
      return a * b;
    case EW_AXPBY:
      return 0.75 * a - 1.25 * b;
    case EW_SCALE:
      return -2.5 * a;
    case EW_CLAMP:
      return a < -1.5 ? -1.5 : (a > 0.5 ? 0.5 : a);
    default:
      return NAN;
  }
}

static void
test_elementwise (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (111);
  /* 100003 is long enough to take the multithreaded path */
  static const gsize sizes[] = { 1, 3, 7, 33, 257, 100003 };

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int op = 0; op < EW_N; op++) {
      gsize n = sizes[s];
      float *a = rand_new (rng, n, -12, 12), *b = rand_new (rng, n, -3, 3);
      float *got;
      double *want = g_new (double, n);
      float *da = dev_upload (be, a, n * 4), *db = dev_upload (be, b, n * 4);
      float *dy = dev_poisoned (be, n);
      char *what = g_strdup_printf ("%s n=%" G_GSIZE_FORMAT, ew_names[op], n);

      for (gsize i = 0; i < n; i++)
        want[i] = ew_reference (op, a[i], b[i]);
      switch (op) {
        case EW_SILU:
          be->ops->silu (be, dy, da, n);
          break;
        case EW_GELU:
          be->ops->gelu (be, dy, da, n);
          break;
        case EW_GELU_TANH:
          be->ops->gelu_tanh (be, dy, da, n);
          break;
        case EW_SWIGLU:
          be->ops->swiglu (be, dy, da, db, n);
          break;
        case EW_ADD:
          be->ops->add (be, dy, da, db, n);
          break;
        case EW_MUL:
          be->ops->mul (be, dy, da, db, n);
          break;
        case EW_AXPBY:
          be->ops->axpby (be, dy, 0.75f, da, -1.25f, db, n);
          break;
        case EW_SCALE:
          be->ops->scale (be, dy, da, -2.5f, n);
          break;
        case EW_CLAMP:
          be->ops->clamp (be, dy, da, -1.5f, 0.5f, n);
          break;
      }
      got = dev_download (be, dy, n);
      /* libm single-precision functions: a few ulp */
      check_close (what, got, want, n, 1e-6, 4e-6);
      g_free (what);
      g_free (a);
      g_free (b);
      g_free (got);
      g_free (want);
      dev_free (be, da);
      dev_free (be, db);
      dev_free (be, dy);
    }
  g_rand_free (rng);
}

/* y may alias x for the in-place uses in the model code. */
static void
test_elementwise_in_place (gconstpointer data)
{
  HartBackend *be = BE (data);
  float x[5] = { -1, 0, 1, 2, 3 }, got[5];
  float *dx = dev_upload (be, x, sizeof x);

  be->ops->add (be, dx, dx, dx, 5);
  be->ops->scale (be, dx, dx, 0.5f, 5);
  be->ops->clamp (be, dx, dx, 0.0f, 2.0f, 5);
  be->ops->download (be, got, dx, sizeof got);
  g_assert_cmpfloat (got[0], ==, 0.0f);
  g_assert_cmpfloat (got[2], ==, 1.0f);
  g_assert_cmpfloat (got[4], ==, 2.0f);
  dev_free (be, dx);
}

static void
test_add_row_vector (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (112);
  static const int cases[][2] = { {1, 1}, {7, 33}, {300, 257} };

  for (gsize s = 0; s < G_N_ELEMENTS (cases); s++) {
    int rows = cases[s][0], dim = cases[s][1];
    gsize n = (gsize) rows * dim;
    float *x = rand_new (rng, n, -1, 1), *v = rand_new (rng, dim, -1, 1);
    float *got;
    double *want = g_new (double, n);
    float *dx = dev_upload (be, x, n * 4), *dv = dev_upload (be, v, dim * 4);

    for (gsize i = 0; i < n; i++)
      want[i] = (double) x[i] + v[i % dim];
    be->ops->add_row_vector (be, dx, dv, rows, dim);
    got = dev_download (be, dx, n);
    check_close ("add_row_vector", got, want, n, 1e-7, 1e-7);
    g_free (x);
    g_free (v);
    g_free (got);
    g_free (want);
    dev_free (be, dx);
    dev_free (be, dv);
  }
  g_rand_free (rng);
}

static void
test_max_over_rows (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (113);
  static const int cases[][3] = { {1, 1, 1}, {2, 300, 33}, {3, 7, 1536} };

  for (gsize s = 0; s < G_N_ELEMENTS (cases); s++) {
    int batch = cases[s][0], len = cases[s][1], dim = cases[s][2];
    gsize n = (gsize) batch * len * dim;
    float *x = rand_new (rng, n, -5, 5), *got;
    double *want = g_new (double, (gsize) batch * dim);
    float *dx = dev_upload (be, x, n * 4);
    float *dy = dev_poisoned (be, (gsize) batch * dim);

    for (int b = 0; b < batch; b++)
      for (int c = 0; c < dim; c++) {
        double m = -INFINITY;
        for (int t = 0; t < len; t++)
          m = MAX (m, x[((gsize) b * len + t) * dim + c]);
        want[b * dim + c] = m;
      }
    be->ops->max_over_rows (be, dy, dx, batch, len, dim);
    got = dev_download (be, dy, (gsize) batch * dim);
    check_close ("max_over_rows", got, want, (gsize) batch * dim, 0, 0);
    g_free (x);
    g_free (got);
    g_free (want);
    dev_free (be, dx);
    dev_free (be, dy);
  }
  g_rand_free (rng);
}

static void
test_embedding (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (114);
  const int n_table = 17, dim = 33, n = 65;
  float *table = rand_new (rng, (gsize) n_table * dim, -1, 1), *got;
  int32_t ids[65];
  double *want = g_new (double, (gsize) n * dim);
  float *dt = dev_upload (be, table, (gsize) n_table * dim * 4);
  int32_t *dids;
  float *dy = dev_poisoned (be, (gsize) n * dim);

  for (int i = 0; i < n; i++)
    ids[i] = i == 0 ? 0 : (i == 1 ? n_table - 1 : g_rand_int_range (rng, 0,
            n_table));
  dids = (int32_t *) dev_upload (be, ids, sizeof ids);
  for (int i = 0; i < n; i++)
    for (int c = 0; c < dim; c++)
      want[i * dim + c] = table[ids[i] * dim + c];
  be->ops->embedding (be, dy, dt, dids, n, dim);
  got = dev_download (be, dy, (gsize) n * dim);
  check_close ("embedding", got, want, (gsize) n * dim, 0, 0);
  g_free (table);
  g_free (got);
  g_free (want);
  dev_free (be, dt);
  dev_free (be, dids);
  dev_free (be, dy);
  g_rand_free (rng);
}

/* copy_2d: rows of one pitch into rows of another (KV-cache appends). */
static void
test_copy_2d (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (115);
  const int rows = 7, src_pitch = 13, dst_pitch = 9, width = 5;
  float *src = rand_new (rng, (gsize) rows * src_pitch, -1, 1), *got;
  double *want = g_new (double, (gsize) rows * dst_pitch);
  float *ds = dev_upload (be, src, (gsize) rows * src_pitch * 4);
  float *dd = dev_poisoned (be, (gsize) rows * dst_pitch);

  be->ops->fill (be, dd, -7.0f, (gsize) rows * dst_pitch);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < dst_pitch; c++)
      want[r * dst_pitch + c] = c < width ? src[r * src_pitch + 3 + c] : -7.0;
  be->ops->copy_2d (be, dd, dst_pitch * 4, ds + 3, src_pitch * 4, width * 4,
      rows);
  got = dev_download (be, dd, (gsize) rows * dst_pitch);
  check_close ("copy_2d", got, want, (gsize) rows * dst_pitch, 0, 0);
  g_free (src);
  g_free (got);
  g_free (want);
  dev_free (be, ds);
  dev_free (be, dd);
  g_rand_free (rng);
}

/* ------------------------------------------------------------------ */
/* images                                                               */

static void
naive_conv2d (double *y, const float *x, const float *w, const float *bias,
    int batch, int cin, int h, int wd, int cout, int k, int pad)
{
  int oh = h + 2 * pad - k + 1, ow = wd + 2 * pad - k + 1;
  for (int n = 0; n < batch; n++)
    for (int co = 0; co < cout; co++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          double s = bias ? bias[co] : 0.0;
          for (int ci = 0; ci < cin; ci++)
            for (int ky = 0; ky < k; ky++)
              for (int kx = 0; kx < k; kx++) {
                int iy = oy + ky - pad, ix = ox + kx - pad;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                  continue;
                s += (double) x[(((gsize) n * cin + ci) * h + iy) * wd + ix] *
                    w[(((gsize) co * cin + ci) * k + ky) * k + kx];
              }
          y[(((gsize) n * cout + co) * oh + oy) * ow + ox] = s;
        }
}

static void
test_conv2d (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (115);
  static const int cases[][7] = {       /* batch, cin, h, w, cout, k, pad */
    {2, 5, 9, 11, 7, 3, 1}, {2, 5, 9, 11, 7, 1, 0}, {1, 5, 9, 11, 7, 5, 2},
    {1, 1, 1, 1, 1, 3, 1}, {1, 3, 1, 7, 2, 3, 1},
    {1, 16, 40, 33, 24, 3, 1},  /* several bands on several threads */
    {2, 32, 17, 19, 8, 1, 0},   /* 1×1 through the split GEMM */
    {1, 4, 8, 6, 3, 3, 0},      /* "valid" convolution: 6×4 output */
    {1, 2, 3, 3, 2, 5, 2},      /* kernel larger than the image */
  };

  for (gsize s = 0; s < G_N_ELEMENTS (cases); s++)
    for (int with_bias = 0; with_bias < 2; with_bias++) {
      int batch = cases[s][0], cin = cases[s][1], h = cases[s][2];
      int wd = cases[s][3], cout = cases[s][4], k = cases[s][5];
      int pad = cases[s][6];
      int oh = h + 2 * pad - k + 1, ow = wd + 2 * pad - k + 1;
      gsize nx = (gsize) batch * cin * h * wd, nw = (gsize) cout *cin * k * k;
      gsize ny = (gsize) batch * cout * oh * ow;
      float *x = rand_new (rng, nx, -1, 1), *w = rand_new (rng, nw, -1, 1);
      float *bias = rand_new (rng, cout, -1, 1), *got;
      double *want = g_new (double, ny);
      float *dx = dev_upload (be, x, nx * 4), *dw = dev_upload (be, w, nw * 4);
      float *db = dev_upload (be, bias, cout * 4), *dy = dev_poisoned (be, ny);
      char *what = g_strdup_printf ("conv2d %dx%d pad %d, %d->%d at %dx%d%s",
          k, k, pad, cin, cout, h, wd, with_bias ? " + bias" : "");

      naive_conv2d (want, x, w, with_bias ? bias : NULL, batch, cin, h, wd,
          cout, k, pad);
      be->ops->conv2d (be, &(const HartConv2dParams) {
            .y = dy,.x = dx,.w = dw,.bias = with_bias ? db : NULL,
            .batch = batch,.cin = cin,.height = h,.width = wd,.cout = cout,
            .k = k,.pad = pad
          });
      got = dev_download (be, dy, ny);
      check_close (what, got, want, ny, 1e-5 * TOL (data) * MAX (1,
              cin * k * k / 64), 1e-5 * TOL (data));
      g_free (what);
      g_free (x);
      g_free (w);
      g_free (bias);
      g_free (got);
      g_free (want);
      dev_free (be, dx);
      dev_free (be, dw);
      dev_free (be, db);
      dev_free (be, dy);
    }
  g_rand_free (rng);
}

static void
test_upsample_nearest2x (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (116);
  const int batch = 2, ch = 3, h = 5, w = 7;
  gsize nx = (gsize) batch * ch * h * w, ny = nx * 4;
  float *x = rand_new (rng, nx, -1, 1), *got;
  double *want = g_new (double, ny);
  float *dx = dev_upload (be, x, nx * 4), *dy = dev_poisoned (be, ny);

  for (int p = 0; p < batch * ch; p++)
    for (int oy = 0; oy < 2 * h; oy++)
      for (int ox = 0; ox < 2 * w; ox++)
        want[((gsize) p * 2 * h + oy) * 2 * w + ox] =
            x[((gsize) p * h + oy / 2) * w + ox / 2];
  be->ops->upsample_nearest2x (be, dy, dx, batch, ch, h, w);
  got = dev_download (be, dy, ny);
  check_close ("upsample_nearest2x", got, want, ny, 0, 0);
  g_free (x);
  g_free (got);
  g_free (want);
  dev_free (be, dx);
  dev_free (be, dy);
  g_rand_free (rng);
}

/* Keys's cubic convolution kernel, A = −0.75, as a function of distance. */
static double
cubic_kernel (double d)
{
  const double A = -0.75;
  d = fabs (d);
  if (d <= 1.0)
    return ((A + 2) * d - (A + 3)) * d * d + 1;
  if (d < 2.0)
    return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
  return 0.0;
}

/* Bicubic resize written as a 4×4 weighted sum over distances (an
 * independent formulation of PyTorch's align_corners = False rule). */
static void
naive_bicubic (double *y, const float *x, int planes, int ih, int iw,
    int oh, int ow)
{
  for (int p = 0; p < planes; p++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        double sy = ((double) ih / oh) * (oy + 0.5) - 0.5;
        double sx = ((double) iw / ow) * (ox + 0.5) - 0.5;
        int y0 = (int) floor (sy), x0 = (int) floor (sx);
        double s = 0;
        for (int j = -1; j <= 2; j++)
          for (int i = -1; i <= 2; i++) {
            int yy = CLAMP (y0 + j, 0, ih - 1), xx = CLAMP (x0 + i, 0, iw - 1);
            s += cubic_kernel (sy - (y0 + j)) * cubic_kernel (sx - (x0 + i)) *
                x[((gsize) p * ih + yy) * iw + xx];
          }
        y[((gsize) p * oh + oy) * ow + ox] = s;
      }
}

static void
test_resize_bicubic (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (117);
  static const int cases[][4] = {
    {1, 1, 8, 8}, {3, 3, 16, 16}, {12, 12, 16, 16}, {5, 7, 9, 13},
    {16, 16, 16, 16}, {2, 9, 64, 64}, {16, 16, 7, 5},
  };
  float hand_x[4] = { 0, 1, 2, 3 }, hand_y[16];
  float *dhx, *dhy;

  for (gsize s = 0; s < G_N_ELEMENTS (cases); s++) {
    int planes = 3, ih = cases[s][0], iw = cases[s][1];
    int oh = cases[s][2], ow = cases[s][3];
    gsize nx = (gsize) planes * ih * iw, ny = (gsize) planes *oh * ow;
    float *x = rand_new (rng, nx, -1, 1), *got;
    double *want = g_new (double, ny);
    float *dx = dev_upload (be, x, nx * 4), *dy = dev_poisoned (be, ny);
    char *what = g_strdup_printf ("bicubic %dx%d->%dx%d", ih, iw, oh, ow);

    naive_bicubic (want, x, planes, ih, iw, oh, ow);
    be->ops->resize_bicubic (be, dy, dx, 1, planes, ih, iw, oh, ow);
    got = dev_download (be, dy, ny);
    /* the source coordinate is formed in fp32 (as PyTorch) vs double here */
    check_close (what, got, want, ny, 2e-6, 2e-6);
    g_free (what);
    g_free (x);
    g_free (got);
    g_free (want);
    dev_free (be, dx);
    dev_free (be, dy);
  }

  /* By hand, 2×2 [[0, 1], [2, 3]] → 4×4: out[0][0] has t = 0.75, taps
   * (0, 0, 0, 1) with weights (−0.03515625, 0.26171875, 0.87890625,
   * −0.10546875), giving rows −0.10546875 and 1.89453125, then
   * −0.31640625; out[1][1] has t = 0.25: 0.6796875.  The 1×1 → 8×8 case
   * is a constant image (the weights sum to 1). */
  dhx = dev_upload (be, hand_x, sizeof hand_x);
  dhy = dev_poisoned (be, 16);
  be->ops->resize_bicubic (be, dhy, dhx, 1, 1, 2, 2, 4, 4);
  be->ops->download (be, hand_y, dhy, sizeof hand_y);
  g_assert_cmpfloat_with_epsilon (hand_y[0], -0.31640625f, 1e-6);
  g_assert_cmpfloat_with_epsilon (hand_y[5], 0.6796875f, 1e-6);
  /* symmetric: out[3][3] = 3 − out[0][0] */
  g_assert_cmpfloat_with_epsilon (hand_y[15], 3.31640625f, 1e-6);
  be->ops->resize_bicubic (be, dhy, dhx + 3, 1, 1, 1, 1, 4, 4);
  be->ops->download (be, hand_y, dhy, sizeof hand_y);
  for (int i = 0; i < 16; i++)
    g_assert_cmpfloat_with_epsilon (hand_y[i], 3.0f, 1e-6);
  dev_free (be, dhx);
  dev_free (be, dhy);
  g_rand_free (rng);
}

static void
test_resize_area (gconstpointer data)
{
  HartBackend *be = BE (data);
  GRand *rng = g_rand_new_with_seed (118);
  static const int cases[][4] = {
    {16, 16, 3, 3}, {16, 16, 5, 5}, {16, 16, 12, 12}, {16, 16, 16, 16},
    {7, 9, 3, 4}, {64, 64, 13, 13}, {1, 1, 1, 1},
  };
  float hand_x[16], hand_y[4];
  float *dhx, *dhy;

  for (gsize s = 0; s < G_N_ELEMENTS (cases); s++) {
    int planes = 2, ih = cases[s][0], iw = cases[s][1];
    int oh = cases[s][2], ow = cases[s][3];
    gsize nx = (gsize) planes * ih * iw, ny = (gsize) planes *oh * ow;
    float *x = rand_new (rng, nx, -1, 1), *got;
    double *want = g_new (double, ny);
    float *dx = dev_upload (be, x, nx * 4), *dy = dev_poisoned (be, ny);
    char *what = g_strdup_printf ("area %dx%d->%dx%d", ih, iw, oh, ow);

    for (int p = 0; p < planes; p++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          int y0 = (int) floor ((double) oy * ih / oh);
          int y1 = (int) ceil ((double) (oy + 1) * ih / oh);
          int x0 = (int) floor ((double) ox * iw / ow);
          int x1 = (int) ceil ((double) (ox + 1) * iw / ow);
          double sum = 0;
          for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++)
              sum += x[((gsize) p * ih + yy) * iw + xx];
          want[((gsize) p * oh + oy) * ow + ox] = sum / ((y1 - y0) * (x1 - x0));
        }
    be->ops->resize_area (be, dy, dx, 1, planes, ih, iw, oh, ow);
    got = dev_download (be, dy, ny);
    check_close (what, got, want, ny, 1e-6, 1e-6);
    if (ih == oh && iw == ow)   /* identity, bit for bit */
      check_close_f ("area identity", got, x, nx, 0, 0);
    g_free (what);
    g_free (x);
    g_free (got);
    g_free (want);
    dev_free (be, dx);
    dev_free (be, dy);
  }

  /* By hand: 4×4 of 0..15 → 2×2 averages of 2×2 blocks; 1×3 [0, 1, 2] →
   * 1×2 with overlapping windows [0, 2) and [1, 3): 0.5, 1.5. */
  for (int i = 0; i < 16; i++)
    hand_x[i] = (float) i;
  dhx = dev_upload (be, hand_x, sizeof hand_x);
  dhy = dev_poisoned (be, 4);
  be->ops->resize_area (be, dhy, dhx, 1, 1, 4, 4, 2, 2);
  be->ops->download (be, hand_y, dhy, sizeof hand_y);
  g_assert_cmpfloat (hand_y[0], ==, 2.5f);
  g_assert_cmpfloat (hand_y[1], ==, 4.5f);
  g_assert_cmpfloat (hand_y[2], ==, 10.5f);
  g_assert_cmpfloat (hand_y[3], ==, 12.5f);
  be->ops->resize_area (be, dhy, dhx, 1, 1, 1, 3, 1, 2);
  be->ops->download (be, hand_y, dhy, 2 * sizeof (float));
  g_assert_cmpfloat (hand_y[0], ==, 0.5f);
  g_assert_cmpfloat (hand_y[1], ==, 1.5f);
  dev_free (be, dhx);
  dev_free (be, dhy);
  g_rand_free (rng);
}

/* ------------------------------------------------------------------ */
/* PyTorch goldens                                                      */

/* Runs an image op on golden input `<tag>.x` and compares with `<tag>.y`. */
static void
golden_resize (const TestBackend * tb, Goldens * g, const char *tag,
    gboolean bicubic, int ih, int iw, int oh, int ow, double atol, double rtol)
{
  HartBackend *be = tb->be;
  const int planes = 2;
  char *xn = g_strconcat (tag, ".x", NULL), *yn = g_strconcat (tag, ".y", NULL);
  gsize nx = (gsize) planes * ih * iw, ny = (gsize) planes *oh * ow;
  const float *x = goldens_f32 (g, xn, nx), *want = goldens_f32 (g, yn, ny);
  float *dx = dev_upload (be, x, nx * 4), *dy = dev_poisoned (be, ny), *got;

  if (bicubic)
    be->ops->resize_bicubic (be, dy, dx, 1, planes, ih, iw, oh, ow);
  else
    be->ops->resize_area (be, dy, dx, 1, planes, ih, iw, oh, ow);
  got = dev_download (be, dy, ny);
  check_close_f (tag, got, want, ny, atol, rtol);
  g_free (got);
  g_free (xn);
  g_free (yn);
  dev_free (be, dx);
  dev_free (be, dy);
}

static void
test_goldens_resize (gconstpointer data)
{
  Goldens *g = goldens_open ();
  if (g == NULL)
    return;
  /* bicubic: PyTorch fuses some fp32 operations differently (docs/algorithm.md §8.2
   * expects 1–2 ulp on the square cases).  On 5×7 → 9×13 PyTorch's own
   * fp32 output is up to 2.3e-6 (absolute, on values up to ~3) away from
   * its float64 output, so allow 3e-6 + 1e-6·|y|: still far below any
   * formula or tap error (≥ 1e-2). */
  golden_resize (data, g, "bicubic_1to8", TRUE, 1, 1, 8, 8, 3e-6, 1e-6);
  golden_resize (data, g, "bicubic_3to16", TRUE, 3, 3, 16, 16, 3e-6, 1e-6);
  golden_resize (data, g, "bicubic_12to16", TRUE, 12, 12, 16, 16, 3e-6, 1e-6);
  golden_resize (data, g, "bicubic_5x7to9x13", TRUE, 5, 7, 9, 13, 3e-6, 1e-6);
  /* area: same summation order and divisions as PyTorch → (nearly) exact */
  golden_resize (data, g, "area_16to3", FALSE, 16, 16, 3, 3, 1e-7, 0);
  golden_resize (data, g, "area_16to5", FALSE, 16, 16, 5, 5, 1e-7, 0);
  golden_resize (data, g, "area_16to12", FALSE, 16, 16, 12, 12, 1e-7, 0);
  golden_resize (data, g, "area_16to16", FALSE, 16, 16, 16, 16, 0, 0);
  goldens_close (g);
}

static void
test_goldens_norm_act (gconstpointer data)
{
  HartBackend *be = BE (data);
  Goldens *g = goldens_open ();
  float *dx, *dy, *dw, *db, *got;

  if (g == NULL)
    return;
  /* group_norm: [2, 12, 5, 7], 4 groups, eps 1e-6 */
  dx = dev_upload (be, goldens_f32 (g, "group_norm.x", 840), 840 * 4);
  dw = dev_upload (be, goldens_f32 (g, "group_norm.w", 12), 12 * 4);
  db = dev_upload (be, goldens_f32 (g, "group_norm.b", 12), 12 * 4);
  dy = dev_poisoned (be, 840);
  be->ops->group_norm (be, dy, dx, dw, db, 2, 12, 35, 4, 1e-6f);
  got = dev_download (be, dy, 840);
  /* torch accumulates statistics in fp32: a few ulp of |y| ≤ ~6 */
  check_close_f ("golden group_norm", got, goldens_f32 (g, "group_norm.y",
          840), 840, 5e-6, 2e-6);
  g_free (got);
  dev_free (be, dx);
  dev_free (be, dy);
  dev_free (be, dw);
  dev_free (be, db);

  /* layer_norm: [7, 33], affine eps 1e-5 and plain eps 1e-6 */
  dx = dev_upload (be, goldens_f32 (g, "layer_norm.x", 231), 231 * 4);
  dw = dev_upload (be, goldens_f32 (g, "layer_norm.w", 33), 33 * 4);
  db = dev_upload (be, goldens_f32 (g, "layer_norm.b", 33), 33 * 4);
  dy = dev_poisoned (be, 231);
  be->ops->layer_norm (be, dy, dx, dw, db, 7, 33, 1e-5f);
  got = dev_download (be, dy, 231);
  check_close_f ("golden layer_norm", got, goldens_f32 (g, "layer_norm.y",
          231), 231, 5e-6, 2e-6);
  g_free (got);
  be->ops->layer_norm (be, dy, dx, NULL, NULL, 7, 33, 1e-6f);
  got = dev_download (be, dy, 231);
  check_close_f ("golden layer_norm plain", got, goldens_f32 (g,
          "layer_norm.y_plain", 231), 231, 5e-6, 2e-6);
  g_free (got);
  dev_free (be, dx);
  dev_free (be, dy);
  dev_free (be, dw);
  dev_free (be, db);

  /* activations over [-12, 12]: libm vs ATen vectorised kernels, ~2 ulp */
  dx = dev_upload (be, goldens_f32 (g, "act.x", 257), 257 * 4);
  dy = dev_poisoned (be, 257);
  be->ops->gelu (be, dy, dx, 257);
  got = dev_download (be, dy, 257);
  check_close_f ("golden gelu", got, goldens_f32 (g, "act.gelu", 257), 257,
      1e-6, 1e-6);
  g_free (got);
  be->ops->gelu_tanh (be, dy, dx, 257);
  got = dev_download (be, dy, 257);
  check_close_f ("golden gelu_tanh", got, goldens_f32 (g, "act.gelu_tanh",
          257), 257, 1e-6, 1e-6);
  g_free (got);
  be->ops->silu (be, dy, dx, 257);
  got = dev_download (be, dy, 257);
  check_close_f ("golden silu", got, goldens_f32 (g, "act.silu", 257), 257,
      1e-6, 1e-6);
  g_free (got);
  dev_free (be, dx);
  dev_free (be, dy);
  goldens_close (g);
}

static void
test_goldens_conv2d (gconstpointer data)
{
  HartBackend *be = BE (data);
  Goldens *g = goldens_open ();
  static const struct
  {
    const char *tag;
    int k;
  } convs[] = { {"conv3", 3}, {"conv5", 5}, {"conv1", 1} };

  if (g == NULL)
    return;
  for (gsize c = 0; c < G_N_ELEMENTS (convs); c++) {
    const int k = convs[c].k, nx = 2 * 5 * 9 * 11, nw = 7 * 5 * k * k;
    const int ny = 2 * 7 * 9 * 11;
    char *xn = g_strconcat (convs[c].tag, ".x", NULL);
    char *wn = g_strconcat (convs[c].tag, ".w", NULL);
    char *bn = g_strconcat (convs[c].tag, ".b", NULL);
    char *yn = g_strconcat (convs[c].tag, ".y", NULL);
    float *dx = dev_upload (be, goldens_f32 (g, xn, nx), nx * 4);
    float *dw = dev_upload (be, goldens_f32 (g, wn, nw), nw * 4);
    float *db = dev_upload (be, goldens_f32 (g, bn, 7), 7 * 4);
    float *dy = dev_poisoned (be, ny), *got;

    be->ops->conv2d (be, &(const HartConv2dParams) {
          .y = dy,.x = dx,.w = dw,.bias = db,.batch = 2,.cin = 5,.height = 9,
          .width = 11,.cout = 7,.k = k,.pad = (k - 1) / 2
        });
    got = dev_download (be, dy, ny);
    /* different fp32 summation orders over ≤ 125 products of size ~0.3 */
    check_close_f (convs[c].tag, got, goldens_f32 (g, yn, ny), ny,
        1e-5 * TOL (data), 1e-5 * TOL (data));
    g_free (got);
    g_free (xn);
    g_free (wn);
    g_free (bn);
    g_free (yn);
    dev_free (be, dx);
    dev_free (be, dw);
    dev_free (be, db);
    dev_free (be, dy);
  }
  goldens_close (g);
}

static void
test_goldens_sdpa (gconstpointer data)
{
  HartBackend *be = BE (data);
  Goldens *g = goldens_open ();
  const int B = 2, HQ = 4, HKV = 2, LQ = 37, LK = 300, D = 8;
  const gsize nq = (gsize) B * LQ * HQ * D, nk = (gsize) B *LK * HKV * D;
  HartAttentionParams p = { 0 };
  float *dq, *dk, *dv, *dout, *got;
  uint8_t *dmask;

  if (g == NULL)
    return;
  dq = dev_upload (be, goldens_f32 (g, "sdpa.q", nq), nq * 4);
  dk = dev_upload (be, goldens_f32 (g, "sdpa.k", nk), nk * 4);
  dv = dev_upload (be, goldens_f32 (g, "sdpa.v", nk), nk * 4);
  dmask = (uint8_t *) dev_upload (be, goldens_get (g, "sdpa.mask", "U8",
          (gsize) B * LK), (gsize) B * LK);
  dout = dev_poisoned (be, nq);

  p.batch = B;
  p.q_heads = HQ;
  p.kv_heads = HKV;
  p.q_len = LQ;
  p.kv_len = LK;
  p.head_dim = D;
  p.scale = 0.3f;
  p.q = dq;
  p.q_row_stride = HQ * D;
  p.q_batch_stride = (int64_t) LQ *HQ * D;
  p.k = dk;
  p.v = dv;
  p.k_row_stride = p.v_row_stride = HKV * D;
  p.k_batch_stride = p.v_batch_stride = (int64_t) LK *HKV * D;
  p.out = dout;
  p.out_row_stride = HQ * D;
  p.out_batch_stride = (int64_t) LQ *HQ * D;

  /* reference in float64: our fp32 result within a few 1e-6 */
  be->ops->attention (be, &p);
  got = dev_download (be, dout, nq);
  check_close_f ("golden sdpa", got, goldens_f32 (g, "sdpa.out", nq), nq,
      1e-5 * TOL (data), 1e-5 * TOL (data));
  g_free (got);

  p.key_mask = dmask;
  be->ops->attention (be, &p);
  got = dev_download (be, dout, nq);
  check_close_f ("golden sdpa masked", got, goldens_f32 (g,
          "sdpa.out_masked", nq), nq, 1e-5 * TOL (data), 1e-5 * TOL (data));
  g_free (got);

  p.key_mask = NULL;
  p.causal = TRUE;
  p.causal_offset = LK - LQ;
  be->ops->attention (be, &p);
  got = dev_download (be, dout, nq);
  check_close_f ("golden sdpa causal", got, goldens_f32 (g,
          "sdpa.out_causal", nq), nq, 1e-5 * TOL (data), 1e-5 * TOL (data));
  g_free (got);

  dev_free (be, dq);
  dev_free (be, dk);
  dev_free (be, dv);
  dev_free (be, dmask);
  dev_free (be, dout);
  goldens_close (g);
}

/* ------------------------------------------------------------------ */

static void
add_backend_tests (TestBackend * tb)
{
  static const struct
  {
    const char *name;
    GTestDataFunc func;
  } tests[] = {
    {"op-table", test_op_table_complete},
    {"memory", test_memory},
    {"copy-2d", test_copy_2d},
    {"gemm", test_gemm},
    {"gemm-batched", test_gemm_batched},
    {"linear", test_linear},
    {"attention", test_attention},
    {"attention-masked-rows", test_attention_masked_rows_zero},
    {"layer-norm", test_layer_norm},
    {"rms-norm", test_rms_norm},
    {"modulate", test_modulate},
    {"group-norm", test_group_norm},
    {"rope", test_rope},
    {"softmax", test_softmax},
    {"elementwise", test_elementwise},
    {"elementwise-in-place", test_elementwise_in_place},
    {"add-row-vector", test_add_row_vector},
    {"max-over-rows", test_max_over_rows},
    {"embedding", test_embedding},
    {"conv2d", test_conv2d},
    {"upsample-nearest2x", test_upsample_nearest2x},
    {"resize-bicubic", test_resize_bicubic},
    {"resize-area", test_resize_area},
    {"golden/resize", test_goldens_resize},
    {"golden/norm-act", test_goldens_norm_act},
    {"golden/conv2d", test_goldens_conv2d},
    {"golden/sdpa", test_goldens_sdpa},
  };

  for (gsize i = 0; i < G_N_ELEMENTS (tests); i++) {
    char *path = g_strdup_printf ("/ops/%s/%s", tb->name, tests[i].name);
    g_test_add_data_func (path, tb, tests[i].func);
    g_free (path);
  }
}

int
main (int argc, char **argv)
{
  TestBackend backends[2];
  int n_backends = 0, rc;
  GError *error = NULL;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/backend-new", test_backend_new);

  backends[n_backends] = (TestBackend) {
  "cpu", hart_backend_new ("cpu", 0, 0, &error), 1.0};
  g_assert_no_error (error);
  add_backend_tests (&backends[n_backends++]);

  if (hart_backend_is_compiled ("cuda")) {
    HartBackend *cuda = hart_backend_new ("cuda", 0, 0, &error);
    if (cuda != NULL) {
      /* GPU GEMMs may round through TF32 or reduced-precision sums */
      backends[n_backends] = (TestBackend) {
      "cuda", cuda, 50.0};
      add_backend_tests (&backends[n_backends++]);
    } else {
      g_test_message ("cuda backend compiled but unavailable: %s",
          error->message);
      g_clear_error (&error);
    }
  }

  rc = g_test_run ();
  for (int i = 0; i < n_backends; i++)
    hart_backend_free (backends[i].be);
  return rc;
}
