/* gst-hart — the multi-scale latent (codebook, Φ, interpolation; docs/algorithm.md §8)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "latent.h"
#include "error.h"

#include <math.h>

/* The Φ convolutions are 3×3 whatever quant_conv_ks says. */
#define PHI_KERNEL 3

HartLatent *
hart_latent_load (HartBackend * be, HartCheckpoint * ckpt,
    const HartAutoencoderConfig * cfg, int side, GError ** error)
{
  HartLatent *lat = g_new0 (HartLatent, 1);
  const int V = cfg->vocab_size, Cv = cfg->z_channels;

  lat->be = be;
  lat->weights = hart_weights_new (be, ckpt, "vae.quantize.");
  lat->vocab = V;
  lat->channels = Cv;
  lat->side = side;
  lat->ratio = (float) fabs (cfg->quant_resi);
  /* |quant_resi| ≤ 1e-6 makes every Φ the identity (no tensors). */
  lat->n_phi = fabs (cfg->quant_resi) > 1e-6 ? cfg->share_quant_resi : 0;
  lat->phi_w = g_new0 (float *, MAX (lat->n_phi, 1));
  lat->phi_b = g_new0 (float *, MAX (lat->n_phi, 1));

  lat->codebook = g_try_new (float, (gsize) V * Cv);
  if (lat->codebook == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "out of memory for the %d × %d codebook", V, Cv);
    goto fail;
  }
  if (!hart_checkpoint_read_f32 (ckpt, "vae.quantize.embedding.weight", 2,
          HART_SHAPE (V, Cv), lat->codebook, error))
    goto fail;

  for (int k = 0; k < lat->n_phi; k++) {
    /* share_quant_resi = 1: a single shared Φ named qresi */
    const char *fmt_w = lat->n_phi == 1 ? "quant_resi.qresi.weight"
        : "quant_resi.qresi_ls.%d.weight";
    const char *fmt_b = lat->n_phi == 1 ? "quant_resi.qresi.bias"
        : "quant_resi.qresi_ls.%d.bias";
    char *name_w = g_strdup_printf (fmt_w, k);
    char *name_b = g_strdup_printf (fmt_b, k);
    lat->phi_w[k] = hart_weights_get (lat->weights,
        HART_DIMS (Cv, Cv, PHI_KERNEL, PHI_KERNEL), error, "%s", name_w);
    lat->phi_b[k] = lat->phi_w[k] ? hart_weights_get (lat->weights,
        HART_DIMS (Cv), error, "%s", name_b) : NULL;
    g_free (name_w);
    g_free (name_b);
    if (lat->phi_b[k] == NULL)
      goto fail;
  }
  return lat;

fail:
  hart_latent_free (lat);
  return NULL;
}

void
hart_latent_free (HartLatent * lat)
{
  if (lat == NULL)
    return;
  hart_weights_free (lat->weights);
  g_free (lat->phi_w);
  g_free (lat->phi_b);
  g_free (lat->codebook);
  g_free (lat);
}

int
hart_latent_phi_index (const HartLatent * lat, int si, int n_scales)
{
  const int K = lat->n_phi;
  double at, lo, hi, step, best = INFINITY;
  int best_k = 0;

  if (K <= 1)
    return 0;
  at = (double) si / (double) (n_scales - 1);
  /* ticks = np.linspace(1/(3K), 1 − 1/(3K), K) for K = 4, else
   * np.linspace(1/(2K), 1 − 1/(2K), K); the nearest tick wins, first on
   * ties.  Mid-way scales are exact ties in real numbers, so the ticks are
   * formed exactly as numpy does (k·step + start, last = stop). */
  lo = K == 4 ? 1.0 / 3.0 / K : 1.0 / 2.0 / K;
  hi = K == 4 ? 1.0 - 1.0 / 3.0 / K : 1.0 - 1.0 / 2.0 / K;
  step = (hi - lo) / (double) (K - 1);
  for (int k = 0; k < K; k++) {
    double tick = k == K - 1 ? hi : (double) k * step + lo;
    double d = fabs (tick - at);
    if (d < best) {
      best = d;
      best_k = k;
    }
  }
  return best_k;
}

void
hart_latent_update (HartLatent * lat, int batch, int phi_index,
    const float *h, int pn, float *f_hat, float *next, int pn_next,
    float *scratch)
{
  HartBackend *be = lat->be;
  const int Cv = lat->channels, P = lat->side;
  const gsize n = (gsize) batch * Cv * P * P;
  float *up = scratch, *conv = scratch + n;

  be->ops->resize_bicubic (be, up, h, batch, Cv, pn, pn, P, P);
  if (lat->n_phi > 0) {
    /* Φ(x) = (1 − r)·x + r·(conv3×3(x) + b) */
    const HartConv2dParams phi = {
      .y = conv,.x = up,.w = lat->phi_w[phi_index],
      .bias = lat->phi_b[phi_index],.batch = batch,.cin = Cv,.height = P,
      .width = P,.cout = Cv,.k = PHI_KERNEL,.pad = PHI_KERNEL / 2,
    };
    be->ops->conv2d (be, &phi);
    be->ops->axpby (be, up, 1.0f - lat->ratio, up, lat->ratio, conv, n);
  }
  be->ops->add (be, f_hat, f_hat, up, n);
  if (next)
    be->ops->resize_area (be, next, f_hat, batch, Cv, P, P, pn_next, pn_next);
}
