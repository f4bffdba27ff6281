/* gst-hart — the hybrid tokenizer's VAE decoder (fhat_to_img)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/algorithm.md §9: post_quant_conv, conv_in, mid (Res, Attn, Res), then one level
 * per entry of ch_mult from the lowest resolution up (3 ResnetBlocks each,
 * single-head attention after every block of the lowest level, nearest ×2
 * upsampling + 3×3 conv at every level but 0), GroupNorm + SiLU + conv_out,
 * clamped to [-1, 1].  The structure is derived from the autoencoder config.
 */
#ifndef HART_DECODER_H
#define HART_DECODER_H

#include <glib.h>
#include <gio/gio.h>
#include "hart/checkpoint.h"
#include "hart/config.h"
#include "kernels/backend.h"

G_BEGIN_DECLS

typedef struct _HartDecoder HartDecoder;

/* Loads "vae.post_quant_conv.*" and every "vae.decoder.*" tensor the config
 * implies (each checked by name and shape) from the tokenizer checkpoint
 * (not owned; may be closed after this returns).  `be` must outlive the
 * decoder.  NULL with an error naming the tensor and file otherwise. */
HartDecoder *hart_decoder_load (HartBackend * be,
    HartCheckpoint * tokenizer_ckpt, const HartAutoencoderConfig * cfg,
    GError ** error);

/* The decoder's convolutions in bf16 products (DTYPE HART_DTYPE_BF16,
 * where the backend has them: docs/precision.md) or fp32 (the default). */
void hart_decoder_set_precision (HartDecoder * dec, HartDType dtype);

/* Device f_hat [batch, Cv, h, w] → device image [batch, 3, h·ds, w·ds] in
 * [-1, 1] (ds = cfg->downsample).  Images are decoded one at a time; the
 * activations (three buffers of the largest feature map, ~3 × [160, 1024,
 * 1024] floats at 1024 px) are allocated from the backend here and freed
 * before returning.  Cancellation is checked between blocks
 * (HART_ERROR_CANCELLED); the contents of `image` are then undefined. */
gboolean hart_decoder_forward (HartDecoder * dec, const float *f_hat,
    int batch, int h, int w, float *image, GCancellable * cancel,
    GError ** error);

/* As hart_decoder_forward, but the activations live in WORKSPACE (device,
 * WORKSPACE_FLOATS floats, contents ignored and overwritten) when it holds
 * hart_decoder_workspace_floats (H, W); otherwise (or with NULL) they are
 * allocated as there.  The generation decodes in the transformer's KV cache,
 * idle by then (generate.c). */
gboolean hart_decoder_forward_in (HartDecoder * dec, const float *f_hat,
    int batch, int h, int w, float *image, float *workspace,
    gsize workspace_floats, GCancellable * cancel, GError ** error);
/* Floats of workspace a latent of H × W needs (0 when out of range). */
gsize hart_decoder_workspace_floats (const HartDecoder * dec, int h, int w);

/* Latent channels Cv and the latent → pixel factor ds. */
int hart_decoder_get_latent_channels (const HartDecoder * dec);
int hart_decoder_get_downsample (const HartDecoder * dec);

void hart_decoder_free (HartDecoder * dec);
/* Bytes of the weights it holds (hart_weights_bytes of its loader). */
guint64 hart_decoder_weights_bytes (const HartDecoder * dec);

G_END_DECLS
#endif /* HART_DECODER_H */
