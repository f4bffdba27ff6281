/* gst-hart — CPU backend: the oneDNN calls shared by its bf16 ops
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For cpu-onednn.c (linear) and cpu-attention-half.c only: they include
 * oneDNN's header, the rest of the backend does not.
 */
#ifndef HART_KERNELS_CPU_ONEDNN_H
#define HART_KERNELS_CPU_ONEDNN_H

#include "cpu-private.h"

#include <oneapi/dnnl/dnnl.h>

G_BEGIN_DECLS

/* libgomp's; declared here so the build needs no -fopenmp.  Debian's
 * oneDNN runs on OpenMP: each call sets its thread's count to 1 (see
 * cpu-onednn.c). */
extern void omp_set_num_threads (int n);

struct _HartCpuHalf
{
  dnnl_engine_t engine;
  dnnl_primitive_attr_t attr;   /* user-provided scratchpad */
  dnnl_primitive_attr_t attr_sum;       /* the same, and dst += product */
  /* no bf16 matmul in oneDNN for this CPU (or HART_CPU_BF16=widened):
   * every product runs widened to fp32 (cpu-bf16-widened.c) */
  gboolean widened;
  /* oneDNN has a (non-reference) bf16 convolution for the decoder's
   * shapes: conv2d_half tries the direct path (cpu-conv-half.c) */
  gboolean conv_direct;
  char impl[192];
};

/* One argument of a primitive: a memory object over PTR (md NULL: left
 * out, as an optional bias or scratchpad) */
typedef struct
{
  int kind;                     /* DNNL_ARG_* */
  const dnnl_memory_desc_t *md;
  const void *ptr;
} HartOnednnArg;

/* Runs PRIM once on the calling thread over the N_ARGS arguments and
 * waits for it: the memory objects are made and destroyed here, on STREAM
 * (NULL: a stream of its own).  FALSE when oneDNN fails. */
gboolean hart_cpu_onednn_execute (HartCpuHalf * h, dnnl_primitive_t prim,
    dnnl_stream_t stream, int n_args, const HartOnednnArg * args);

/* One single-threaded oneDNN matmul dst = src · wei (+ bias) (+ dst when
 * ACCUMULATE), over the given memory descriptors (any batch dimensions and
 * strides oneDNN's matmul takes; BIAS_MD NULL: none).  Runs on the calling
 * thread: the caller cuts the work over the backend's pool.  oneDNN keeps
 * created primitives in its cache, so a repeated shape costs tens of
 * microseconds of setup.  FALSE when oneDNN fails (out of memory). */
gboolean hart_cpu_onednn_matmul (HartCpuHalf * h,
    const dnnl_memory_desc_t * src_md, const void *src,
    const dnnl_memory_desc_t * wei_md, const void *wei,
    const dnnl_memory_desc_t * bias_md, const void *bias,
    const dnnl_memory_desc_t * dst_md, void *dst, gboolean accumulate);
/* The same, for a caller whose products always have the same rows for a
 * given output (fixed blocks of one image, as the attention's query blocks
 * × key blocks): where the products run widened they may then take
 * OpenBLAS's plain call, whose bits for a row depend on its position in
 * the call, without the padded row chunks that keep a linear's rows
 * alike (a batch's frames get the same blocks as a frame alone). */
gboolean hart_cpu_onednn_matmul_blocks (HartCpuHalf * h,
    const dnnl_memory_desc_t * src_md, const void *src,
    const dnnl_memory_desc_t * wei_md, const void *wei,
    const dnnl_memory_desc_t * bias_md, const void *bias,
    const dnnl_memory_desc_t * dst_md, void *dst, gboolean accumulate);

/* The widened products' column tiles (cpu-bf16-widened.c), a multiple of
 * HALF_COL_QUANTUM.  256 cuts every output width of HART (1024, 1536,
 * 2048, 4096, 4608, 6144) into an even number of tiles, so that two
 * threads get equal panels; 192 left one thread 12.5 % more columns at
 * the diffusion's 1024 and 2048, where widened bf16 then ran at 0.72–0.8×
 * fp32 (docs/precision.md).  Each column's bits stay those of the frame
 * made alone whatever the tile: tiles are counted from the product's first
 * column and panels are cut at them. */
#define HART_CPU_WIDE_COL_TILE 256

/* cpu-bf16-widened.c: the product hart_cpu_onednn_matmul describes (plain
 * strided descriptors, 2 to 4 dimensions, the leading ones batch
 * dimensions that may broadcast; bf16 src and wei, f32 dst and bias) with
 * the bf16 operands widened to fp32 and multiplied by OpenBLAS, on the
 * calling thread; ROWS_FIXED as hart_cpu_onednn_matmul_blocks.  FALSE for
 * descriptors outside that set or when out of memory. */
gboolean hart_cpu_bf16_matmul_widened (const dnnl_memory_desc_t * src_md,
    const void *src, const dnnl_memory_desc_t * wei_md, const void *wei,
    const dnnl_memory_desc_t * bias_md, const void *bias,
    const dnnl_memory_desc_t * dst_md, void *dst, gboolean accumulate,
    gboolean rows_fixed);

/* The convolution primitive oneDNN picks for the decoder's shapes: its
 * implementation string (e.g. "brgconv:avx512_core_amx_bf16") into IMPL,
 * or FALSE when it has only its reference loops (then conv2d_half runs
 * im2col, cpu-conv-half.c).  For the backend's implementation string. */
gboolean hart_cpu_conv_half_probe (HartCpuHalf * h, char *impl, gsize size);

/* x rounded to bf16, four at a time (hart_cpu_bf16_round4, cpu-private.h) */
static inline void
hart_cpu_bf16_round_row (uint16_t * dst, const float *src, gsize n)
{
  gsize i = 0;

  for (; i + 4 <= n; i += 4) {
    hart_v4su bits;
    hart_v4hu halves;
    memcpy (&bits, src + i, sizeof bits);
    halves = __builtin_convertvector (hart_cpu_bf16_round4 (bits), hart_v4hu);
    memcpy (dst + i, &halves, sizeof halves);
  }
  for (; i < n; i++)
    dst[i] = hart_f32_to_bf16 (src[i]);
}

G_END_DECLS
#endif /* HART_KERNELS_CPU_ONEDNN_H */
