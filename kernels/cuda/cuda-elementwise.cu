/* gst-hart — CUDA backend: fill, activations, elementwise ops, embedding
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every op here is y[i] = f(inputs[i]) over n contiguous fp32 values: one
 * grid-stride kernel per arity, templated on a small functor that holds
 * the formula.  y may alias an input (each element is read before it is
 * written by the same thread).
 */
#include "cuda-private.cuh"

/* y[i] = op(x[i]) for i < n. */
template < typename Op > static __global__ void
unary_kernel (float *y, const float *x, gsize n, Op op)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < n;
      i += (gsize) gridDim.x * blockDim.x)
    y[i] = op (x[i]);
}

/* y[i] = op(a[i], b[i]) for i < n. */
template < typename Op > static __global__ void
binary_kernel (float *y, const float *a, const float *b, gsize n, Op op)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < n;
      i += (gsize) gridDim.x * blockDim.x)
    y[i] = op (a[i], b[i]);
}

template < typename Op > static void
launch_unary (HartBackend * be, const char *what, float *y, const float *x,
    gsize n, Op op)
{
  if (n == 0 || !hart_cuda_enter (be))
    return;
  unary_kernel <<< hart_cuda_grid_for (n), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (y, x, n, op);
  hart_cuda_check (be, what);
}

template < typename Op > static void
launch_binary (HartBackend * be, const char *what, float *y, const float *a,
    const float *b, gsize n, Op op)
{
  if (n == 0 || !hart_cuda_enter (be))
    return;
  binary_kernel <<< hart_cuda_grid_for (n), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (y, a, b, n, op);
  hart_cuda_check (be, what);
}

/* ---- formulas ---- */

static __device__ __forceinline__ float
silu (float x)
{
  return x / (1.0f + expf (-x));
}

struct SiluOp
{
  __device__ float operator () (float x) const
  {
    return silu (x);
  }
};

/* gelu (erf form): 0.5 x (1 + erf(x / √2)) */
struct GeluOp
{
  __device__ float operator () (float x) const
  {
    return 0.5f * x * (1.0f + erff (x * 0.70710678118654752f));
  }
};

/* gelu (tanh form): 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))) */
struct GeluTanhOp
{
  __device__ float operator () (float x) const
  {
    return 0.5f * x * (1.0f + tanhf (0.79788456080286536f
            * (x + 0.044715f * x * x * x)));
  }
};

/* y = silu(gate) * up */
struct SwigluOp
{
  __device__ float operator () (float gate, float up) const
  {
    return silu (gate) * up;
  }
};

struct AddOp
{
  __device__ float operator () (float a, float b) const
  {
    return a + b;
  }
};

struct MulOp
{
  __device__ float operator () (float a, float b) const
  {
    return a * b;
  }
};

/* y = alpha a + beta b */
struct AxpbyOp
{
  float alpha, beta;
  __device__ float operator () (float a, float b) const
  {
    return alpha * a + beta * b;
  }
};

struct ScaleOp
{
  float alpha;
  __device__ float operator () (float x) const
  {
    return alpha * x;
  }
};

/* fminf/fmaxf would turn NaN into a bound; compare so that NaN passes
 * through, as a C loop of comparisons does. */
struct ClampOp
{
  float lo, hi;
  __device__ float operator () (float x) const
  {
    return x < lo ? lo : (x > hi ? hi : x);
  }
};

/* fill ignores its input: y[i] = value. */
struct FillOp
{
  float value;
  __device__ float operator () (float) const
  {
    return value;
  }
};

/* ---- ops ---- */

void
hart_cuda_fill (HartBackend * be, float *dst, float value, gsize n)
{
  /* the input pointer is never read by FillOp; pass dst itself */
  launch_unary (be, "fill", dst, dst, n, FillOp { value });
}

void
hart_cuda_silu (HartBackend * be, float *y, const float *x, gsize n)
{
  launch_unary (be, "silu", y, x, n, SiluOp { });
}

void
hart_cuda_gelu (HartBackend * be, float *y, const float *x, gsize n)
{
  launch_unary (be, "gelu", y, x, n, GeluOp { });
}

void
hart_cuda_gelu_tanh (HartBackend * be, float *y, const float *x, gsize n)
{
  launch_unary (be, "gelu_tanh", y, x, n, GeluTanhOp { });
}

void
hart_cuda_swiglu (HartBackend * be, float *y, const float *gate,
    const float *up, gsize n)
{
  launch_binary (be, "swiglu", y, gate, up, n, SwigluOp { });
}

void
hart_cuda_add (HartBackend * be, float *y, const float *a, const float *b,
    gsize n)
{
  launch_binary (be, "add", y, a, b, n, AddOp { });
}

void
hart_cuda_mul (HartBackend * be, float *y, const float *a, const float *b,
    gsize n)
{
  launch_binary (be, "mul", y, a, b, n, MulOp { });
}

void
hart_cuda_axpby (HartBackend * be, float *y, float alpha, const float *a,
    float beta, const float *b, gsize n)
{
  launch_binary (be, "axpby", y, a, b, n, AxpbyOp { alpha, beta });
}

void
hart_cuda_scale (HartBackend * be, float *y, const float *x, float alpha,
    gsize n)
{
  launch_unary (be, "scale", y, x, n, ScaleOp { alpha });
}

void
hart_cuda_clamp (HartBackend * be, float *y, const float *x, float lo,
    float hi, gsize n)
{
  launch_unary (be, "clamp", y, x, n, ClampOp { lo, hi });
}

/* x[r, c] += v[c] for x [rows, dim]. */
static __global__ void
add_row_vector_kernel (float *x, const float *v, int dim, gsize total)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x)
    x[i] += v[i % dim];
}

void
hart_cuda_add_row_vector (HartBackend * be, float *x, const float *v,
    int rows, int dim)
{
  gsize total = (gsize) rows * dim;

  if (rows <= 0 || dim <= 0 || !hart_cuda_enter (be))
    return;
  add_row_vector_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (x, v, dim, total);
  hart_cuda_check (be, "add_row_vector");
}

/* y[i, d] = table[ids[i], d] for y [n, dim]; ids [n] is device memory (an
 * int32 buffer from this backend's alloc/upload), checked by the caller. */
static __global__ void
embedding_kernel (float *y, const float *table, const int32_t * ids,
    int dim, gsize total)
{
  for (gsize i = blockIdx.x * (gsize) blockDim.x + threadIdx.x; i < total;
      i += (gsize) gridDim.x * blockDim.x) {
    gsize row = i / dim, d = i % dim;
    y[i] = table[(gsize) ids[row] * dim + d];
  }
}

void
hart_cuda_embedding (HartBackend * be, float *y, const float *table,
    const int32_t * ids, int n, int dim)
{
  gsize total = (gsize) n * dim;

  if (n <= 0 || dim <= 0 || !hart_cuda_enter (be))
    return;
  embedding_kernel <<< hart_cuda_grid_for (total), HART_CUDA_BLOCK, 0,
      hart_cuda_priv (be)->stream >>> (y, table, ids, dim, total);
  hart_cuda_check (be, "embedding");
}
