/* gst-hart — element types and their conversions
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bottom layer: what a checkpoint stores (hart/checkpoint.h) and what a
 * backend computes in (kernels/backend.h) are described with these types,
 * so the file readers need no compute backend and the public API reaches
 * no op table (docs/architecture.md, "Layers").
 */
#ifndef HART_KERNELS_DTYPE_H
#define HART_KERNELS_DTYPE_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Element types that appear in checkpoints and buffers.  The compute type of
 * the CPU backend is F32. */
typedef enum
{
  HART_DTYPE_F32 = 0,
  HART_DTYPE_F16,
  HART_DTYPE_BF16,
  HART_DTYPE_F64,
  HART_DTYPE_I64,
  HART_DTYPE_I32,
  HART_DTYPE_I16,
  HART_DTYPE_I8,
  HART_DTYPE_U8,
  HART_DTYPE_BOOL,
  HART_DTYPE_N_TYPES
} HartDType;

/* Size of one element in bytes. */
gsize hart_dtype_size (HartDType dtype);
/* Canonical safetensors name ("F32", "BF16", …). */
const char *hart_dtype_name (HartDType dtype);
/* Parse a safetensors dtype name; FALSE if unknown. */
gboolean hart_dtype_from_name (const char *name, HartDType * out);

/* Conversions between storage and compute types (host side). */
float hart_f16_to_f32 (uint16_t h);
float hart_bf16_to_f32 (uint16_t h);
uint16_t hart_f32_to_f16 (float f);
uint16_t hart_f32_to_bf16 (float f);
/* Convert n elements of `src_dtype` (any float or integer type) to f32.
 * Returns FALSE for a dtype that cannot be converted. */
gboolean hart_convert_to_f32 (float *dst, const void *src, HartDType src_dtype,
    gsize n);

G_END_DECLS
#endif /* HART_KERNELS_DTYPE_H */
