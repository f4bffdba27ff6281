/* gst-hart — the residual diffusion head (DiffLoss: SimpleMLPAdaLN + IDDPM)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/algorithm.md §7: a residual MLP with AdaLN conditioning predicts ε and a
 * variance interpolation value per latent token; an IDDPM sampler over the
 * cosine schedule respaced to num_sampling_steps steps, with classifier-free
 * guidance, turns the last-stage condition z into the residual latent
 * 0.6 · x.
 */
#ifndef HART_DIFFUSION_H
#define HART_DIFFUSION_H

#include <glib.h>
#include <gio/gio.h>
#include "hart/checkpoint.h"
#include "hart/config.h"
#include "hart/draws.h"
#include "kernels/backend.h"

G_BEGIN_DECLS

/* Steps of the base (training) process that the schedule is respaced from. */
#define HART_DIFFUSION_BASE_STEPS 1000
/* Width of the sinusoidal timestep features fed to time_embed.mlp.0. */
#define HART_DIFFUSION_FREQ_DIM 256

/* One respaced step n (0 = last applied), all in double as the official
 * NumPy code computes them; they are rounded to fp32 when used. */
typedef struct
{
  int orig_t;                   /* T_n: original timestep fed to the network */
  double beta;                  /* β'_n */
  double alpha_cumprod;         /* ᾱ'_n */
  double sqrt_recip_alpha_cumprod;      /* √(1/ᾱ'_n) */
  double sqrt_recipm1_alpha_cumprod;    /* √(1/ᾱ'_n − 1) */
  double posterior_coef1;       /* β'·√ᾱ'_{n−1} / (1 − ᾱ'_n) */
  double posterior_coef2;       /* (1 − ᾱ'_{n−1})·√(1 − β') / (1 − ᾱ'_n) */
  double log_var_min;           /* clipped posterior log-variance */
  double log_var_max;           /* log β'_n */
} HartDiffusionStep;

/* The cosine schedule over HART_DIFFUSION_BASE_STEPS respaced to n_steps
 * (2 … 1000) steps: steps[0 .. n_steps).  FALSE with an error for a count
 * the official sampler cannot run. */
gboolean hart_diffusion_schedule_compute (int n_steps,
    HartDiffusionStep * steps, GError ** error);

typedef struct _HartDiffusion HartDiffusion;

/* Loads every "diffloss.net.*" tensor (width cfg->diff_width, depth
 * cfg->diff_depth, condition width cfg->embed_dim, latent_channels Cv) from
 * the transformer checkpoint (not owned), and precomputes the schedule and
 * the time-embedding MLP output of every respaced step.  The MLP's wide
 * matrices are held in MATRIX_DTYPE (docs/precision.md).  `be` must outlive
 * the result. */
HartDiffusion *hart_diffusion_load (HartBackend * be,
    HartCheckpoint * llm_ckpt, const HartTransformerConfig * cfg,
    int latent_channels, HartDType matrix_dtype, GError ** error);

void hart_diffusion_free (HartDiffusion * d);
/* Bytes of the weights it holds (hart_weights_bytes of its loader). */
guint64 hart_diffusion_weights_bytes (const HartDiffusion * d);

/* The respaced schedule (n_steps entries). */
const HartDiffusionStep *hart_diffusion_get_schedule (const HartDiffusion * d,
    int *n_steps);

/* One network evaluation Net(x, t_orig, c) on n rows: device x [n, Cv],
 * c [n, C] → device out [n, 2Cv] (channels 0..Cv-1 = ε, Cv..2Cv-1 = the
 * variance interpolation value).  t_orig is an original timestep
 * (0 … 999). */
gboolean hart_diffusion_net (HartDiffusion * d, const float *x, int t_orig,
    const float *c, int n, float *out, GError ** error);

/* The full sampler of docs/algorithm.md §7.4 for n tokens: device z [2n, C] (conditional
 * rows, then unconditional rows) → device res [n, Cv] = 0.6 · x0.
 * cfg_scale is the guidance weight the official DiffLoss.sample receives
 * (already multiplied by the last-stage ratio); exactly 1.0 selects its
 * unguided path.  Draws, in the official order and shapes: N0 [n, Cv]
 * ([2n, Cv] unguided), then Zn [2n, Cv] for n = steps−1 … 0; only the rows
 * of the conditional half that the result depends on are computed.
 * Cancellation is checked between steps (HART_ERROR_CANCELLED). */
gboolean hart_diffusion_sample (HartDiffusion * d, const float *z, int n,
    float cfg_scale, HartDraws * draws, float *res, GCancellable * cancel,
    GError ** error);
/* As hart_diffusion_sample, with its device buffers in WORKSPACE (device,
 * WORKSPACE_FLOATS floats, contents ignored and overwritten) when it holds
 * hart_diffusion_workspace_floats (N); otherwise (or with NULL) they are
 * allocated as there.  RES and Z must not lie in it.  The generation
 * samples in the transformer's idle KV cache (generate.c). */
gboolean hart_diffusion_sample_in (HartDiffusion * d, const float *z, int n,
    float cfg_scale, HartDraws * draws, float *res, float *workspace,
    gsize workspace_floats, GCancellable * cancel, GError ** error);
gsize hart_diffusion_workspace_floats (const HartDiffusion * d, int n);

G_END_DECLS
#endif /* HART_DIFFUSION_H */
