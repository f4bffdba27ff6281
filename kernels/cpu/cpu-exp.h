/* gst-hart — CPU backend: a vectorised exp for the attention kernels
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * exp4, exp8 and exp16 (the same bits): the three attention kernels,
 * cpu-attention.c (fp32), cpu-attention-half.c and cpu-attention-amx.c;
 * exp2_16: cpu-norm-half.c, whose results a bf16 convolution reads.
 */
#ifndef HART_KERNELS_CPU_EXP_H
#define HART_KERNELS_CPU_EXP_H

#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* exp over a row of scores, four lanes at a time with GCC vector extensions
 * (portable to any target GCC/Clang support; plain SSE2 on x86-64).  Range
 * reduction x = n·ln2 + r, a degree-7 polynomial (Cephes expf) for e^r, and
 * 2^n built in the exponent bits.  Relative error below 1.5 ulp on
 * [-87.3, 0]; exactly 0 below -87.3, so masked scores (-INFINITY) add
 * nothing.  libm expf would be one scalar call per score (GCC does not
 * vectorise it at -O2). */
typedef float v4sf __attribute__((vector_size (16)));
typedef int32_t v4si __attribute__((vector_size (16)));

/* The body of exp4, NAME (x) on vectors of VF floats and VI int32 (the
 * attributes first): exp8 below is the same code on eight lanes. */
#define HART_CPU_DEFINE_EXP(name, vf, vi, ...)                               \
  __VA_ARGS__ static inline vf                                               \
  name (vf x)                                                                \
  {                                                                          \
    const vf lo = (vf) { 0 } - 87.3f;                                        \
    const vi under = x < lo;                                                 \
    /* select: under ? lo : x */                                             \
    vf xc = (vf) ((under & (vi) lo) | (~under & (vi) x));                    \
    vf n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;          \
    vf r = xc - n * 0.693359375f - n * -2.12194440e-4f;                      \
    vf poly = r * 1.9875691500e-4f + 1.3981999507e-3f;                       \
    vf y;                                                                    \
    vi ni, n1, n2;                                                           \
                                                                             \
    poly = poly * r + 8.3334519073e-3f;                                      \
    poly = poly * r + 4.1665795894e-2f;                                      \
    poly = poly * r + 1.6666665459e-1f;                                      \
    poly = poly * r + 5.0000001201e-1f;                                      \
    y = poly * r * r + r + 1.0f;                                             \
    /* y · 2^n as two factors, each a normal float for n in [-126, 0] */     \
    ni = __builtin_convertvector (n, vi);                                    \
    n1 = ni >> 1;                                                            \
    n2 = ni - n1;                                                            \
    y = y * (vf) ((n1 + 127) << 23) * (vf) ((n2 + 127) << 23);               \
    return (vf) (~under & (vi) y);                                           \
  }

HART_CPU_DEFINE_EXP (exp4, v4sf, v4si)

/* exp_row_sum from element j on, four lanes at a time into ACC (the sums
 * of the elements before j), then the scalar tail: the wider loops end
 * here, so every width adds in this order. */
static inline float
exp_row_sum_from (float *row, int j, int n, float sub, v4sf acc)
{
  float sum;

  for (; j + 4 <= n; j += 4) {
    v4sf v;
    memcpy (&v, row + j, sizeof v);
    v = exp4 (v - sub);
    memcpy (row + j, &v, sizeof v);
    acc += v;
  }
  sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  for (; j < n; j++) {
    v4sf v = { row[j] - sub, 0.0f, 0.0f, 0.0f };
    row[j] = exp4 (v)[0];
    sum += row[j];
  }
  return sum;
}

/* row[j] = exp(row[j] − sub) for j < n (all arguments ≤ 0); returns the sum. */
static inline float
exp_row_sum (float *row, int n, float sub)
{
  const v4sf zero = { 0.0f, 0.0f, 0.0f, 0.0f };

  return exp_row_sum_from (row, 0, n, sub, zero);
}

/* max of row[0 … n) (−INFINITY for n = 0): four lanes and two
 * accumulators, as a scalar loop waits on each comparison in turn */
static inline float
row_max (const float *row, int n)
{
  const v4sf neg = { -INFINITY, -INFINITY, -INFINITY, -INFINITY };
  v4sf m0 = neg, m1 = neg;
  float m;
  int j = 0;

  for (; j + 8 <= n; j += 8) {
    v4sf a, b;
    v4si ga, gb;
    memcpy (&a, row + j, sizeof a);
    memcpy (&b, row + j + 4, sizeof b);
    ga = a > m0;
    gb = b > m1;
    m0 = (v4sf) ((ga & (v4si) a) | (~ga & (v4si) m0));
    m1 = (v4sf) ((gb & (v4si) b) | (~gb & (v4si) m1));
  }
  {
    v4si g = m1 > m0;
    m0 = (v4sf) ((g & (v4si) m1) | (~g & (v4si) m0));
  }
  m = MAX (MAX (m0[0], m0[1]), MAX (m0[2], m0[3]));
  for (; j < n; j++)
    m = row[j] > m ? row[j] : m;
  return m;
}

/* out[j] = bf16 (exp (row[j]·scale − sub)) for j < n (all arguments ≤ 0,
 * so every result is in [0, 1] and rounds by the bit trick below, nearest
 * even); returns the sum of the unrounded exponentials.  For the bf16
 * attention (cpu-attention-half.c): one pass over the scores. */
static inline float
exp_row_sum_bf16 (const float *row, int n, float scale, float sub,
    uint16_t * out)
{
  typedef int16_t v4hi __attribute__((vector_size (8)));
  const v4si half_ulp = { 0x7fff, 0x7fff, 0x7fff, 0x7fff };
  const v4si one = { 1, 1, 1, 1 };
  v4hi halves;
  v4sf acc = { 0.0f, 0.0f, 0.0f, 0.0f };
  float sum;
  int j = 0;

  for (; j + 4 <= n; j += 4) {
    v4sf v;
    v4si bits;
    memcpy (&v, row + j, sizeof v);
    v = exp4 (v * scale - sub);
    acc += v;
    bits = (v4si) v;
    bits = (bits + half_ulp + ((bits >> 16) & one)) >> 16;
    /* the four halves stored at once (a store per lane took a third of
     * the widened attention's time) */
    halves = __builtin_convertvector (bits, v4hi);
    memcpy (out + j, &halves, sizeof halves);
  }
  sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  for (; j < n; j++) {
    v4sf v = { row[j] * scale - sub, 0.0f, 0.0f, 0.0f };
    float e = exp4 (v)[0];
    uint32_t bits;
    memcpy (&bits, &e, sizeof bits);
    out[j] = (uint16_t) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
    sum += e;
  }
  return sum;
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HART_CPU_HAVE_EXP16 1
#include <immintrin.h>

/* exp4, sixteen lanes at a time, for CPUs with AVX-512 (the build targets
 * plain x86-64: callers carry the target attribute and check the CPU at
 * run time).  The same arithmetic in fewer instructions, and the same bits
 * lane for lane: the rounding of x·log2e to an integer by adding and
 * subtracting 1.5·2^23 is roundscale's round to nearest even;
 * n·0.693359375 is exact (a 9-bit constant times an integer below 2^8), so
 * the fused x − n·0.693359375 rounds once as the two operations did;
 * scalef multiplies by 2^n exactly where the two factors 2^n1·2^n2 did
 * (every result is a normal float or 0); and below −87.3 (−inf included)
 * the result is masked to 0, so x needs no clamp there (NaN stays NaN).
 * Checked over every float below 176 (all 2^31 negative ones included):
 * the same bits as exp4, NaN for NaN (above 177, where both overflow, exp4
 * gives NaN and this +inf).  The polynomial keeps its separate multiplies
 * and adds: a fused multiply-add would round differently from exp4. */
__attribute__((target ("avx512f")))
static inline __m512
exp16 (__m512 x)
{
  const __m512 lo = _mm512_set1_ps (-87.3f);
  const __mmask16 keep = _mm512_cmp_ps_mask (x, lo, _CMP_NLT_UQ);
  const __m512 n = _mm512_roundscale_ps (_mm512_mul_ps (x,
          _mm512_set1_ps (1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps (n, _mm512_set1_ps (0.693359375f), x);
  __m512 poly;

  r = _mm512_sub_ps (r, _mm512_mul_ps (n, _mm512_set1_ps (-2.12194440e-4f)));
  poly = _mm512_add_ps (_mm512_mul_ps (r, _mm512_set1_ps (1.9875691500e-4f)),
      _mm512_set1_ps (1.3981999507e-3f));
  poly = _mm512_add_ps (_mm512_mul_ps (poly, r),
      _mm512_set1_ps (8.3334519073e-3f));
  poly = _mm512_add_ps (_mm512_mul_ps (poly, r),
      _mm512_set1_ps (4.1665795894e-2f));
  poly = _mm512_add_ps (_mm512_mul_ps (poly, r),
      _mm512_set1_ps (1.6666665459e-1f));
  poly = _mm512_add_ps (_mm512_mul_ps (poly, r),
      _mm512_set1_ps (5.0000001201e-1f));
  /* y = poly·r·r + r + 1, left to right */
  poly = _mm512_add_ps (_mm512_add_ps (_mm512_mul_ps (_mm512_mul_ps (poly, r),
              r), r), _mm512_set1_ps (1.0f));
  /* below −87.3 (−inf included): exactly 0 */
  return _mm512_maskz_scalef_ps (keep, poly, n);
}

/* 2^t, sixteen lanes, for cpu-norm-half.c's SiLU, whose results a bf16
 * convolution reads (8 significant bits): there exp16's bit-exactness
 * with exp4 buys nothing, and it costs twice the instructions.  (Tried in
 * the AMX attention too: 1.2-1.4x faster, but a frame of a batch then no
 * longer had the bits of the frame made alone; docs/precision.md.)
 * Here: t = n + r with n = round (t) and r = t − n exact (|r| ≤ ½), 2^r
 * by a degree-5 polynomial in fused multiply-adds (coefficients fitted
 * for the least maximum relative error on [−½, ½]), and 2^n by scalef:
 * ten instructions.  Relative
 * error below 3e-7 (a few ulp) for t in [−125, 0], checked against
 * exp2 over that range by test-cpu-exp; exactly 0 below −125 (−inf
 * included, so masked scores add nothing; every nonzero result is a
 * normal float); NaN for NaN. */
__attribute__((target ("avx512f")))
static inline __m512
exp2_16 (__m512 t)
{
  const __mmask16 keep = _mm512_cmp_ps_mask (t, _mm512_set1_ps (-125.0f),
      _CMP_NLT_UQ);
  const __m512 n = _mm512_roundscale_ps (t,
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_sub_ps (t, n);
  __m512 poly = _mm512_set1_ps (1.3276418903842568e-3f);

  poly = _mm512_fmadd_ps (poly, r, _mm512_set1_ps (9.675529785454273e-3f));
  poly = _mm512_fmadd_ps (poly, r, _mm512_set1_ps (5.550713464617729e-2f));
  poly = _mm512_fmadd_ps (poly, r, _mm512_set1_ps (2.4022120237350464e-1f));
  poly = _mm512_fmadd_ps (poly, r, _mm512_set1_ps (6.931469440460205e-1f));
  poly = _mm512_fmadd_ps (poly, r, _mm512_set1_ps (1.0000001192092896f));
  return _mm512_maskz_scalef_ps (keep, poly, n);
}

/* exp_row_sum_bf16 sixteen lanes at a time (exp_row_sum_bf16_any picks it
 * at run time): the same probabilities, bit for bit (exp16 is exp4); their
 * sum is added in another order, so a machine with AVX-512 and one without
 * may differ in its last bit (a given machine always gives the same
 * bytes). */
__attribute__((target ("avx512f,avx512bw,avx512vl")))
static inline float
exp_row_sum_bf16_avx512 (const float *row, int n, float scale, float sub,
    uint16_t * out)
{
  const __m512 vscale = _mm512_set1_ps (scale), vsub = _mm512_set1_ps (sub);
  __m512 acc = _mm512_setzero_ps ();
  float sum = 0.0f;
  int j = 0;

  for (; j + 16 <= n; j += 16) {
    __m512 y = exp16 (_mm512_sub_ps (_mm512_mul_ps (_mm512_loadu_ps (row + j),
                vscale), vsub));
    __m512i bits = _mm512_castps_si512 (y);
    acc = _mm512_add_ps (acc, y);
    /* round to nearest even (y is 0 or a normal float in (0, 1], NaN
     * only from a NaN score) */
    bits = _mm512_add_epi32 (bits, _mm512_add_epi32 (_mm512_set1_epi32
            (0x7fff), _mm512_and_si512 (_mm512_srli_epi32 (bits, 16),
                _mm512_set1_epi32 (1))));
    _mm256_storeu_si256 ((__m256i *) (out + j),
        _mm512_cvtepi32_epi16 (_mm512_srli_epi32 (bits, 16)));
  }
  /* the sixteen lanes folded to four, then as exp_row_sum_bf16 does */
  if (j > 0) {
    float lanes[16];
    v4sf a4 = { 0.0f, 0.0f, 0.0f, 0.0f };
    _mm512_storeu_ps (lanes, acc);
    for (int l = 0; l < 16; l += 4) {
      v4sf part = { lanes[l], lanes[l + 1], lanes[l + 2], lanes[l + 3] };
      a4 += part;
    }
    sum = (a4[0] + a4[1]) + (a4[2] + a4[3]);
  }
  return sum + exp_row_sum_bf16 (row + j, n - j, scale, sub, out + j);
}
#endif

#if defined(__GNUC__) && defined(__x86_64__)
#define HART_CPU_HAVE_EXP8 1
/* exp4 and exp_row_sum_bf16 eight lanes at a time, for CPUs with AVX2 but
 * not AVX-512 (those on which the bf16 products run widened, where the
 * exponentials took a third of the bf16 attention's time).  exp4's code
 * (HART_CPU_DEFINE_EXP) on wider vectors, and AVX2 without FMA (the target
 * attribute enables no FMA, so nothing is fused): the same bits lane for
 * lane.  The sum is added in another order, as with exp16. */
typedef float v8sf __attribute__((vector_size (32)));
typedef int32_t v8si __attribute__((vector_size (32)));
typedef int16_t v8hi __attribute__((vector_size (16)));

HART_CPU_DEFINE_EXP (exp8, v8sf, v8si, __attribute__((target ("avx2"))))

__attribute__((target ("avx2")))
static inline float
exp_row_sum_bf16_avx2 (const float *row, int n, float scale, float sub,
    uint16_t * out)
{
  v8sf acc = { 0 };
  float sum;
  int j = 0;

  for (; j + 8 <= n; j += 8) {
    v8sf v;
    v8si bits;
    v8hi halves;
    memcpy (&v, row + j, sizeof v);
    v = exp8 (v * scale - sub);
    acc += v;
    bits = (v8si) v;
    bits = (bits + 0x7fff + ((bits >> 16) & 1)) >> 16;
    halves = __builtin_convertvector (bits, v8hi);
    memcpy (out + j, &halves, sizeof halves);
  }
  sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
      ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  return sum + exp_row_sum_bf16 (row + j, n - j, scale, sub, out + j);
}

/* exp_row_sum (fp32 attention) eight lanes at a time: exp8 of eight
 * values, whose two halves are added to exp_row_sum's four-lane
 * accumulator as its next two steps would add them.  The same row and the
 * same sum, bit for bit, so fp32 keeps its results (test-cpu-exp). */
__attribute__((target ("avx2")))
static inline float
exp_row_sum_avx2 (float *row, int n, float sub)
{
  v4sf acc = { 0.0f, 0.0f, 0.0f, 0.0f };
  int j = 0;

  for (; j + 8 <= n; j += 8) {
    v8sf v;
    v4sf half;
    memcpy (&v, row + j, sizeof v);
    v = exp8 (v - sub);
    memcpy (row + j, &v, sizeof v);
    memcpy (&half, &v, sizeof half);
    acc += half;
    memcpy (&half, (const float *) &v + 4, sizeof half);
    acc += half;
  }
  return exp_row_sum_from (row, j, n, sub, acc);
}
#endif

/* exp_row_sum on eight lanes where the CPU has AVX2 (the same bits) */
static inline float
exp_row_sum_any (float *row, int n, float sub)
{
#ifdef HART_CPU_HAVE_EXP8
  /* asked each time, not cached in a static: the pool's threads call this
   * at once, and __builtin_cpu_supports only reads what the runtime set at
   * start-up (a load and a bit test) */
  if (__builtin_cpu_supports ("avx2"))
    return exp_row_sum_avx2 (row, n, sub);
#endif
  return exp_row_sum (row, n, sub);
}

/* exp_row_sum_bf16 on the widest vectors the CPU has */
static inline float
exp_row_sum_bf16_any (const float *row, int n, float scale, float sub,
    uint16_t * out)
{
#if defined(HART_CPU_HAVE_EXP16) || defined(HART_CPU_HAVE_EXP8)
  /* 16 or 8 lanes, or 4; asked each time (see exp_row_sum_any) */
  const int have = __builtin_cpu_supports ("avx512f")
      && __builtin_cpu_supports ("avx512bw")
      && __builtin_cpu_supports ("avx512vl") ? 16
      : __builtin_cpu_supports ("avx2") ? 8 : 4;
#endif
#ifdef HART_CPU_HAVE_EXP16
  if (have == 16)
    return exp_row_sum_bf16_avx512 (row, n, scale, sub, out);
#endif
#ifdef HART_CPU_HAVE_EXP8
  if (have == 8)
    return exp_row_sum_bf16_avx2 (row, n, scale, sub, out);
#endif
  return exp_row_sum_bf16 (row, n, scale, sub, out);
}

#endif /* HART_KERNELS_CPU_EXP_H */
