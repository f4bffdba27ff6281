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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#ifdef HART_CPU_HAVE_EXP16
  g_test_add_func ("/cpu-exp/exp2-16/accuracy", test_exp2_16_accuracy);
  g_test_add_func ("/cpu-exp/exp2-16/specials", test_exp2_16_specials);
#endif
  return g_test_run ();
}
