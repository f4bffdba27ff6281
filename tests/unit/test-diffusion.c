/* gst-hart — tests of the diffusion head (hart/diffusion.c)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Goldens: tests/fixtures/goldens/diffusion-{tiny,tiny2}.safetensors and
 * diffusion-tiny-replay.safetensors, made by
 * tests/reference/make_module_goldens.py (float64 PyTorch written from
 * docs/algorithm.md §7, running the official full-state loop) on the tiny fixtures.
 */
#include <string.h>
#include <math.h>
#include <glib/gstdio.h>

#include "hart/checkpoint.h"
#include "hart/config.h"
#include "hart/diffusion.h"
#include "hart/draws.h"
#include "hart/error.h"
#include "hart/safetensors-write.h"
#include "kernels/backend.h"

static const char *fixtures;

/* One network evaluation in fp32 against float64: inputs of unit scale,
 * width ≤ 64, ≤ 3 blocks; outputs of order 1 agree to < 1e-6 (8e-7
 * measured).  The tolerance (relative to max(1, |want|)) is 2e-5, for other
 * summation orders; a wrong chunk order or a missing term changes outputs by
 * order 1. */
#define NET_TOLERANCE 2e-5
/* The 8-step sample: errors stay at the network's level (3.5e-6 measured)
 * because the first step's √(1/ᾱ') = 20291 amplification is almost always
 * clamped away (an x0 landing inside (-1, 1) there would carry ~1e-3 of fp32
 * noise; none does in these goldens), and later steps shrink errors
 * (coef2 ≤ 0.53).  1e-4 absolute on values in [-0.6, 0.6]; wrong noise
 * rows, a wrong ε mix or a wrong step order are off by ~0.1. */
#define SAMPLE_TOLERANCE 1e-4

/* docs/algorithm.md §7.2 table: n, T_n, β', ᾱ', √(1/ᾱ'), √(1/ᾱ'−1), coef1, coef2,
 * log-var min (clipped), log-var max */
static const struct
{
  int orig_t;
  double beta, alpha_cumprod, sra, srm1, coef1, coef2, lv_min, lv_max;
} spec_table[8] = {
  {0, 4.1284224821969e-05, 0.99995871577517803, 1.0000206427515781,
      0.0064254127711411832, 1, 0, -10.095740847876367, -10.095030096534471},
  {143, 0.054878202604316861, 0.94508277877491531, 1.0286439478842098,
        0.24105678069453398, 0.99926887352289195, 0.00073083522265639277,
      -10.095740847876367, -2.9026390474799113},
  {285, 0.14874573952163239, 0.80450574193688118, 1.1148987433514617,
        0.49294949835319674, 0.73968268729535502, 0.2591816183416058,
      -3.1752209024668083, -1.9055168768379631},
  {428, 0.24954569514313463, 0.60374479731859887, 1.2869844493387066,
        0.81014132892949853, 0.56485851379202867, 0.42738684981163605,
      -2.0946406801212949, -1.3881132336936326},
  {571, 0.36607192099455799, 0.38273077957370932, 1.616416611763529,
        1.2699616776836564, 0.46080639453738581, 0.5111170281156362,
      -1.4481722710789078, -1.0049254594358257},
  {714, 0.51756579236150757, 0.18464242038250497, 2.3272029447164662,
        2.101397997975869, 0.39270293475882612, 0.52583023744574775,
      -0.93694012539781846, -0.65861862692549966},
  {856, 0.73543884097476675, 0.048849212741619866, 4.5245064900307899,
        4.4126136221439944, 0.33224842677706368, 0.44092201488384342,
      -0.4613337368783933, -0.30728789538952611},
  {999, 0.99999995028032651, 2.4287669077292637e-09, 20291.169631760429,
        20291.169607119169, 0.22101856963018479, 0.00021208673519069297,
      -0.050082719768147328, -4.9719674725457521e-08},
};

static void
assert_close_rel (double got, double want, double rel, const char *what, int n)
{
  const double err = fabs (got - want) / MAX (fabs (want), 1e-300);
  if (!(err <= rel || got == want)) {
    g_test_message ("step %d %s: got %.17g, spec %.17g (rel %.3g)", n, what,
        got, want, err);
    g_test_fail ();
  }
}

static void
test_schedule_spec_table (void)
{
  GError *error = NULL;
  HartDiffusionStep steps[8];

  g_assert_true (hart_diffusion_schedule_compute (8, steps, &error));
  g_assert_no_error (error);
  for (int n = 0; n < 8; n++) {
    /* the table is printed to ~17 significant digits from the same double
     * formulas; 1e-12 allows for libm differences only */
    const double rel = 1e-12;
    g_assert_cmpint (steps[n].orig_t, ==, spec_table[n].orig_t);
    assert_close_rel (steps[n].beta, spec_table[n].beta, rel, "beta", n);
    assert_close_rel (steps[n].alpha_cumprod, spec_table[n].alpha_cumprod,
        rel, "alpha_cumprod", n);
    assert_close_rel (steps[n].sqrt_recip_alpha_cumprod, spec_table[n].sra,
        rel, "sqrt_recip", n);
    assert_close_rel (steps[n].sqrt_recipm1_alpha_cumprod,
        spec_table[n].srm1, rel, "sqrt_recipm1", n);
    assert_close_rel (steps[n].posterior_coef1, spec_table[n].coef1, rel,
        "coef1", n);
    if (n > 0)
      assert_close_rel (steps[n].posterior_coef2, spec_table[n].coef2, rel,
          "coef2", n);
    else
      g_assert_cmpfloat (steps[n].posterior_coef2, ==, 0.0);
    assert_close_rel (steps[n].log_var_min, spec_table[n].lv_min, rel,
        "log_var_min", n);
    assert_close_rel (steps[n].log_var_max, spec_table[n].lv_max, rel,
        "log_var_max", n);
  }
}

static void
test_schedule_other_counts (void)
{
  GError *error = NULL;
  HartDiffusionStep *steps = g_new0 (HartDiffusionStep, 1000);

  /* 1000 steps: every original step, T_n = n, and ᾱ'_999 ≈ 0 */
  g_assert_true (hart_diffusion_schedule_compute (1000, steps, &error));
  g_assert_no_error (error);
  for (int n = 0; n < 1000; n++)
    g_assert_cmpint (steps[n].orig_t, ==, n);
  /* 2 steps: the two ends */
  g_assert_true (hart_diffusion_schedule_compute (2, steps, &error));
  g_assert_cmpint (steps[0].orig_t, ==, 0);
  g_assert_cmpint (steps[1].orig_t, ==, 999);
  /* 1 step leaves the official sampler without a clipped log-variance */
  g_assert_false (hart_diffusion_schedule_compute (1, steps, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (hart_diffusion_schedule_compute (1001, steps, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_free (steps);
}

/* The backend under test: "cpu", or HART_TEST_BACKEND (e.g. "cuda"). */
static const char *
test_backend (void)
{
  const char *name = g_getenv ("HART_TEST_BACKEND");
  return name != NULL ? name : "cpu";
}

/* Device copy of host data[n] (n > 0), or an uninitialised buffer when
 * data is NULL. */
static float *
to_device (HartBackend * be, const float *data, gsize n)
{
  GError *error = NULL;
  float *dev = be->ops->alloc (be, n * sizeof (float), &error);
  g_assert_no_error (error);
  if (data != NULL)
    be->ops->upload (be, dev, data, n * sizeof (float));
  return dev;
}

/* Host copy of dev[n], freeing dev. */
static float *
to_host (HartBackend * be, float *dev, gsize n)
{
  float *host = g_new (float, n);
  be->ops->download (be, host, dev, n * sizeof (float));
  be->ops->free (be, dev);
  return host;
}

typedef struct
{
  HartBackend *be;
  HartTransformerConfig cfg;
  HartAutoencoderConfig ae;
  HartCheckpoint *ckpt;
  HartCheckpoint *golden;
  char *golden_path;
} Fixture;

static void
fixture_open (Fixture * f, const char *config, const char *golden_suffix)
{
  GError *error = NULL;
  char *root = g_build_filename (fixtures, config, "hart-0.7b-1024px", NULL);
  char *llm_cfg = g_build_filename (root, "llm", "config.json", NULL);
  char *tok_cfg = g_build_filename (root, "tokenizer", "config.json", NULL);
  char *weights = g_build_filename (root, "llm", "model.safetensors", NULL);

  memset (f, 0, sizeof *f);
  f->be = hart_backend_new (test_backend (), 0, 0, &error);
  g_assert_no_error (error);
  g_assert_true (hart_transformer_config_load (llm_cfg, &f->cfg, &error));
  g_assert_no_error (error);
  g_assert_true (hart_autoencoder_config_load (tok_cfg, &f->ae, &error));
  g_assert_no_error (error);
  f->ckpt = hart_checkpoint_open (weights, &error);
  g_assert_no_error (error);
  if (golden_suffix != NULL) {
    f->golden_path = g_strdup_printf ("%s/goldens/diffusion-%s%s.safetensors",
        fixtures, config, golden_suffix);
    f->golden = hart_checkpoint_open (f->golden_path, &error);
    g_assert_no_error (error);
  }
  g_free (root);
  g_free (llm_cfg);
  g_free (tok_cfg);
  g_free (weights);
}

static void
fixture_close (Fixture * f)
{
  hart_checkpoint_free (f->golden);
  g_free (f->golden_path);
  hart_checkpoint_free (f->ckpt);
  hart_transformer_config_clear (&f->cfg);
  hart_backend_free (f->be);
}

static float *
read_golden (HartCheckpoint * golden, const char *name, int64_t * shape)
{
  GError *error = NULL;
  const HartTensorInfo *info = hart_checkpoint_lookup (golden, name);
  float *data;

  g_assert_nonnull (info);
  if (shape != NULL)
    memcpy (shape, info->shape, sizeof (int64_t) * info->ndim);
  data = g_new (float, MAX (info->n_elements, 1));
  g_assert_true (hart_checkpoint_read_f32 (golden, name, info->ndim,
          info->shape, data, &error));
  g_assert_no_error (error);
  return data;
}

static double
max_err (const float *got, const float *want, gsize n, gboolean relative)
{
  double m = 0.0;
  for (gsize i = 0; i < n; i++) {
    double e = fabs ((double) got[i] - want[i]);
    if (relative)
      e /= MAX (1.0, fabs (want[i]));
    if (!(e <= m))
      m = isnan (e) ? INFINITY : e;
  }
  return m;
}

static void
check_net (const char *config)
{
  GError *error = NULL;
  Fixture f;
  HartDiffusion *d;
  int64_t xs[2], cs[2], os[3], ts[1];
  float *x, *c, *want, *t, *got, *x_dev, *c_dev;
  int n_steps;
  const HartDiffusionStep *steps;

  fixture_open (&f, config, "");
  d = hart_diffusion_load (f.be, f.ckpt, &f.cfg, f.ae.z_channels,
      HART_DTYPE_F32, &error);
  g_assert_no_error (error);
  g_assert_nonnull (d);
  steps = hart_diffusion_get_schedule (d, &n_steps);

  x = read_golden (f.golden, "net_x", xs);
  c = read_golden (f.golden, "net_c", cs);
  t = read_golden (f.golden, "net_t", ts);
  want = read_golden (f.golden, "net_out", os);
  g_assert_cmpint (ts[0], ==, n_steps);
  g_assert_cmpint (os[2], ==, 2 * f.ae.z_channels);
  x_dev = to_device (f.be, x, xs[0] * xs[1]);
  c_dev = to_device (f.be, c, cs[0] * cs[1]);
  for (int s = 0; s < n_steps; s++) {
    float *out_dev = to_device (f.be, NULL, os[1] * os[2]);
    double err;
    g_assert_cmpint ((int) t[s], ==, steps[s].orig_t);
    g_assert_true (hart_diffusion_net (d, x_dev, (int) t[s], c_dev,
            (int) xs[0], out_dev, &error));
    g_assert_no_error (error);
    got = to_host (f.be, out_dev, os[1] * os[2]);
    err = max_err (got, want + s * os[1] * os[2], os[1] * os[2], TRUE);
    g_test_message ("net %s t=%d: max rel error %.3g", config, (int) t[s], err);
    g_assert_cmpfloat (err, <=, NET_TOLERANCE);
    g_free (got);
  }

  g_assert_false (hart_diffusion_net (d, x_dev, 1000, c_dev, (int) xs[0],
          x_dev, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hart_diffusion_net (d, x_dev, 0, c_dev, 0, x_dev, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  f.be->ops->free (f.be, x_dev);
  f.be->ops->free (f.be, c_dev);

  g_free (x);
  g_free (c);
  g_free (t);
  g_free (want);
  hart_diffusion_free (d);
  fixture_close (&f);
}

static void
test_net_tiny (void)
{
  check_net ("tiny");
}

static void
test_net_tiny2 (void)
{
  check_net ("tiny2");
}

/* More rows than one network chunk (4096): rows tiled from the golden
 * inputs must give the tiled golden outputs. */
static void
test_net_chunked (void)
{
  GError *error = NULL;
  Fixture f;
  HartDiffusion *d;
  int64_t xs[2], cs[2], os[3];
  float *x, *c, *t, *want, *xt, *ct, *got, *x_dev, *c_dev, *out_dev;
  const int rows = 4096 + 7;
  double err = 0.0;

  fixture_open (&f, "tiny", "");
  d = hart_diffusion_load (f.be, f.ckpt, &f.cfg, f.ae.z_channels,
      HART_DTYPE_F32, &error);
  g_assert_no_error (error);
  x = read_golden (f.golden, "net_x", xs);
  c = read_golden (f.golden, "net_c", cs);
  t = read_golden (f.golden, "net_t", NULL);
  want = read_golden (f.golden, "net_out", os);
  xt = g_new (float, (gsize) rows * xs[1]);
  ct = g_new (float, (gsize) rows * cs[1]);
  for (int r = 0; r < rows; r++) {
    memcpy (xt + (gsize) r * xs[1], x + (r % xs[0]) * xs[1],
        xs[1] * sizeof (float));
    memcpy (ct + (gsize) r * cs[1], c + (r % cs[0]) * cs[1],
        cs[1] * sizeof (float));
  }
  x_dev = to_device (f.be, xt, (gsize) rows * xs[1]);
  c_dev = to_device (f.be, ct, (gsize) rows * cs[1]);
  out_dev = to_device (f.be, NULL, (gsize) rows * os[2]);
  /* the last respaced step, t = 999 */
  g_assert_true (hart_diffusion_net (d, x_dev, (int) t[os[0] - 1], c_dev,
          rows, out_dev, &error));
  g_assert_no_error (error);
  got = to_host (f.be, out_dev, (gsize) rows * os[2]);
  for (int r = 0; r < rows; r++) {
    const float *w = want + ((os[0] - 1) * os[1] + r % os[1]) * os[2];
    err = MAX (err, max_err (got + (gsize) r * os[2], w, os[2], TRUE));
  }
  g_test_message ("net over %d rows: max rel error %.3g", rows, err);
  g_assert_cmpfloat (err, <=, NET_TOLERANCE);

  f.be->ops->free (f.be, x_dev);
  f.be->ops->free (f.be, c_dev);
  g_free (x);
  g_free (c);
  g_free (t);
  g_free (want);
  g_free (xt);
  g_free (ct);
  g_free (got);
  hart_diffusion_free (d);
  fixture_close (&f);
}

/* Samples z (golden `z_name`) with cfg `cfg_name` and draws, and compares
 * with golden `res_name`. */
static void
check_sample (Fixture * f, HartDraws * draws, const char *z_name,
    const char *cfg_name, const char *res_name)
{
  GError *error = NULL;
  HartDiffusion *d;
  int64_t zs[2], rs[2];
  float *z, *cfg, *want, *got, *z_dev, *res_dev;
  double err;

  d = hart_diffusion_load (f->be, f->ckpt, &f->cfg, f->ae.z_channels,
      HART_DTYPE_F32, &error);
  g_assert_no_error (error);
  z = read_golden (f->golden, z_name, zs);
  cfg = read_golden (f->golden, cfg_name, NULL);
  want = read_golden (f->golden, res_name, rs);
  g_assert_cmpint (zs[0], ==, 2 * rs[0]);
  z_dev = to_device (f->be, z, zs[0] * zs[1]);
  res_dev = to_device (f->be, NULL, rs[0] * rs[1]);
  g_assert_true (hart_diffusion_sample (d, z_dev, (int) rs[0], cfg[0], draws,
          res_dev, NULL, &error));
  g_assert_no_error (error);
  got = to_host (f->be, res_dev, rs[0] * rs[1]);
  f->be->ops->free (f->be, z_dev);
  err = max_err (got, want, rs[0] * rs[1], FALSE);
  g_test_message ("sample %s (cfg %g): max abs error %.3g", res_name, cfg[0],
      err);
  g_assert_cmpfloat (err, <=, SAMPLE_TOLERANCE);

  g_free (z);
  g_free (cfg);
  g_free (want);
  g_free (got);
  hart_diffusion_free (d);
}

static void
check_sample_philox (const char *config, const char *cfg_name,
    const char *res_name)
{
  Fixture f;
  float *seed, *frame;
  HartDraws *draws;

  fixture_open (&f, config, "");
  seed = read_golden (f.golden, "sample_seed", NULL);
  frame = read_golden (f.golden, "sample_frame", NULL);
  draws = hart_draws_new ((guint64) seed[0], (guint32) frame[0]);
  check_sample (&f, draws, "sample_z", cfg_name, res_name);
  hart_draws_free (draws);
  g_free (seed);
  g_free (frame);
  fixture_close (&f);
}

/* In a caller's workspace (how a generation samples, in its idle KV
 * cache), full of NaN beforehand: the bytes of the allocating path; one
 * float short of its size, it allocates as before.  Guided and unguided. */
static void
test_sample_workspace (void)
{
  Fixture f;
  GError *error = NULL;
  HartDiffusion *d;
  int64_t zs[2];
  float *z, *z_dev, *res_dev, *ws, *want, *got;
  const float cfgs[] = { 4.0f, 1.0f };
  gsize ws_n, n_res;
  int n;

  fixture_open (&f, "tiny", "");
  d = hart_diffusion_load (f.be, f.ckpt, &f.cfg, f.ae.z_channels,
      HART_DTYPE_F32, &error);
  g_assert_no_error (error);
  z = read_golden (f.golden, "sample_z", zs);
  n = (int) zs[0] / 2;
  n_res = (gsize) n *f.ae.z_channels;
  z_dev = to_device (f.be, z, zs[0] * zs[1]);
  res_dev = to_device (f.be, NULL, n_res);
  ws_n = hart_diffusion_workspace_floats (d, n);
  ws = f.be->ops->alloc (f.be, ws_n * sizeof (float), &error);
  g_assert_no_error (error);
  for (guint c = 0; c < G_N_ELEMENTS (cfgs); c++) {
    HartDraws *draws = hart_draws_new (7, 3);

    g_assert_true (hart_diffusion_sample (d, z_dev, n, cfgs[c], draws,
            res_dev, NULL, &error));
    g_assert_no_error (error);
    hart_draws_free (draws);
    want = g_new (float, n_res);
    f.be->ops->download (f.be, want, res_dev, n_res * sizeof (float));
    for (int short_by = 0; short_by <= 1; short_by++) {
      draws = hart_draws_new (7, 3);
      f.be->ops->fill (f.be, ws, NAN, ws_n);
      g_assert_true (hart_diffusion_sample_in (d, z_dev, n, cfgs[c], draws,
              res_dev, ws, ws_n - short_by, NULL, &error));
      g_assert_no_error (error);
      hart_draws_free (draws);
      got = g_new (float, n_res);
      f.be->ops->download (f.be, got, res_dev, n_res * sizeof (float));
      g_assert_cmpmem (got, n_res * sizeof (float), want,
          n_res * sizeof (float));
      g_free (got);
    }
    g_free (want);
  }
  f.be->ops->free (f.be, ws);
  f.be->ops->free (f.be, z_dev);
  f.be->ops->free (f.be, res_dev);
  g_free (z);
  hart_diffusion_free (d);
  fixture_close (&f);
}

static void
test_sample_tiny (void)
{
  check_sample_philox ("tiny", "sample_cfg", "sample_res");
}

static void
test_sample_tiny_unguided (void)
{
  /* cfg exactly 1.0: the official unguided path (N0 [2n, Cv]) */
  float one = 1.0f;
  Fixture f;
  HartDraws *draws;
  HartDiffusion *d;
  GError *error = NULL;
  int64_t zs[2], rs[2];
  float *z, *want, *got, *seed, *frame, *z_dev, *res_dev;
  double err;

  fixture_open (&f, "tiny", "");
  seed = read_golden (f.golden, "sample_seed", NULL);
  frame = read_golden (f.golden, "sample_frame", NULL);
  draws = hart_draws_new ((guint64) seed[0], (guint32) frame[0]);
  d = hart_diffusion_load (f.be, f.ckpt, &f.cfg, f.ae.z_channels,
      HART_DTYPE_F32, &error);
  g_assert_no_error (error);
  z = read_golden (f.golden, "sample_z", zs);
  want = read_golden (f.golden, "unguided_res", rs);
  z_dev = to_device (f.be, z, zs[0] * zs[1]);
  res_dev = to_device (f.be, NULL, rs[0] * rs[1]);
  g_assert_true (hart_diffusion_sample (d, z_dev, (int) rs[0], one, draws,
          res_dev, NULL, &error));
  g_assert_no_error (error);
  got = to_host (f.be, res_dev, rs[0] * rs[1]);
  f.be->ops->free (f.be, z_dev);
  err = max_err (got, want, rs[0] * rs[1], FALSE);
  g_test_message ("unguided sample: max abs error %.3g", err);
  g_assert_cmpfloat (err, <=, SAMPLE_TOLERANCE);

  g_free (z);
  g_free (want);
  g_free (got);
  g_free (seed);
  g_free (frame);
  hart_diffusion_free (d);
  hart_draws_free (draws);
  fixture_close (&f);
}

static void
test_sample_tiny2 (void)
{
  check_sample_philox ("tiny2", "sample_cfg", "sample_res");
}

static void
test_sample_replay (void)
{
  GError *error = NULL;
  Fixture f;
  HartDraws *draws;

  fixture_open (&f, "tiny", "-replay");
  draws = hart_draws_new_replay (f.golden_path, &error);
  g_assert_no_error (error);
  check_sample (&f, draws, "z", "cfg", "res");
  /* every draw of the file was consumed, in order and shape */
  g_assert_true (hart_draws_finish (draws, &error));
  g_assert_no_error (error);
  hart_draws_free (draws);
  fixture_close (&f);
}

static void
test_sample_replay_shape_mismatch (void)
{
  /* the replay file holds draws for 6 rows; sampling 5 must fail cleanly */
  GError *error = NULL;
  Fixture f;
  HartDraws *draws;
  HartDiffusion *d;
  int64_t zs[2];
  float *z, *z_dev, *res_dev;

  fixture_open (&f, "tiny", "-replay");
  draws = hart_draws_new_replay (f.golden_path, &error);
  g_assert_no_error (error);
  d = hart_diffusion_load (f.be, f.ckpt, &f.cfg, f.ae.z_channels,
      HART_DTYPE_F32, &error);
  g_assert_no_error (error);
  z = read_golden (f.golden, "z", zs);
  z_dev = to_device (f.be, z, zs[0] * zs[1]);
  res_dev = to_device (f.be, NULL, 5 * f.ae.z_channels);
  g_assert_false (hart_diffusion_sample (d, z_dev, 5, 4.0f, draws, res_dev,
          NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_SHAPE);
  g_clear_error (&error);
  g_free (z);
  f.be->ops->free (f.be, z_dev);
  f.be->ops->free (f.be, res_dev);
  hart_diffusion_free (d);
  hart_draws_free (draws);
  fixture_close (&f);
}

static void
test_cancel (void)
{
  GError *error = NULL;
  Fixture f;
  HartDiffusion *d;
  HartDraws *draws = hart_draws_new (1, 0);
  GCancellable *cancel = g_cancellable_new ();
  const int n = 3;
  float *z, *res;

  fixture_open (&f, "tiny", NULL);
  d = hart_diffusion_load (f.be, f.ckpt, &f.cfg, f.ae.z_channels,
      HART_DTYPE_F32, &error);
  g_assert_no_error (error);
  z = to_device (f.be, NULL, 2 * n * f.cfg.embed_dim);
  f.be->ops->fill (f.be, z, 0.0f, 2 * n * f.cfg.embed_dim);
  res = to_device (f.be, NULL, n * f.ae.z_channels);
  g_cancellable_cancel (cancel);
  g_assert_false (hart_diffusion_sample (d, z, n, 4.0f, draws, res, cancel,
          &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (hart_diffusion_sample (d, z, 0, 4.0f, draws, res, NULL,
          &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  f.be->ops->free (f.be, z);
  f.be->ops->free (f.be, res);
  g_object_unref (cancel);
  hart_draws_free (draws);
  hart_diffusion_free (d);
  fixture_close (&f);
}

/* A copy of the diffloss tensors of `src` into a temporary file, without
 * tensor `drop` and with tensor `reshape` (if any) stored as a column
 * [n, 1]. */
static char *
write_modified (HartCheckpoint * src, const char *tmpdir, const char *drop,
    const char *reshape)
{
  GError *error = NULL;
  HartSafetensorsWriter *w = hart_safetensors_writer_new ();
  char *path = g_build_filename (tmpdir, "modified.safetensors", NULL);

  for (guint i = 0; i < hart_checkpoint_n_tensors (src); i++) {
    const HartTensorInfo *t = hart_checkpoint_tensor (src, i);
    void *data;
    if (!g_str_has_prefix (t->name, "diffloss.net."))
      continue;
    if (drop != NULL && strcmp (t->name, drop) == 0)
      continue;
    data = g_malloc (MAX (t->n_bytes, 1));
    g_assert_true (hart_checkpoint_read_raw (src, t, data, &error));
    g_assert_no_error (error);
    if (reshape != NULL && strcmp (t->name, reshape) == 0) {
      const int64_t column[2] = { (int64_t) t->n_elements, 1 };
      hart_safetensors_writer_add (w, t->name, t->dtype, 2, column, data);
    } else {
      hart_safetensors_writer_add (w, t->name, t->dtype, t->ndim, t->shape,
          data);
    }
    g_free (data);
  }
  g_assert_true (hart_safetensors_writer_save (w, path, &error));
  g_assert_no_error (error);
  hart_safetensors_writer_free (w);
  return path;
}

static void
check_load_fails (const char *drop, const char *reshape, int code)
{
  GError *error = NULL;
  Fixture f;
  char *tmpdir = g_dir_make_tmp ("hart-diffusion-XXXXXX", &error);
  char *path;
  HartCheckpoint *ckpt;
  HartDiffusion *d;
  const char *name = drop ? drop : reshape;

  g_assert_no_error (error);
  fixture_open (&f, "tiny", NULL);
  path = write_modified (f.ckpt, tmpdir, drop, reshape);
  ckpt = hart_checkpoint_open (path, &error);
  g_assert_no_error (error);

  d = hart_diffusion_load (f.be, ckpt, &f.cfg, f.ae.z_channels,
      HART_DTYPE_F32, &error);
  g_assert_null (d);
  g_assert_error (error, HART_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, name));
  g_assert_nonnull (strstr (error->message, "modified.safetensors"));
  g_clear_error (&error);

  hart_checkpoint_free (ckpt);
  g_unlink (path);
  g_rmdir (tmpdir);
  g_free (path);
  g_free (tmpdir);
  fixture_close (&f);
}

static void
test_missing_tensor (void)
{
  /* the last block (depth from the config) and the last tensor loaded */
  check_load_fails ("diffloss.net.res_blocks.1.adaLN_modulation.1.bias", NULL,
      HART_ERROR_NOT_FOUND);
  check_load_fails ("diffloss.net.final_layer.linear.weight", NULL,
      HART_ERROR_NOT_FOUND);
  check_load_fails ("diffloss.net.time_embed.mlp.0.weight", NULL,
      HART_ERROR_NOT_FOUND);
}

static void
test_wrong_shape (void)
{
  check_load_fails (NULL, "diffloss.net.cond_embed.weight", HART_ERROR_SHAPE);
  check_load_fails (NULL, "diffloss.net.res_blocks.0.in_ln.weight",
      HART_ERROR_SHAPE);
}

static void
test_config_mismatch (void)
{
  GError *error = NULL;
  Fixture f;
  HartDiffusion *d;

  fixture_open (&f, "tiny", NULL);
  /* latent channels of another tokenizer: input_proj has the wrong shape */
  d = hart_diffusion_load (f.be, f.ckpt, &f.cfg, f.ae.z_channels + 1,
      HART_DTYPE_F32, &error);
  g_assert_null (d);
  g_assert_error (error, HART_ERROR, HART_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "input_proj"));
  g_clear_error (&error);
  /* one block more than the file holds */
  f.cfg.diff_depth++;
  d = hart_diffusion_load (f.be, f.ckpt, &f.cfg, f.ae.z_channels,
      HART_DTYPE_F32, &error);
  g_assert_null (d);
  g_assert_error (error, HART_ERROR, HART_ERROR_NOT_FOUND);
  g_clear_error (&error);
  f.cfg.diff_depth--;
  /* a step count the official sampler cannot run */
  f.cfg.num_sampling_steps = 1;
  d = hart_diffusion_load (f.be, f.ckpt, &f.cfg, f.ae.z_channels,
      HART_DTYPE_F32, &error);
  g_assert_null (d);
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  fixture_close (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fixtures = g_getenv ("HART_FIXTURES");
  if (fixtures == NULL) {
    g_printerr ("HART_FIXTURES is not set\n");
    return 77;
  }
  g_test_add_func ("/diffusion/schedule-spec-table", test_schedule_spec_table);
  g_test_add_func ("/diffusion/schedule-other-counts",
      test_schedule_other_counts);
  g_test_add_func ("/diffusion/net-tiny", test_net_tiny);
  g_test_add_func ("/diffusion/net-tiny2", test_net_tiny2);
  g_test_add_func ("/diffusion/net-chunked", test_net_chunked);
  g_test_add_func ("/diffusion/sample-tiny", test_sample_tiny);
  g_test_add_func ("/diffusion/sample-workspace", test_sample_workspace);
  g_test_add_func ("/diffusion/sample-tiny-unguided",
      test_sample_tiny_unguided);
  g_test_add_func ("/diffusion/sample-tiny2", test_sample_tiny2);
  g_test_add_func ("/diffusion/sample-replay", test_sample_replay);
  g_test_add_func ("/diffusion/sample-replay-shape-mismatch",
      test_sample_replay_shape_mismatch);
  g_test_add_func ("/diffusion/cancel", test_cancel);
  g_test_add_func ("/diffusion/missing-tensor", test_missing_tensor);
  g_test_add_func ("/diffusion/wrong-shape", test_wrong_shape);
  g_test_add_func ("/diffusion/config-mismatch", test_config_mismatch);
  return g_test_run ();
}
