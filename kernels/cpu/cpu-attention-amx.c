/* gst-hart — CPU backend: attention with bf16 products on the AMX tiles
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A hand-written flash-attention kernel for attention_half on CPUs with
 * AMX (Sapphire Rapids and later), with the arithmetic of the oneDNN path
 * (cpu-attention-half.c) but for the summation order and the correction
 * factor exp (m_old − m_new), taken from exp16 rather than libm's expf:
 * q, k, the probabilities and v rounded to bf16 to nearest even, products
 * summed in fp32; scale, masks, running maximum, exponentials and their
 * sum in fp32, the exponentials summed unrounded;
 * out = acc / sum; a row that sees no key gives zeros; NaN where scratch
 * memory ran out.  Why by hand: oneDNN 2.6 has no fused attention, and its
 * two batched matmuls per block of 128 queries × 512 keys × every head
 * (the [heads, 128, 512] fp32 scores in memory between them) reached
 * ~70 GFLOP/s per core at HART's shapes (head_dim 64, kv_len in the
 * thousands): the products are short (K = 64) and the softmax streamed the
 * score matrix through memory.  Here the scores of a step stay in the
 * tiles and L1.
 *
 * Used by hart_cpu_attention_half for every tile when the CPU has
 * AMX-TILE, AMX-BF16, AVX-512 F/BW/VL and AVX-512 BF16, the OS saves their
 * state (XCR0) and Linux grants the tile data (arch_prctl
 * ARCH_REQ_XCOMP_PERM), all checked once; and head_dim is a multiple of 32
 * (HART 64, Qwen2's text encoder 128).  Otherwise, or with
 * HART_CPU_ATTENTION=onednn in the environment (read at every call: for
 * benchmarks and comparisons), the oneDNN path runs.
 *
 * Layouts.  The products are transposed, so that the softmax runs down
 * columns of 16 queries (one AVX-512 vector per key and half step, no
 * horizontal reductions):
 *   Sᵀ [keys, queries] = K · Qᵀ     A = K as stored (head-major bf16 rows,
 *                                     read in place); B = Qᵀ in the VNNI
 *                                     pair layout (row i of a tile holds
 *                                     elements 2i, 2i + 1 of 16 queries),
 *                                     packed once per work item;
 *   (P·V)ᵀ [d, queries] = Vᵀ · Pᵀ   A = Vᵀ, transposed once per call and
 *                                     batch row into [kv_heads][block][d]
 *                                     [AMX_KB]; B = Pᵀ in the VNNI layout,
 *                                     the exponentials of two consecutive
 *                                     keys interleaved (VCVTNE2PS2BF16,
 *                                     which rounds to nearest even, and
 *                                     VPERMW).
 * Blocking.  A step is AMX_QS = 32 queries (two tiles of 16) of one query
 * head × a block of AMX_KB = 128 keys (its last one rounded up to 32):
 * Sᵀ [128, 32] in fp32 goes through tiles 0-3 (32 keys at a time) to a
 * 16 KiB buffer; the mask, the block's maximum, the exponentials
 * (exp16, cpu-exp.h: lane for lane the bits of the fp32 kernel's exp4),
 * their sums and the correction are per query lane; (P·V)ᵀ [d, 32] comes
 * out of fresh tiles and is added to the fp32 accumulator Oᵀ [d, 32] in
 * memory, which is rescaled only where a lane's maximum grew.  While the
 * vector units compute a step's softmax, the tile instructions of the step
 * before (its P·V) and after (its scores) run, interleaved.  A work item
 * is AMX_Q_BLOCK = 128 queries × one KV head and its group of query heads
 * (grouped-query attention); its steps go through the keys in chunks of
 * AMX_CHUNK blocks (whose K and Vᵀ stay in L2), one head and 32 queries
 * at a time within a chunk (whose Qᵀ and Oᵀ stay in L1).
 *
 * Determinism: block sizes are fixed, each query sees its keys in the same
 * blocks in the same order, and each output value is computed by one work
 * item, whichever thread runs it: the same inputs give the same bytes at
 * any thread count (checked by the op harness, backend check
 * attention-half-bytes), also with K and V given in bf16.  The bits differ
 * from the oneDNN path's (other summation orders).
 *
 * Tile configuration is per thread, and oneDNN configures the tiles of the
 * same threads for its own kernels: every work item loads this kernel's
 * configuration and releases the tiles when done.
 */
#include "cpu-onednn.h"
#include "cpu-exp.h"

#include <cpuid.h>
#include <immintrin.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AMX_KB 128              /* keys per block (at most 128) */
#define AMX_HW (AMX_KB / 64)    /* 64-bit words of a block's key mask */
#define AMX_QS 32               /* queries per step: two tiles of 16 */
#define AMX_Q_BLOCK 128         /* queries per work item */
#define AMX_SUBS (AMX_Q_BLOCK / AMX_QS)
#define AMX_CHUNK 16            /* blocks of keys per chunk */

#define AMX_TARGET \
  __attribute__((target ("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16")))

/* The compiler does not know that _tile_loadd reads memory: what the C
 * code stored before it must be written first. */
#define AMX_BARRIER() __asm__ __volatile__ ("":::"memory")

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

/* ldtilecfg's 64 bytes, palette 1 */
typedef struct
{
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} AmxTileConfig;

static gboolean
xgetbv_has (guint64 bits)
{
  guint32 lo, hi;
  __asm__ __volatile__ ("xgetbv":"=a" (lo), "=d" (hi):"c" (0));
  return (((guint64) hi << 32 | lo) & bits) == bits;
}

/* CPUID, the OS's XSAVE state (XCR0: SSE, AVX, the AVX-512 opmask and
 * upper registers, tile config and data), and Linux's permission for the
 * tile data, once per process. */
static gboolean
amx_detect (void)
{
  unsigned a, b, c, d, a1, b1, c1, d1;

  if (!__get_cpuid_count (1, 0, &a, &b, &c, &d) || !(c & (1u << 27)))
    return FALSE;               /* no OSXSAVE */
  if (!__get_cpuid_count (7, 0, &a, &b, &c, &d)
      || !__get_cpuid_count (7, 1, &a1, &b1, &c1, &d1))
    return FALSE;
  if (!(b & (1u << 16)) || !(b & (1u << 30))    /* AVX-512 F, BW */
      ||!(b & (1u << 31))       /* AVX-512 VL */
      ||!(a1 & (1u << 5))       /* AVX-512 BF16 */
      ||!(d & (1u << 22)) || !(d & (1u << 24))) /* AMX-BF16, AMX-TILE */
    return FALSE;
  if (!xgetbv_has (0x6 | 0xe0 | (3u << 17)))
    return FALSE;
  return syscall (SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)
      == 0;
}

gboolean
hart_cpu_attention_amx_usable (const HartAttentionParams * p)
{
  static gsize detected = 0;
  static gboolean have_amx;
  const char *env;

  if (g_once_init_enter (&detected)) {
    have_amx = amx_detect ();
    g_once_init_leave (&detected, 1);
  }
  env = g_getenv ("HART_CPU_ATTENTION");
  return have_amx && p->head_dim > 0 && p->head_dim % 32 == 0
      && p->head_dim <= 1024 && (env == NULL
      || g_ascii_strcasecmp (env, "onednn") != 0);
}

typedef struct
{
  const HartAttentionParams *p;
  int b;                        /* the batch row */
  const uint16_t *kh;           /* row b's K in bf16, head-major */
  int64_t head_stride;          /* elements from one KV head to the next */
  const uint16_t *vt;           /* row b's Vᵀ: [kv_heads, n_blocks] × [d][AMX_KB] */
  int n_blocks;                 /* blocks of AMX_KB keys in kv_len */
  int n_qblocks;
  gboolean failed;
} AmxArgs;

/* The tile work of one step's products, in units of a few instructions,
 * queued so that it runs on the matrix unit while the vector units compute
 * the exponentials of the step between them (the tile numbers are
 * immediates: a code per unit) */
enum
{
  UNIT_S_ZERO,                  /* Sᵀ tiles 0-3 := 0 */
  UNIT_S_CHUNK,                 /* (half, c): Sᵀ += K · Qᵀ over d chunk c */
  UNIT_S_STORE,                 /* (half): Sᵀ tiles to the scores */
  UNIT_O_ZERO,                  /* the block's P·V, tiles 0-3 := 0 */
  UNIT_O_CHUNK,                 /* (t, kc): += Vᵀ · Pᵀ over keys chunk kc */
  UNIT_O_STORE,                 /* (t): tiles 0-3 to rows [32t, 32t + 32) */
};

typedef struct
{
  uint8_t kind, x, y;
} TileUnit;

typedef struct
{
  TileUnit *units;
  int n, done, d;
  /* Sᵀ [nrows, 32] = K · Qᵀ: tiles 0-3 Sᵀ, 4-5 K, 6-7 Qᵀ */
  const uint16_t *k;
  const uint32_t *qt;
  float *scores;
  /* the block's (P·V)ᵀ [d, 32] = Vᵀ · Pᵀ: tiles 0-3 (P·V)ᵀ, 4-5 Vᵀ,
   * 6-7 Pᵀ */
  float *pv;
  const uint16_t *vt, *probs;
} TileQueue;

/* Per-thread scratch, every part 64-byte aligned, for one work item of
 * `group` query heads × AMX_SUBS steps of 32 queries */
typedef struct
{
  gpointer mem;
  uint32_t *qt;                 /* [group, subs] × Qᵀ tiles [d/32][2][16][16]
                                 * (pairs of bf16) */
  float *acc;                   /* [group, subs] × Oᵀ [d][32] */
  float *pv;                    /* one block's (P·V)ᵀ [d][32] */
  float *ml;                    /* [group, subs] × max [32], sum [32] */
  float *scores;                /* [2] × Sᵀ [AMX_KB][32] */
  uint16_t *probs;              /* [2] × Pᵀ tiles [AMX_KB / 32][2][16][32] */
  uint16_t *kpad;               /* the last, partial block of K [AMX_KB][d] */
  uint16_t *qrows;              /* 32 query rows in bf16 [32][d] */
  guint64 *hidden;              /* per block: its keys no query sees
                                 * [AMX_HW] */
  TileQueue queue;
} AmxScratch;

/* units of one step's two products */
static int
amx_queue_size (int d)
{
  return (AMX_KB / 32) * (2 + d / 32) + (d / 32) * (2 + AMX_KB / 32);
}

static gboolean
amx_scratch_init (AmxScratch * s, const AmxArgs * A)
{
  const HartAttentionParams *p = A->p;
  const gsize d = p->head_dim, n_steps = (gsize) (p->q_heads / p->kv_heads) *
      AMX_SUBS;
  const gsize sizes[] = {
    n_steps * d * 64, n_steps * d * AMX_QS * 4, d * AMX_QS * 4,
    n_steps * 2 * AMX_QS * 4,
    2 * AMX_KB * AMX_QS * 4, 2 * AMX_KB * AMX_QS * 2,
    AMX_KB * d * 2,
    AMX_QS * d * 2, (gsize) A->n_blocks * AMX_HW * sizeof (guint64),
    amx_queue_size (d) * sizeof (TileUnit)
  };
  gpointer *parts[] = {
    (gpointer *) & s->qt, (gpointer *) & s->acc, (gpointer *) & s->pv,
    (gpointer *) & s->ml,
    (gpointer *) & s->scores, (gpointer *) & s->probs, (gpointer *) & s->kpad,
    (gpointer *) & s->qrows, (gpointer *) & s->hidden,
    (gpointer *) & s->queue.units
  };
  gsize total = 64;
  char *at;

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    total += (sizes[i] + 63) & ~(gsize) 63;
  s->mem = g_try_malloc (total);
  if (s->mem == NULL)
    return FALSE;
  at = (char *) (((guintptr) s->mem + 63) & ~(guintptr) 63);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++) {
    *parts[i] = at;
    at += (sizes[i] + 63) & ~(gsize) 63;
  }
  s->queue.d = (int) d;
  return TRUE;
}

static inline void
queue_unit (TileQueue * q, int kind, int x, int y)
{
  q->units[q->n++] = (TileUnit) {
  kind, x, y};
}

/* Sᵀ [nrows, 32] = K [nrows, d] · Qᵀ into scores */
static void
queue_scores (TileQueue * q, const uint16_t * k, const uint32_t * qt,
    float *scores, int nrows)
{
  q->k = k;
  q->qt = qt;
  q->scores = scores;
  for (int h = 0; h < nrows / 32; h++) {
    queue_unit (q, UNIT_S_ZERO, 0, 0);
    for (int c = 0; c < q->d / 32; c++)
      queue_unit (q, UNIT_S_CHUNK, h, c);
    queue_unit (q, UNIT_S_STORE, h, 0);
  }
}

/* (P·V)ᵀ [d, 32] = Vᵀ [d, nrows] · Pᵀ [nrows, 32] into pv: in fresh tiles,
 * not added to the accumulator in them (loading tiles that a tile store
 * has just written stalls for long); amx_fold adds it */
static void
queue_product (TileQueue * q, float *pv, const uint16_t * vt,
    const uint16_t * probs, int nrows)
{
  q->pv = pv;
  q->vt = vt;
  q->probs = probs;
  for (int t = 0; t < q->d / 32; t++) {
    queue_unit (q, UNIT_O_ZERO, t, 0);
    for (int kc = 0; kc < nrows / 32; kc++)
      queue_unit (q, UNIT_O_CHUNK, t, kc);
    queue_unit (q, UNIT_O_STORE, t, 0);
  }
}

/* Tiles 0-3 (a 32 × 32 fp32 block) += A · B, A two 16-row tiles ROWS_STRIDE
 * bytes apart (rows of STRIDE bytes), B two VNNI tiles B0 and B1. */
AMX_TARGET static inline void
tile_product_2x2 (const char *a, long rows_stride, long stride,
    const void *b0, const void *b1)
{
  _tile_loadd (4, a, stride);
  _tile_loadd (5, a + rows_stride, stride);
  _tile_loadd (6, b0, 64);
  _tile_loadd (7, b1, 64);
  _tile_dpbf16ps (0, 4, 6);
  _tile_dpbf16ps (1, 4, 7);
  _tile_dpbf16ps (2, 5, 6);
  _tile_dpbf16ps (3, 5, 7);
}

/* Tiles 0-3 to the 32 × AMX_QS fp32 block at DST. */
AMX_TARGET static inline void
tile_store_2x2 (float *dst)
{
  _tile_stored (0, dst, AMX_QS * 4);
  _tile_stored (1, dst + 16, AMX_QS * 4);
  _tile_stored (2, dst + 16 * AMX_QS, AMX_QS * 4);
  _tile_stored (3, dst + 16 * AMX_QS + 16, AMX_QS * 4);
}

/* Runs the queued units up to `upto`.  The barriers: _tile_loadd does not
 * tell the compiler that it reads memory, so what the C code stored before
 * must be written first, and what it stores after must not move up. */
AMX_TARGET static void
queue_run (TileQueue * q, int upto)
{
  const long kstride = (long) q->d * 2;

  AMX_BARRIER ();
  for (; q->done < upto; q->done++) {
    const TileUnit u = q->units[q->done];
    switch (u.kind) {
      case UNIT_S_ZERO:
      case UNIT_O_ZERO:
        _tile_zero (0);
        _tile_zero (1);
        _tile_zero (2);
        _tile_zero (3);
        break;
      case UNIT_S_CHUNK:{
        const char *kb = (const char *) (q->k + (gsize) u.x * 32 * q->d) +
            u.y * 64;
        tile_product_2x2 (kb, 16 * kstride, kstride,
            q->qt + (u.y * 2) * 256, q->qt + (u.y * 2 + 1) * 256);
        break;
      }
      case UNIT_S_STORE:{
        tile_store_2x2 (q->scores + u.x * 32 * AMX_QS);
        break;
      }
      case UNIT_O_CHUNK:{
        const uint16_t *v = q->vt + u.x * 32 * AMX_KB + u.y * 32;
        tile_product_2x2 ((const char *) v, 16 * AMX_KB * 2, AMX_KB * 2,
            q->probs + (u.y * 2) * 512, q->probs + (u.y * 2 + 1) * 512);
        break;
      }
      case UNIT_O_STORE:{
        tile_store_2x2 (q->pv + u.x * 32 * AMX_QS);
        break;
      }
      default:
        g_assert_not_reached ();
    }
  }
  AMX_BARRIER ();
}

/* Lanes [0, n) of 16 (n clamped to [0, 16]) */
static inline __mmask16
lanes_below (int64_t n)
{
  return n <= 0 ? 0 : n >= 16 ? 0xffff : (__mmask16) ((1u << n) - 1);
}

/* One step: queries [qs, qs + 32) of one query head over one block of
 * keys */
typedef struct
{
  int kb;                       /* the block: keys [kb·AMX_KB, +nrows) */
  int nrows;                    /* its keys rounded up to 32 */
  int i;                        /* the head and queries: j·AMX_SUBS + sub */
  int64_t qs;
  const uint16_t *k;            /* its K rows: in place, or kpad */
  float *scores;
  uint16_t *probs;
} AmxStep;

/* acc [d][32] = (acc + pv) · corr per query lane, pv the product of the
 * block before (NULL: none), corr the correction of half h of the lanes
 * (applied where grew[h] is set; 1 elsewhere) */
AMX_TARGET static void
amx_fold (float *acc, const float *pv, int d, const __m512 corr[2],
    const __mmask16 grew[2])
{
  for (int h = 0; h < 2; h++) {
    if (pv != NULL && grew[h] != 0)
      for (int c = 0; c < d; c++) {
        float *a = acc + c * AMX_QS + h * 16;
        _mm512_store_ps (a, _mm512_mul_ps (_mm512_add_ps (_mm512_load_ps (a),
                    _mm512_load_ps (pv + c * AMX_QS + h * 16)), corr[h]));
    } else if (pv != NULL)
      for (int c = 0; c < d; c++) {
        float *a = acc + c * AMX_QS + h * 16;
        _mm512_store_ps (a, _mm512_add_ps (_mm512_load_ps (a),
                _mm512_load_ps (pv + c * AMX_QS + h * 16)));
    } else if (grew[h] != 0)
      for (int c = 0; c < d; c++) {
        float *a = acc + c * AMX_QS + h * 16;
        _mm512_store_ps (a, _mm512_mul_ps (_mm512_load_ps (a), corr[h]));
      }
  }
}

/* The softmax of one step whose scores are computed: masks, the running
 * maximum, P = exp (s·scale − m) into st->probs, the running sums, and
 * the accumulator rescaled where the maximum grew.  The queued tile units
 * run meanwhile (the product of the step before into q->pv, to be added to
 * pend_acc, and the scores of the step after); then that product is added
 * (before the rescaling when pend_acc is acc: it is relative to the old
 * maximum).  FALSE when none
 * of the step's queries has seen a key yet (then nothing changed: no
 * product to add). */
AMX_TARGET static gboolean
amx_softmax (const HartAttentionParams * p, const AmxStep * st,
    const guint64 * hidden, float *acc, float *ml, TileQueue * q,
    float *pend_acc)
{
  const __mmask16 none[2] = { 0, 0 };
  __m512 corr[2] = { _mm512_set1_ps (1.0f), _mm512_set1_ps (1.0f) };
  __mmask16 grew[2];
  const int d = p->head_dim, nrows = st->nrows;
  const __m512 neg_inf = _mm512_set1_ps (-INFINITY);
  const __m512 vscale = _mm512_set1_ps (p->scale);
  /* VPERMW: bf16 lanes 0-15 (even keys) and 16-31 (odd keys) interleaved */
  const __m512i pairs = _mm512_set_epi16 (31, 15, 30, 14, 29, 13, 28, 12,
      27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2,
      17, 1, 16, 0);
  float *scores = st->scores;
  __m512 m_new[2], m_sub[2], sum0, sum1;
  __mmask16 seen = 0;
  int per_iter;

  /* masked keys, and keys past the end: −inf */
  for (int w = 0; w < (nrows + 63) / 64; w++)
    for (guint64 hid = hidden[w]; hid != 0; hid &= hid - 1) {
      float *row = scores + (w * 64 + __builtin_ctzll (hid)) * AMX_QS;
      _mm512_store_ps (row, neg_inf);
      _mm512_store_ps (row + 16, neg_inf);
    }
  /* causal: key k0 + j is hidden from query qs + l when
   * k0 + j > qs + l + offset, i.e. from the lanes l < k0 + j − offset − qs */
  if (p->causal) {
    const int64_t t0 = (int64_t) st->kb * AMX_KB - p->causal_offset - st->qs;
    for (int j = (int)CLAMP (1 - t0, 0, nrows); j < nrows; j++) {
      float *row = scores + j * AMX_QS;
      _mm512_mask_store_ps (row, lanes_below (t0 + j), neg_inf);
      _mm512_mask_store_ps (row + 16, lanes_below (t0 + j - 16), neg_inf);
    }
  }

  for (int h = 0; h < 2; h++) {
    /* the block's maximum per query, four chains; max (s, m) keeps m
     * when s is NaN, as the fp32 kernel's comparisons do */
    __m512 b0 = neg_inf, b1 = neg_inf, b2 = neg_inf, b3 = neg_inf, m_old;
    __mmask16 vis;
    for (int j = 0; j < nrows; j += 4) {
      b0 = _mm512_max_ps (_mm512_load_ps (scores + j * AMX_QS + h * 16), b0);
      b1 = _mm512_max_ps (_mm512_load_ps (scores + (j + 1) * AMX_QS +
              h * 16), b1);
      b2 = _mm512_max_ps (_mm512_load_ps (scores + (j + 2) * AMX_QS +
              h * 16), b2);
      b3 = _mm512_max_ps (_mm512_load_ps (scores + (j + 3) * AMX_QS +
              h * 16), b3);
    }
    b0 = _mm512_max_ps (_mm512_max_ps (b0, b1), _mm512_max_ps (b2, b3));
    m_old = _mm512_load_ps (ml + h * 16);
    /* the scale is positive: the maximum of the scaled scores is the
     * scaled maximum */
    m_new[h] = _mm512_max_ps (_mm512_mul_ps (b0, vscale), m_old);
    /* lanes that have seen no key yet subtract 0: their scores are all
     * −inf, their exponentials 0 */
    vis = _mm512_cmp_ps_mask (m_new[h], neg_inf, _CMP_NEQ_UQ);
    m_sub[h] = _mm512_maskz_mov_ps (vis, m_new[h]);
    seen |= vis;
  }
  if (seen == 0) {
    queue_run (q, q->n);
    if (pend_acc != NULL)
      amx_fold (pend_acc, q->pv, d, corr, none);
    return FALSE;
  }

  /* P = exp (s·scale − m), summed unrounded, rounded to bf16 (nearest
   * even) in the VNNI pairs of Pᵀ: row i of tile (kc, h) holds keys
   * 32 kc + 2i and 32 kc + 2i + 1 of each query of half h */
  sum0 = sum1 = _mm512_setzero_ps ();
  /* four keys per iteration; the queued units spread over the
   * iterations */
  per_iter = (q->n - q->done + nrows / 4 - 1) / (nrows / 4);
  for (int j = 0; j < nrows; j += 4) {
    queue_run (q, MIN (q->n, q->done + per_iter));
    for (int jj = j; jj < j + 4; jj += 2) {
      const float *row = scores + jj * AMX_QS;
      uint16_t *pr = st->probs + (jj / 32) * 1024 + (jj % 32 / 2) * 32;
      __m512 e0, e1, f0, f1;
      e0 = exp16 (_mm512_sub_ps (_mm512_mul_ps (_mm512_load_ps (row),
                  vscale), m_sub[0]));
      e1 = exp16 (_mm512_sub_ps (_mm512_mul_ps (_mm512_load_ps (row +
                      AMX_QS), vscale), m_sub[0]));
      f0 = exp16 (_mm512_sub_ps (_mm512_mul_ps (_mm512_load_ps (row + 16),
                  vscale), m_sub[1]));
      f1 = exp16 (_mm512_sub_ps (_mm512_mul_ps (_mm512_load_ps (row +
                      AMX_QS + 16), vscale), m_sub[1]));
      sum0 = _mm512_add_ps (_mm512_add_ps (sum0, e0), e1);
      sum1 = _mm512_add_ps (_mm512_add_ps (sum1, f0), f1);
      _mm512_store_si512 (pr, _mm512_permutexvar_epi16 (pairs,
              (__m512i) _mm512_cvtne2ps_pbh (e1, e0)));
      _mm512_store_si512 (pr + 512, _mm512_permutexvar_epi16 (pairs,
              (__m512i) _mm512_cvtne2ps_pbh (f1, f0)));
    }
  }
  queue_run (q, q->n);

  /* the running sums; the accumulator rescaled where the maximum grew, by
   * exp (m_old − m_new) (0 where m_old was −inf: the accumulator is 0) */
  for (int h = 0; h < 2; h++) {
    const __m512 m_old = _mm512_load_ps (ml + h * 16);
    __m512 l = _mm512_load_ps (ml + AMX_QS + h * 16);

    grew[h] = _mm512_cmp_ps_mask (m_new[h], m_old, _CMP_GT_OQ);
    corr[h] = _mm512_mask_mov_ps (_mm512_set1_ps (1.0f), grew[h],
        exp16 (_mm512_sub_ps (m_old, m_new[h])));
    if (grew[h] != 0)
      l = _mm512_mul_ps (l, corr[h]);
    _mm512_store_ps (ml + AMX_QS + h * 16, _mm512_add_ps (l, h ? sum1 : sum0));
    _mm512_store_ps (ml + h * 16, m_new[h]);
  }
  if (pend_acc == acc)
    amx_fold (acc, q->pv, d, corr, grew);
  else {
    if (pend_acc != NULL)
      amx_fold (pend_acc, q->pv, d, corr, none);
    amx_fold (acc, NULL, d, corr, grew);
  }
  return TRUE;
}

/* Sixteen rows of sixteen 32-bit words transposed in place */
AMX_TARGET static inline void
transpose_16x16 (__m512i r[16])
{
  __m512i t[16];

  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32 (r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32 (r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64 (t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64 (t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64 (t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64 (t[i + 1], t[i + 3]);
  }
  for (int i = 0; i < 16; i += 8)
    for (int j = 0; j < 4; j++) {
      t[i + j] = _mm512_shuffle_i32x4 (r[i + j], r[i + j + 4], 0x88);
      t[i + j + 4] = _mm512_shuffle_i32x4 (r[i + j], r[i + j + 4], 0xdd);
    }
  for (int j = 0; j < 8; j++) {
    r[j] = _mm512_shuffle_i32x4 (t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_i32x4 (t[j], t[j + 8], 0xdd);
  }
}

/* Vᵀ [d, AMX_KB] of keys [0, nrows) of v (zeros from nk on): the values
 * of two consecutive keys interleaved into 32-bit words (VPERMW), then
 * 16 × 16 blocks of words transposed */
AMX_TARGET static void
amx_transpose_values (uint16_t * vt, const uint16_t * v, int d, int nk,
    int nrows)
{
  const __m512i pairs = _mm512_set_epi16 (31, 15, 30, 14, 29, 13, 28, 12,
      27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2,
      17, 1, 16, 0);

  for (int k0 = 0; k0 < nrows; k0 += 32)
    for (int c0 = 0; c0 < d; c0 += 16) {
      __m512i w[16];
      for (int i = 0; i < 16; i++) {
        const int ka = k0 + 2 * i;
        __m256i a = _mm256_setzero_si256 (), b = _mm256_setzero_si256 ();
        if (ka < nk)
          a = _mm256_loadu_si256 ((const __m256i *) (v + (gsize) ka * d + c0));
        if (ka + 1 < nk)
          b = _mm256_loadu_si256 ((const __m256i *) (v + (gsize) (ka + 1) *
                  d + c0));
        w[i] = _mm512_permutexvar_epi16 (pairs, _mm512_inserti64x4
            (_mm512_castsi256_si512 (a), b, 1));
      }
      transpose_16x16 (w);
      for (int c = 0; c < 16; c++)
        _mm512_store_si512 (vt + (c0 + c) * AMX_KB + k0, w[c]);
    }
}

/* Qᵀ of queries [q0, q0 + nq) (nq ≤ 32, the rest zeros) of head h,
 * rounded to bf16 (nearest even), in the VNNI pair layout: row i, lane l
 * of tile (c, half) holds elements 32c + 2i and 32c + 2i + 1 of query
 * 16·half + l, i.e. 16 × 16 blocks of 32-bit words transposed */
AMX_TARGET static void
amx_pack_queries (const AmxArgs * A, AmxScratch * s, uint32_t * qt, int h,
    int q0, int nq)
{
  const HartAttentionParams *p = A->p;
  const int d = p->head_dim;
  const float *q = p->q + A->b * p->q_batch_stride + (int64_t) q0 *
      p->q_row_stride + (gsize) h * d;

  for (int l = 0; l < AMX_QS; l++) {
    if (l < nq)
      hart_cpu_bf16_round_row (s->qrows + (gsize) l * d,
          q + l * p->q_row_stride, d);
    else
      memset (s->qrows + (gsize) l * d, 0, (gsize) d * sizeof (uint16_t));
  }
  for (int c = 0; c < d / 32; c++)
    for (int half = 0; half < 2; half++) {
      __m512i w[16];
      uint32_t *tile = qt + (c * 2 + half) * 256;
      for (int l = 0; l < 16; l++)
        w[l] = _mm512_loadu_si512 (s->qrows + (gsize) (half * 16 + l) * d +
            c * 32);
      transpose_16x16 (w);
      for (int i = 0; i < 16; i++)
        _mm512_store_si512 (tile + i * 16, w[i]);
    }
}

/* One work item: queries [qb·AMX_Q_BLOCK, +AMX_Q_BLOCK) of the query heads
 * of KV head g.  Its steps run block chunk by block chunk (AMX_CHUNK
 * blocks of keys, whose K and Vᵀ stay in L2), and in a chunk one head and
 * 32 queries at a time over its blocks (their Qᵀ and Oᵀ stay in L1); the
 * order of the blocks for each query is the same whatever the chunk. */
typedef struct
{
  const AmxArgs *A;
  AmxScratch *s;
  int g, q0, nq, n_subs, group, key_end, n_blocks;
  const uint16_t *kg;           /* KV head g's K */
  /* position: the chunk from block c0, the step (j, sub) and block kb */
  int c0, j, sub, kb;
} AmxItem;

static gboolean
all_hidden (const guint64 * hidden)
{
  for (int w = 0; w < AMX_HW; w++)
    if (hidden[w] != ~(guint64) 0)
      return FALSE;
  return TRUE;
}

/* The step after the item's position into *st (its scores and
 * probabilities in the buffers of parity buf); FALSE after the last */
static gboolean
amx_next_step (AmxItem * it, AmxStep * st, int buf)
{
  const HartAttentionParams *p = it->A->p;

  for (;;) {
    const int c1 = MIN (it->c0 + AMX_CHUNK, it->n_blocks);
    int64_t q_last;

    if (++it->kb >= c1) {
      if (++it->sub >= it->n_subs) {
        it->sub = 0;
        if (++it->j >= it->group) {
          it->j = 0;
          it->c0 += AMX_CHUNK;
          if (it->c0 >= it->n_blocks)
            return FALSE;
        }
      }
      it->kb = it->c0;
    }
    q_last = (int64_t) it->q0 + MIN (it->nq, (it->sub + 1) * AMX_QS) - 1;
    /* a block past every query's last visible key changes nothing; the
     * later ones of the chunk neither */
    if (p->causal && (int64_t) it->kb * AMX_KB > q_last + p->causal_offset) {
      it->kb = c1;
      continue;
    }
    if (all_hidden (it->s->hidden + it->kb * AMX_HW))
      continue;
    st->kb = it->kb;
    st->nrows = (MIN (AMX_KB, it->key_end - it->kb * AMX_KB) + 31) & ~31;
    st->i = it->j * AMX_SUBS + it->sub;
    st->qs = (int64_t) it->q0 + it->sub * AMX_QS;
    st->k = it->kg + (gsize) it->kb * AMX_KB * p->head_dim;
    if (it->kb * AMX_KB + st->nrows > p->kv_len)
      st->k = it->s->kpad;
    st->scores = it->s->scores + (gsize) buf *AMX_KB * AMX_QS;
    st->probs = it->s->probs + (gsize) buf *AMX_KB * AMX_QS;
    return TRUE;
  }
}

AMX_TARGET static void
amx_item (const AmxArgs * A, AmxScratch * s, int qb, int g)
{
  const HartAttentionParams *p = A->p;
  const int d = p->head_dim;
  const uint8_t *mask = p->key_mask ? p->key_mask + (gsize) A->b * p->kv_len :
      NULL;
  AmxItem it = { A, s, g };
  AmxTileConfig cfg = { 0 };
  TileQueue *q = &s->queue;
  AmxStep cur, next, pending;
  gboolean have_cur, have_pending = FALSE;
  int buf = 0;

  it.group = p->q_heads / p->kv_heads;
  it.q0 = qb * AMX_Q_BLOCK;
  it.nq = MIN (AMX_Q_BLOCK, p->q_len - it.q0);
  it.n_subs = (it.nq + AMX_QS - 1) / AMX_QS;
  it.kg = A->kh + g * A->head_stride;
  it.key_end = p->kv_len;
  if (p->causal) {
    int64_t last_visible = (int64_t) it.q0 + it.nq - 1 + p->causal_offset;
    if (last_visible + 1 < it.key_end)
      it.key_end = (int) MAX (last_visible + 1, 0);
  }
  it.n_blocks = (it.key_end + AMX_KB - 1) / AMX_KB;

  /* per block, the keys no query sees: masked, or past key_end (all ones:
   * the block is skipped) */
  for (int kb = 0; kb < it.n_blocks; kb++) {
    const int k0 = kb * AMX_KB, nk = MIN (AMX_KB, it.key_end - k0);
    guint64 *hidden = s->hidden + kb * AMX_HW;
    for (int w = 0; w < AMX_HW; w++) {
      const int n = CLAMP (nk - w * 64, 0, 64); /* keys of word w */
      hidden[w] = n == 64 ? 0 : ~(((guint64) 1 << n) - 1);
      if (mask != NULL)
        for (int j = 0; j < n; j++)
          hidden[w] |= (guint64) (mask[k0 + w * 64 + j] == 0) << j;
    }
  }
  /* the last block, when its rows run past kv_len: K copied, zeros after */
  if (it.n_blocks > 0) {
    const int k0 = (it.n_blocks - 1) * AMX_KB, nk = it.key_end - k0;
    const int nrows = (nk + 31) & ~31;
    if (k0 + nrows > p->kv_len) {
      memcpy (s->kpad, it.kg + (gsize) k0 * d, (gsize) nk * d *
          sizeof (uint16_t));
      memset (s->kpad + (gsize) nk * d, 0, (gsize) (nrows - nk) * d *
          sizeof (uint16_t));
    }
  }

  for (int j = 0; j < it.group; j++)
    for (int sub = 0; sub < it.n_subs; sub++) {
      const int i = j * AMX_SUBS + sub;
      float *ml = s->ml + (gsize) i * 2 * AMX_QS;
      amx_pack_queries (A, s, s->qt + (gsize) i * d * 16, g * it.group + j,
          it.q0 + sub * AMX_QS, MIN (AMX_QS, it.nq - sub * AMX_QS));
      memset (s->acc + (gsize) i * d * AMX_QS, 0, (gsize) d * AMX_QS * 4);
      for (int l = 0; l < AMX_QS; l++) {
        ml[l] = -INFINITY;
        ml[AMX_QS + l] = 0.0f;
      }
    }

  cfg.palette_id = 1;
  for (int t = 0; t < 8; t++) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  AMX_BARRIER ();
  _tile_loadconfig (&cfg);

  /* before the first step */
  it.j = it.group - 1;
  it.sub = it.n_subs - 1;
  it.kb = AMX_CHUNK;
  it.c0 = -AMX_CHUNK;
  have_cur = amx_next_step (&it, &cur, buf);
  if (have_cur) {
    q->n = q->done = 0;
    queue_scores (q, cur.k, s->qt + (gsize) cur.i * d * 16, cur.scores,
        cur.nrows);
    queue_run (q, q->n);
  }
  /* the pipeline: while the vector units compute the softmax of step cur,
   * the matrix unit adds the product P·V of the step before and computes
   * the scores of the step after */
  while (have_cur) {
    gboolean have_next;

    buf ^= 1;
    have_next = amx_next_step (&it, &next, buf);
    q->n = q->done = 0;
    if (have_pending)
      queue_product (q, s->pv, A->vt + ((gsize) g * A->n_blocks +
              pending.kb) * d * AMX_KB, pending.probs, pending.nrows);
    if (have_next)
      queue_scores (q, next.k, s->qt + (gsize) next.i * d * 16, next.scores,
          next.nrows);
    have_pending = amx_softmax (p, &cur, s->hidden + cur.kb * AMX_HW,
        s->acc + (gsize) cur.i * d * AMX_QS, s->ml + (gsize) cur.i * 2 *
        AMX_QS, q, have_pending ? s->acc + (gsize) pending.i * d * AMX_QS :
        NULL);
    pending = cur;
    cur = next;
    have_cur = have_next;
  }
  if (have_pending) {
    const __m512 one[2] = { _mm512_set1_ps (1.0f), _mm512_set1_ps (1.0f) };
    const __mmask16 none[2] = { 0, 0 };
    q->n = q->done = 0;
    queue_product (q, s->pv, A->vt + ((gsize) g * A->n_blocks +
            pending.kb) * d * AMX_KB, pending.probs, pending.nrows);
    queue_run (q, q->n);
    amx_fold (s->acc + (gsize) pending.i * d * AMX_QS, s->pv, d, one, none);
  }
  _tile_release ();

  for (int j = 0; j < it.group; j++)
    for (int sub = 0; sub < it.n_subs; sub++) {
      const int i = j * AMX_SUBS + sub, h = g * it.group + j;
      const float *acc = s->acc + (gsize) i * d * AMX_QS;
      const float *sums = s->ml + (gsize) i * 2 * AMX_QS + AMX_QS;
      for (int l = 0; l < MIN (AMX_QS, it.nq - sub * AMX_QS); l++) {
        float *out = p->out + A->b * p->out_batch_stride +
            (int64_t) (it.q0 + sub * AMX_QS + l) * p->out_row_stride +
            (gsize) h * d;
        /* a row that saw no key at all (fully masked) outputs zeros */
        const float inv = sums[l] > 0.0f ? 1.0f / sums[l] : 0.0f;
        for (int c = 0; c < d; c++)
          out[c] = acc[c * AMX_QS + l] * inv;
      }
    }
}

static void
amx_items (HartCpuJob * job, gpointer data)
{
  AmxArgs *A = data;
  const HartAttentionParams *p = A->p;
  const int group = p->q_heads / p->kv_heads;
  AmxScratch s = { NULL };
  gboolean have_scratch = amx_scratch_init (&s, A);
  gsize t0, t1;

  while (hart_cpu_job_next (job, &t0, &t1)) {
    for (gsize t = t0; t < t1; t++) {
      const int qb = (int) (t % A->n_qblocks), g = (int) (t / A->n_qblocks);
      if (have_scratch) {
        amx_item (A, &s, qb, g);
        continue;
      }
      /* out of memory: NaN reaches the generation's finiteness checks */
      g_atomic_int_set (&A->failed, TRUE);
      for (int i = qb * AMX_Q_BLOCK; i < MIN (p->q_len,
              (qb + 1) * AMX_Q_BLOCK); i++) {
        float *out = p->out + A->b * p->out_batch_stride +
            (int64_t) i * p->out_row_stride + (gsize) g * group * p->head_dim;
        for (int c = 0; c < group * p->head_dim; c++)
          out[c] = NAN;
      }
    }
  }
  g_free (s.mem);
}

typedef struct
{
  uint16_t *vt;
  const uint16_t *vh;
  int64_t head_stride;
  int n_blocks, kv_len, d;
} AmxTransposeArgs;

/* items [i0, i1) of kv_heads × n_blocks: one block of keys of one head */
static void
amx_transpose_blocks (gsize i0, gsize i1, gpointer data)
{
  const AmxTransposeArgs *T = data;

  for (gsize i = i0; i < i1; i++) {
    const int g = (int) (i / T->n_blocks), kb = (int) (i % T->n_blocks);
    amx_transpose_values (T->vt + i * T->d * AMX_KB, T->vh +
        g * T->head_stride + (gsize) kb * AMX_KB * T->d, T->d,
        MIN (AMX_KB, T->kv_len - kb * AMX_KB), AMX_KB);
  }
}

gboolean
hart_cpu_attention_amx (HartBackend * be, const HartAttentionParams * p,
    int b, const uint16_t * kh, const uint16_t * vh, int64_t head_stride,
    uint16_t ** vt_buf)
{
  const int n_blocks = (p->kv_len + AMX_KB - 1) / AMX_KB;
  const gsize n_vt = (gsize) p->kv_heads * n_blocks;
  AmxArgs A = { p, b, kh, head_stride, NULL, n_blocks,
    (p->q_len + AMX_Q_BLOCK - 1) / AMX_Q_BLOCK, FALSE
  };
  AmxTransposeArgs T = { NULL, vh, head_stride, n_blocks, p->kv_len,
    p->head_dim
  };

  /* Vᵀ of the whole row, once: every work item of a KV head reads it */
  if (*vt_buf == NULL && posix_memalign ((void **) vt_buf, 64,
          MAX (n_vt, 1) * p->head_dim * AMX_KB * sizeof (uint16_t)) != 0)
    *vt_buf = NULL;
  if (*vt_buf == NULL)
    return FALSE;
  A.vt = T.vt = *vt_buf;
  hart_cpu_parallel_for (be, n_vt, hart_cpu_grain (be, n_vt, n_vt *
          p->head_dim * AMX_KB), amx_transpose_blocks, &T);
  hart_cpu_pool_run (be->pool, (gsize) A.n_qblocks * p->kv_heads, 1,
      amx_items, &A);
  return !A.failed;
}
