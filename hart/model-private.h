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
#include "hart/decoder.h"
#include "hart/diffusion.h"
#include "hart/latent.h"
#include "hart/transformer.h"
#include "kernels/backend.h"

G_BEGIN_DECLS

struct _HartModel
{
  gint ref_count;
  GMutex lock;                  /* one generation at a time */
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
 * checkpoint headers and the configs. */
void hart_model_files_estimate_memory (const HartModelFiles * files,
    const HartCheckpoint * llm_ckpt, const HartCheckpoint * tok_ckpt,
    int batch, HartMemoryEstimate * est);
/* FALSE, naming DIR and the estimate, when EST exceeds BUDGET_BYTES (0: no
 * budget). */
gboolean hart_model_check_estimate (const char *dir,
    const HartMemoryEstimate * est, guint64 budget_bytes,
    const char *budget_source, GError ** error);
/* FALSE when CKPT holds a block PREFIX<n>. with n ≥ DEPTH (config FIELD). */
gboolean hart_model_check_no_extra_blocks (const HartCheckpoint * ckpt,
    const char *prefix, int depth, const char *field, GError ** error);

/* ---- image.c ---- */

/* The decoder's output IMG (device, [BATCH, 3, H, W] in [-1, 1]) as BATCH
 * RGB images, NULL-terminated; fails on a non-finite value. */
HartImage **hart_images_from_device (HartBackend * be, const float *img,
    int batch, int W, int H, GError ** error);

G_END_DECLS
#endif /* HART_MODEL_PRIVATE_H */
