/* gst-hart — token sampling of one stage (docs/algorithm.md §6.3 steps 2–6)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef HART_SAMPLER_H
#define HART_SAMPLER_H

#include <glib.h>
#include "hart/draws.h"
#include "kernels/backend.h"

G_BEGIN_DECLS

/* The official top-k schedule (HartGenerateParams.top_k = 0): the 600 most
 * likely tokens up to stage 6, the 300 most likely from stage 7 on. */
#define HART_TOP_K_EARLY 600
#define HART_TOP_K_LATE 300
#define HART_TOP_K_LATE_FROM_STAGE 7

static inline int
hart_sampler_default_top_k (int stage)
{
  return stage < HART_TOP_K_LATE_FROM_STAGE ? HART_TOP_K_EARLY
      : HART_TOP_K_LATE;
}

typedef struct
{
  int stage;                    /* si: keys the draws */
  double cfg_t;                 /* t = cfg · ratio */
  double ratio;                 /* Gumbel temperature and logit scale */
  int top_k;                    /* ≤ 0: no top-k */
  double top_p;                 /* ≤ 0: no top-p */
  gboolean smooth;              /* Gumbel-softmax embedding */
} HartStageSampling;

/* logits: host [2B, l, V] (conditional rows first), overwritten with the
 * guided, filtered logits [B, l, V] in its first half.  codebook: host
 * [V, Cv].  Outputs idx [B·l] and h [B, l, Cv] (token-major): the smooth
 * embedding y·E, or E[idx] without smoothing.  Draws: E1 [B·l, V] then, when
 * smooth, E2 [B, l, V].  Fails on NaN/Inf logits.  The rows run on be's
 * host threads (hart_backend_parallel_for; NULL: on the calling thread);
 * the result does not depend on which thread runs a row. */
gboolean hart_sample_stage (HartBackend * be, float *logits, int batch,
    int l, int vocab, const HartStageSampling * s, HartDraws * draws,
    const float *codebook, int latent_channels, int32_t * idx, float *h,
    GError ** error);
/* The same for positions [P0, P0 + PC) of the stage's L: logits [2B, PC,
 * V]; idx, h and the draws are the whole stage's, rows b·L + P0 + p
 * written.  Parts of a stage give the bits of the whole call.  A part
 * smaller than the stage needs streamed draws (hart_draws_streamed). */
gboolean hart_sample_stage_part (HartBackend * be, float *logits, int batch,
    int l, int p0, int pc, int vocab, const HartStageSampling * s,
    HartDraws * draws, const float *codebook, int Cv, int32_t * idx,
    float *h, GError ** error);

G_END_DECLS
#endif
