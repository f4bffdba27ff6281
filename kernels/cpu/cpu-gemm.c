/* gst-hart — CPU backend: GEMM, batched GEMM, linear
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "cpu-private.h"

/* Below this many multiply-adds a GEMM runs on one thread: splitting costs
 * a parallel region and a second packing of the shared operand. */
#define GEMM_PARALLEL_MIN_MACS (1 << 20)
/* Panels of C are multiples of this many rows/columns, which keeps the
 * OpenBLAS micro-kernels on their full-width paths. */
#define GEMM_PANEL_QUANTUM 16

static void
scale_matrix (float *c, int m, int n, int ldc, float beta)
{
  for (int i = 0; i < m; i++) {
    float *row = c + (gsize) i * ldc;
    if (beta == 0.0f)
      memset (row, 0, (gsize) n * sizeof (float));
    else
      for (int j = 0; j < n; j++)
        row[j] *= beta;
  }
}

/* Row invariance: a row of C must come out with the same bits whatever the
 * number of rows multiplied with it, or a batch of frames would not give
 * the bytes of the same frames made one by one (docs/video.md, "Batches of
 * frames").  How a product is handed to OpenBLAS for that depends on the
 * kernel OpenBLAS picked for the CPU (GemmLayout below).
 *
 * On AVX-512 CPUs (OpenBLAS's SkylakeX, Cooperlake and SapphireRapids
 * kernels) the packed (Goto) kernels have that property: each element is
 * summed in K order over K blocks that depend on K only.  Two other paths
 * of OpenBLAS 0.3.x there do not, and are kept out:
 * - its "small-matrix" kernels, taken for products of at most 10⁶
 *   multiply-adds, sum in another order.  Tiny products are padded with
 *   scratch rows (or columns) up to BLAS_PACKED_MIN_MACS;
 * - its "direct" kernel, taken for row-major, untransposed, alpha = 1,
 *   beta = 0 products below ~7·10⁶ multiply-adds.  The row-major product
 *   is asked for in its column-major form, Cᵀ = op(B)ᵀ·op(A)ᵀ, which is
 *   the call cblas makes of it internally anyway, and never goes direct.
 * The padding costs at most ~10⁶ multiply-adds (40–130 µs a call
 * measured, against 0.4–17 µs unpadded), and
 * only products that small pay it; its scratch, kept per thread, is at
 * most 2 · 2²⁰ floats (8 MiB, for k = n = 1) and far less for HART's
 * shapes.  The op harness's "rows-invariant" check
 * (tests/ops/backend-checks.c) holds the backend to this. */
#define BLAS_PACKED_MIN_MACS (1 << 20)

/* On AVX2 CPUs (OpenBLAS's Haswell and Zen kernels, 0.3.21) the packed
 * kernel is not row-invariant as called above.  Its micro-kernel sums most
 * tiles in one FMA chain per element, in K order, but some in two chains
 * (even and odd k) added at the end, and which tiles those are depends on
 * where an element sits in the call (measured on a Zen CPU; the kernel's
 * structure explains it):
 * - in its 12-column blocks, the first 8 rows and the last 8 to 15 rows of
 *   each call (of each panel of at most 320 rows that the driver cuts
 *   from M) have two chains, on one half of the block; every row between
 *   them has one;
 * - in its 4-column blocks, whole 8-row groups have two chains, the last
 *   M mod 8 rows one.
 * Which columns fall in which blocks depends on N and on the panels of
 * columns a call is given, never on M.  So the product is asked for with
 * our rows as the kernel's M (column-major, C transposed into scratch),
 * in chunks of at most GEMM_ROWS_CHUNK rows, each with GEMM_ROWS_PAD zero
 * rows before it and 8 to 15 after it (to a multiple of 8): every real row
 * then sits where the kernel treats rows alike, in one panel, and column
 * panels are multiples of 48 (whole 12- and 16-column blocks).  The cost,
 * measured against the plain call on the same machine: 1.01-1.16× for
 * HART's shapes (the padding rows, the copies, and the weights packed
 * again for every chunk). */
#define GEMM_ROWS_PAD HART_CPU_GEMM_ROWS_PAD
#define GEMM_ROWS_PANEL HART_CPU_GEMM_ROWS_PANEL
#define GEMM_ROWS_CHUNK HART_CPU_GEMM_ROWS_CHUNK
#define GEMM_ROWS_COL_QUANTUM 48
/* columns per call of a chunk: bounds the transposed scratch */
#define GEMM_ROWS_COL_BLOCK (64 * GEMM_ROWS_COL_QUANTUM)

typedef enum
{
  GEMM_ROWS_AS_COLUMNS,         /* row-major call (AVX-512 kernels) */
  GEMM_ROWS_PADDED,             /* padded row chunks (every other kernel) */
} GemmLayout;

/* The layout for this process's OpenBLAS kernel: the row-major call only
 * where it was verified row-invariant, the padded chunks elsewhere (also
 * row-invariant for a kernel that sums every element in one chain, such
 * as a reference BLAS). */
static GemmLayout layout_picked = GEMM_ROWS_PADDED;
static char layout_description[64] = "CBLAS, padded row chunks";

static GemmLayout
gemm_layout (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
#ifdef HART_HAVE_OPENBLAS_CORENAME
    const char *core = openblas_get_corename ();
    static const char *const avx512_cores[] = { "skylakex", "cooperlake",
      "sapphirerapids"
    };
    for (guint i = 0; core != NULL && i < G_N_ELEMENTS (avx512_cores); i++)
      if (g_ascii_strcasecmp (core, avx512_cores[i]) == 0)
        layout_picked = GEMM_ROWS_AS_COLUMNS;
#endif
    /* HART_CPU_GEMM=row-major|padded: the other layout, for benchmarks
     * (docs/performance.md); row-major on an AVX2 CPU breaks batches */
    if (g_strcmp0 (g_getenv ("HART_CPU_GEMM"), "row-major") == 0)
      layout_picked = GEMM_ROWS_AS_COLUMNS;
    else if (g_strcmp0 (g_getenv ("HART_CPU_GEMM"), "padded") == 0)
      layout_picked = GEMM_ROWS_PADDED;
#ifdef HART_HAVE_OPENBLAS_CORENAME
    g_snprintf (layout_description, sizeof layout_description,
        "OpenBLAS %s kernel, %s", core ? core : "?",
        layout_picked == GEMM_ROWS_AS_COLUMNS ? "row-major calls"
        : "padded row chunks");
#else
    if (layout_picked == GEMM_ROWS_AS_COLUMNS)
      g_strlcpy (layout_description, "CBLAS, row-major calls",
          sizeof layout_description);
#endif
    g_once_init_leave (&once, 1);
  }
  return layout_picked;
}

const char *
hart_cpu_gemm_describe (void)
{
  gemm_layout ();
  return layout_description;
}

/* scratch of the padded products, one per thread */
static HartCpuThreadScratch pad_scratch = HART_CPU_THREAD_SCRATCH_INIT;

/* N_FLOATS of the thread's scratch S: at most a few MiB (above), for ops
 * that have no error path for it */
static float *
scratch_floats (HartCpuThreadScratch * s, gsize n_floats)
{
  float *buf = hart_cpu_thread_scratch (s, n_floats * sizeof (float));

  if (buf == NULL)
    g_error ("cpu backend: out of memory for %" G_GSIZE_FORMAT
        " bytes of GEMM scratch", n_floats * sizeof (float));
  return buf;
}

static float *
pad_scratch_get (gsize n_floats)
{
  return scratch_floats (&pad_scratch, n_floats);
}

static inline void
blas_sgemm (gboolean trans_a, gboolean trans_b, int m, int n, int k,
    float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc)
{
  /* row-major C[m×n] = op(A)·op(B) as column-major Cᵀ = op(B)ᵀ·op(A)ᵀ */
  cblas_sgemm (CblasColMajor, trans_b ? CblasTrans : CblasNoTrans,
      trans_a ? CblasTrans : CblasNoTrans, n, m, k, alpha, b, ldb, a, lda,
      beta, c, ldc);
}

/* A product under BLAS_PACKED_MIN_MACS, computed on rows [0, m_pad) (or
 * columns [0, n_pad)) of scratch copies so that OpenBLAS takes its packed
 * path; the first m rows (n columns) are copied back. */
static void
sgemm_padded (gboolean trans_a, gboolean trans_b, int m, int n, int k,
    float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc)
{
  const double nk = (double) n * k, mk = (double) m *k;
  const int m_pad = (int) ceil (BLAS_PACKED_MIN_MACS / nk);
  const int n_pad = (int) ceil (BLAS_PACKED_MIN_MACS / mk);
  /* pad the side whose copies are smaller */
  const gboolean pad_rows =
      (double) m_pad * (k + n) <= (double) n_pad * (k + m);

  const gsize f = sizeof (float);

  if (pad_rows) {
    /* op(A) gets m_pad rows: A' is m_pad×k (k×m_pad transposed) */
    float *a2 = pad_scratch_get ((gsize) m_pad * k + (gsize) m_pad * n);
    float *c2 = a2 + (gsize) m_pad * k;
    const int lda2 = trans_a ? m_pad : k;

    hart_cpu_copy_2d (a2, lda2 * f, a, lda * f, (trans_a ? m : k) * f,
        trans_a ? k : m);
    if (beta != 0.0f)
      hart_cpu_copy_2d (c2, n * f, c, ldc * f, n * f, m);
    blas_sgemm (trans_a, trans_b, m_pad, n, k, alpha, a2, lda2, b, ldb, beta,
        c2, n);
    hart_cpu_copy_2d (c, ldc * f, c2, n * f, n * f, m);
  } else {
    /* op(B) gets n_pad columns: B' is k×n_pad (n_pad×k transposed) */
    float *b2 = pad_scratch_get ((gsize) n_pad * k + (gsize) m * n_pad);
    float *c2 = b2 + (gsize) n_pad * k;
    const int ldb2 = trans_b ? k : n_pad;

    hart_cpu_copy_2d (b2, ldb2 * f, b, ldb * f, (trans_b ? k : n) * f,
        trans_b ? n : k);
    if (beta != 0.0f)
      hart_cpu_copy_2d (c2, n_pad * f, c, ldc * f, n * f, m);
    blas_sgemm (trans_a, trans_b, m, n_pad, k, alpha, a, lda, b2, ldb2, beta,
        c2, n_pad);
    hart_cpu_copy_2d (c, ldc * f, c2, n_pad * f, n * f, m);
  }
}

/* dst[r·ld_dst + c] = src[c·ld_src + r] for ROWS × COLS, in tiles of 16
 * columns that keep both sides in cache: the padded chunks' C in and out
 * of its column-major scratch. */
static void
copy_transposed (float *dst, gsize ld_dst, const float *src, gsize ld_src,
    int rows, int cols)
{
  for (int c0 = 0; c0 < cols; c0 += 16) {
    const int c1 = MIN (cols, c0 + 16);
    for (int r = 0; r < rows; r++) {
      float *d = dst + (gsize) r * ld_dst;
      for (int c = c0; c < c1; c++)
        d[c] = src[(gsize) c * ld_src + r];
    }
  }
}

/* the transposed C of a padded chunk, one per thread */
static HartCpuThreadScratch chunk_out_scratch = HART_CPU_THREAD_SCRATCH_INIT;

gboolean
hart_cpu_gemm_rows_padded (void)
{
  return gemm_layout () == GEMM_ROWS_PADDED;
}

int
hart_cpu_gemm_chunk_rows (int mc)
{
  /* GEMM_ROWS_PAD rows before, 8 to 15 after: a multiple of 8 */
  return (mc + 2 * GEMM_ROWS_PAD + 7) / 8 * 8;
}

/* One chunk of GEMM_ROWS_PADDED: C [mc, n] = alpha · A2's real rows ·
 * op(B) + beta · C, A2 the chunk as sgemm_rows_padded lays it out. */
void
hart_cpu_sgemm_padded_chunk (gboolean a2_col_major, gboolean trans_b, int mc,
    int n, int k, float alpha, const float *a2, const float *b, int ldb,
    float beta, float *c, int ldc)
{
  const int mp = hart_cpu_gemm_chunk_rows (mc);
  const int nb_max = MIN (n, GEMM_ROWS_COL_BLOCK);
  float *c2 = scratch_floats (&chunk_out_scratch, (gsize) mp * nb_max);

  for (int j0 = 0; j0 < n; j0 += GEMM_ROWS_COL_BLOCK) {
    const int nb = MIN (GEMM_ROWS_COL_BLOCK, n - j0);
    const float *bj = trans_b ? b + (gsize) j0 * ldb : b + j0;
    float *cj = c + j0;

    if (beta != 0.0f)           /* C2's real rows from C */
      copy_transposed (c2 + GEMM_ROWS_PAD, mp, cj, ldc, nb, mc);
    /* C2 [mp, nb] (column-major) = op(A2) · op(B) */
    cblas_sgemm (CblasColMajor, a2_col_major ? CblasNoTrans : CblasTrans,
        trans_b ? CblasNoTrans : CblasTrans, mp, nb, k, alpha, a2,
        a2_col_major ? mp : k, bj, ldb, beta, c2, mp);
    copy_transposed (cj, ldc, c2 + GEMM_ROWS_PAD, mp, mc, nb);
  }
}

/* GEMM_ROWS_PADDED: rows of op(A) in chunks, each copied between zero rows
 * into scratch and multiplied as the kernel's M (see above). */
static void
sgemm_rows_padded (gboolean trans_a, gboolean trans_b, int m, int n, int k,
    float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc)
{
  const gsize f = sizeof (float);
  const int mp_max = MIN (GEMM_ROWS_PANEL,
      hart_cpu_gemm_chunk_rows (MIN (m, GEMM_ROWS_CHUNK)));
  float *a2 = pad_scratch_get ((gsize) mp_max * k);

  for (int r0 = 0; r0 < m; r0 += GEMM_ROWS_CHUNK) {
    const int mc = MIN (GEMM_ROWS_CHUNK, m - r0);
    const int mp = hart_cpu_gemm_chunk_rows (mc);
    const int after = mp - GEMM_ROWS_PAD - mc;

    if (!trans_a) {
      /* op(A) = A [m, k]: a2 row-major [mp, k], the kernel reads it
       * transposed */
      memset (a2, 0, (gsize) GEMM_ROWS_PAD * k * f);
      hart_cpu_copy_2d (a2 + (gsize) GEMM_ROWS_PAD * k, k * f,
          a + (gsize) r0 * lda, lda * f, k * f, mc);
      memset (a2 + (gsize) (GEMM_ROWS_PAD + mc) * k, 0, (gsize) after * k * f);
    } else {
      /* op(A) = Aᵀ, A [k, m]: a2 column-major [mp, k], ld mp */
      for (int p = 0; p < k; p++) {
        float *col = a2 + (gsize) p * mp;
        memset (col, 0, GEMM_ROWS_PAD * f);
        memcpy (col + GEMM_ROWS_PAD, a + (gsize) p * lda + r0, mc * f);
        memset (col + GEMM_ROWS_PAD + mc, 0, after * f);
      }
    }
    hart_cpu_sgemm_padded_chunk (trans_a, trans_b, mc, n, k, alpha, a2, b,
        ldb, beta, c + (gsize) r0 * ldc, ldc);
  }
}

static inline void
sgemm_one_thread (gboolean trans_a, gboolean trans_b, int m, int n, int k,
    float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc)
{
  if (m <= 0 || n <= 0)
    return;
  if (k <= 0) {
    /* BLAS semantics: C = beta * C (OpenBLAS versions disagree on k = 0) */
    scale_matrix (c, m, n, ldc, beta);
    return;
  }
  if (gemm_layout () == GEMM_ROWS_PADDED)
    sgemm_rows_padded (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
        c, ldc);
  else if ((double) m * n * k < BLAS_PACKED_MIN_MACS)
    sgemm_padded (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
        ldc);
  else
    blas_sgemm (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void
hart_cpu_sgemm_one_thread (gboolean trans_a, gboolean trans_b, int m, int n,
    int k, float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc)
{
  sgemm_one_thread (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
      c, ldc);
}

typedef struct
{
  gboolean trans_a, trans_b, split_rows;
  int m, n, k, lda, ldb, ldc, chunk, dim;
  float alpha, beta;
  const float *a, *b;
  float *c;
  int64_t stride_a, stride_b, stride_c;
} GemmArgs;

/* C is cut into panels along its longer side; panel p of rows [r0, r1)
 * reads rows r0.. of op(A), a panel of columns reads columns of op(B).
 * Panels never overlap, so threads write disjoint memory. */
static void
sgemm_panels (gsize p0, gsize p1, gpointer data)
{
  const GemmArgs *g = data;

  for (gsize p = p0; p < p1; p++) {
    int start = (int) p * g->chunk;
    int len = MIN (g->chunk, g->dim - start);
    if (g->split_rows) {
      const float *a_panel = g->trans_a ? g->a + start :
          g->a + (gsize) start * g->lda;
      sgemm_one_thread (g->trans_a, g->trans_b, len, g->n, g->k, g->alpha,
          a_panel, g->lda, g->b, g->ldb, g->beta,
          g->c + (gsize) start * g->ldc, g->ldc);
    } else {
      const float *b_panel = g->trans_b ? g->b + (gsize) start * g->ldb :
          g->b + start;
      sgemm_one_thread (g->trans_a, g->trans_b, g->m, len, g->k, g->alpha,
          g->a, g->lda, b_panel, g->ldb, g->beta, g->c + start, g->ldc);
    }
  }
}

void
hart_cpu_sgemm (HartBackend * be, gboolean trans_a, gboolean trans_b,
    int m, int n, int k, float alpha, const float *a, int lda,
    const float *b, int ldb, float beta, float *c, int ldc)
{
  double macs = (double) m * n * k;
  gboolean split_rows = m >= n;
  int dim = split_rows ? m : n;
  /* the panels depend on the thread count only (never on the load), so a
   * given thread count always gives the same bits */
  int parts = be->n_threads;
  /* padded row chunks: column panels of whole 12- and 16-column blocks */
  const int quantum = !split_rows && gemm_layout () == GEMM_ROWS_PADDED ?
      GEMM_ROWS_COL_QUANTUM : GEMM_PANEL_QUANTUM;
  int chunk;
  GemmArgs g;

  hart_cpu_blas_single_thread ();

  if (parts > 1 && macs >= GEMM_PARALLEL_MIN_MACS && dim >= 2 * quantum) {
    chunk = (dim + parts - 1) / parts;
    chunk = (chunk + quantum - 1) / quantum * quantum;
    parts = (dim + chunk - 1) / chunk;
  } else {
    parts = 1;
    chunk = dim;
  }

  if (parts == 1) {
    sgemm_one_thread (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
        c, ldc);
    return;
  }

  g = (GemmArgs) {
  .trans_a = trans_a,.trans_b = trans_b,.split_rows = split_rows,.m = m,.n =
        n,.k = k,.lda = lda,.ldb = ldb,.ldc = ldc,.chunk = chunk,.dim =
        dim,.alpha = alpha,.beta = beta,.a = a,.b = b,.c = c};
  hart_cpu_parallel_for (be, parts, 1, sgemm_panels, &g);
}

void
hart_cpu_gemm (HartBackend * be, gboolean trans_a, gboolean trans_b,
    int m, int n, int k, float alpha, const float *a, int lda,
    const float *b, int ldb, float beta, float *c, int ldc)
{
  hart_cpu_sgemm (be, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
      c, ldc);
}

static void
gemm_matrices (gsize i0, gsize i1, gpointer data)
{
  const GemmArgs *g = data;

  for (gsize i = i0; i < i1; i++)
    sgemm_one_thread (g->trans_a, g->trans_b, g->m, g->n, g->k, g->alpha,
        g->a + (int64_t) i * g->stride_a, g->lda,
        g->b + (int64_t) i * g->stride_b, g->ldb, g->beta,
        g->c + (int64_t) i * g->stride_c, g->ldc);
}

void
hart_cpu_gemm_batched (HartBackend * be, const HartGemmBatchedParams * p)
{
  const gboolean trans_a = p->trans_a, trans_b = p->trans_b;
  const int m = p->m, n = p->n, k = p->k, batch = p->batch;
  const float alpha = p->alpha, beta = p->beta;
  const float *a = p->a, *b = p->b;
  float *c = p->c;
  const int lda = p->lda, ldb = p->ldb, ldc = p->ldc;
  const int64_t stride_a = p->stride_a, stride_b = p->stride_b;
  const int64_t stride_c = p->stride_c;
  double macs = (double) m * n * k;

  if (batch <= 0)
    return;
  /* Many small matrices: one matrix per chunk.  Few large ones: split
   * each matrix across the threads. */
  if (batch >= be->n_threads && macs < 16.0 * GEMM_PARALLEL_MIN_MACS) {
    GemmArgs g = {.trans_a = trans_a,.trans_b = trans_b,.m = m,.n = n,.k = k,
      .lda = lda,.ldb = ldb,.ldc = ldc,.alpha = alpha,.beta = beta,.a = a,
      .b = b,.c = c,.stride_a = stride_a,.stride_b = stride_b,
      .stride_c = stride_c
    };
    hart_cpu_blas_single_thread ();
    hart_cpu_parallel_for (be, batch, macs * batch >= GEMM_PARALLEL_MIN_MACS
        ? 1 : (gsize) batch, gemm_matrices, &g);
  } else {
    for (int i = 0; i < batch; i++)
      hart_cpu_sgemm (be, trans_a, trans_b, m, n, k, alpha,
          a + i * stride_a, lda, b + i * stride_b, ldb, beta,
          c + i * stride_c, ldc);
  }
}

typedef struct
{
  float *y;
  const float *bias;
  int out;
} BiasArgs;

static void
bias_rows (gsize r0, gsize r1, gpointer data)
{
  const BiasArgs *A = data;

  for (gsize r = r0; r < r1; r++)
    memcpy (A->y + r * A->out, A->bias, (gsize) A->out * sizeof (float));
}

void
hart_cpu_linear (HartBackend * be, float *y, const float *x, const float *w,
    const float *bias, int rows, int in, int out)
{
  float beta = 0.0f;

  if (rows <= 0 || out <= 0)
    return;
  /* y starts as the bias broadcast over rows, and the GEMM adds x·Wᵀ to it
   * (beta = 1): one pass over y instead of two. */
  if (bias != NULL) {
    BiasArgs A = { y, bias, out };
    hart_cpu_parallel_for (be, rows, hart_cpu_grain (be, rows,
            (gsize) rows * out), bias_rows, &A);
    beta = 1.0f;
  }
  /* x [rows, in] · W[out, in]ᵀ */
  hart_cpu_sgemm (be, FALSE, TRUE, rows, out, in, 1.0f, x, in, w, in, beta, y,
      out);
}
