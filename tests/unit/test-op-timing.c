/* gst-hart — per-op timing (kernels/op-timing.h, hart_engine_time_ops)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *  - the wrapper passes every call through: the same outputs, bit for bit,
 *    op by op and for a whole generation of the bundled model;
 *  - it counts each call once, with the op's nominal work (exact counts,
 *    also from several threads at once);
 *  - a member the backend lacks stays NULL, and the backend is destroyed
 *    through the wrapper;
 *  - through the engine: nothing before hart_engine_time_ops (), then the
 *    ops a generation runs, their time within the generation's.
 */
#include "hart/hart.h"
#include "hart/bundled-model.h"
#include "hart/text-encoder.h"
#include "kernels/op-timing.h"

#include <glib.h>
#include <string.h>

static float *
random_floats (GRand * rand, gsize n)
{
  float *v = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rand, -1, 1);
  return v;
}

static const HartOpTotal *
find_total (const HartOpTotal * totals, const char *op)
{
  for (int i = 0; i < HART_N_TIMED_OPS; i++)
    if (strcmp (totals[i].op, op) == 0)
      return &totals[i];
  g_assert_not_reached ();
  return NULL;
}

static HartBackend *
cpu_backend (int n_threads)
{
  GError *error = NULL;
  HartBackend *be = hart_backend_new ("cpu", 0, n_threads, &error);

  g_assert_no_error (error);
  return be;
}

/* linear, gemm_batched, attention and conv2d through a plain and a timed
 * backend: the same bits, and each counted once with its nominal work */
static void
test_pass_through (void)
{
  HartBackend *plain = cpu_backend (2), *timed = cpu_backend (2);
  HartOpTotal totals[HART_N_TIMED_OPS];
  GRand *rand = g_rand_new_with_seed (7);
  enum
  { R = 5, IN = 24, OUT = 17, BATCH = 3, L = 9, HEADS = 2, D = 8,
    CIN = 3, COUT = 4, H = 6, W = 7, K = 3
  };
  float *x = random_floats (rand, R * IN), *w = random_floats (rand,
      OUT * IN), *bias = random_floats (rand, OUT);
  float *y0 = g_new0 (float, R * OUT), *y1 = g_new0 (float, R * OUT);
  float *a = random_floats (rand, BATCH * L * IN), *b =
      random_floats (rand, BATCH * IN * OUT);
  float *c0 = g_new0 (float, BATCH * L * OUT), *c1 =
      g_new0 (float, BATCH * L * OUT);
  float *qkv = random_floats (rand, 2 * L * 3 * HEADS * D);
  float *o0 = g_new0 (float, 2 * L * HEADS * D), *o1 =
      g_new0 (float, 2 * L * HEADS * D);
  float *img = random_floats (rand, 2 * CIN * H * W), *cw =
      random_floats (rand, COUT * CIN * K * K);
  float *i0 = g_new0 (float, 2 * COUT * H * W), *i1 =
      g_new0 (float, 2 * COUT * H * W);
  HartGemmBatchedParams gp = {
    .trans_a = FALSE,.trans_b = FALSE,.m = L,.n = OUT,.k = IN,.batch = BATCH,
    .alpha = 1,.beta = 0,.a = a,.lda = IN,.stride_a = L * IN,.b = b,
    .ldb = OUT,.stride_b = IN * OUT,.ldc = OUT,.stride_c = L * OUT,
  };
  HartAttentionParams ap = {
    .batch = 2,.q_heads = HEADS,.kv_heads = HEADS,.q_len = L,.kv_len = L,
    .head_dim = D,.scale = 0.35f,.q = qkv,.q_batch_stride = L * 3 * HEADS * D,
    .q_row_stride = 3 * HEADS * D,.k = qkv + HEADS * D,
    .k_batch_stride = L * 3 * HEADS * D,.k_row_stride = 3 * HEADS * D,
    .v = qkv + 2 * HEADS * D,.v_batch_stride = L * 3 * HEADS * D,
    .v_row_stride = 3 * HEADS * D,.out_batch_stride = L * HEADS * D,
    .out_row_stride = HEADS * D,.causal = TRUE,
  };
  HartConv2dParams cp = {
    .x = img,.w = cw,.bias = bias,.batch = 2,.cin = CIN,.height = H,
    .width = W,.cout = COUT,.k = K,.pad = 1,
  };
  guint64 ns = 0;

  g_assert_false (hart_backend_ops_timed (timed));
  g_assert_false (hart_backend_get_op_totals (timed, totals));
  hart_backend_time_ops (timed);
  g_assert_true (hart_backend_ops_timed (timed));
  g_assert_false (hart_backend_ops_timed (plain));
  g_assert_cmpstr (timed->ops->name, ==, plain->ops->name);

  plain->ops->linear (plain, y0, x, w, bias, R, IN, OUT);
  timed->ops->linear (timed, y1, x, w, bias, R, IN, OUT);
  g_assert_cmpmem (y0, R * OUT * sizeof (float), y1, R * OUT * sizeof (float));

  gp.c = c0;
  plain->ops->gemm_batched (plain, &gp);
  gp.c = c1;
  timed->ops->gemm_batched (timed, &gp);
  g_assert_cmpmem (c0, BATCH * L * OUT * sizeof (float), c1,
      BATCH * L * OUT * sizeof (float));

  ap.out = o0;
  plain->ops->attention (plain, &ap);
  ap.out = o1;
  timed->ops->attention (timed, &ap);
  g_assert_cmpmem (o0, 2 * L * HEADS * D * sizeof (float), o1,
      2 * L * HEADS * D * sizeof (float));

  cp.y = i0;
  plain->ops->conv2d (plain, &cp);
  cp.y = i1;
  timed->ops->conv2d (timed, &cp);
  g_assert_cmpmem (i0, 2 * COUT * H * W * sizeof (float), i1,
      2 * COUT * H * W * sizeof (float));

  timed->ops->silu (timed, y1, y1, R * OUT);
  timed->ops->silu (timed, y1, y1, R * OUT);

  g_assert_true (hart_backend_get_op_totals (timed, totals));
  for (int i = 0; i < HART_N_TIMED_OPS; i++) {
    g_assert_nonnull (totals[i].op);
    for (int j = 0; j < i; j++)
      g_assert_cmpstr (totals[i].op, !=, totals[j].op);
    ns += totals[i].ns;
  }
  g_assert_cmpuint (find_total (totals, "linear")->calls, ==, 1);
  g_assert_cmpuint (find_total (totals, "linear")->flops, ==, 2 * R * IN * OUT);
  g_assert_cmpuint (find_total (totals, "gemm_batched")->calls, ==, 1);
  g_assert_cmpuint (find_total (totals, "gemm_batched")->flops, ==,
      2 * BATCH * L * IN * OUT);
  /* every query against every key, the causal mask notwithstanding */
  g_assert_cmpuint (find_total (totals, "attention")->flops, ==,
      2 * HEADS * 4 * L * L * D);
  /* pad 1, k 3: the output is H × W */
  g_assert_cmpuint (find_total (totals, "conv2d")->flops, ==,
      2 * 2 * COUT * H * W * CIN * K * K);
  g_assert_cmpuint (find_total (totals, "silu")->calls, ==, 2);
  g_assert_cmpuint (find_total (totals, "silu")->flops, ==, 0);
  g_assert_cmpuint (find_total (totals, "gemm")->calls, ==, 0);
  g_assert_cmpuint (ns, >, 0);

  /* a second wrap changes nothing */
  {
    const HartBackendOps *ops = timed->ops;
    hart_backend_time_ops (timed);
    g_assert_true (timed->ops == ops);
    g_assert_true (hart_backend_get_op_totals (timed, totals));
    g_assert_cmpuint (find_total (totals, "silu")->calls, ==, 2);
  }

  hart_backend_free (plain);
  hart_backend_free (timed);
  g_rand_free (rand);
  g_free (x);
  g_free (w);
  g_free (bias);
  g_free (y0);
  g_free (y1);
  g_free (a);
  g_free (b);
  g_free (c0);
  g_free (c1);
  g_free (qkv);
  g_free (o0);
  g_free (o1);
  g_free (img);
  g_free (cw);
  g_free (i0);
  g_free (i1);
}

/* ---- a backend with few members ---- */

static int destroyed;

static void
fake_destroy (HartBackend * be)
{
  destroyed++;
  g_free (be);
}

static void
fake_scale (HartBackend * be, float *y, const float *x, float alpha, gsize n)
{
  for (gsize i = 0; i < n; i++)
    y[i] = alpha * x[i];
}

static gboolean
fake_synchronize (HartBackend * be, GError ** error)
{
  /* counted in `destroyed`'s neighbour: a queued backend is waited for */
  (*(int *) be->priv)++;
  return TRUE;
}

static const HartBackendOps fake_ops = {
  .name = "fake",
  .destroy = fake_destroy,
  .synchronize = fake_synchronize,
  .scale = fake_scale,
};

/* NULL members stay NULL (the engine asks whether a backend has an op by
 * looking at its member); a queued backend is synchronised after each op;
 * destroying goes through to the backend's own destroy */
static void
test_partial_table (void)
{
  HartBackend *be = g_new0 (HartBackend, 1);
  HartOpTotal totals[HART_N_TIMED_OPS];
  int syncs = 0;
  float x[3] = { 1, 2, 3 }, y[3];

  be->ops = &fake_ops;
  be->priv = &syncs;
  be->host_memory = FALSE;
  hart_backend_time_ops (be);
  g_assert_null (be->ops->linear);
  g_assert_null (be->ops->linear_half);
  g_assert_null (be->ops->conv2d_half);
  g_assert_null (be->ops->alloc);
  g_assert_nonnull (be->ops->scale);
  g_assert_true (be->ops->synchronize == fake_synchronize);
  g_assert_cmpstr (be->ops->name, ==, "fake");

  be->ops->scale (be, y, x, 2.0f, 3);
  g_assert_cmpfloat (y[2], ==, 6.0f);
  g_assert_cmpint (syncs, ==, 1);
  g_assert_true (hart_backend_get_op_totals (be, totals));
  g_assert_cmpuint (find_total (totals, "scale")->calls, ==, 1);

  /* a backend with host memory is not synchronised */
  be->host_memory = TRUE;
  be->ops->scale (be, y, x, 2.0f, 3);
  g_assert_cmpint (syncs, ==, 1);

  destroyed = 0;
  hart_backend_free (be);
  g_assert_cmpint (destroyed, ==, 1);
}

/* ---- several threads on one timed backend ---- */

#define THREAD_CALLS 2000

static gpointer
call_scale (gpointer data)
{
  HartBackend *be = data;
  float x[16] = { 0 }, y[16];

  for (int i = 0; i < THREAD_CALLS; i++)
    be->ops->scale (be, y, x, 1.0f, 16);
  return NULL;
}

static void
test_threads (void)
{
  HartBackend *be = cpu_backend (1);
  HartOpTotal totals[HART_N_TIMED_OPS];
  GThread *threads[4];

  hart_backend_time_ops (be);
  for (int i = 0; i < 4; i++)
    threads[i] = g_thread_new ("caller", call_scale, be);
  for (int i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  g_assert_true (hart_backend_get_op_totals (be, totals));
  g_assert_cmpuint (find_total (totals, "scale")->calls, ==, 4 * THREAD_CALLS);
  hart_backend_free (be);
}

/* ---- through the engine, a generation of the bundled model ---- */

static const HartOpTime *
find_time (const HartOpTime * times, int n, const char *op)
{
  for (int i = 0; i < n; i++)
    if (strcmp (times[i].op, op) == 0)
      return &times[i];
  g_assert_not_reached ();
  return NULL;
}

/* The seconds of every timed op so far (0 when not timed) */
static double
op_seconds (HartEngine * engine)
{
  HartOpTime times[64];
  int n = MIN (hart_engine_get_op_times (engine, times, 64), 64);
  double s = 0;

  for (int i = 0; i < n; i++)
    s += times[i].seconds;
  return s;
}

/* A picture of the bundled model; *seconds: the generation's wall time,
 * *in_ops: the time its ops took */
static guint8 *
generate (HartEngine * engine, const char *dir, gsize * size,
    double *seconds, double *in_ops)
{
  const char *const prompts[] = { "a red circle on a blue background" };
  GError *error = NULL;
  HartModel *model = hart_model_load (engine, dir, TRUE, &error);
  char *qwen = hart_text_encoder_default_dir (dir);
  HartTextEncoder *encoder;
  HartContext *ctx;
  HartGenerateParams params;
  HartImage **images;
  guint8 *bytes;
  gint64 t0;

  g_assert_no_error (error);
  encoder = hart_text_encoder_load (engine, qwen, NULL, &error);
  g_assert_no_error (error);
  ctx = hart_text_encoder_encode (encoder, prompts, 1,
      hart_model_get_transformer_config (model)->context_token, NULL, &error);
  g_assert_no_error (error);
  hart_generate_params_init (&params);
  params.seed = 3;
  *in_ops = op_seconds (engine);
  t0 = g_get_monotonic_time ();
  images = hart_model_generate (model, ctx, &params, NULL, &error);
  *seconds = (g_get_monotonic_time () - t0) / 1e6;
  *in_ops = op_seconds (engine) - *in_ops;
  g_assert_no_error (error);
  *size = (gsize) images[0]->height * images[0]->stride;
  bytes = g_memdup2 (images[0]->rgb, *size);
  hart_images_free (images);
  hart_context_free (ctx);
  hart_text_encoder_free (encoder);
  hart_model_unref (model);
  g_free (qwen);
  return bytes;
}

static void
test_engine_generation (void)
{
  GError *error = NULL;
  char *dir = hart_bundled_model_path (&error);
  HartEngine *plain, *timed;
  HartOpTime times[64];
  guint8 *a, *b;
  gsize na, nb;
  double sa, sb, oa, ob;
  int n;

  g_assert_no_error (error);
  plain = hart_engine_new_full ("cpu", 0, 2, &error);
  g_assert_no_error (error);
  timed = hart_engine_new_full ("cpu", 0, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hart_engine_get_op_times (timed, times, 64), ==, 0);
  hart_engine_time_ops (timed);
  n = hart_engine_get_op_times (timed, times, 64);
  g_assert_cmpint (n, ==, HART_N_TIMED_OPS);
  for (int i = 0; i < n; i++)
    g_assert_cmpuint (times[i].calls, ==, 0);

  a = generate (plain, dir, &na, &sa, &oa);
  b = generate (timed, dir, &nb, &sb, &ob);
  g_assert_cmpmem (a, na, b, nb);

  g_assert_cmpint (hart_engine_get_op_times (timed, times, 64), ==, n);
  /* the bundled model's fp32 generation: its transformer's linears and
   * attention, the decoder's convolutions */
  g_assert_cmpuint (find_time (times, n, "linear")->calls, >, 0);
  g_assert_cmpfloat (find_time (times, n, "linear")->flops, >, 0);
  g_assert_cmpuint (find_time (times, n, "attention")->calls, >, 0);
  g_assert_cmpuint (find_time (times, n, "conv2d")->calls, >, 0);
  g_assert_cmpuint (find_time (times, n, "linear_half")->calls, ==, 0);
  g_assert_cmpfloat (find_time (times, n, "linear")->seconds, >, 0);
  g_assert_cmpfloat (oa, ==, 0);
  /* the generation's ops ran on its thread one after the other, within
   * its wall time (2 µs: the two clocks' rounding) */
  g_assert_cmpfloat (ob, >, 0);
  g_assert_cmpfloat (ob, <=, sb + 2e-6);

  /* fewer entries asked for: the count is still the whole table's */
  g_assert_cmpint (hart_engine_get_op_times (timed, times, 2), ==, n);

  g_free (a);
  g_free (b);
  hart_engine_unref (plain);
  hart_engine_unref (timed);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/op-timing/pass-through", test_pass_through);
  g_test_add_func ("/op-timing/partial-table", test_partial_table);
  g_test_add_func ("/op-timing/threads", test_threads);
  g_test_add_func ("/op-timing/engine-generation", test_engine_generation);
  return g_test_run ();
}
