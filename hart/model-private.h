/* gst-hart — model internals shared inside libhart (private)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * model.c loads a HartModel from the files that model-files.c finds and
 * checks; generate.c runs it; image.c turns its output into images.
 * Nothing here is public API.
 */
#ifndef HART_MODEL_PRIVATE_H
#define HART_MODEL_PRIVATE_H

#include "hart/hart.h"
#include "hart/checkpoint.h"
#include "hart/draws.h"
#include "hart/safetensors-write.h"
#include "hart/decoder.h"
#include "hart/diffusion.h"
#include "hart/latent.h"
#include "hart/transformer.h"
#include "kernels/backend.h"

G_BEGIN_DECLS

struct _HartModel
{
  gint ref_count;
  HartEngine *engine;
  HartTransformerConfig tcfg;
  HartAutoencoderConfig acfg;
  HartCheckpoint *llm_ckpt, *tok_ckpt;
  HartTransformer *transformer;
  HartDiffusion *diffusion;
  HartLatent *latent;
  HartDecoder *decoder;
  char fingerprint[65];
};

/* ---- model.c ---- */

/* Bytes of the weights MODEL holds: what the loaders of its transformer,
 * diffusion head, latent and decoder uploaded (hart_weights_bytes) and the
 * latent's host copy of the codebook.  What hart_model_estimate_memory's
 * weight_bytes estimates. */
guint64 hart_model_weights_bytes (const HartModel * model);

/* ---- model-files.c ---- */

/* The files of a release folder, as hart_model_load reads them. */
typedef struct
{
  HartTransformerConfig tcfg;
  HartAutoencoderConfig acfg;
  char *llm_weights;            /* transformer + diffusion checkpoint */
  char *tok_weights;            /* autoencoder checkpoint */
} HartModelFiles;

/* Reads both configs of DIR (hart-0.7b-1024px or its llm/) and finds both
 * weights files (ema_model.bin first when USE_EMA); checks that the
 * transformer's scales are the autoencoder's. */
gboolean hart_model_files_resolve (const char *dir, gboolean use_ema,
    HartModelFiles * files, GError ** error);
void hart_model_files_clear (HartModelFiles * files);
/* The memory estimate (hart/memory.h) of FILES at BATCH, from the
 * checkpoint headers and the configs, for an engine whose weight matrices
 * are MATRIX_DTYPE (hart_engine_get_matrix_dtype). */
void hart_model_files_estimate_memory (const HartModelFiles * files,
    const HartCheckpoint * llm_ckpt, const HartCheckpoint * tok_ckpt,
    int batch, HartDType matrix_dtype, HartMemoryEstimate * est);
/* FALSE, naming DIR and the estimate, when EST exceeds BUDGET_BYTES (0: no
 * budget). */
gboolean hart_model_check_estimate (const char *dir,
    const HartMemoryEstimate * est, guint64 budget_bytes,
    const char *budget_source, GError ** error);
/* FALSE when CKPT holds a block PREFIX<n>. with n ≥ DEPTH (config FIELD). */
gboolean hart_model_check_no_extra_blocks (const HartCheckpoint * ckpt,
    const char *prefix, int depth, const char *field, GError ** error);

/* ---- generate.c ---- */

/* One caller's buffers for BATCH images of MODEL (a reference is taken):
 * the transformer's state (KV cache), the stages' scratch, the image.  Each
 * group is allocated by the first frame that needs it and reused by the
 * next; the decoder works in the KV cache between frames.  One thread at a
 * time per run; runs of one model may work side by side. */
typedef struct _HartRun HartRun;

HartRun *hart_run_new (HartModel * model, int batch);
void hart_run_free (HartRun * run);
int hart_run_get_batch (const HartRun * run);
/* Stages 0 … SN−1 of CTX → a token frame.  With REUSE and KEEP > 0 the
 * first KEEP stages take REUSE's token maps (checked: same model and batch,
 * KEEP < SN).  CTX and PARAMS are checked by the caller
 * (hart_generate_check_context, hart_generate_check_params). */
HartTokens *hart_run_tokens (HartRun * run, const HartContext * ctx,
    const HartGenerateParams * params, const HartTokens * reuse, int keep,
    HartDraws * draws, HartSafetensorsWriter * trace, GCancellable * cancel,
    GError ** error);
/* Teacher forcing (hart/fidelity.c): called at every sampled stage SI of
 * a run, first with its raw logits [2B, l, V] (conditional rows first) and
 * the guidance t of the stage, then with what the sampler drew: codes
 * idx [B·l] and embeddings h [B, l, Cv], which `sampled` may overwrite (the
 * run then continues from those). */
typedef struct
{
  void (*logits) (int si, const float *logits, int batch, int l, int vocab,
      double cfg_t, gpointer data);
  void (*sampled) (int si, int32_t * idx, float *h, int batch, int l,
      int latent_channels, gpointer data);
  gpointer data;
} HartStageObserver;

/* OBSERVER (not copied; NULL: none) for the run's next generations. */
void hart_run_set_observer (HartRun * run, const HartStageObserver * observer);

/* Residual diffusion and decoder: TOKENS (of the run's batch) → images. */
HartImage **hart_run_refine (HartRun * run, const HartTokens * tokens,
    const HartGenerateParams * params, HartDraws * draws,
    HartSafetensorsWriter * trace, GCancellable * cancel, GError ** error);
/* The checks every generation makes of its context and settings. */
gboolean hart_generate_check_context (const HartModel * model,
    const HartContext * ctx, GError ** error);
gboolean hart_generate_check_params (const HartGenerateParams * params,
    GError ** error);
/* Draw files need the whole generation (hart_model_generate). */
gboolean hart_generate_refuse_draw_files (const HartGenerateParams * params,
    GError ** error);

/* ---- image.c ---- */

/* The decoder's output IMG (device, [BATCH, 3, H, W] in [-1, 1]) as BATCH
 * RGB images, NULL-terminated; fails on a non-finite value.  HOST: where
 * IMG is downloaded to (the run's, from alloc_host: page-locked on CUDA),
 * IMG itself when the backend's memory is the host's (read in place), or
 * NULL for a buffer of its own. */
HartImage **hart_images_from_device (HartBackend * be, const float *img,
    int batch, int W, int H, float *host, GError ** error);

G_END_DECLS
#endif /* HART_MODEL_PRIVATE_H */
