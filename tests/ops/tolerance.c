/* gst-hart — the op-test harness: tolerance classes and comparisons
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each case names one class; the bounds live here only, so that a new
 * precision (bf16, fp16, tensor cores) is one new class and not a number
 * per test.  References are computed in double from the same fp32 inputs,
 * so every bound is the error of the backend's fp32 arithmetic alone.
 *
 * EXACT (0, 0): copies, gathers, max, clamp, nearest upsampling, and area
 *   resizing to the same size: no rounding at all.
 * ELEMENTWISE (atol 1e-6, rtol 4e-6): a handful of fp32 operations per
 *   value; libm's and CUDA's expf/erff/tanhf are within 2 ulp (2.4e-7
 *   relative each), and the absolute term covers outputs that cancel towards
 *   zero (gelu, axpby).
 * FP32_REDUCTION (atol 2e-5, rtol 1e-5, times max (1, K / 64)): GEMMs,
 *   convolutions (K = the dot-product length), attention (K = head_dim: the
 *   softmax-weighted sum of V is a convex combination), norms (K = 1: the
 *   CPU keeps statistics in double).  fp32 sums of K terms of size ~1 carry
 *   a relative error of about √K·2^-24 typically, K·2^-24 at worst: a few
 *   1e-6 for K ≤ 64, hence a margin of ~5 below the bound, while an
 *   indexing or transpose error is off by O(1).  A backend may multiply
 *   this class by its reduction_slack (CUDA: 50, for cuBLAS's and the warp
 *   trees' summation orders); the CPU's is 1.
 * RESAMPLE (atol 3e-6, rtol 2e-6): bicubic and area resizing form their
 *   source coordinates and weights in fp32 as PyTorch does (docs/algorithm.md
 *   §8.2-§8.3) while the reference uses double; PyTorch's own fp32 bicubic is
 *   up to 2.3e-6 away from its float64 result on values up to ~3.
 * SAME_ORDER (atol 1e-7, rtol 0): the reference (a PyTorch golden) performs
 *   the same fp32 additions and divisions in the same order; only operand
 *   rounding in a fused instruction may differ.
 * BF16_PRODUCT (FP32_REDUCTION's bounds, times 2): products whose operands
 *   are bf16 (docs/precision.md).  The reference rounds both operands to
 *   bf16 exactly as the op is defined to (round to nearest even) and sums
 *   in double, so what is left is the fp32 accumulation: the matrix units
 *   add pairs of products before the fp32 sum, hence the factor 2.  A
 *   rounding mode other than nearest-even, an operand not rounded, or one
 *   truncated to fewer bits is off by ~2^-9 relative per product, which
 *   for K ≥ 64 terms of size ~1 is far outside this bound.  Against the
 *   unrounded fp32 product the error is that of bf16 itself: ~2^-9·√K
 *   relative, which docs/precision.md measures per module.
 * BF16_ATTENTION (atol 4e-3, rtol 4e-3): attention with bf16 products.
 *   The reference rounds q, k and v to bf16 as the op does and computes the
 *   rest in double; the op also rounds each probability to bf16 (relative
 *   error ≤ 2^-9 = 2e-3 each) before weighting v (|v| ≤ 2 here) while it
 *   normalises by the unrounded sum, so an output moves by at most
 *   2^-9·max|v| ≈ 4e-3, typically far less.  A wrong key, head or mask
 *   moves it by the spread of v over the keys, ~0.1 and more. 
 *
 * Across backends (the CPU's output of the same case in the same run is
 * the second reference, as test-backend-parity checked before):
 *   |got − cpu| ≤ cross_rtol·|cpu| + cross_atol·max|cpu|
 * with EXACT's (0, 0), ELEMENTWISE's and RESAMPLE's (1e-5, 1e-6), and
 * FP32_REDUCTION's (1e-4, 1e-4); a case that sets
 * bitwise_across_backends (area resizing, whose order is fixed on both
 * backends and built with --fmad=false on CUDA) must match exactly.
 */
#include "op-harness.h"

#include <math.h>
#include <string.h>

static const ToleranceSpec specs[TOL_N_CLASSES] = {
  [TOL_EXACT] = {"EXACT", 0.0, 0.0, FALSE, 0.0, 0.0},
  [TOL_ELEMENTWISE] = {"ELEMENTWISE", 1e-6, 4e-6, FALSE, 1e-5, 1e-6},
  [TOL_FP32_REDUCTION] = {"FP32_REDUCTION", 2e-5, 1e-5, TRUE, 1e-4, 1e-4},
  [TOL_RESAMPLE] = {"RESAMPLE", 3e-6, 2e-6, FALSE, 1e-5, 1e-6},
  [TOL_SAME_ORDER] = {"SAME_ORDER", 1e-7, 0.0, FALSE, 0.0, 0.0},
  [TOL_BF16_PRODUCT] = {"BF16_PRODUCT", 4e-5, 2e-5, TRUE, 2e-4, 2e-4},
  [TOL_BF16_ATTENTION] = {"BF16_ATTENTION", 4e-3, 4e-3, FALSE, 1e-2, 1e-2},
};

const ToleranceSpec *
tolerance_spec (ToleranceClass tol)
{
  g_return_val_if_fail (tol < TOL_N_CLASSES, &specs[TOL_EXACT]);
  return &specs[tol];
}

/* Keeps the element whose error exceeds its bound the most. */
static void
note (CompareResult * r, gsize i, double got, double want, double err,
    double bound)
{
  double excess = isnan (err) ? INFINITY : err - bound;
  double worst_excess = isnan (r->err) ? INFINITY : r->err - r->bound;

  if (excess > 0)
    r->n_bad++;
  if (i == 0 || excess > worst_excess) {
    r->worst = i;
    r->got = got;
    r->want = want;
    r->err = err;
    r->bound = bound;
  }
}

gboolean
compare_to_reference (const float *got, const double *want, gsize n,
    const ToleranceSpec * spec, double scale, CompareResult * r)
{
  memset (r, 0, sizeof *r);
  for (gsize i = 0; i < n; i++) {
    double bound = (spec->atol + spec->rtol * fabs (want[i])) * scale;
    double err;

    /* NaN expected: an element the op must leave alone (poisoned) */
    if (isnan (want[i])) {
      note (r, i, got[i], want[i], isnan (got[i]) ? 0.0 : INFINITY, 0.0);
      continue;
    }
    if (isinf (want[i]) && got[i] == want[i])
      err = 0.0;
    else
      err = fabs ((double) got[i] - want[i]);
    note (r, i, got[i], want[i], err, bound);
  }
  return r->n_bad == 0;
}

gboolean
compare_to_backend (const float *got, const float *cpu, gsize n,
    const ToleranceSpec * spec, gboolean exact, CompareResult * r)
{
  double scale = 0.0;

  memset (r, 0, sizeof *r);
  for (gsize i = 0; i < n; i++)
    if (isfinite (cpu[i]))
      scale = MAX (scale, fabs (cpu[i]));
  for (gsize i = 0; i < n; i++) {
    double bound = exact ? 0.0 :
        spec->cross_rtol * fabs (cpu[i]) + spec->cross_atol * scale;
    gboolean same_special = (isnan (cpu[i]) && isnan (got[i]))
        || (isinf (cpu[i]) && cpu[i] == got[i]);
    double err = same_special ? 0.0 : fabs ((double) got[i] - cpu[i]);

    note (r, i, got[i], cpu[i], err, bound);
  }
  return r->n_bad == 0;
}
