/* gst-hart — the engine's own thread pool (CPU backend, host-side loops)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A pool of n_threads − 1 worker threads; the thread that calls
 * hart_cpu_pool_run () takes part in its job, so a pool of n threads runs a
 * job on n threads.  Made for a library that lives inside someone else's
 * process (a GStreamer pipeline, an application with its own busy threads):
 *
 * - Waiting is passive.  An idle worker spins for at most
 *   HART_CPU_POOL_SPIN_US microseconds after its last job (back-to-back ops
 *   then need no wake-up), then sleeps on a GCond (a futex); the caller
 *   waits for the workers still running a chunk the same way.  OpenMP
 *   (libgomp) instead spins for milliseconds at every barrier unless
 *   OMP_WAIT_POLICY is set in the environment before it is loaded, which a
 *   plugin cannot do.
 * - Work is claimed in chunks through an atomic counter (dynamic
 *   scheduling): a worker that the system deschedules holds back at most
 *   the chunk it is running, and one that has not woken up yet when the
 *   work runs out is not waited for at all.
 * - One job at a time per pool.  A second caller (another generation on
 *   the same backend, or a job started from inside a job) finds the pool
 *   busy and runs its job on its own thread alone: never a deadlock, never
 *   a queue behind someone else's work.
 * - Results never depend on who runs a chunk: callers choose chunks whose
 *   results are independent (each item computes the same thing whichever
 *   thread runs it, and whatever the chunk boundaries).
 *
 * Workers are started on the first job that needs them and joined by
 * hart_cpu_pool_free ().
 */
#ifndef HART_KERNELS_CPU_POOL_H
#define HART_KERNELS_CPU_POOL_H

#include <glib.h>

G_BEGIN_DECLS

/* How long an idle worker (or a caller waiting for one) polls before it
 * sleeps on its condition variable. */
#define HART_CPU_POOL_SPIN_US 200

typedef struct _HartCpuPool HartCpuPool;
typedef struct _HartCpuJob HartCpuJob;

/* Called once by every thread that takes part in a job; it claims chunks
 * with hart_cpu_job_next () until that returns FALSE.  Per-thread scratch
 * (allocated once per participating thread) goes here. */
typedef void (*HartCpuWorkerFunc) (HartCpuJob * job, gpointer data);
/* Called for each chunk [begin, end) of a parallel_for. */
typedef void (*HartCpuRangeFunc) (gsize begin, gsize end, gpointer data);

/* n_threads: threads of a job, the caller included (>= 1; 1 = no worker
 * threads, every job runs on its caller).  Starts no thread yet. */
HartCpuPool *hart_cpu_pool_new (int n_threads);
/* Joins the workers.  No job may be running. */
void hart_cpu_pool_free (HartCpuPool * pool);
int hart_cpu_pool_get_n_threads (const HartCpuPool * pool);

/* Runs fn over the items [0, n_items) in chunks of `grain` items (the last
 * one shorter), on the pool's threads when it is free and there is more
 * than one chunk, else on the calling thread.  Returns when every chunk is
 * done; what the chunks wrote is then visible to the caller.  grain 0 is
 * taken as 1. */
void hart_cpu_pool_run (HartCpuPool * pool, gsize n_items, gsize grain,
    HartCpuWorkerFunc fn, gpointer data);
/* The next chunk of the job: TRUE and [*begin, *end), or FALSE when none
 * is left. */
gboolean hart_cpu_job_next (HartCpuJob * job, gsize * begin, gsize * end);

/* hart_cpu_pool_run () with fn called once per chunk. */
void hart_cpu_pool_parallel_for (HartCpuPool * pool, gsize n_items,
    gsize grain, HartCpuRangeFunc fn, gpointer data);

/* The number of threads "every core" means: HART_NUM_THREADS when it holds
 * a positive number, else the cores this process may run on. */
int hart_cpu_default_threads (void);

/* For tests: the worker threads' kernel thread ids (0 before they are
 * started); returns how many were written to tids (at most max). */
int hart_cpu_pool_get_worker_tids (HartCpuPool * pool, int *tids, int max);

G_END_DECLS
#endif /* HART_KERNELS_CPU_POOL_H */
