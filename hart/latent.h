/* gst-hart — the multi-scale latent (codebook, Φ, interpolation; docs/algorithm.md §8)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef HART_LATENT_H
#define HART_LATENT_H

#include <glib.h>
#include "hart/checkpoint.h"
#include "hart/config.h"
#include "hart/weights.h"

G_BEGIN_DECLS

typedef struct
{
  HartBackend *be;
  HartWeights *weights;
  int vocab, channels;          /* V, Cv */
  int side;                     /* P: side of f_hat */
  int n_phi;                    /* Φ convolutions (share_quant_resi) */
  float ratio;                  /* |quant_resi| */
  float **phi_w, **phi_b;       /* [n_phi] × [Cv, Cv, 3, 3], [Cv] */
  float *codebook;              /* host [V, Cv] */
} HartLatent;

/* Reads the codebook and the Φ convolutions (keys vae.quantize.*). */
HartLatent *hart_latent_load (HartBackend * be, HartCheckpoint * ckpt,
    const HartAutoencoderConfig * cfg, int side, GError ** error);
void hart_latent_free (HartLatent * lat);

/* Which Φ serves stage si of n_scales (ticks of docs/algorithm.md §8.4). */
int hart_latent_phi_index (const HartLatent * lat, int si, int n_scales);

/* f_hat += Φ_k(bicubic_P(h)) for h [B, Cv, pn, pn]; then
 * next = area_{pn_next}(f_hat) [B, Cv, pn_next, pn_next].  All device
 * pointers; scratch holds 2 · B·Cv·P² floats. */
void hart_latent_update (HartLatent * lat, int batch, int phi_index,
    const float *h, int pn, float *f_hat, float *next, int pn_next,
    float *scratch);

G_END_DECLS
#endif
