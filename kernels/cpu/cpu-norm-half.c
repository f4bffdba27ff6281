/* gst-hart — CPU backend: GroupNorm and SiLU in one pass, for the bf16 paths
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * group_norm_silu_half: y = silu (GroupNorm (x)), whose only reader in the
 * engine is a bf16 convolution (the decoder's, docs/precision.md), which
 * rounds y to 8 significant bits.  The fp32 ops it replaces there
 * (cpu-norm.c's group_norm, cpu-elementwise.c's silu) are the reference
 * and stay as they are: their sums run element by element in double and
 * their exp is libm's, one scalar call per value, and in bf16 they had
 * become a third of the decoder's time.  Here, on CPUs with AVX-512:
 *   statistics  the group's sum, then its sum of squared deviations from
 *               the mean (two passes, as cpu-norm.c), sixteen fp32 lanes
 *               over blocks of HALF_GN_BLOCK values, the blocks' sums
 *               added in double;
 *   output      one pass per channel: v = x·a + (b − mean·a) with
 *               a = rstd·w (cpu-norm.c's fold), y = v / (1 + 2^(−v·log2e))
 *               by exp2_16 (cpu-exp.h, relative error < 3e-7).
 * Against group_norm then silu: within the op harness's FP32_REDUCTION
 * tolerance (the fp32 lane sums' error grows with |mean| / std of the
 * group; a few 1e-7 relative on decoder-like data).  Without AVX-512 it runs those
 * two ops.  Each group is one work item whatever the thread count: the
 * same inputs give the same bytes at any thread count.
 */
#include "cpu-private.h"
#include "cpu-exp.h"

/* Values summed in fp32 lanes before their sum goes to double */
#define HALF_GN_BLOCK 1024

typedef struct
{
  float *y;
  const float *x, *weight, *bias;
  int channels, hw, groups;
  float eps;
} GroupNormSiluArgs;

#ifdef HART_CPU_HAVE_EXP16

#define AVX512_TARGET __attribute__((target ("avx512f")))

/* Σ (x[i] − mean)² (or Σ x[i] when !squares), sixteen lanes per block */
AVX512_TARGET static double
sum_avx512 (const float *x, gsize n, float mean, gboolean squares)
{
  const __m512 vmean = _mm512_set1_ps (mean);
  double total = 0.0;

  for (gsize b0 = 0; b0 < n; b0 += HALF_GN_BLOCK) {
    const gsize len = MIN ((gsize) HALF_GN_BLOCK, n - b0);
    const float *xb = x + b0;
    __m512 acc = _mm512_setzero_ps ();
    gsize i = 0;
    for (; i + 16 <= len; i += 16) {
      __m512 v = _mm512_loadu_ps (xb + i);
      if (squares) {
        v = _mm512_sub_ps (v, vmean);
        acc = _mm512_fmadd_ps (v, v, acc);
      } else {
        acc = _mm512_add_ps (acc, v);
      }
    }
    if (i < len) {
      const __mmask16 tail = (__mmask16) ((1u << (len - i)) - 1);
      __m512 v = _mm512_maskz_loadu_ps (tail, xb + i);
      if (squares) {
        v = _mm512_maskz_sub_ps (tail, v, vmean);
        acc = _mm512_fmadd_ps (v, v, acc);
      } else {
        acc = _mm512_add_ps (acc, v);
      }
    }
    total += (double) _mm512_reduce_add_ps (acc);
  }
  return total;
}

/* y[i] = silu (x[i]·a + off) for i < n */
AVX512_TARGET static void
affine_silu_avx512 (float *y, const float *x, gsize n, float a, float off)
{
  const __m512 va = _mm512_set1_ps (a), voff = _mm512_set1_ps (off);
  const __m512 neg_log2e = _mm512_set1_ps (-1.4426950408889634f);
  const __m512 one = _mm512_set1_ps (1.0f);

  for (gsize i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? 0xffff :
        (__mmask16) ((1u << (n - i)) - 1);
    const __m512 v = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, x + i), va,
        voff);
    /* e^−v = 2^(−v·log2e): 0 for v > 86.6 (y = v), +inf for v < −88.7
     * (y = −0), NaN for NaN */
    const __m512 e = exp2_16 (_mm512_mul_ps (v, neg_log2e));
    _mm512_mask_storeu_ps (y + i, m, _mm512_div_ps (v, _mm512_add_ps (one, e)));
  }
}

static void
group_norm_silu_groups (gsize t0, gsize t1, gpointer data)
{
  const GroupNormSiluArgs *A = data;
  const int per_group = A->channels / A->groups;
  const gsize group_len = (gsize) per_group * A->hw;

  for (gsize t = t0; t < t1; t++) {
    const int g = (int) (t % A->groups);
    const float *xg = A->x + t * group_len;
    float *yg = A->y + t * group_len;
    const float mean = (float) (sum_avx512 (xg, group_len, 0.0f, FALSE) /
        group_len);
    const double sq = sum_avx512 (xg, group_len, mean, TRUE);
    const float rstd = (float) (1.0 / sqrt (sq / group_len + A->eps));

    for (int cg = 0; cg < per_group; cg++) {
      const int c = g * per_group + cg;
      const float a = rstd * (A->weight ? A->weight[c] : 1.0f);
      const float off = (A->bias ? A->bias[c] : 0.0f) - mean * a;
      affine_silu_avx512 (yg + (gsize) cg * A->hw, xg + (gsize) cg * A->hw,
          A->hw, a, off);
    }
  }
}
#endif

void
hart_cpu_group_norm_silu_half (HartBackend * be, float *y, const float *x,
    const float *weight, const float *bias, int batch, int channels, int hw,
    int groups, float eps)
{
#ifdef HART_CPU_HAVE_EXP16
  /* asked each call, not cached in a static that two threads could
   * race on (cpu-exp.h, exp_row_sum_any) */
  if (__builtin_cpu_supports ("avx512f")) {
    const int n_groups = batch * groups;
    GroupNormSiluArgs A = {.y = y,.x = x,.weight = weight,.bias = bias,
      .channels = channels,.hw = hw,.groups = groups,.eps = eps
    };
    if (n_groups <= 0 || hw <= 0)
      return;
    hart_cpu_parallel_for (be, n_groups, (gsize) n_groups * channels / groups
        * hw >= HART_CPU_PARALLEL_MIN ? 1 : (gsize) n_groups,
        group_norm_silu_groups, &A);
    return;
  }
#endif
  hart_cpu_group_norm (be, y, x, weight, bias, batch, channels, hw, groups,
      eps);
  hart_cpu_silu (be, y, y, (gsize) batch * channels * hw);
}
