/* gst-hart — the CPU backend's thread pool (kernels/cpu/cpu-pool.h)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every item runs exactly once whatever the item count, chunk size and
 * thread count; several callers may share a pool (one gets the workers,
 * the others run alone); a job started from inside a job runs inline; and
 * idle workers sleep: between the jobs of a workload that pauses, next to
 * a thread that keeps a core busy, the backend's other threads use
 * (nearly) no CPU time.  That last check counts CPU time, not wall time,
 * and finds the workers through /proc (any threads but the test's own), so
 * it would measure OpenMP's workers just the same: libgomp's spin at its
 * barriers fails it.
 */
#include "kernels/backend.h"
#include "kernels/cpu/cpu-pool.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef struct
{
  int *counts;
  gsize n;
  HartCpuPool *nest;            /* when set: run a nested job per chunk */
  int *nested_counts;
  gsize nested_n;
} Counts;

static void
count_range (gsize begin, gsize end, gpointer data)
{
  Counts *c = data;

  g_assert_cmpuint (begin, <, end);
  g_assert_cmpuint (end, <=, c->n);
  for (gsize i = begin; i < end; i++)
    g_atomic_int_inc (&c->counts[i]);
  if (c->nest != NULL) {
    Counts inner = {.counts = c->nested_counts,.n = c->nested_n };
    /* the pool is busy with this job: runs on this thread, no deadlock */
    hart_cpu_pool_parallel_for (c->nest, c->nested_n, 3, count_range, &inner);
  }
}

static void
check_once (HartCpuPool * pool, gsize n, gsize grain)
{
  Counts c = {.counts = g_new0 (int, MAX (n, 1)),.n = n };

  hart_cpu_pool_parallel_for (pool, n, grain, count_range, &c);
  for (gsize i = 0; i < n; i++)
    if (c.counts[i] != 1)
      g_error ("n %" G_GSIZE_FORMAT " grain %" G_GSIZE_FORMAT ": item %"
          G_GSIZE_FORMAT " ran %d times", n, grain, i, c.counts[i]);
  g_free (c.counts);
}

static void
test_every_item_once (void)
{
  static const gsize ns[] = { 1, 2, 3, 7, 8, 63, 64, 65, 1000, 4097 };
  static const gsize grains[] = { 0, 1, 2, 3, 5, 16, 64, 1000, 5000 };

  for (int threads = 1; threads <= 8; threads *= 2) {
    HartCpuPool *pool = hart_cpu_pool_new (threads == 8 ? 3 : threads);
    for (guint a = 0; a < G_N_ELEMENTS (ns); a++)
      for (guint b = 0; b < G_N_ELEMENTS (grains); b++)
        check_once (pool, ns[a], grains[b]);
    hart_cpu_pool_free (pool);
  }
}

static void
never (gsize begin, gsize end, gpointer data)
{
  g_error ("called for an empty loop");
}

static void
test_zero_items (void)
{
  HartCpuPool *pool = hart_cpu_pool_new (4);

  hart_cpu_pool_parallel_for (pool, 0, 1, never, NULL);
  hart_cpu_pool_parallel_for (pool, 0, 0, never, NULL);
  g_assert_cmpint (hart_cpu_pool_get_n_threads (pool), ==, 4);
  hart_cpu_pool_free (pool);
  /* a pool that never ran a job starts no thread and frees cleanly */
  hart_cpu_pool_free (hart_cpu_pool_new (8));
  hart_cpu_pool_free (NULL);
}

static void
test_nested (void)
{
  HartCpuPool *pool = hart_cpu_pool_new (3);
  Counts c = {.counts = g_new0 (int, 40),.n = 40,.nest = pool,
    .nested_counts = g_new0 (int, 10),.nested_n = 10
  };

  hart_cpu_pool_parallel_for (pool, 40, 1, count_range, &c);
  for (int i = 0; i < 40; i++)
    g_assert_cmpint (c.counts[i], ==, 1);
  /* one nested job per chunk, each item once per job */
  for (int i = 0; i < 10; i++)
    g_assert_cmpint (c.nested_counts[i], ==, 40);
  g_free (c.counts);
  g_free (c.nested_counts);
  hart_cpu_pool_free (pool);
}

typedef struct
{
  HartCpuPool *pool;
  guint seed;
} Caller;

static gpointer
caller_main (gpointer data)
{
  Caller *caller = data;
  GRand *rand = g_rand_new_with_seed (caller->seed);

  for (int j = 0; j < 300; j++)
    check_once (caller->pool, g_rand_int_range (rand, 0, 3000),
        g_rand_int_range (rand, 0, 100));
  g_rand_free (rand);
  return NULL;
}

static void
test_concurrent_callers (void)
{
  HartCpuPool *pool = hart_cpu_pool_new (3);
  Caller callers[4];
  GThread *threads[4];

  for (int i = 0; i < 4; i++) {
    callers[i] = (Caller) {
    pool, 17 + i};
    threads[i] = g_thread_new ("caller", caller_main, &callers[i]);
  }
  for (int i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  hart_cpu_pool_free (pool);
}

/* ---- idle workers sleep ---- */

static int
gettid_ (void)
{
  return (int) syscall (SYS_gettid);
}

/* CPU time of thread `tid` of this process, in ns (the kernel's per-thread
 * CPU clock, as pthread_getcpuclockid builds it); -1 when it is gone. */
static gint64
thread_cpu_ns (int tid)
{
  clockid_t clock = (clockid_t) ((~(unsigned) tid) << 3) | 6;
  struct timespec ts;

  if (clock_gettime (clock, &ts) != 0)
    return -1;
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* Total CPU time of the process's threads but the excluded ones. */
static gint64
others_cpu_ns (const int *exclude, int n_exclude, int *n_seen)
{
  DIR *dir = opendir ("/proc/self/task");
  struct dirent *d;
  gint64 sum = 0;

  *n_seen = 0;
  g_assert_nonnull (dir);
  while ((d = readdir (dir)) != NULL) {
    int tid = atoi (d->d_name);
    gboolean skip = tid <= 0;
    gint64 ns;
    for (int i = 0; i < n_exclude && !skip; i++)
      skip = tid == exclude[i];
    if (skip || (ns = thread_cpu_ns (tid)) < 0)
      continue;
    sum += ns;
    (*n_seen)++;
  }
  closedir (dir);
  return sum;
}

typedef struct
{
  int tid;
  gint stop;
} Busy;

static gpointer
busy_main (gpointer data)
{
  Busy *busy = data;
  volatile guint64 x = 0;

  g_atomic_int_set (&busy->tid, gettid_ ());
  while (!g_atomic_int_get (&busy->stop))
    x++;
  return NULL;
}

static void
test_idle_workers_sleep (void)
{
  const gsize n = 1 << 18;      /* 1 MiB: well above HART_CPU_PARALLEL_MIN */
  GError *error = NULL;
  HartBackend *be = hart_backend_new ("cpu", 0, 2, &error);
  float *buf, *out;
  Busy busy = { 0, 0 };
  GThread *busy_thread;
  int exclude[2], n_threads;
  gint64 before, after, main_before, main_after, work;
  const int n_jobs = 40, pause_us = 5000;

  g_assert_no_error (error);
  buf = be->ops->alloc (be, n * sizeof (float), &error);
  out = be->ops->alloc (be, n * sizeof (float), &error);
  g_assert_no_error (error);
  busy_thread = g_thread_new ("busy", busy_main, &busy);
  while (g_atomic_int_get (&busy.tid) == 0)
    g_usleep (1000);

  /* start the workers */
  be->ops->fill (be, buf, 0.5f, n);
  exclude[0] = gettid_ ();
  exclude[1] = g_atomic_int_get (&busy.tid);

  /* the work itself, jobs back to back: the CPU of every thread but the
   * busy one (the calling thread and the workers) */
  before = others_cpu_ns (exclude + 1, 1, &n_threads);
  for (int j = 0; j < n_jobs; j++)
    be->ops->silu (be, out, buf, n);
  after = others_cpu_ns (exclude + 1, 1, &n_threads);
  work = after - before;

  /* jobs separated by pauses of the calling thread (the rest of a
   * pipeline, say): the workers should sleep through the pauses */
  before = others_cpu_ns (exclude, 2, &n_threads);
  main_before = thread_cpu_ns (exclude[0]);
  for (int j = 0; j < n_jobs; j++) {
    be->ops->silu (be, out, buf, n);
    g_usleep (pause_us);
  }
  after = others_cpu_ns (exclude, 2, &n_threads);
  main_after = thread_cpu_ns (exclude[0]);

  g_test_message ("%d other threads: %.1f ms of CPU over %d jobs and %.0f ms "
      "of pauses (the calling thread: %.1f ms; the jobs back to back: %.1f "
      "ms in all)", n_threads, (after - before) / 1e6, n_jobs,
      n_jobs * pause_us / 1e3, (main_after - main_before) / 1e6, work / 1e6);
  g_assert_cmpint (n_threads, >=, 1);
  /* the workers can do at most all of the work (a loaded machine may leave
   * the calling thread little of it), plus a few µs of polling after each
   * job; spinning through the pauses would cost up to 200 ms per worker.
   * CPU time, not wall time: a load slows both runs alike. */
  g_assert_cmpint (after - before, <, work * 3 / 2 + 20 *
      G_GINT64_CONSTANT (1000000));

  /* and a long pause: nothing at all */
  before = others_cpu_ns (exclude, 2, &n_threads);
  g_usleep (200000);
  after = others_cpu_ns (exclude, 2, &n_threads);
  g_test_message ("idle 200 ms: %.3f ms of CPU", (after - before) / 1e6);
  g_assert_cmpint (after - before, <, 3 * G_GINT64_CONSTANT (1000000));

  g_atomic_int_set (&busy.stop, 1);
  g_thread_join (busy_thread);
  be->ops->free (be, buf);
  be->ops->free (be, out);
  hart_backend_free (be);
}

/* HART_NUM_THREADS sets what 0 threads means. */
static void
test_default_threads (void)
{
  const char *saved = g_getenv ("HART_NUM_THREADS");
  char *copy = g_strdup (saved);
  HartBackend *be;

  g_setenv ("HART_NUM_THREADS", "3", TRUE);
  g_assert_cmpint (hart_cpu_default_threads (), ==, 3);
  be = hart_backend_new ("cpu", 0, 0, NULL);
  g_assert_cmpint (be->n_threads, ==, 3);
  g_assert_cmpint (hart_cpu_pool_get_n_threads (be->pool), ==, 3);
  hart_backend_free (be);
  g_setenv ("HART_NUM_THREADS", "zero", TRUE);
  g_assert_cmpint (hart_cpu_default_threads (), >=, 1);
  g_unsetenv ("HART_NUM_THREADS");
  g_assert_cmpint (hart_cpu_default_threads (), >=, 1);
  if (copy)
    g_setenv ("HART_NUM_THREADS", copy, TRUE);
  g_free (copy);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cpu-pool/every-item-once", test_every_item_once);
  g_test_add_func ("/cpu-pool/zero-items", test_zero_items);
  g_test_add_func ("/cpu-pool/nested", test_nested);
  g_test_add_func ("/cpu-pool/concurrent-callers", test_concurrent_callers);
  g_test_add_func ("/cpu-pool/default-threads", test_default_threads);
  g_test_add_func ("/cpu-pool/idle-workers-sleep", test_idle_workers_sleep);
  return g_test_run ();
}
