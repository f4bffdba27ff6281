/* gst-hart — the CPU backend's vectorised exponentials (kernels/cpu/cpu-exp.h)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * exp2_16, the 2^t of the bf16 decoder's fused norm (cpu-norm-half.c): its relative error against
 * libm's exp2 (in double) over [−125, 0], every 97th float of that range
 * (about 11 million values, all exponents and mantissa patterns) and the
 * ends exactly; 0 below −125 and for −inf; NaN for NaN.  The bound, 3e-7,
 * is the one cpu-exp.h and docs/precision.md state: a degree-5 polynomial
 * fitted on [−½, ½] gives 2.1e-7; one coefficient off by a digit, or a
 * degree less, fails it.  Skipped (as the kernel is) where the CPU has no
 * AVX-512.
 *
 * exp8, exp4 on eight lanes for AVX2 CPUs (the bf16 attention's
 * exponentials where the products run widened): the same bits as exp4,
 * and exp_row_sum_bf16_avx2 the same probabilities as exp_row_sum_bf16.
 * Skipped where the CPU has no AVX2.
 */
#include "kernels/cpu/cpu-exp.h"

#include <glib.h>
#include <math.h>

#define EXP2_16_MAX_REL_ERROR 3e-7
#define FLOAT_STRIDE 97

#ifdef HART_CPU_HAVE_EXP16

__attribute__((target ("avx512f")))
     static void exp2_16_of (const float in[16], float out[16])
{
  _mm512_storeu_ps (out, exp2_16 (_mm512_loadu_ps (in)));
}

/* Relative error of exp2_16 at the 16 values, the largest of them */
static double
max_rel_error (const float in[16])
{
  float out[16];
  double worst = 0.0;

  exp2_16_of (in, out);
  for (int l = 0; l < 16; l++) {
    const double want = exp2 ((double) in[l]);
    const double err = fabs ((double) out[l] - want) / want;
    if (!(err <= EXP2_16_MAX_REL_ERROR))
      g_error ("exp2_16 (%.9g) = %.9g, exp2 %.9g: relative error %.3g",
          (double) in[l], (double) out[l], want, err);
    worst = MAX (worst, err);
  }
  return worst;
}

static void
test_exp2_16_accuracy (void)
{
  float in[16];
  int n = 0;
  double worst = 0.0;
  guint64 checked = 0;
  const uint32_t lo = 0x80000000u;      /* −0 */
  uint32_t hi;
  const float end = -125.0f;

  if (!__builtin_cpu_supports ("avx512f")) {
    g_test_skip ("no AVX-512 on this CPU");
    return;
  }
  memcpy (&hi, &end, sizeof hi);
  /* negative floats from −0 to −125: larger bit patterns, larger
   * magnitudes */
  for (uint64_t bits = lo; bits <= hi; bits += FLOAT_STRIDE) {
    uint32_t b = (uint32_t) bits;
    memcpy (&in[n], &b, sizeof b);
    if (++n == 16) {
      worst = MAX (worst, max_rel_error (in));
      checked += 16;
      n = 0;
    }
  }
  for (int l = 0; l < 16; l++)
    in[l] = l < 8 ? -125.0f + 0.0625f * l : -0.5f * (l - 8);
  worst = MAX (worst, max_rel_error (in));
  g_test_message ("%" G_GUINT64_FORMAT " values in [-125, 0]: largest "
      "relative error %.3g", checked + 16, worst);
  g_assert_cmpuint (checked, >, 10000000);
}

static void
test_exp2_16_specials (void)
{
  float in[16] = { -INFINITY, -125.5f, -126.0f, -1000.0f, -FLT_MAX, NAN,
    0.0f, -0.0f, 1.0f, 10.0f
  };
  float out[16];

  if (!__builtin_cpu_supports ("avx512f")) {
    g_test_skip ("no AVX-512 on this CPU");
    return;
  }
  exp2_16_of (in, out);
  for (int l = 0; l < 5; l++)
    g_assert_true (out[l] == 0.0f && !signbit (out[l]));
  g_assert_true (isnan (out[5]));
  /* where the caller's maximum was subtracted: 1 within the bound */
  g_assert_cmpfloat (fabs (out[6] - 1.0), <=, EXP2_16_MAX_REL_ERROR);
  g_assert_cmpfloat (fabs (out[7] - 1.0), <=, EXP2_16_MAX_REL_ERROR);
  /* not needed by the kernel, but not garbage either */
  g_assert_cmpfloat (fabs (out[8] - 2.0) / 2.0, <=, EXP2_16_MAX_REL_ERROR);
  g_assert_cmpfloat (fabs (out[9] - 1024.0) / 1024.0, <=,
      EXP2_16_MAX_REL_ERROR);
}
#endif

#ifdef HART_CPU_HAVE_EXP8
__attribute__((target ("avx2")))
     static void exp8_of (const float in[8], float out[8])
{
  v8sf v;
  memcpy (&v, in, sizeof v);
  v = exp8 (v);
  memcpy (out, &v, sizeof v);
}

/* TRUE (the test skipped) on a CPU without AVX2 */
static gboolean
skipped_without_avx2 (void)
{
  if (__builtin_cpu_supports ("avx2"))
    return FALSE;
  g_test_skip ("no AVX2 on this CPU");
  return TRUE;
}

/* exp8 is exp4 on eight lanes: the same bits for every 97th float at or
 * below 0 (−inf included) and for a few positive ones. */
static void
test_exp8_same_bits (void)
{
  float in[8], got[8];
  int n = 0;
  guint64 checked = 0;

  if (skipped_without_avx2 ())
    return;
  for (uint64_t u = 0x80000000u; u <= 0xff800000u + 8 * FLOAT_STRIDE;
      u += FLOAT_STRIDE) {
    const uint32_t bits = u > 0xff800000u ?
        (uint32_t) (u - 0xff800000u) * 0x10001u : (uint32_t) u;
    memcpy (&in[n], &bits, sizeof bits);
    if (++n < 8)
      continue;
    n = 0;
    exp8_of (in, got);
    for (int h = 0; h < 2; h++) {
      v4sf v, w;
      memcpy (&v, in + 4 * h, sizeof v);
      w = exp4 (v);
      for (int l = 0; l < 4; l++) {
        uint32_t a, b;
        memcpy (&a, &w[l], 4);
        memcpy (&b, &got[4 * h + l], 4);
        if (a != b)
          g_error ("exp8 (%.9g) = %08x, exp4 %08x", (double) in[4 * h + l],
              b, a);
      }
    }
    checked += 8;
  }
  g_assert_cmpuint (checked, >, 20000000);
}

/* exp_row_sum_bf16_avx2 gives exp_row_sum_bf16's probabilities bit for
 * bit and its sum within rounding (added in another order), at every row
 * length (vector body and scalar tail). */
static void
test_exp8_row_sum_bf16 (void)
{
  GRand *rng;
  float row[67];
  uint16_t want[67], got[67];

  if (skipped_without_avx2 ())
    return;
  rng = g_rand_new_with_seed (11);
  for (int len = 0; len <= 67; len++)
    for (int rep = 0; rep < 50; rep++) {
      float s4, s8;
      for (int j = 0; j < len; j++)
        row[j] = (j % 11 == 3) ? -INFINITY :
            (float) g_rand_double_range (rng, -40.0, 0.0);
      s4 = exp_row_sum_bf16 (row, len, 0.125f, -1.0f, want);
      s8 = exp_row_sum_bf16_avx2 (row, len, 0.125f, -1.0f, got);
      g_assert_cmpmem (got, len * sizeof *got, want, len * sizeof *want);
      g_assert_cmpfloat (fabsf (s8 - s4), <=, 1e-6f * fabsf (s4));
    }
  g_rand_free (rng);
}

/* exp_row_sum_avx2 gives exp_row_sum's row and sum bit for bit (the fp32
 * attention's: its results must not change), at every row length */
static void
test_exp8_row_sum_f32 (void)
{
  GRand *rng;
  float want[67], got[67], any[67];

  if (skipped_without_avx2 ())
    return;
  rng = g_rand_new_with_seed (12);
  for (int len = 0; len <= 67; len++)
    for (int rep = 0; rep < 50; rep++) {
      float s4, s8;
      const float sub = (float) g_rand_double_range (rng, -2.0, 2.0);
      float sa;
      for (int j = 0; j < len; j++)
        want[j] = got[j] = any[j] = (j % 11 == 3) ? -INFINITY :
            (float) g_rand_double_range (rng, -40.0, 2.0);
      s4 = exp_row_sum (want, len, sub);
      s8 = exp_row_sum_avx2 (got, len, sub);
      sa = exp_row_sum_any (any, len, sub);     /* what the attention calls */
      g_assert_cmpmem (got, len * sizeof *got, want, len * sizeof *want);
      g_assert_cmpmem (&s8, sizeof s8, &s4, sizeof s4);
      g_assert_cmpmem (any, len * sizeof *any, want, len * sizeof *want);
      g_assert_cmpmem (&sa, sizeof sa, &s4, sizeof s4);
    }
  g_rand_free (rng);
}
#endif

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#ifdef HART_CPU_HAVE_EXP8
  g_test_add_func ("/cpu-exp/exp8/same-bits", test_exp8_same_bits);
  g_test_add_func ("/cpu-exp/exp8/row-sum-bf16", test_exp8_row_sum_bf16);
  g_test_add_func ("/cpu-exp/exp8/row-sum-f32", test_exp8_row_sum_f32);
#endif
#ifdef HART_CPU_HAVE_EXP16
  g_test_add_func ("/cpu-exp/exp2-16/accuracy", test_exp2_16_accuracy);
  g_test_add_func ("/cpu-exp/exp2-16/specials", test_exp2_16_specials);
#endif
  return g_test_run ();
}
