/* gst-hart — the op-test harness: what a case is
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One table of cases (op-cases.c) is run on every backend by one program
 * (test-backend-ops.c), in the spirit of ggml's test-backend-ops:
 *  - an OpDef knows one entry of HartBackendOps: which tensors a call
 *    reads and writes, how to call it, and a plain reference (naive loops in
 *    double) of what it computes;
 *  - an OpCase is one call: shapes and scalars, the tolerance class its
 *    output is checked with, and optionally PyTorch goldens, a fill hook
 *    for hand-made inputs and a check hook for extra exact assertions.
 * The driver fills the inputs once per case (fixed seed per case), uploads
 * them to each backend, runs the op and compares each output tensor with
 * the reference (test mode), or times the call (perf mode).
 *
 * Adding an op: its HartBackendOps entry and kernels, then one OpDef and its
 * case lines in op-cases.c.
 */
#ifndef HART_TESTS_OP_HARNESS_H
#define HART_TESTS_OP_HARNESS_H

#include "kernels/backend.h"

#include <glib.h>

G_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* tolerance classes (tolerance.c)                                      */

typedef enum
{
  TOL_EXACT,                    /* bit for bit */
  TOL_ELEMENTWISE,              /* a few fp32 operations per value */
  TOL_FP32_REDUCTION,           /* fp32 sums of K terms in any order */
  TOL_RESAMPLE,                 /* interpolation weights formed in fp32 */
  TOL_SAME_ORDER,               /* the reference sums in the same order */
  TOL_BF16_PRODUCT,             /* bf16 operands, fp32 sums */
  TOL_BF16_ATTENTION,           /* and probabilities rounded to bf16 */
  TOL_N_CLASSES
} ToleranceClass;

typedef struct
{
  const char *name;
  /* against the reference: |got − want| ≤ (atol + rtol·|want|) · s, where
   * s = max (1, K / 64) when per_k (K = OpDef.reduction of the case), times the
   * backend's reduction_slack when per_k */
  double atol, rtol;
  gboolean per_k;
  /* against the CPU backend's output of the same case in the same run:
   * |got − cpu| ≤ cross_rtol·|cpu| + cross_atol·max|cpu| */
  double cross_rtol, cross_atol;
} ToleranceSpec;

const ToleranceSpec *tolerance_spec (ToleranceClass tol);

/* Worst element of one comparison. */
typedef struct
{
  gsize n_bad;                  /* elements out of bounds */
  gsize worst;                  /* index with the largest error − bound */
  double got, want, err, bound; /* at `worst` */
} CompareResult;

/* got vs want (double, NaN = "must stay NaN") with the class bound; scale
 * multiplies the bound (K and backend slack). */
gboolean compare_to_reference (const float *got, const double *want,
    gsize n, const ToleranceSpec * spec, double scale, CompareResult * r);
/* got vs the CPU backend's output with the class's cross bound, or bit for
 * bit when exact. */
gboolean compare_to_backend (const float *got, const float *cpu, gsize n,
    const ToleranceSpec * spec, gboolean exact, CompareResult * r);

/* ------------------------------------------------------------------ */
/* tensors                                                              */

#define OP_MAX_TENSORS 6

typedef enum
{
  TENSOR_F32,
  TENSOR_U8,
  TENSOR_I32,
  TENSOR_BF16,                  /* uniform fill rounded to bf16 (raw bits) */
} TensorType;

typedef enum
{
  ROLE_IN,                      /* read only */
  ROLE_OUT,                     /* written; starts as NaN, so an element the
                                 * op forgets to write fails the comparison */
  ROLE_INOUT,                   /* written; starts random (in place ops,
                                 * beta ≠ 0, padding that must survive) */
} TensorRole;

typedef struct
{
  const char *name;
  TensorType type;
  TensorRole role;
  gsize n;                      /* elements */
  double lo, hi;                /* uniform fill of F32 inputs */
} TensorSpec;

typedef struct
{
  TensorSpec t[OP_MAX_TENSORS];
  int n;
} TensorList;

/* Appends a tensor; returns its index. */
int tensor_add (TensorList * list, const char *name, TensorType type,
    TensorRole role, gsize n, double lo, double hi);

/* ------------------------------------------------------------------ */
/* per-op arguments                                                     */

typedef struct
{
  gboolean ta, tb;
  int m, n, k, batch;           /* batch 0: the plain gemm op */
  float alpha, beta;
  int pad;                      /* extra elements per row of A, B, C */
  int gap;                      /* extra elements between batched matrices */
} GemmArgs;

typedef struct
{
  int rows, in, out;
  gboolean bias;
} LinearArgs;

typedef struct
{
  int batch, q_heads, kv_heads, q_len, kv_len, head_dim;
  float scale;
  gboolean fused_qkv;           /* q, k, v read out of one [B, L, 3C] buffer */
  gboolean padded;              /* rows and batches of q/k/v padded */
  gboolean use_mask;
  double mask_keep;             /* probability a key is visible (0: 0.7) */
  gboolean mask_one_item;       /* batch item masked_item sees no key */
  int masked_item;
  gboolean causal;
  int causal_offset;
  int out_pad;                  /* extra floats per output row */
  /* attention_half: K and V given in bf16 (k_half, v_half), written by
   * to_half_heads into a padded head-major cache */
  gboolean kv_half;
  /* attention_half: run with HART_CPU_ATTENTION=onednn (the CPU's oneDNN
   * path where it would take its AMX kernel) */
  gboolean onednn;
} AttentionArgs;

typedef struct
{
  int batch, len, heads, head_dim;
  int src_row_pad, src_batch_pad;       /* extra floats of the source */
  int dst_head_pad, dst_batch_pad;      /* extra elements of the destination */
  gboolean specials;            /* NaN, infinities, ties, denormals */
} ToHalfArgs;

typedef struct
{
  int batch, channels, hw, groups;      /* group_norm; rows = batch, dim = hw */
  int rows, dim;                /* layer_norm, rms_norm */
  float eps;
  gboolean weight, bias;
  gboolean in_place;            /* rms_norm y = x */
  double x_lo, x_hi;            /* range of x when not both 0 */
} NormArgs;

typedef struct
{
  int batch, rows, dim;
  int mod_rows;                 /* scale/shift rows are mod_rows·dim apart */
  int scale_row, shift_row;     /* which of them hold scale and shift */
} ModulateArgs;

typedef struct
{
  int batch, len, heads, head_dim;
  int row_heads;                /* heads per row of the buffer (fused qkv) */
  int first_head;               /* rotate heads from this one on */
  gboolean shared_table;
} RopeArgs;

typedef struct
{
  int rows, n;
  int special_rows;             /* 1: a +1000 row, masked entries, a fully
                                 * masked row, a single visible entry;
                                 * 2: masked entries, a fully masked row */
} SoftmaxArgs;

typedef struct
{
  gsize n;
  double range_a, range_b;      /* inputs uniform in [−range, range] */
  float alpha, beta, lo, hi;    /* axpby / scale / clamp / fill scalars */
  int in_place;                 /* 1: y aliases a; 2: y, a and b alias */
  int rows, dim;                /* add_row_vector */
  int batch, len;               /* max_over_rows: [batch, len, dim] */
  gsize dst_offset, src_offset, count;  /* copy / fill: a middle part */
} ElementwiseArgs;

typedef struct
{
  int n_table, dim, n;
} EmbeddingArgs;

typedef struct
{
  int rows, src_pitch, dst_pitch, width, src_offset;
} Copy2dArgs;

typedef struct
{
  int batch, cin, height, width, cout, k, pad;
  gboolean bias;
  /* conv2d_half on the CPU: HART_CPU_CONV=im2col (its fallback path) */
  gboolean im2col;
} ConvArgs;

typedef struct
{
  int batch, channels, in_h, in_w, out_h, out_w;
} ResizeArgs;

/* ------------------------------------------------------------------ */
/* ops and cases                                                        */

typedef struct _OpCase OpCase;

typedef struct
{
  const char *op;               /* the HartBackendOps entry */
  /* the tensors of one call, in a fixed order per op */
  void (*tensors) (const OpCase * c, TensorList * list);
  /* optional: fixes up host inputs after the uniform fill (ids, masks) */
  void (*fill) (const OpCase * c, GRand * rng, void *const *host);
  /* the call on `be`; dev[i] is tensor i on that backend */
  void (*run) (HartBackend * be, const OpCase * c, void *const *dev);
  /* the plain reference: want[i] (outputs only; NULL otherwise) starts as
   * the tensor's initial contents (NaN for ROLE_OUT); the reference writes
   * what the op writes, in double */
  void (*reference) (const OpCase * c, void *const *host,
      double *const *want);
  /* work of one call, for perf mode: flops (0 for data movement) and bytes
   * read + written */
  void (*work) (const OpCase * c, double *flops, double *bytes);
  /* optional: K of TOL_FP32_REDUCTION for this call (default 1) */
  int (*reduction) (const OpCase * c);
  /* optional: why BE cannot run the op (a skip), or NULL when it can */
  const char *(*unsupported) (HartBackend * be);
} OpDef;

struct _OpCase
{
  const OpDef *def;
  char *name;                   /* unique within the op */
  ToleranceClass tol;
  gboolean perf;                /* a perf-mode case (too big for test mode) */
  /* every backend must give the CPU's output bit for bit (the summation
   * order is fixed by docs/algorithm.md) */
  gboolean bitwise_across_backends;
  /* PyTorch goldens: golden[i] names tensor i in
   * $HART_FIXTURES/ops/goldens.safetensors (input data, or for outputs the
   * expected result, replacing the reference); NULL where not golden */
  const char *golden[OP_MAX_TENSORS];
  /* optional hand-made inputs, after the uniform fill and def->fill */
  void (*fill) (const OpCase * c, GRand * rng, void *const *host);
  /* optional exact assertions on the outputs; FALSE with a message */
  gboolean (*check) (const OpCase * c, void *const *got, GString * msg);
  /* optional: a kernel switch the case runs under (env_name=env_value, set
   * around each call: backends read theirs at every call), on backend
   * only_backend alone (a skip elsewhere).  A candidate kernel gets the
   * same cases as the one in use this way (add_candidate_cases in op-cases.c). */
  const char *env_name, *env_value, *only_backend;

  union
  {
    GemmArgs gemm;
    LinearArgs linear;
    AttentionArgs attn;
    ToHalfArgs to_half;
    NormArgs norm;
    ModulateArgs mod;
    RopeArgs rope;
    SoftmaxArgs softmax;
    ElementwiseArgs ew;
    EmbeddingArgs emb;
    Copy2dArgs copy2d;
    ConvArgs conv;
    ResizeArgs resize;
  };
};

/* Every case, test and perf, in table order (op-cases.c); free with
 * op_cases_free. */
GPtrArray *op_cases_new (void);
void op_cases_free (GPtrArray * cases);

/* ------------------------------------------------------------------ */
/* PyTorch goldens (goldens.c)                                          */

typedef struct _Goldens Goldens;

/* $HART_FIXTURES/ops/goldens.safetensors, or NULL with *error set (a
 * missing HART_FIXTURES is reported as G_IO_ERROR_NOT_FOUND). */
Goldens *goldens_open (GError ** error);
void goldens_close (Goldens * g);
/* Raw little-endian data of `name`; NULL with a message when missing or
 * when its dtype ("F32", "U8") or element count differ. */
const void *goldens_get (Goldens * g, const char *name, const char *dtype,
    gsize n, GError ** error);

/* ------------------------------------------------------------------ */
/* backend-level checks (backend-checks.c): not op calls               */

typedef struct
{
  const char *name;
  /* be is NULL for checks of backend creation; FALSE with a message */
  gboolean (*func) (HartBackend * be, const char *backend_name,
      GString * msg);
  gboolean per_backend;         /* run once per available backend */
  const char *about;            /* the backend a global check is about:
                                 * skipped when not compiled in */
} BackendCheck;

const BackendCheck *backend_checks (gsize * n);

G_END_DECLS
#endif /* HART_TESTS_OP_HARNESS_H */
