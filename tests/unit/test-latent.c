/* gst-hart — tests of the multi-scale latent update (docs/algorithm.md §8, G9 of §13)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "hart/latent.h"
#include "hart/error.h"

#include <glib.h>
#include <math.h>

/* Φ selection as numpy computes it in the official code (argmin over
 * np.linspace ticks, first on ties); tables printed by numpy. */
static void
test_phi_index (void)
{
  static const struct
  {
    int K, SN;
    int expected[16];
  } cases[] = {
    {4, 14, {0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3}},   /* the release */
    {4, 11, {0, 0, 0, 1, 1, 2, 2, 2, 3, 3}},    /* tiny: 5/10 is a tie in ℝ */
    {3, 7, {0, 0, 0, 1, 1, 2}}, /* tiny2 */
    {3, 14, {0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}},
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    HartLatent lat = {.n_phi = cases[c].K };
    for (int si = 0; si < cases[c].SN - 1; si++)
      g_assert_cmpint (hart_latent_phi_index (&lat, si, cases[c].SN), ==,
          cases[c].expected[si]);
  }
  {
    HartLatent one = {.n_phi = 1 };
    g_assert_cmpint (hart_latent_phi_index (&one, 5, 14), ==, 0);
  }
}

static float *
read_tensor (HartCheckpoint * g, const char *name, gsize * n)
{
  const HartTensorInfo *t = hart_checkpoint_lookup (g, name);
  float *data;
  g_assert_nonnull (t);
  data = g_new (float, t->n_elements);
  g_assert_true (hart_checkpoint_read_f32 (g, name, t->ndim, t->shape, data,
          NULL));
  *n = t->n_elements;
  return data;
}

/* Every stage of the tiny golden run: f_hat += Φ(bicubic(h)); next =
 * area(f_hat).  Tolerance 2e-6: one bicubic, one 3×3 conv and one area
 * mean in fp32, in other summation orders than PyTorch. */
static void
test_update_tiny (void)
{
  const char *fixtures = g_getenv ("HART_FIXTURES");
  char *tok_dir = g_build_filename (fixtures, "tiny", "hart-0.7b-1024px",
      "tokenizer", NULL);
  char *cfg_path = g_build_filename (tok_dir, "config.json", NULL);
  char *weights = g_build_filename (tok_dir, "model.safetensors", NULL);
  char *golden = g_build_filename (fixtures, "goldens", "tiny.safetensors",
      NULL);
  static const int patch_nums[] = { 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16 };
  const int SN = G_N_ELEMENTS (patch_nums), P = 16;
  GError *error = NULL;
  HartAutoencoderConfig cfg;
  HartBackend *be = hart_backend_new ("cpu", 0, 0, &error);
  HartCheckpoint *ckpt, *g;
  HartLatent *lat;
  float *fhat, *next, *scratch;
  int Cv;

  g_assert_true (hart_autoencoder_config_load (cfg_path, &cfg, &error));
  ckpt = hart_checkpoint_open (weights, &error);
  g_assert_no_error (error);
  g = hart_checkpoint_open (golden, &error);
  g_assert_no_error (error);
  lat = hart_latent_load (be, ckpt, &cfg, P, &error);
  g_assert_no_error (error);
  Cv = cfg.z_channels;
  fhat = g_new0 (float, (gsize) Cv * P * P);
  next = g_new0 (float, (gsize) Cv * P * P);
  scratch = g_new0 (float, (gsize) 2 * Cv * P * P);

  for (int si = 0; si < SN - 1; si++) {
    char name[64];
    gsize n;
    float *h, *want;
    double err = 0;

    g_snprintf (name, sizeof name, "smooth1.s%02d_h", si);
    h = read_tensor (g, name, &n);
    g_assert_cmpuint (n, ==, (gsize) Cv * patch_nums[si] * patch_nums[si]);
    hart_latent_update (lat, 1, hart_latent_phi_index (lat, si, SN), h,
        patch_nums[si], fhat, next, patch_nums[si + 1], scratch);

    g_snprintf (name, sizeof name, "smooth1.s%02d_fhat", si);
    want = read_tensor (g, name, &n);
    for (gsize i = 0; i < n; i++)
      err = MAX (err, fabs (want[i] - fhat[i]));
    g_free (want);
    g_assert_cmpfloat (err, <, 2e-6);
    /* continue from the golden f_hat so errors do not accumulate */
    g_snprintf (name, sizeof name, "smooth1.s%02d_fhat", si);
    g_free (fhat);
    fhat = read_tensor (g, name, &n);

    g_snprintf (name, sizeof name, "smooth1.s%02d_next_latent", si);
    want = read_tensor (g, name, &n);
    err = 0;
    for (gsize i = 0; i < n; i++)
      err = MAX (err, fabs (want[i] - next[i]));
    g_assert_cmpfloat (err, <, 2e-6);
    g_free (want);
    g_free (h);
  }

  g_free (fhat);
  g_free (next);
  g_free (scratch);
  hart_latent_free (lat);
  hart_checkpoint_free (ckpt);
  hart_checkpoint_free (g);
  hart_backend_free (be);
  g_free (tok_dir);
  g_free (cfg_path);
  g_free (weights);
  g_free (golden);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/latent/phi-index", test_phi_index);
  g_test_add_func ("/latent/update-tiny", test_update_tiny);
  return g_test_run ();
}
