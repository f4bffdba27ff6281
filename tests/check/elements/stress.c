/* gst-hart — stress tests of the elements
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Long runs on the tiny fixture model (128×128, about 0.1 s a frame on one
 * CPU core): random state changes, pipelines in parallel threads sharing
 * one cached model, property changes while playing, and a long run whose
 * resident memory must not grow per frame.  Each test prints its counts and
 * its duration into the test log (docs/robustness.md, "Stress").
 *
 * HART_STRESS_FRAMES sets the length of the long run (default 500),
 * HART_STRESS_STATE_CHANGES the number of random state changes (default
 * 500): smaller values for a quick run on a busy machine.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "hart-check.h"

#include <sys/resource.h>

#define PROMPT_A "a red apple on a wooden table"
#define PROMPT_B "a lighthouse in a storm at night"
#define PROMPT_C "a bowl of soup, top view"

/* How long one state change, or the next bus message of a running
 * pipeline, may take on a loaded 2-core CI machine before the test calls it
 * a hang: one frame takes about 0.1 s. */
#define STEP_TIMEOUT (60 * GST_SECOND)

/* ---- helpers ---- */

/* VmRSS of this process in KiB, from /proc/self/status (0: unreadable). */
static guint64
resident_kib (void)
{
  gchar *status = NULL;
  const gchar *line;
  guint64 kib = 0;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");
  if (line != NULL)
    kib = g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
  g_free (status);
  return kib;
}

/* Frames reaching a sink pad: counted, optionally kept (a ref each), and
 * the resident size noted when the count reaches rss_at_frame. */
typedef struct
{
  gint n_frames;                /* atomic: probes run in streaming threads */
  GPtrArray *kept;              /* GstBuffer*, or NULL: not kept */
  gint rss_at_frame;            /* 0: none */
  guint64 rss_kib;
} FrameCounter;

static GstPadProbeReturn
count_frame (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  FrameCounter *counter = user_data;
  const gint n = g_atomic_int_add (&counter->n_frames, 1) + 1;

  if (counter->kept != NULL)
    g_ptr_array_add (counter->kept,
        gst_buffer_ref (GST_PAD_PROBE_INFO_BUFFER (info)));
  if (n == counter->rss_at_frame)
    counter->rss_kib = resident_kib ();
  return GST_PAD_PROBE_OK;
}

static void
watch_frames (GstElement * sink, FrameCounter * counter)
{
  GstPad *pad = gst_element_get_static_pad (sink, "sink");

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_frame, counter,
      NULL);
  gst_object_unref (pad);
}

/* PIPELINE_LINE parsed (fails the test on a parse error); the element
 * named "sink" is returned in SINK (a new reference). */
static GstElement *
parse_pipeline (const gchar * pipeline_line, GstElement ** sink)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (pipeline_line, &error);

  fail_unless (pipeline != NULL && error == NULL, "%s: %s", pipeline_line,
      error ? error->message : "?");
  *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_unless (*sink != NULL);
  return pipeline;
}

/* Pops the messages of BUS until EOS, an error or TIMEOUT without any
 * message (the progress messages alone would fill the bus of a long run).
 * Returns NULL at EOS, or an error text to free. */
static gchar *
run_until_eos (GstBus * bus, GstClockTime timeout)
{
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, timeout);
    gchar *problem = NULL;

    if (msg == NULL)
      return g_strdup ("no message (EOS) within the step timeout: a hang");
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        gst_message_unref (msg);
        return NULL;
      case GST_MESSAGE_ERROR:
      case GST_MESSAGE_WARNING:{
        GError *error = NULL;
        gchar *debug = NULL;

        if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
          gst_message_parse_error (msg, &error, &debug);
        else
          gst_message_parse_warning (msg, &error, &debug);
        problem = g_strdup_printf ("%s from %s: %s (%s)",
            GST_MESSAGE_TYPE_NAME (msg), GST_MESSAGE_SRC_NAME (msg),
            error->message, GST_STR_NULL (debug));
        g_clear_error (&error);
        g_free (debug);
        break;
      }
      default:
        break;
    }
    gst_message_unref (msg);
    if (problem != NULL)
      return problem;
  }
}

static gdouble
seconds_since (gint64 start_us)
{
  return (g_get_monotonic_time () - start_us) / (gdouble) G_USEC_PER_SEC;
}

/* CPU seconds (user + system, all threads) of this process: each test runs
 * in a forked process of its own, so this is the test's, and unlike the
 * wall time it does not depend on how loaded the machine is. */
static gdouble
cpu_seconds (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return 0.0;
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec
      + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/* ---- 1. random state changes ---- */

static const GstState states[] = {
  GST_STATE_NULL, GST_STATE_READY, GST_STATE_PAUSED, GST_STATE_PLAYING
};

/* N_CHANGES state changes of PIPELINE to states drawn by RAND, each waited
 * for; in PAUSED or PLAYING a random pause of 0 … 120 ms before the next
 * change lets it land at any point of a frame's generation.  No error or
 * warning may reach the bus.  Returns how many changes left PAUSED or
 * PLAYING while a frame was being generated (the last progress message
 * seen was not the final one). */
static guint
random_state_changes (GstElement * pipeline, GRand * rand, guint n_changes)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  guint current_index = 0;      /* states[0]: NULL */
  GstState current = GST_STATE_NULL;
  gboolean generating = FALSE;
  guint n_interrupted = 0;

  for (guint i = 0; i < n_changes; i++) {
    /* one of the three other states: every step is a real change */
    const guint target_index = (current_index + g_rand_int_range (rand, 1,
            G_N_ELEMENTS (states))) % G_N_ELEMENTS (states);
    const GstState target = states[target_index];
    GstStateChangeReturn ret;
    GstMessage *msg;
    GstState reached = GST_STATE_VOID_PENDING;

    /* the bus since the last change: no problem; is a frame in flight? */
    while ((msg = gst_bus_pop (bus)) != NULL) {
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR
          || GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
        GError *error = NULL;

        if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
          gst_message_parse_error (msg, &error, NULL);
        else
          gst_message_parse_warning (msg, &error, NULL);
        fail ("change %u (%s): %s from %s: %s", i,
            gst_element_state_get_name (current), GST_MESSAGE_TYPE_NAME (msg),
            GST_MESSAGE_SRC_NAME (msg), error->message);
      }
      if (gst_message_has_name (msg, "hart-progress")) {
        const GstStructure *s = gst_message_get_structure (msg);
        gint stage = 0, n_stages = 0;

        gst_structure_get_int (s, "stage", &stage);
        gst_structure_get_int (s, "n-stages", &n_stages);
        generating = stage < n_stages;
      }
      gst_message_unref (msg);
    }
    if (generating && current >= GST_STATE_PAUSED && target < current)
      n_interrupted++;

    ret = gst_element_set_state (pipeline, target);
    fail_if (ret == GST_STATE_CHANGE_FAILURE, "change %u: %s → %s failed", i,
        gst_element_state_get_name (current),
        gst_element_state_get_name (target));
    ret = gst_element_get_state (pipeline, &reached, NULL, STEP_TIMEOUT);
    fail_unless (ret == GST_STATE_CHANGE_SUCCESS, "change %u: %s → %s: %s", i,
        gst_element_state_get_name (current),
        gst_element_state_get_name (target),
        gst_element_state_change_return_get_name (ret));
    fail_unless_equals_int (reached, target);
    current = target;
    current_index = target_index;
    if (current == GST_STATE_NULL || current == GST_STATE_READY)
      generating = FALSE;
    if (current >= GST_STATE_PAUSED)
      g_usleep (g_rand_int_range (rand, 0, 120) * 1000);
  }
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  return n_interrupted;
}

GST_START_TEST (test_random_state_changes)
{
  const gchar *changes_env = g_getenv ("HART_STRESS_STATE_CHANGES");
  const guint n_changes = changes_env ? (guint) g_ascii_strtoull (changes_env,
      NULL, 10) : 500;
  /* 3/5 on hartsrc alone, 2/5 on the split pipeline */
  const guint n_raw = n_changes * 3 / 5, n_split = n_changes - n_raw;
  GRand *rand = g_rand_new_with_seed (20260801);
  gint64 start = g_get_monotonic_time ();
  gchar *raw_line = g_strdup_printf ("hartsrc model-path=\"%s\" "
      "seed-mode=increment ! fakesink name=sink", model_dir);
  /* the split pipeline: token frames through a queue into hartrefine */
  gchar *split_line = g_strdup_printf ("hartsrc model-path=\"%s\" "
      "seed-mode=increment ! video/x-hart-tokens ! queue max-size-buffers=2 "
      "! hartrefine model-path=\"%s\" ! fakesink name=sink", model_dir,
      model_dir);
  FrameCounter raw_frames = { 0 }, split_frames = { 0 };
  GstElement *pipeline, *sink;
  guint raw_interrupted, split_interrupted;

  pipeline = parse_pipeline (raw_line, &sink);
  watch_frames (sink, &raw_frames);
  raw_interrupted = random_state_changes (pipeline, rand, n_raw);
  gst_object_unref (sink);
  gst_object_unref (pipeline);

  pipeline = parse_pipeline (split_line, &sink);
  watch_frames (sink, &split_frames);
  split_interrupted = random_state_changes (pipeline, rand, n_split);
  gst_object_unref (sink);
  gst_object_unref (pipeline);

  g_print ("stress: %u random state changes (hartsrc ! fakesink: %u, %d "
      "frames, %u changes during a generation; hartsrc ! hartrefine: %u, %d "
      "frames, %u during a generation) in %.1f s, %.1f s CPU\n",
      n_raw + n_split, n_raw, raw_frames.n_frames, raw_interrupted, n_split,
      split_frames.n_frames, split_interrupted, seconds_since (start),
      cpu_seconds ());
  /* the random walk must really have run the pipelines (a long one
   * surely reaches PAUSED) */
  if (n_changes >= 50)
    fail_unless (raw_frames.n_frames > 0 && split_frames.n_frames > 0);
  g_rand_free (rand);
  g_free (raw_line);
  g_free (split_line);
}

GST_END_TEST;

/* ---- 2. pipelines in parallel threads on one cached model ---- */

#define N_THREADS 4
#define THREAD_FRAMES 3

typedef struct
{
  const gchar *prompt;
  guint64 seed;
  GstElement *pipeline;
  FrameCounter frames;
  gchar *problem;               /* NULL: EOS reached */
} ThreadRun;

/* Shared by the threads and the test: all prerolled, then all go. */
static GMutex gate_lock;
static GCond gate_cond;
static gint n_prerolled;
static gboolean gate_open;

static gpointer
run_pipeline_thread (gpointer user_data)
{
  ThreadRun *run = user_data;
  GstBus *bus = gst_element_get_bus (run->pipeline);
  GstStateChangeReturn ret;

  /* READY → PAUSED acquires the model from the cache and prerolls */
  gst_element_set_state (run->pipeline, GST_STATE_PAUSED);
  ret = gst_element_get_state (run->pipeline, NULL, NULL, STEP_TIMEOUT);
  g_mutex_lock (&gate_lock);
  n_prerolled++;
  g_cond_broadcast (&gate_cond);
  while (!gate_open)
    g_cond_wait (&gate_cond, &gate_lock);
  g_mutex_unlock (&gate_lock);

  if (ret != GST_STATE_CHANGE_SUCCESS) {
    run->problem = g_strdup_printf ("preroll: %s",
        gst_element_state_change_return_get_name (ret));
  } else {
    gst_element_set_state (run->pipeline, GST_STATE_PLAYING);
    run->problem = run_until_eos (bus, STEP_TIMEOUT);
  }
  gst_element_set_state (run->pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  return NULL;
}

/* Four pipelines, two prompt/seed pairs, each pair twice, generate at once
 * on the one model of the cache: each gets all its frames, the two
 * pipelines of a pair the same bytes, and those are the bytes of the same
 * pipeline run alone (determinism under concurrency). */
GST_START_TEST (test_parallel_pipelines)
{
  CacheCountFunc cache_count = lookup_cache_count ();
  ThreadRun runs[N_THREADS] = {
    {PROMPT_A, 11}, {PROMPT_B, 12}, {PROMPT_A, 11}, {PROMPT_B, 12}
  };
  GThread *threads[N_THREADS];
  ThreadRun alone = { PROMPT_A, 11 };
  gint64 start = g_get_monotonic_time ();
  guint n_models, n_model_users, n_encoders, n_encoder_users;
  gdouble parallel_s;

  n_prerolled = 0;
  gate_open = FALSE;
  for (guint t = 0; t < N_THREADS + 1; t++) {
    ThreadRun *run = t < N_THREADS ? &runs[t] : &alone;
    gchar *line = g_strdup_printf ("hartsrc name=src model-path=\"%s\" "
        "num-buffers=%d seed-mode=increment ! fakesink name=sink", model_dir,
        THREAD_FRAMES);
    GstElement *sink, *src;

    run->pipeline = parse_pipeline (line, &sink);
    g_free (line);
    src = gst_bin_get_by_name (GST_BIN (run->pipeline), "src");
    g_object_set (src, "prompt", run->prompt, "seed", run->seed, NULL);
    gst_object_unref (src);
    run->frames.kept = g_ptr_array_new_with_free_func ((GDestroyNotify)
        gst_buffer_unref);
    watch_frames (sink, &run->frames);
    gst_object_unref (sink);
  }

  for (guint t = 0; t < N_THREADS; t++)
    threads[t] = g_thread_new ("stress-pipeline", run_pipeline_thread,
        &runs[t]);

  /* every pipeline has started on the model: one in the cache, shared by
   * the four and the test's keeper */
  g_mutex_lock (&gate_lock);
  while (n_prerolled < N_THREADS)
    g_cond_wait (&gate_cond, &gate_lock);
  n_models = cache_count ("model", &n_model_users);
  n_encoders = cache_count ("text-encoder", &n_encoder_users);
  gate_open = TRUE;
  g_cond_broadcast (&gate_cond);
  g_mutex_unlock (&gate_lock);
  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);
  parallel_s = seconds_since (start);

  fail_unless_equals_int (n_models, 1);
  fail_unless_equals_int (n_model_users, N_THREADS + 1);
  /* the text encoder too: the keeper's entry, not one the pipelines load
   * for themselves on every start (a tokenizer folder named differently) */
  fail_unless_equals_int (n_encoders, 1);
  fail_unless_equals_int (n_encoder_users, N_THREADS + 1);
  for (guint t = 0; t < N_THREADS; t++) {
    fail_unless (runs[t].problem == NULL, "pipeline %u: %s", t,
        runs[t].problem);
    fail_unless_equals_int (runs[t].frames.n_frames, THREAD_FRAMES);
  }

  /* the reference: the first pair's pipeline alone */
  run_pipeline_thread (&alone);
  fail_unless (alone.problem == NULL, "alone: %s", alone.problem);
  fail_unless_equals_int (alone.frames.n_frames, THREAD_FRAMES);

  /* and frame 0 is that of a harness on one hartsrc */
  {
    GstBuffer *harness_frame = first_frame ("prompt", PROMPT_A, "seed",
        (guint64) 11, NULL);

    fail_unless (buffers_equal (harness_frame,
            g_ptr_array_index (runs[2].frames.kept, 0)));
    gst_buffer_unref (harness_frame);
  }

  for (guint i = 0; i < THREAD_FRAMES; i++) {
    GstBuffer *a0 = g_ptr_array_index (runs[0].frames.kept, i);
    GstBuffer *b1 = g_ptr_array_index (runs[1].frames.kept, i);
    GstBuffer *a2 = g_ptr_array_index (runs[2].frames.kept, i);
    GstBuffer *b3 = g_ptr_array_index (runs[3].frames.kept, i);
    GstBuffer *reference = g_ptr_array_index (alone.frames.kept, i);

    fail_unless (buffers_equal (a0, a2), "frame %u: pair A differs", i);
    fail_unless (buffers_equal (b1, b3), "frame %u: pair B differs", i);
    fail_unless (buffers_equal (a0, reference),
        "frame %u: A in parallel differs from A alone", i);
    fail_if (buffers_equal (a0, b1), "frame %u: A and B alike", i);
    if (i > 0)
      fail_if (buffers_equal (a0, g_ptr_array_index (runs[0].frames.kept,
                  i - 1)), "frame %u: seed-mode increment repeats", i);
  }

  g_print ("stress: %d pipelines in %d threads, %d frames each, one cached "
      "model (%u users): %.1f s, then %.1f s in all, %.1f s CPU; identical "
      "across threads\n", N_THREADS, N_THREADS, THREAD_FRAMES, n_model_users,
      parallel_s, seconds_since (start), cpu_seconds ());
  for (guint t = 0; t < N_THREADS + 1; t++) {
    ThreadRun *run = t < N_THREADS ? &runs[t] : &alone;

    g_ptr_array_unref (run->frames.kept);
    gst_object_unref (run->pipeline);
  }
}

GST_END_TEST;

/* ---- 3. property storm ---- */

static gint storm_running;

/* Sets the properties that are mutable while playing, every 1 … 5 ms, in a
 * random order and with random values, until storm_running drops. */
static gpointer
property_storm (gpointer user_data)
{
  GstElement *src = user_data;
  const gchar *prompts[] = { PROMPT_A, PROMPT_B, PROMPT_C, "" };
  const gint top_ks[] = { 0, 1, 5, 50, 100000 };
  GRand *rand = g_rand_new_with_seed (4242);
  guint n_sets = 0;

  while (g_atomic_int_get (&storm_running)) {
    switch (g_rand_int_range (rand, 0, 9)) {
      case 0:
        g_object_set (src, "prompt", prompts[g_rand_int_range (rand, 0,
                    G_N_ELEMENTS (prompts))], NULL);
        break;
      case 1:
        g_object_set (src, "seed", (guint64) g_rand_int (rand) << 20, NULL);
        break;
      case 2:
        g_object_set (src, "cfg-scale", g_rand_double_range (rand, 0.0, 12.0),
            NULL);
        break;
      case 3:
        g_object_set (src, "top-k", top_ks[g_rand_int_range (rand, 0,
                    G_N_ELEMENTS (top_ks))], NULL);
        break;
      case 4:
        g_object_set (src, "smooth", g_rand_boolean (rand), NULL);
        break;
      case 5:
        g_object_set (src, "transition-frames", g_rand_int_range (rand, 0, 4),
            NULL);
        break;
      case 6:
        g_object_set (src, "top-p", g_rand_double_range (rand, 0.0, 1.0), NULL);
        break;
      case 7:
        g_object_set (src, "keep-scales", g_rand_int_range (rand, 0, 12), NULL);
        break;
      default:
        gst_util_set_object_arg (G_OBJECT (src), "seed-mode",
            g_rand_boolean (rand) ? "fixed" : "increment");
        break;
    }
    n_sets++;
    g_usleep (g_rand_int_range (rand, 1000, 5000));
  }
  g_rand_free (rand);
  return GUINT_TO_POINTER (n_sets);
}

GST_START_TEST (test_property_storm)
{
  const gint n_frames = 20;
  gchar *line = g_strdup_printf ("hartsrc name=src model-path=\"%s\" "
      "num-buffers=%d ! fakesink name=sink", model_dir, n_frames);
  FrameCounter frames = { 0 };
  GstElement *pipeline, *sink, *src;
  GstBus *bus;
  GThread *storm;
  gchar *problem;
  guint n_sets;
  gint64 start = g_get_monotonic_time ();

  pipeline = parse_pipeline (line, &sink);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  bus = gst_element_get_bus (pipeline);
  watch_frames (sink, &frames);

  g_atomic_int_set (&storm_running, TRUE);
  storm = g_thread_new ("property-storm", property_storm, src);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  problem = run_until_eos (bus, STEP_TIMEOUT);
  g_atomic_int_set (&storm_running, FALSE);
  n_sets = GPOINTER_TO_UINT (g_thread_join (storm));

  fail_unless (problem == NULL, "%s", problem);
  fail_unless_equals_int (frames.n_frames, n_frames);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_print ("stress: property storm, %u property changes during %d frames: "
      "%.1f s, %.1f s CPU\n", n_sets, n_frames, seconds_since (start),
      cpu_seconds ());
  fail_unless (n_sets > (guint) n_frames);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (line);
}

GST_END_TEST;

/* ---- 4. a long run: memory must not grow per frame ---- */

/* The resident size may grow from the warm-up frame to the end by
 * allocator slack and the debug log (measured: +64 to +128 KiB), never by
 * half a 128×128 RGB frame (48 KiB) per frame: a leak of one frame a frame
 * over 450 frames would be 21 MiB, twice the limit.  At most 16 MiB. */
#define FRAME_KIB (128 * 128 * 3 / 1024)

static guint64
rss_growth_limit_kib (gint n_measured_frames)
{
  return MIN ((guint64) 16 * 1024, (guint64) n_measured_frames * FRAME_KIB / 2);
}

GST_START_TEST (test_long_run_memory)
{
  const gchar *frames_env = g_getenv ("HART_STRESS_FRAMES");
  const gint n_frames = frames_env ? (gint) g_ascii_strtoll (frames_env,
      NULL, 10) : 500;
  const gint warm_up = MIN (50, n_frames / 4);
  gchar *line;
  FrameCounter frames = { 0 };
  GstElement *pipeline, *sink;
  GstBus *bus;
  gchar *problem;
  guint64 rss_end;
  gint64 start = g_get_monotonic_time ();
  gdouble seconds;

  fail_unless (n_frames >= 4, "HART_STRESS_FRAMES=%s", frames_env);
  /* raw frames, so that every frame runs the whole model (transformer,
   * residual diffusion, decoder) and allocates a video buffer */
  line = g_strdup_printf ("hartsrc model-path=\"%s\" num-buffers=%d "
      "seed-mode=increment ! video/x-raw,format=RGB ! "
      "fakesink name=sink sync=false", model_dir, n_frames);
  pipeline = parse_pipeline (line, &sink);
  bus = gst_element_get_bus (pipeline);
  frames.rss_at_frame = warm_up;
  watch_frames (sink, &frames);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  problem = run_until_eos (bus, STEP_TIMEOUT);
  fail_unless (problem == NULL, "after %d frames: %s", frames.n_frames,
      problem);
  rss_end = resident_kib ();
  seconds = seconds_since (start);
  fail_unless_equals_int (frames.n_frames, n_frames);
  fail_unless (frames.rss_kib > 0 && rss_end > 0, "no VmRSS");

  g_print ("stress: %d frames in %.1f s (%.0f ms a frame), %.1f s CPU; "
      "VmRSS %" G_GUINT64_FORMAT " KiB at frame %d, %" G_GUINT64_FORMAT
      " KiB at the end (%+" G_GINT64_FORMAT " KiB)\n", n_frames, seconds,
      1000.0 * seconds / n_frames, cpu_seconds (), frames.rss_kib, warm_up,
      rss_end, (gint64) rss_end - (gint64) frames.rss_kib);
  fail_unless (rss_end <= frames.rss_kib + rss_growth_limit_kib (n_frames
          - warm_up),
      "resident memory grew from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
      " KiB over %d frames", frames.rss_kib, rss_end, n_frames - warm_up);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (line);
}

GST_END_TEST;

static Suite *
stress_suite (void)
{
  Suite *s = suite_create ("stress");
  TCase *tc = tcase_create ("stress");

  hart_check_setup_fixtures ();
  suite_add_tcase (s, tc);
  /* the keeper holds the model and text encoder in the cache: a state
   * change to PAUSED then costs a frame, not a load */
  tcase_add_checked_fixture (tc, hart_check_keep_loaded,
      hart_check_release_loaded);
  /* about 3 minutes in all on 2 idle cores, the long run more than half */
  tcase_set_timeout (tc, 900);
  tcase_add_test (tc, test_random_state_changes);
  tcase_add_test (tc, test_parallel_pipelines);
  tcase_add_test (tc, test_property_storm);
  tcase_add_test (tc, test_long_run_memory);
  return s;
}

GST_CHECK_MAIN (stress);
