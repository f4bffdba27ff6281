/* gst-hart — element types and their conversions
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "kernels/dtype.h"

#include <math.h>
#include <string.h>

static const struct
{
  const char *name;
  gsize size;
} dtype_table[HART_DTYPE_N_TYPES] = {
  [HART_DTYPE_F32] = {"F32", 4},
  [HART_DTYPE_F16] = {"F16", 2},
  [HART_DTYPE_BF16] = {"BF16", 2},
  [HART_DTYPE_F64] = {"F64", 8},
  [HART_DTYPE_I64] = {"I64", 8},
  [HART_DTYPE_I32] = {"I32", 4},
  [HART_DTYPE_I16] = {"I16", 2},
  [HART_DTYPE_I8] = {"I8", 1},
  [HART_DTYPE_U8] = {"U8", 1},
  [HART_DTYPE_BOOL] = {"BOOL", 1},
};

gsize
hart_dtype_size (HartDType dtype)
{
  if ((unsigned) dtype >= HART_DTYPE_N_TYPES)
    return 0;
  return dtype_table[dtype].size;
}

const char *
hart_dtype_name (HartDType dtype)
{
  if ((unsigned) dtype >= HART_DTYPE_N_TYPES)
    return "?";
  return dtype_table[dtype].name;
}

gboolean
hart_dtype_from_name (const char *name, HartDType * out)
{
  for (int i = 0; i < HART_DTYPE_N_TYPES; i++) {
    if (g_strcmp0 (name, dtype_table[i].name) == 0) {
      *out = (HartDType) i;
      return TRUE;
    }
  }
  return FALSE;
}

float
hart_bf16_to_f32 (uint16_t h)
{
  uint32_t bits = (uint32_t) h << 16;
  float f;
  memcpy (&f, &bits, sizeof f);
  return f;
}

uint16_t
hart_f32_to_bf16 (float f)
{
  uint32_t bits;
  memcpy (&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u)       /* NaN stays NaN */
    return (uint16_t) ((bits >> 16) | 0x40);
  /* round to nearest even */
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return (uint16_t) (bits >> 16);
}

float
hart_f16_to_f32 (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;

  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {
      /* subnormal: renormalise */
      int e = -1;
      do {
        e++;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      mant &= 0x3ffu;
      bits = sign | ((uint32_t) (127 - 15 - e) << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  memcpy (&f, &bits, sizeof f);
  return f;
}

uint16_t
hart_f32_to_f16 (float f)
{
  uint32_t bits;
  memcpy (&bits, &f, sizeof bits);
  uint32_t sign = (bits >> 16) & 0x8000u;
  uint32_t absbits = bits & 0x7fffffffu;

  if (absbits >= 0x7f800000u)   /* Inf or NaN */
    return (uint16_t) (sign | 0x7c00u | (absbits > 0x7f800000u ? 0x200u : 0));
  if (absbits >= 0x477ff000u)   /* rounds to >= 65520: overflow */
    return (uint16_t) (sign | 0x7c00u);
  if (absbits < 0x38800000u) {  /* subnormal or zero in f16 */
    if (absbits < 0x33000000u)
      return (uint16_t) sign;
    uint32_t e = absbits >> 23;
    uint32_t m = (absbits & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e;   /* 14 + (113 - e) - 1 */
    uint32_t half = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u)))
      half++;
    return (uint16_t) (sign | half);
  }
  uint32_t r = absbits - 0x38000000u;   /* rebias exponent 127 -> 15 */
  r += 0xfffu + ((r >> 13) & 1u);
  return (uint16_t) (sign | (r >> 13));
}

gboolean
hart_convert_to_f32 (float *dst, const void *src, HartDType src_dtype, gsize n)
{
  gsize i;

  switch (src_dtype) {
    case HART_DTYPE_F32:
      memcpy (dst, src, n * sizeof (float));
      return TRUE;
    case HART_DTYPE_F16:{
      const uint16_t *s = src;
      for (i = 0; i < n; i++)
        dst[i] = hart_f16_to_f32 (s[i]);
      return TRUE;
    }
    case HART_DTYPE_BF16:{
      const uint16_t *s = src;
      i = 0;
#if defined (__GNUC__)
      /* Eight at a time in vector registers (the widened bf16 products
       * convert their operands here on every call): the same bits as
       * hart_bf16_to_f32, each value the upper half of its fp32 one. */
      typedef uint16_t v8hu __attribute__((vector_size (16)));
      typedef uint32_t v8su __attribute__((vector_size (32)));
      for (; i + 8 <= n; i += 8) {
        v8hu halves;
        v8su bits;
        memcpy (&halves, s + i, sizeof halves);
        bits = __builtin_convertvector (halves, v8su) << 16;
        memcpy (dst + i, &bits, sizeof bits);
      }
#endif
      for (; i < n; i++)
        dst[i] = hart_bf16_to_f32 (s[i]);
      return TRUE;
    }
    case HART_DTYPE_F64:{
      const double *s = src;
      for (i = 0; i < n; i++)
        dst[i] = (float) s[i];
      return TRUE;
    }
    case HART_DTYPE_I64:{
      const int64_t *s = src;
      for (i = 0; i < n; i++)
        dst[i] = (float) s[i];
      return TRUE;
    }
    case HART_DTYPE_I32:{
      const int32_t *s = src;
      for (i = 0; i < n; i++)
        dst[i] = (float) s[i];
      return TRUE;
    }
    case HART_DTYPE_I16:{
      const int16_t *s = src;
      for (i = 0; i < n; i++)
        dst[i] = (float) s[i];
      return TRUE;
    }
    case HART_DTYPE_I8:{
      const int8_t *s = src;
      for (i = 0; i < n; i++)
        dst[i] = (float) s[i];
      return TRUE;
    }
    case HART_DTYPE_U8:
    case HART_DTYPE_BOOL:{
      const uint8_t *s = src;
      for (i = 0; i < n; i++)
        dst[i] = (float) s[i];
      return TRUE;
    }
    default:
      return FALSE;
  }
}
