/* gst-hart — enumerations shared by the hart elements
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthartenums.h"

GType
gst_hart_device_get_type (void)
{
  static GType device_type = 0;
  static const GEnumValue devices[] = {
    {GST_HART_DEVICE_AUTO, "CUDA when a usable GPU is present, else CPU",
        "auto"},
    {GST_HART_DEVICE_CPU, "CPU", "cpu"},
    {GST_HART_DEVICE_CUDA, "CUDA GPU", "cuda"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&device_type)) {
    GType type = g_enum_register_static ("GstHartDevice", devices);
    g_once_init_leave (&device_type, type);
  }
  return device_type;
}

const gchar *
gst_hart_device_to_string (GstHartDevice device)
{
  switch (device) {
    case GST_HART_DEVICE_CPU:
      return "cpu";
    case GST_HART_DEVICE_CUDA:
      return "cuda";
    case GST_HART_DEVICE_AUTO:
    default:
      return "auto";
  }
}

GType
gst_hart_precision_get_type (void)
{
  static GType precision_type = 0;
  static const GEnumValue precisions[] = {
    {GST_HART_PRECISION_FP32, "fp32: the reference", "fp32"},
    {GST_HART_PRECISION_BF16, "bf16 weights and products, fp32 sums",
        "bf16"},
    {GST_HART_PRECISION_FP16, "fp16 weights and products, fp32 sums",
        "fp16"},
    {GST_HART_PRECISION_AUTO, "bf16 where the hardware computes in it, "
          "else fp32", "auto"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&precision_type)) {
    GType type = g_enum_register_static ("GstHartPrecision", precisions);
    g_once_init_leave (&precision_type, type);
  }
  return precision_type;
}

GType
gst_hart_seed_mode_get_type (void)
{
  static GType seed_mode_type = 0;
  static const GEnumValue modes[] = {
    {GST_HART_SEED_MODE_FIXED, "Same random stream for every frame",
        "fixed"},
    {GST_HART_SEED_MODE_INCREMENT, "New random stream per frame (seed, frame)",
        "increment"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&seed_mode_type)) {
    GType type = g_enum_register_static ("GstHartSeedMode", modes);
    g_once_init_leave (&seed_mode_type, type);
  }
  return seed_mode_type;
}
