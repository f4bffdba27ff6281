/* gst-hart — per-op timing of a backend (a wrapper around its op table)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Stage times say which stage is slow; they do not say whether its time
 * goes to the matrix products, to the normalisations between them, or to
 * the host.  hart_backend_time_ops () puts a table in front of a backend's
 * op table that, for every op, adds the call's wall time and its nominal
 * floating-point work to counters; `hart bench --ops` prints them per stage
 * (docs/performance.md, "Where the time goes").  The ops themselves are not
 * changed: the wrapper passes every call through as it is (same bits).
 *
 * A backend whose ops are queued (CUDA: host_memory FALSE) is synchronised
 * after each timed op, so that its time is the op's own: the queue then
 * runs one op at a time, which is slower than a real run but says where
 * the time goes.  A backend with host memory is not synchronised.
 */
#ifndef HART_KERNELS_OP_TIMING_H
#define HART_KERNELS_OP_TIMING_H

#include "kernels/backend.h"

G_BEGIN_DECLS

/* The totals of one op since its backend was wrapped. */
typedef struct
{
  const char *op;               /* the op table's member: "linear_half", … */
  guint64 calls;
  guint64 ns;                   /* wall time inside the op, summed */
  /* Nominal floating-point operations (a multiply-add counts 2): the
   * products (gemm, linear, attention, convolution) only, 0 for the
   * others.  Attention counts every query against every key, masked or
   * not. */
  guint64 flops;
} HartOpTotal;

/* The number of ops the wrapper times. */
#define HART_N_TIMED_OPS 40

/* Host work between the ops, timed by the code that does it (the
 * engine's sampler and the diffusion's update), so that a GPU run's time
 * outside the ops says what it is: the totals list them after the ops,
 * named "(host) sampling" and "(host) diffusion steps", with no nominal
 * work. */
typedef enum
{
  /* a stage's CFG, top-k, draws, embedding: a call per part of the
   * stage whose logits are computed at once (up to 256 positions) */
  HART_HOST_SAMPLING,
  HART_HOST_DIFFUSION_STEP,     /* a diffusion step's noise and update */
  HART_N_HOST_WORK
} HartHostWork;

/* The size of the array that hart_backend_get_op_totals () fills: the
 * ops, then the host work. */
#define HART_N_TIMED (HART_N_TIMED_OPS + HART_N_HOST_WORK)

/* Wraps BE's op table with the timing table; idempotent.  Call it while no
 * op of BE runs (before a generation starts): ops called through the old
 * table meanwhile are not counted.  The wrapper is freed with BE. */
void hart_backend_time_ops (HartBackend * be);
/* TRUE once hart_backend_time_ops () has wrapped BE. */
gboolean hart_backend_ops_timed (const HartBackend * be);
/* Host work: the clock before it, 0 when BE is not timed (a plain run
 * reads no clock) … */
guint64 hart_backend_host_clock (const HartBackend * be);
/* … and after it: adds one call of WORK that began at T0 (nothing when T0
 * is 0).  The work must call no op of BE (its time would count twice). */
void hart_backend_host_done (HartBackend * be, HartHostWork work, guint64 t0);

/* Fills TOTALS [HART_N_TIMED] with the totals so far, in the op
 * table's order, then the host work (entries never called have calls 0);
 * FALSE, filling nothing,
 * when BE is not wrapped.  Safe while ops run: each counter is read
 * atomically, but an op that ends on another thread meanwhile may be
 * counted in some of its three counters and not yet in the others.  Read
 * between the ops of the thread that calls them (a progress callback), the
 * totals are exact. */
gboolean hart_backend_get_op_totals (const HartBackend * be,
    HartOpTotal totals[HART_N_TIMED]);

G_END_DECLS
#endif /* HART_KERNELS_OP_TIMING_H */
