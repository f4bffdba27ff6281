/* gst-hart — the text encoder's rule for its layer matrices (private)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by hart_text_encoder_load and the memory estimate
 * (hart_memory_text_encoder_bytes), so that the estimate counts what the
 * load holds (docs/precision.md, "The text encoder's matrices").
 */
#ifndef HART_TEXT_ENCODER_PRIVATE_H
#define HART_TEXT_ENCODER_PRIVATE_H

#include "hart/checkpoint.h"
#include "hart/text-encoder.h"

G_BEGIN_DECLS

/* The rule hart_text_encoder_load and the memory estimate
 * (hart_memory_text_encoder_bytes) share: MAPPED when CKPT is mapped,
 * every layer matrix is stored in MATRIX_DTYPE at an address aligned to
 * it, and HOST_MEMORY (the backend reads host memory); else STREAMED when
 * they are stored in 16 bits, CKPT is not a torch archive and MATRIX_DTYPE
 * is f32; else HELD (also whenever $HART_TEXT_ENCODER_RESIDENT is
 * set, or a matrix is missing: the load then says which).  PREFIX:
 * "model." or "". */
HartTextEncoderMatrices hart_text_encoder_plan_matrices (HartCheckpoint *
    ckpt, const char *prefix, const HartQwen2Config * cfg,
    HartDType matrix_dtype, gboolean host_memory);

G_END_DECLS
#endif /* HART_TEXT_ENCODER_PRIVATE_H */
