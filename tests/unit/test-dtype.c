/* gst-hart — tests of dtype names and storage conversions
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "kernels/backend.h"
#ifdef HART_HAVE_ONEDNN
#include "kernels/cpu/cpu-onednn.h"
#endif

#include <glib.h>
#include <math.h>
#include <string.h>

static void
test_names (void)
{
  for (int i = 0; i < HART_DTYPE_N_TYPES; i++) {
    HartDType back;
    g_assert_true (hart_dtype_from_name (hart_dtype_name (i), &back));
    g_assert_cmpint (back, ==, i);
    g_assert_cmpuint (hart_dtype_size (i), >, 0);
  }
  HartDType d;
  g_assert_false (hart_dtype_from_name ("F8_E4M3", &d));
  g_assert_false (hart_dtype_from_name ("f32", &d));    /* case matters */
  g_assert_false (hart_dtype_from_name (NULL, &d));
  g_assert_cmpuint (hart_dtype_size (HART_DTYPE_N_TYPES), ==, 0);
  g_assert_cmpuint (hart_dtype_size (HART_DTYPE_BF16), ==, 2);
  g_assert_cmpuint (hart_dtype_size (HART_DTYPE_I64), ==, 8);
}

/* Known IEEE half encodings. */
static void
test_f16_known (void)
{
  static const struct
  {
    uint16_t bits;
    float value;
  } known[] = {
    {0x0000, 0.0f}, {0x3c00, 1.0f}, {0xc000, -2.0f}, {0x3555, 0.333251953125f},
    {0x7bff, 65504.0f}, {0x0400, 6.103515625e-05f},     /* smallest normal */
    {0x0001, 5.9604644775390625e-08f},  /* smallest subnormal */
    {0x03ff, 6.097555160522461e-05f},   /* largest subnormal */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (known); i++) {
    g_assert_cmpfloat (hart_f16_to_f32 (known[i].bits), ==, known[i].value);
    g_assert_cmphex (hart_f32_to_f16 (known[i].value), ==, known[i].bits);
  }
  g_assert_true (isinf (hart_f16_to_f32 (0x7c00)));
  g_assert_true (isnan (hart_f16_to_f32 (0x7e00)));
  g_assert_cmphex (hart_f32_to_f16 (1e6f), ==, 0x7c00); /* overflow → inf */
  g_assert_cmphex (hart_f32_to_f16 (-0.0f), ==, 0x8000);
  g_assert_true (isnan (hart_f16_to_f32 (hart_f32_to_f16 (NAN))));
  /* round to nearest even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 */
  g_assert_cmphex (hart_f32_to_f16 (1.0f + 0x1p-11f), ==, 0x3c00);
  g_assert_cmphex (hart_f32_to_f16 (1.0f + 3 * 0x1p-11f), ==, 0x3c02);
}

/* Every finite half survives f16 → f32 → f16. */
static void
test_f16_round_trip (void)
{
  for (uint32_t b = 0; b < 0x10000; b++) {
    uint16_t h = (uint16_t) b;
    if ((h & 0x7c00) == 0x7c00)
      continue;
    g_assert_cmphex (hart_f32_to_f16 (hart_f16_to_f32 (h)), ==, h);
  }
}

static void
test_bf16 (void)
{
  g_assert_cmpfloat (hart_bf16_to_f32 (0x3f80), ==, 1.0f);
  g_assert_cmpfloat (hart_bf16_to_f32 (0xc040), ==, -3.0f);
  g_assert_cmphex (hart_f32_to_bf16 (1.0f), ==, 0x3f80);
  /* 1 + 2^-8 is halfway between bf16 neighbours → even (1.0) */
  g_assert_cmphex (hart_f32_to_bf16 (1.0f + 0x1p-8f), ==, 0x3f80);
  g_assert_cmphex (hart_f32_to_bf16 (1.0f + 0x1p-7f + 0x1p-8f), ==, 0x3f82);
  g_assert_true (isnan (hart_bf16_to_f32 (hart_f32_to_bf16 (NAN))));
  for (uint32_t b = 0; b < 0x10000; b++) {
    uint16_t h = (uint16_t) b;
    if ((h & 0x7f80) == 0x7f80)
      continue;
    g_assert_cmphex (hart_f32_to_bf16 (hart_bf16_to_f32 (h)), ==, h);
  }
}

static void
test_convert (void)
{
  const int64_t i64[] = { -3, 0, 9750, 1LL << 40 };
  const uint8_t flags[] = { 0, 1, 1, 0 };
  const double f64[] = { 0.5, -1.25, 1e-3, 3.0 };
  const uint16_t bf[] = { 0x3f80, 0xc040, 0x0000, 0x4120 };
  float out[4];

  g_assert_true (hart_convert_to_f32 (out, i64, HART_DTYPE_I64, 4));
  g_assert_cmpfloat (out[0], ==, -3.0f);
  g_assert_cmpfloat (out[2], ==, 9750.0f);
  g_assert_cmpfloat (out[3], ==, 1099511627776.0f);
  g_assert_true (hart_convert_to_f32 (out, flags, HART_DTYPE_BOOL, 4));
  g_assert_cmpfloat (out[1], ==, 1.0f);
  g_assert_true (hart_convert_to_f32 (out, f64, HART_DTYPE_F64, 4));
  g_assert_cmpfloat (out[1], ==, -1.25f);
  g_assert_true (hart_convert_to_f32 (out, bf, HART_DTYPE_BF16, 4));
  g_assert_cmpfloat (out[3], ==, 10.0f);
  g_assert_false (hart_convert_to_f32 (out, bf, HART_DTYPE_N_TYPES, 4));
}

/* hart_convert_to_f32 from bf16 (vectorised) gives hart_bf16_to_f32's
 * bits for every one of the 65536 values, at every position of a row
 * (vector lanes and the scalar tail). */
static void
test_bf16_convert_row (void)
{
  const gsize n = 65536 + 11;
  uint16_t *src = g_new (uint16_t, n);
  float *got = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    src[i] = (uint16_t) (i * 40503u);   /* every value, shuffled */
  for (gsize offset = 0; offset < 11; offset++) {
    g_assert_true (hart_convert_to_f32 (got, src + offset, HART_DTYPE_BF16,
            n - offset));
    for (gsize i = 0; i < n - offset; i++) {
      const float want = hart_bf16_to_f32 (src[offset + i]);
      g_assert_cmpint (memcmp (&got[i], &want, sizeof want), ==, 0);
    }
  }
  g_free (src);
  g_free (got);
}

#ifdef HART_HAVE_ONEDNN
/* fp32 bit patterns where rounding to bf16 has a case of its own: zeros,
 * infinities, NaNs (quiet, signalling, negative), ties to even, the largest
 * finite values, subnormals */
static const uint32_t bf16_special[] = {
  0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001,
  0xff800001, 0x7fffffff, 0x3f808000, 0x3f818000, 0x3f80ffff, 0x00000001,
  0x807fffff, 0x7f7fffff, 0x7f7f8000, 0xc0490fdb, 0x3f7fff80,
};

/* The CPU backend's vectorised rounding of its bf16 operands gives
 * hart_f32_to_bf16's bits: ties to even, NaN kept NaN (quiet), infinities,
 * signed zeros, subnormals, and random bit patterns, at every position of
 * a row (vector lanes and the scalar tail). */
static void
test_bf16_row_rounding (void)
{
  const gsize n = 4099;
  float *src = g_new (float, n);
  uint16_t *got = g_new (uint16_t, n);
  GRand *rng = g_rand_new_with_seed (5);

  for (gsize i = 0; i < n; i++) {
    uint32_t bits =
        i < G_N_ELEMENTS (bf16_special) ? bf16_special[i] : g_rand_int (rng);
    memcpy (&src[i], &bits, sizeof bits);
  }
  for (gsize offset = 0; offset < 5; offset++) {
    hart_cpu_bf16_round_row (got, src + offset, n - offset);
    for (gsize i = 0; i < n - offset; i++)
      g_assert_cmphex (got[i], ==, hart_f32_to_bf16 (src[offset + i]));
  }
  g_rand_free (rng);
  g_free (src);
  g_free (got);
}

/* Its rounding to bf16 precision kept in fp32 (the widened bf16
 * convolutions' operands) gives hart_bf16_to_f32 (hart_f32_to_bf16 (x))
 * bit for bit: the same special values, every exponent with a tie, and
 * random bit patterns, at every position of a row. */
static void
test_bf16_row_rounding_f32 (void)
{
  const gsize n = 8209;
  float *src = g_new (float, n), *got = g_new (float, n);
  GRand *rng = g_rand_new_with_seed (7);

  for (gsize i = 0; i < n; i++) {
    uint32_t bits;
    if (i < G_N_ELEMENTS (bf16_special))
      bits = bf16_special[i];
    else if (i < G_N_ELEMENTS (bf16_special) + 512)     /* ties, odd and even */
      bits = ((uint32_t) (i % 512) << 23) | 0x8000u | ((i & 1) << 16);
    else
      bits = g_rand_int (rng);
    memcpy (&src[i], &bits, sizeof bits);
  }
  for (gsize offset = 0; offset < 5; offset++) {
    hart_cpu_bf16_round_f32_row (got, src + offset, n - offset);
    for (gsize i = 0; i < n - offset; i++) {
      const float want = hart_bf16_to_f32 (hart_f32_to_bf16 (src[offset + i]));
      g_assert_cmpint (memcmp (&got[i], &want, sizeof want), ==, 0);
    }
  }
  g_rand_free (rng);
  g_free (src);
  g_free (got);
}
#endif

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dtype/names", test_names);
  g_test_add_func ("/dtype/f16/known", test_f16_known);
  g_test_add_func ("/dtype/f16/round-trip", test_f16_round_trip);
  g_test_add_func ("/dtype/bf16", test_bf16);
  g_test_add_func ("/dtype/convert", test_convert);
  g_test_add_func ("/dtype/bf16/convert-row", test_bf16_convert_row);
#ifdef HART_HAVE_ONEDNN
  g_test_add_func ("/dtype/bf16/row-rounding", test_bf16_row_rounding);
  g_test_add_func ("/dtype/bf16/row-rounding-f32", test_bf16_row_rounding_f32);
#endif
  return g_test_run ();
}
