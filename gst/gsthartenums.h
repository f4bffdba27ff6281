/* gst-hart — enumerations shared by the hart elements
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_HART_ENUMS_H
#define GST_HART_ENUMS_H

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GstHartDevice:
 * @GST_HART_DEVICE_AUTO: CUDA when a usable GPU is present, else the CPU
 * @GST_HART_DEVICE_CPU: the CPU backend (the reference)
 * @GST_HART_DEVICE_CUDA: the CUDA backend, GPU number `device-id`
 *
 * The compute device an element loads its model on.
 */
typedef enum
{
  GST_HART_DEVICE_AUTO,
  GST_HART_DEVICE_CPU,
  GST_HART_DEVICE_CUDA,
} GstHartDevice;

#define GST_TYPE_HART_DEVICE (gst_hart_device_get_type ())
GType gst_hart_device_get_type (void);
/* "auto", "cpu" or "cuda": what hart_engine_new () expects */
const gchar *gst_hart_device_to_string (GstHartDevice device);

/**
 * GstHartPrecision:
 * @GST_HART_PRECISION_FP32: fp32 everywhere: the reference, the same tokens
 *   as the official code
 * @GST_HART_PRECISION_BF16: the linear layers' weights and products in bf16
 *   (sums in fp32): the CPU's matrix units through oneDNN
 * @GST_HART_PRECISION_FP16: fp16 weights and products (no backend has it
 *   yet: refused with an error)
 * @GST_HART_PRECISION_AUTO: bf16 where the hardware computes in it, else
 *   fp32
 *
 * The precision an element's engine runs in (docs/precision.md).  Values
 * are libhart's HartPrecision.
 */
typedef enum
{
  GST_HART_PRECISION_FP32,
  GST_HART_PRECISION_BF16,
  GST_HART_PRECISION_FP16,
  GST_HART_PRECISION_AUTO,
} GstHartPrecision;

#define GST_TYPE_HART_PRECISION (gst_hart_precision_get_type ())
GType gst_hart_precision_get_type (void);

/**
 * GstHartSeedMode:
 * @GST_HART_SEED_MODE_FIXED: every frame draws from the random stream of
 *   (seed, frame 0): with an unchanged prompt every frame is the same image
 * @GST_HART_SEED_MODE_INCREMENT: frame n draws from the stream of
 *   (seed, frame n): a fresh sample per frame
 *
 * How hartsrc keys the random draws of successive frames.
 */
typedef enum
{
  GST_HART_SEED_MODE_FIXED,
  GST_HART_SEED_MODE_INCREMENT,
} GstHartSeedMode;

#define GST_TYPE_HART_SEED_MODE (gst_hart_seed_mode_get_type ())
GType gst_hart_seed_mode_get_type (void);

G_END_DECLS
#endif /* GST_HART_ENUMS_H */
