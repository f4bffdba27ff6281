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

/* The number of ops the wrapper times (the size of the array that
 * hart_backend_get_op_totals () fills). */
#define HART_N_TIMED_OPS 38

/* Wraps BE's op table with the timing table; idempotent.  Call it while no
 * op of BE runs (before a generation starts): ops called through the old
 * table meanwhile are not counted.  The wrapper is freed with BE. */
void hart_backend_time_ops (HartBackend * be);
/* TRUE once hart_backend_time_ops () has wrapped BE. */
gboolean hart_backend_ops_timed (const HartBackend * be);
/* Fills TOTALS [HART_N_TIMED_OPS] with the totals so far, in the op
 * table's order (ops never called have calls 0); FALSE, filling nothing,
 * when BE is not wrapped.  Safe while ops run: each counter is read
 * atomically, but an op that ends on another thread meanwhile may be
 * counted in some of its three counters and not yet in the others.  Read
 * between the ops of the thread that calls them (a progress callback), the
 * totals are exact. */
gboolean hart_backend_get_op_totals (const HartBackend * be,
    HartOpTotal totals[HART_N_TIMED_OPS]);

G_END_DECLS
#endif /* HART_KERNELS_OP_TIMING_H */
