/* gst-hart — the engine's own thread pool (see cpu-pool.h)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Synchronisation.  `lock` guards job, generation, n_joined, quit and the
 * worker table; `active` (workers inside the current job) is changed under
 * the lock too, and also read without it by a caller polling for the end
 * of its job.  GLib's atomics are sequentially consistent, and a worker
 * decrements `active` after its last write to the job's output, so a caller
 * that reads 0 (atomically, or under the lock) sees every chunk's results.
 * A worker touches a job (which lives on its caller's stack) only between
 * joining it (under the lock, while the job is open) and that decrement;
 * the caller closes the job (job = NULL, under the lock) before it waits
 * for `active` to reach 0, so a worker that wakes up late never sees it.
 */
#include "cpu-pool.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

struct _HartCpuJob
{
  HartCpuWorkerFunc fn;
  gpointer data;
  gsize n_items;
  gsize grain;
  atomic_size_t next;           /* first item not yet claimed */
  int max_helpers;              /* workers that may join */
};

typedef struct
{
  HartCpuPool *pool;
  GThread *thread;
  int tid;                      /* atomic: kernel thread id, for tests */
} Worker;

struct _HartCpuPool
{
  int n_threads;
  int busy;                     /* atomic: a caller owns the workers */

  GMutex lock;
  GCond wake;                   /* workers: a job, or quit */
  GCond done;                   /* caller: active reached 0 */
  HartCpuJob *job;              /* the open job, NULL when none */
  int generation;               /* atomic reads allowed: bumped per job */
  int n_joined;                 /* workers that joined the current job */
  int active;                   /* atomic reads allowed: inside a job */
  gboolean quit;
  Worker *workers;              /* n_threads - 1, or NULL until started */
  int n_workers;                /* started */
};

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#elif defined(__aarch64__)
  __asm__ __volatile__ ("yield");
#endif
}

/* Polls *value for at most HART_CPU_POOL_SPIN_US: TRUE as soon as it
 * equals `wanted` (until_equal) or differs from it (!until_equal). */
static gboolean
spin_for (const int *value, int wanted, gboolean until_equal)
{
  gint64 deadline = 0;

  for (guint i = 0;; i++) {
    if ((g_atomic_int_get (value) == wanted) == until_equal)
      return TRUE;
    cpu_relax ();
    if ((i & 63) == 63) {
      gint64 now = g_get_monotonic_time ();
      if (deadline == 0)
        deadline = now + HART_CPU_POOL_SPIN_US;
      else if (now >= deadline)
        return FALSE;
    }
  }
}

gboolean
hart_cpu_job_next (HartCpuJob * job, gsize * begin, gsize * end)
{
  gsize b;

  /* stop adding once past the end, so `next` cannot wrap around */
  if (atomic_load_explicit (&job->next, memory_order_relaxed) >= job->n_items)
    return FALSE;
  b = atomic_fetch_add_explicit (&job->next, job->grain, memory_order_relaxed);
  if (b >= job->n_items)
    return FALSE;
  *begin = b;
  *end = job->n_items - b > job->grain ? b + job->grain : job->n_items;
  return TRUE;
}

static gpointer
worker_main (gpointer user_data)
{
  Worker *self = user_data;
  HartCpuPool *pool = self->pool;
  int seen;

  g_atomic_int_set (&self->tid, (int) syscall (SYS_gettid));
  g_mutex_lock (&pool->lock);
  seen = pool->generation;
  for (;;) {
    HartCpuJob *job;

    if (!pool->quit && pool->generation == seen) {
      /* after a job, poll a few microseconds for the next one, then sleep */
      g_mutex_unlock (&pool->lock);
      spin_for (&pool->generation, seen, FALSE);
      g_mutex_lock (&pool->lock);
      while (!pool->quit && pool->generation == seen)
        g_cond_wait (&pool->wake, &pool->lock);
    }
    if (pool->quit)
      break;
    seen = pool->generation;
    job = pool->job;
    if (job == NULL || pool->n_joined >= job->max_helpers)
      continue;                 /* closed already, or enough helpers */
    pool->n_joined++;
    g_atomic_int_inc (&pool->active);
    g_mutex_unlock (&pool->lock);

    job->fn (job, job->data);

    g_mutex_lock (&pool->lock);
    if (g_atomic_int_dec_and_test (&pool->active))
      g_cond_signal (&pool->done);
  }
  g_mutex_unlock (&pool->lock);
  return NULL;
}

int
hart_cpu_default_threads (void)
{
  const char *env = g_getenv ("HART_NUM_THREADS");
  int n = 0;

  if (env != NULL && *env != '\0') {
    char *end = NULL;
    gint64 v = g_ascii_strtoll (env, &end, 10);
    if (end != NULL && *end == '\0' && v > 0 && v <= 1024)
      return (int) v;
  }
  {
    cpu_set_t set;
    CPU_ZERO (&set);
    if (sched_getaffinity (0, sizeof set, &set) == 0)
      n = CPU_COUNT (&set);
  }
  if (n < 1)
    n = (int) g_get_num_processors ();
  return MAX (n, 1);
}

HartCpuPool *
hart_cpu_pool_new (int n_threads)
{
  HartCpuPool *pool = g_new0 (HartCpuPool, 1);

  pool->n_threads = MAX (n_threads, 1);
  g_mutex_init (&pool->lock);
  g_cond_init (&pool->wake);
  g_cond_init (&pool->done);
  return pool;
}

int
hart_cpu_pool_get_n_threads (const HartCpuPool * pool)
{
  return pool->n_threads;
}

/* Called by the owner of `busy`, so by one thread at a time. */
static void
start_workers (HartCpuPool * pool)
{
  const int want = pool->n_threads - 1;

  pool->workers = g_new0 (Worker, want);
  for (int i = 0; i < want; i++) {
    Worker *w = &pool->workers[i];
    char name[16];

    w->pool = pool;
    g_snprintf (name, sizeof name, "hart-cpu-%d", i + 1);
    w->thread = g_thread_try_new (name, worker_main, w, NULL);
    if (w->thread == NULL)
      break;                    /* fewer helpers; jobs still complete */
    g_mutex_lock (&pool->lock);
    pool->n_workers = i + 1;
    g_mutex_unlock (&pool->lock);
  }
}

void
hart_cpu_pool_free (HartCpuPool * pool)
{
  if (pool == NULL)
    return;
  g_mutex_lock (&pool->lock);
  pool->quit = TRUE;
  g_cond_broadcast (&pool->wake);
  g_mutex_unlock (&pool->lock);
  for (int i = 0; i < pool->n_workers; i++)
    g_thread_join (pool->workers[i].thread);
  g_free (pool->workers);
  g_cond_clear (&pool->done);
  g_cond_clear (&pool->wake);
  g_mutex_clear (&pool->lock);
  g_free (pool);
}

void
hart_cpu_pool_run (HartCpuPool * pool, gsize n_items, gsize grain,
    HartCpuWorkerFunc fn, gpointer data)
{
  HartCpuJob job;
  gsize n_chunks;

  if (n_items == 0)
    return;
  if (grain == 0)
    grain = 1;
  job.fn = fn;
  job.data = data;
  job.n_items = n_items;
  job.grain = grain;
  atomic_init (&job.next, 0);
  n_chunks = (n_items - 1) / grain + 1;
  job.max_helpers = (int) MIN (n_chunks - 1, (gsize) pool->n_threads - 1);

  /* one chunk, one thread, or the workers busy with another job (another
   * caller's, or the job this call is nested in): the caller alone */
  if (job.max_helpers <= 0
      || !g_atomic_int_compare_and_exchange (&pool->busy, 0, 1)) {
    fn (&job, data);
    return;
  }
  if (pool->workers == NULL)
    start_workers (pool);

  g_mutex_lock (&pool->lock);
  if (pool->n_workers > 0) {
    pool->job = &job;
    pool->n_joined = 0;
    g_atomic_int_inc (&pool->generation);
    if (job.max_helpers >= pool->n_workers)
      g_cond_broadcast (&pool->wake);
    else
      for (int i = 0; i < job.max_helpers; i++)
        g_cond_signal (&pool->wake);
  }
  g_mutex_unlock (&pool->lock);

  fn (&job, data);

  /* close the job: a worker that wakes up from now on does not join it */
  g_mutex_lock (&pool->lock);
  pool->job = NULL;
  if (g_atomic_int_get (&pool->active) > 0) {
    g_mutex_unlock (&pool->lock);
    spin_for (&pool->active, 0, TRUE);
    g_mutex_lock (&pool->lock);
    while (g_atomic_int_get (&pool->active) > 0)
      g_cond_wait (&pool->done, &pool->lock);
  }
  g_mutex_unlock (&pool->lock);
  g_atomic_int_set (&pool->busy, 0);
}

typedef struct
{
  HartCpuRangeFunc fn;
  gpointer data;
} RangeJob;

static void
range_worker (HartCpuJob * job, gpointer data)
{
  RangeJob *r = data;
  gsize begin, end;

  while (hart_cpu_job_next (job, &begin, &end))
    r->fn (begin, end, r->data);
}

void
hart_cpu_pool_parallel_for (HartCpuPool * pool, gsize n_items, gsize grain,
    HartCpuRangeFunc fn, gpointer data)
{
  RangeJob r = { fn, data };

  if (n_items == 0)
    return;
  if (grain == 0 || grain >= n_items) {
    fn (0, n_items, data);      /* one chunk: no job at all */
    return;
  }
  hart_cpu_pool_run (pool, n_items, grain, range_worker, &r);
}

int
hart_cpu_pool_get_worker_tids (HartCpuPool * pool, int *tids, int max)
{
  int n = 0;

  g_mutex_lock (&pool->lock);
  for (int i = 0; i < pool->n_workers && n < max; i++)
    tids[n++] = g_atomic_int_get (&pool->workers[i].tid);
  g_mutex_unlock (&pool->lock);
  return n;
}
