/* gst-hart — the generator: per-caller state and the video rules
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each frame of a HartGenerator is checked byte for byte against the
 * one-shot calls (hart_model_generate, hart_model_generate_tokens) given
 * what docs/video.md says the frame is made of: the context (the prompt's,
 * or a blend during a transition) and the token maps it keeps.  The
 * one-shot calls are themselves held to the official code by
 * test-generate.c's goldens.
 */
#include "hart/hart.h"
#include "hart/generator.h"
#include "hart/tokens.h"
#include "tests/hart-test-bf16.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#define KEEP 4
/* set in a test's data: the fixture's engine runs in bf16 */
#define IN_BF16 0x100
/* set in a test's data: the batches' logits in chunks of 7 positions */
#define CHUNKED_LOGITS 0x200

typedef struct
{
  HartEngine *engine;
  HartModel *model;
  HartContext *a, *b;           /* two prompts' contexts */
} Fixture;

static void
fixture_set_up (Fixture * f, gconstpointer data)
{
  const char *root = g_getenv ("HART_FIXTURES");
  char *dir = g_build_filename (root ? root : "tests/fixtures", "tiny",
      "hart-0.7b-1024px", NULL);
  char *ctx_file = g_build_filename (root ? root : "tests/fixtures",
      "goldens", "tiny-context.safetensors", NULL);
  GError *error = NULL;
  gsize n;

  if (GPOINTER_TO_INT (data) & IN_BF16) {
    f->engine = hart_engine_new_with_precision ("cpu", 0, 0,
        HART_PRECISION_BF16, &error);
    if (!hart_test_bf16_go_on (f->engine == NULL,
            error ? error->message : NULL)) {
      /* refused where this machine expects it: the test is skipped */
      g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
      g_clear_error (&error);
      f->engine = hart_engine_new ("cpu", 0, &error);
    }
  } else
    f->engine = hart_engine_new ("cpu", 0, &error);
  g_assert_no_error (error);
  f->model = hart_model_load (f->engine, dir, TRUE, &error);
  g_assert_no_error (error);
  f->a = hart_context_load (ctx_file, &error);
  g_assert_no_error (error);
  /* another prompt: same mask and positions, other embedding */
  f->b = hart_context_load (ctx_file, &error);
  g_assert_no_error (error);
  n = (gsize) f->b->batch * f->b->tokens * f->b->dim;
  for (gsize i = 0; i < n; i++)
    f->b->data[i] = -f->b->data[i] + 0.25f;
  g_free (dir);
  g_free (ctx_file);
}

static void
fixture_tear_down (Fixture * f, gconstpointer data)
{
  hart_context_free (f->a);
  hart_context_free (f->b);
  hart_model_unref (f->model);
  hart_engine_unref (f->engine);
}

static void
params_for_frame (HartGenerateParams * p, guint32 frame, int keep)
{
  hart_generate_params_init (p);
  p->seed = 7;
  p->frame = frame;
  p->keep_scales = keep;
}

static void
assert_tokens_equal (const HartTokens * a, const HartTokens * b)
{
  gsize na = hart_tokens_serialized_size (a);
  gsize nb = hart_tokens_serialized_size (b);
  guint8 *sa = g_malloc (na), *sb = g_malloc (nb);

  hart_tokens_serialize (a, sa);
  hart_tokens_serialize (b, sb);
  g_assert_cmpmem (sa, na, sb, nb);
  g_free (sa);
  g_free (sb);
}

static gboolean
tokens_equal (const HartTokens * a, const HartTokens * b)
{
  gsize na = hart_tokens_serialized_size (a);
  gsize nb = hart_tokens_serialized_size (b);
  guint8 *sa = g_malloc (na), *sb = g_malloc (nb);
  gboolean same;

  hart_tokens_serialize (a, sa);
  hart_tokens_serialize (b, sb);
  same = na == nb && memcmp (sa, sb, na) == 0;
  g_free (sa);
  g_free (sb);
  return same;
}

static void
assert_images_equal (HartImage ** a, HartImage ** b)
{
  int i;

  for (i = 0; a[i] && b[i]; i++) {
    g_assert_cmpint (a[i]->width, ==, b[i]->width);
    g_assert_cmpint (a[i]->height, ==, b[i]->height);
    g_assert_cmpmem (a[i]->rgb, (gsize) a[i]->stride * a[i]->height,
        b[i]->rgb, (gsize) b[i]->stride * b[i]->height);
  }
  g_assert_null (a[i]);
  g_assert_null (b[i]);
}

/* What the one-shot API gives for CTX at FRAME, keeping KEEP maps of REUSE. */
static HartTokens *
model_tokens (Fixture * f, const HartContext * ctx, guint32 frame,
    const HartTokens * reuse, int keep)
{
  HartGenerateParams p;
  GError *error = NULL;
  HartTokens *t;

  params_for_frame (&p, frame, keep);
  p.reuse = reuse;
  t = hart_model_generate_tokens (f->model, ctx, &p, NULL, &error);
  g_assert_no_error (error);
  return t;
}

static HartTokens *
next_tokens (HartGenerator * gen, guint32 frame, int keep)
{
  HartGenerateParams p;
  GError *error = NULL;
  HartTokens *t;

  params_for_frame (&p, frame, keep);
  t = hart_generator_next_tokens (gen, &p, NULL, &error);
  g_assert_no_error (error);
  return t;
}

/* Frame after frame in one generator's reused buffers: the bytes of
 * hart_model_generate, images and token frames. */
static void
test_frames_equal_one_shot (Fixture * f, gconstpointer data)
{
  GError *error = NULL;
  HartGenerator *gen = hart_generator_new (f->model, 1, &error);

  g_assert_no_error (error);
  g_assert_true (hart_generator_set_context (gen, f->a, 0, &error));
  for (guint32 frame = 0; frame < 3; frame++) {
    HartGenerateParams p;
    HartImage **mine, **theirs;
    HartTokens *tokens, *expected;

    params_for_frame (&p, frame, 0);
    mine = hart_generator_next_images (gen, &p, &tokens, NULL, &error);
    g_assert_no_error (error);
    theirs = hart_model_generate (f->model, f->a, &p, NULL, &error);
    g_assert_no_error (error);
    assert_images_equal (mine, theirs);
    expected = model_tokens (f, f->a, frame, NULL, 0);
    assert_tokens_equal (tokens, expected);
    hart_images_free (mine);
    hart_images_free (theirs);
    hart_tokens_free (tokens);
    hart_tokens_free (expected);
  }
  hart_generator_free (gen);
}

/* keep-scales: each frame keeps the first KEEP maps of the one before. */
static void
test_keep_scales (Fixture * f, gconstpointer data)
{
  GError *error = NULL;
  HartGenerator *gen = hart_generator_new (f->model, 1, &error);
  HartTokens *t0, *t1, *e0, *e1, *free1;

  g_assert_true (hart_generator_set_context (gen, f->a, 0, &error));
  t0 = next_tokens (gen, 0, KEEP);
  e0 = model_tokens (f, f->a, 0, NULL, 0);
  assert_tokens_equal (t0, e0); /* nothing to keep yet */
  t1 = next_tokens (gen, 1, KEEP);
  e1 = model_tokens (f, f->a, 1, t0, KEEP);
  assert_tokens_equal (t1, e1);
  free1 = model_tokens (f, f->a, 1, NULL, 0);
  g_assert_false (tokens_equal (t1, free1));

  /* more than the model has: clamped to all but the last */
  {
    HartTokens *t2 = next_tokens (gen, 2, 1000);
    int all_but_last =
        hart_model_get_transformer_config (f->model)->n_scales - 1;
    HartTokens *e2 = model_tokens (f, f->a, 2, t1, all_but_last);

    assert_tokens_equal (t2, e2);
    hart_tokens_free (t2);
    hart_tokens_free (e2);
  }
  hart_tokens_free (t0);
  hart_tokens_free (t1);
  hart_tokens_free (e0);
  hart_tokens_free (e1);
  hart_tokens_free (free1);
  hart_generator_free (gen);
}

/* A new prompt lays out its own picture: its first frame keeps nothing of
 * the old prompt; the frame after keeps that first frame's maps. */
static void
test_prompt_change_drops_held (Fixture * f, gconstpointer data)
{
  GError *error = NULL;
  HartGenerator *gen = hart_generator_new (f->model, 1, &error);
  HartTokens *t0, *t1, *t2, *e1, *e2;

  g_assert_true (hart_generator_set_context (gen, f->a, 0, &error));
  t0 = next_tokens (gen, 0, KEEP);
  g_assert_true (hart_generator_set_context (gen, f->b, 0, &error));
  t1 = next_tokens (gen, 1, KEEP);
  e1 = model_tokens (f, f->b, 1, NULL, 0);
  assert_tokens_equal (t1, e1);
  t2 = next_tokens (gen, 2, KEEP);
  e2 = model_tokens (f, f->b, 2, t1, KEEP);
  assert_tokens_equal (t2, e2);

  hart_tokens_free (t0);
  hart_tokens_free (t1);
  hart_tokens_free (t2);
  hart_tokens_free (e1);
  hart_tokens_free (e2);
  hart_generator_free (gen);
}

/* transition_frames = 2: frame 1 is generated from the halfway blend and
 * keeps nothing; frame 2, the transition's last, is the new context's own
 * and keeps nothing either (nothing of the new prompt is held yet); frame 3
 * keeps frame 2's maps. */
static void
test_transition (Fixture * f, gconstpointer data)
{
  GError *error = NULL;
  HartGenerator *gen = hart_generator_new (f->model, 1, &error);
  HartContext *half = hart_context_new (f->a->batch, f->a->tokens,
      f->a->dim);
  const gsize rows = (gsize) f->a->batch * f->a->tokens;
  HartTokens *t[4], *e1, *e2, *e3;

  memcpy (half->mask, f->b->mask, rows);
  memcpy (half->positions, f->b->positions, rows * sizeof (int32_t));
  for (gsize i = 0; i < rows * f->a->dim; i++)
    half->data[i] = (1.0f - 0.5f) * f->a->data[i] + 0.5f * f->b->data[i];

  g_assert_true (hart_generator_set_context (gen, f->a, 2, &error));
  t[0] = next_tokens (gen, 0, KEEP);    /* no frame before: no transition */
  assert_tokens_equal (t[0], (e1 = model_tokens (f, f->a, 0, NULL, 0)));
  hart_tokens_free (e1);
  g_assert_true (hart_generator_set_context (gen, f->b, 2, &error));
  t[1] = next_tokens (gen, 1, KEEP);
  e1 = model_tokens (f, half, 1, NULL, 0);
  assert_tokens_equal (t[1], e1);
  t[2] = next_tokens (gen, 2, KEEP);
  e2 = model_tokens (f, f->b, 2, NULL, 0);
  assert_tokens_equal (t[2], e2);
  t[3] = next_tokens (gen, 3, KEEP);
  e3 = model_tokens (f, f->b, 3, t[2], KEEP);
  assert_tokens_equal (t[3], e3);

  for (int i = 0; i < 4; i++)
    hart_tokens_free (t[i]);
  hart_tokens_free (e1);
  hart_tokens_free (e2);
  hart_tokens_free (e3);
  hart_context_free (half);
  hart_generator_free (gen);
}

/* reset (a seek): nothing held, no transition to start. */
static void
test_reset (Fixture * f, gconstpointer data)
{
  GError *error = NULL;
  HartGenerator *gen = hart_generator_new (f->model, 1, &error);
  HartTokens *t0, *t1, *e1;

  g_assert_true (hart_generator_set_context (gen, f->a, 0, &error));
  t0 = next_tokens (gen, 0, KEEP);
  hart_generator_reset (gen);
  t1 = next_tokens (gen, 5, KEEP);
  e1 = model_tokens (f, f->a, 5, NULL, 0);
  assert_tokens_equal (t1, e1);
  /* after a reset a new prompt starts at once, even with a transition */
  hart_generator_reset (gen);
  g_assert_true (hart_generator_set_context (gen, f->b, 3, &error));
  hart_tokens_free (t1);
  hart_tokens_free (e1);
  t1 = next_tokens (gen, 6, 0);
  e1 = model_tokens (f, f->b, 6, NULL, 0);
  assert_tokens_equal (t1, e1);

  hart_tokens_free (t0);
  hart_tokens_free (t1);
  hart_tokens_free (e1);
  hart_generator_free (gen);
}

/* Two generators of one model, each in its own thread, at the same time:
 * the bytes each would give alone (the model is only read). */
typedef struct
{
  Fixture *f;
  const HartContext *ctx;
  HartImage **images[2];
} ThreadRun;

static gpointer
thread_run (gpointer data)
{
  ThreadRun *r = data;
  GError *error = NULL;
  HartGenerator *gen = hart_generator_new (r->f->model, 1, &error);

  g_assert_true (hart_generator_set_context (gen, r->ctx, 0, &error));
  for (guint32 frame = 0; frame < 2; frame++) {
    HartGenerateParams p;

    params_for_frame (&p, frame, KEEP);
    r->images[frame] = hart_generator_next_images (gen, &p, NULL, NULL, &error);
    g_assert_no_error (error);
  }
  hart_generator_free (gen);
  return NULL;
}

static void
test_concurrent_generators (Fixture * f, gconstpointer data)
{
  ThreadRun alone[2] = { {f, f->a}, {f, f->b} };
  ThreadRun together[2] = { {f, f->a}, {f, f->b} };
  GThread *threads[2];

  thread_run (&alone[0]);
  thread_run (&alone[1]);
  for (int i = 0; i < 2; i++)
    threads[i] = g_thread_new ("generator", thread_run, &together[i]);
  for (int i = 0; i < 2; i++)
    g_thread_join (threads[i]);
  for (int i = 0; i < 2; i++)
    for (int frame = 0; frame < 2; frame++) {
      assert_images_equal (alone[i].images[frame], together[i].images[frame]);
      hart_images_free (alone[i].images[frame]);
      hart_images_free (together[i].images[frame]);
    }
}

static void
test_errors (Fixture * f, gconstpointer data)
{
  GError *error = NULL;
  HartGenerator *gen;
  HartGenerateParams p;
  HartTokens *t;

  g_assert_null (hart_generator_new (f->model, 0, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (hart_generator_new (f->model, HART_MAX_BATCH + 1, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  gen = hart_generator_new (f->model, 2, &error);
  g_assert_no_error (error);
  params_for_frame (&p, 0, 0);
  /* nothing set yet */
  g_assert_null (hart_generator_next_tokens (gen, &p, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a context of one prompt for a generator of two */
  g_assert_false (hart_generator_set_context (gen, f->a, 0, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_SHAPE);
  g_clear_error (&error);
  hart_generator_free (gen);

  gen = hart_generator_new (f->model, 1, &error);
  g_assert_false (hart_generator_set_context (gen, f->a, -1, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (hart_generator_set_context (gen, f->a, 0, &error));
  t = next_tokens (gen, 0, 0);
  /* the generator holds the maps itself */
  p.reuse = t;
  p.keep_scales = 2;
  g_assert_null (hart_generator_next_tokens (gen, &p, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* draw files need the whole one-shot generation */
  params_for_frame (&p, 0, 0);
  p.record_draws = "/nonexistent/draws.safetensors";
  g_assert_null (hart_generator_next_tokens (gen, &p, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* token frames of another batch */
  {
    HartTokens *two = hart_tokens_new (2, t->latent_channels, t->side,
        t->embed_dim, t->n_scales, t->stage_tokens);

    memcpy (two->fingerprint, t->fingerprint, sizeof two->fingerprint);
    params_for_frame (&p, 0, 0);
    g_assert_null (hart_generator_refine (gen, two, &p, NULL, &error));
    g_assert_error (error, HART_ERROR, HART_ERROR_SHAPE);
    g_clear_error (&error);
    hart_tokens_free (two);
  }
  hart_tokens_free (t);
  hart_generator_free (gen);
}

/* A frame of a batch against the frame made alone.  In fp32, byte for
 * byte: the backend's products give a row the same bits whatever the rows
 * computed with it (kernels/cpu/cpu-gemm.c); so in bf16 with widened
 * products.  In bf16 on oneDNN's kernels, which it picks by the row count,
 * only up to rounding: the same codes (a
 * different code moves f_hat by a codebook vector, ~0.1 or more) and
 * pictures within ±1 (docs/video.md, "Batches of frames"). */
#define BATCH_BF16_TOLERANCE 2e-3f

static void
assert_floats (const float *got, const float *want, gsize n, gboolean exact)
{
  if (exact)
    g_assert_cmpmem (got, n * sizeof (float), want, n * sizeof (float));
  else
    for (gsize i = 0; i < n; i++)
      g_assert_cmpfloat_with_epsilon (got[i], want[i], BATCH_BF16_TOLERANCE);
}

static void
assert_frame_equal (const HartTokens * got, HartImage ** got_image,
    const HartTokens * want, HartImage ** want_image, gboolean exact)
{
  const gsize n_f_hat = (gsize) want->latent_channels * want->side * want->side;
  const gsize n_stage = (gsize) want->stage_tokens * want->latent_channels;
  const gsize n_px = (gsize) want_image[0]->stride * want_image[0]->height;
  const gsize n_last = (gsize) want->side * want->side * want->latent_channels;

  g_assert_cmpint (got->batch, ==, 1);
  g_assert_cmpstr (got->fingerprint, ==, want->fingerprint);
  g_assert_cmpuint (got->frame, ==, want->frame);
  g_assert_cmpuint (got->seed, ==, want->seed);
  assert_floats (got->last_h, want->last_h, n_last, exact);
  assert_floats (got->f_hat, want->f_hat, n_f_hat, exact);
  assert_floats (got->stage_h, want->stage_h, n_stage, exact);
  if (exact)
    assert_floats (got->z, want->z,
        (gsize) 2 * want->side * want->side * want->embed_dim, TRUE);
  g_assert_cmpint (got_image[0]->width, ==, want_image[0]->width);
  g_assert_cmpint (got_image[0]->height, ==, want_image[0]->height);
  if (exact)
    g_assert_cmpmem (got_image[0]->rgb, n_px, want_image[0]->rgb, n_px);
  else
    for (gsize i = 0; i < n_px; i++)
      g_assert_cmpint (abs ((int) got_image[0]->rgb[i] -
              (int) want_image[0]->rgb[i]), <=, 1);
}

/* Batches of frames: every frame of a batch is the frame made one at a
 * time (assert_frame_equal), through a prompt change with a transition,
 * with and without kept maps; a frame that lays out the prompt ends its
 * batch.  DATA: the kept scales (GINT_TO_POINTER). */
#define SCRIPT_FRAMES 11
#define CHANGE_AT 4             /* the context changes before this frame */
#define MAX_BATCH 3

static void
test_batches (Fixture * f, gconstpointer data)
{
  const int keep = GPOINTER_TO_INT (data) & ~(IN_BF16 | CHUNKED_LOGITS);
  GError *error = NULL;
  HartGenerator *one, *batch;
  HartTokens *expected[SCRIPT_FRAMES];
  HartImage **expected_images[SCRIPT_FRAMES];
  HartGenerateParams p;
  int done = 0, n_batches = 0, sizes[SCRIPT_FRAMES];
  /* keep 0: 3 + 1 before the change, 3 + 3 + 1 after it; kept maps: the
   * prompt's first frame alone, then 3; after the change two blends and
   * the transition's last frame (which lays out the new prompt), 3, 1 */
  const int want_keep0[] = { 3, 1, 3, 3, 1 }, want_kept[] = { 1, 3, 3, 3, 1 };
  const int *want = keep == 0 ? want_keep0 : want_kept;

  /* byte for byte in fp32, and in bf16 where its products run widened on
   * the fp32 path's row-invariant sgemm (kernels/cpu/cpu-bf16-widened.c) */
  const gboolean exact = !(GPOINTER_TO_INT (data) & IN_BF16)
      || strstr (hart_engine_get_precision_impl (f->engine), "widened");

  if ((GPOINTER_TO_INT (data) & IN_BF16)
      && hart_engine_get_precision (f->engine) != HART_PRECISION_BF16)
    return;                     /* skipped: no bf16 here */
  one = hart_generator_new (f->model, 1, &error);
  g_assert_no_error (error);
  batch = hart_generator_new (f->model, 1, &error);
  g_assert_no_error (error);
  g_assert_true (hart_generator_set_context (one, f->a, 0, &error));
  for (int i = 0; i < SCRIPT_FRAMES; i++) {
    if (i == CHANGE_AT)
      g_assert_true (hart_generator_set_context (one, f->b, 3, &error));
    expected[i] = next_tokens (one, (guint32) i, keep);
    params_for_frame (&p, (guint32) i, keep);
    expected_images[i] = hart_generator_refine (one, expected[i], &p, NULL,
        &error);
    g_assert_no_error (error);
  }

  g_assert_true (hart_generator_set_context (batch, f->a, 0, &error));
  /* the frames alone had their stages' logits whole (the tiny model's
   * stages have at most 256 positions); the batches in chunks that split
   * every image's positions (generate.c, stage_sample) */
  if (GPOINTER_TO_INT (data) & CHUNKED_LOGITS)
    g_setenv ("HART_LOGITS_CHUNK", "7", TRUE);
  while (done < SCRIPT_FRAMES) {
    const int until = done < CHANGE_AT ? CHANGE_AT : SCRIPT_FRAMES;
    const int max = MIN (MAX_BATCH, until - done);
    guint32 frames[MAX_BATCH];
    HartTokens *t;
    HartImage **images;

    if (done == CHANGE_AT)
      g_assert_true (hart_generator_set_context (batch, f->b, 3, &error));
    for (int i = 0; i < max; i++)
      frames[i] = (guint32) (done + i);
    params_for_frame (&p, frames[0], keep);
    t = hart_generator_next_token_batch (batch, &p, frames, max, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (t->batch, >=, 1);
    g_assert_cmpint (t->batch, <=, max);
    images = hart_generator_refine_batch (batch, t, &p, frames, NULL, &error);
    g_assert_no_error (error);
    for (int i = 0; i < t->batch; i++) {
      const HartTokens *src = t;
      HartTokens *item = hart_tokens_gather (&src, &i, 1);
      HartImage *pair[2] = { images[i], NULL };

      item->frame = frames[i];
      assert_frame_equal (item, pair, expected[done + i],
          expected_images[done + i], exact);
      hart_tokens_free (item);
    }
    g_assert_null (images[t->batch]);
    sizes[n_batches++] = t->batch;
    done += t->batch;
    hart_images_free (images);
    hart_tokens_free (t);
  }
  g_unsetenv ("HART_LOGITS_CHUNK");
  g_assert_cmpint (n_batches, ==, 5);
  g_assert_cmpmem (sizes, n_batches * sizeof (int), want, 5 * sizeof (int));

  for (int i = 0; i < SCRIPT_FRAMES; i++) {
    hart_tokens_free (expected[i]);
    hart_images_free (expected_images[i]);
  }
  hart_generator_free (one);
  hart_generator_free (batch);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) \
  g_test_add ("/generator/" path, Fixture, NULL, fixture_set_up, func, \
      fixture_tear_down)
  ADD ("frames-equal-one-shot", test_frames_equal_one_shot);
  ADD ("keep-scales", test_keep_scales);
  ADD ("prompt-change-drops-held", test_prompt_change_drops_held);
  ADD ("transition", test_transition);
  ADD ("reset", test_reset);
  ADD ("concurrent-generators", test_concurrent_generators);
  ADD ("errors", test_errors);
#undef ADD
  g_test_add ("/generator/batches", Fixture, GINT_TO_POINTER (0),
      fixture_set_up, test_batches, fixture_tear_down);
  g_test_add ("/generator/batches-keep-scales", Fixture,
      GINT_TO_POINTER (KEEP), fixture_set_up, test_batches, fixture_tear_down);
  g_test_add ("/generator/batches-bf16", Fixture, GINT_TO_POINTER (IN_BF16),
      fixture_set_up, test_batches, fixture_tear_down);
  g_test_add ("/generator/batches-chunked-logits", Fixture,
      GINT_TO_POINTER (CHUNKED_LOGITS), fixture_set_up, test_batches,
      fixture_tear_down);
  return g_test_run ();
}
