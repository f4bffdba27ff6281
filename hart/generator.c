/* gst-hart — generator: one caller's generation state, and video
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rules of successive frames (docs/video.md): which context a frame is
 * generated from (the prompt's, or a blend during a transition) and which
 * token maps it may keep from the frame before.  The buffers belong to the
 * run (generate.c); this file decides only what goes into each frame.
 */
#include "generator.h"
#include "engine-private.h"
#include "memory.h"
#include "model-private.h"

#include <string.h>

struct _HartGenerator
{
  HartModel *model;             /* reference held */
  HartRun *run;                 /* buffers, reused frame after frame */
  int batch;

  HartContext *target;          /* the context set last (the prompt's) */
  char *prompt;                 /* its prompt, or NULL */
  HartContext *from;            /* a transition's start, or NULL */
  int transition_step, transition_length;
  HartContext *frame_ctx;       /* what the last frame was generated from
                                 * (a blend during a transition) */
  gboolean have_frame;          /* frame_ctx holds a frame's context */
  HartTokens *held;             /* the last frame of TARGET outside a
                                 * transition, for keep-scales; or NULL */

  /* batches of frames (a generator of one image a frame) */
  HartRun *batch_run;           /* buffers for batch_ctx->batch frames */
  HartContext *batch_ctx;       /* each frame's context of the last batch */
};

HartGenerator *
hart_generator_new (HartModel * model, int batch, GError ** error)
{
  HartGenerator *gen;

  g_return_val_if_fail (model != NULL, NULL);
  if (batch < 1 || batch > HART_MAX_BATCH) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "batch %d is outside [1, %d]", batch, HART_MAX_BATCH);
    return NULL;
  }
  gen = g_new0 (HartGenerator, 1);
  gen->model = hart_model_ref (model);
  gen->run = hart_run_new (model, batch);
  gen->batch = batch;
  return gen;
}

void
hart_generator_free (HartGenerator * gen)
{
  if (gen == NULL)
    return;
  hart_run_free (gen->run);
  hart_run_free (gen->batch_run);
  hart_context_free (gen->batch_ctx);
  hart_context_free (gen->target);
  hart_context_free (gen->from);
  hart_context_free (gen->frame_ctx);
  hart_tokens_free (gen->held);
  g_free (gen->prompt);
  hart_model_unref (gen->model);
  g_free (gen);
}

HartModel *
hart_generator_get_model (HartGenerator * gen)
{
  return gen->model;
}

int
hart_generator_get_batch (const HartGenerator * gen)
{
  return gen->batch;
}

const char *
hart_generator_get_prompt (const HartGenerator * gen)
{
  return gen->prompt;
}

static HartContext *
context_copy (const HartContext * src)
{
  HartContext *ctx = hart_context_new (src->batch, src->tokens, src->dim);
  const gsize n = (gsize) src->batch * src->tokens;

  memcpy (ctx->data, src->data, n * src->dim * sizeof (float));
  memcpy (ctx->mask, src->mask, n * sizeof (uint8_t));
  memcpy (ctx->positions, src->positions, n * sizeof (int32_t));
  return ctx;
}

/* CTX becomes the target; the last frame's context starts a transition
 * when TRANSITION_FRAMES > 0.  Takes CTX. */
static void
take_context (HartGenerator * gen, HartContext * ctx, int transition_frames)
{
  g_clear_pointer (&gen->from, hart_context_free);
  if (gen->have_frame && transition_frames > 0) {
    gen->from = context_copy (gen->frame_ctx);
    gen->transition_step = 0;
    gen->transition_length = transition_frames;
  }
  hart_context_free (gen->target);
  gen->target = ctx;
  /* a new prompt lays itself out: nothing of the old one is kept */
  g_clear_pointer (&gen->held, hart_tokens_free);
}

static gboolean
check_new_context (HartGenerator * gen, const HartContext * ctx,
    int transition_frames, GError ** error)
{
  if (!hart_generate_check_context (gen->model, ctx, error))
    return FALSE;
  if (ctx->batch != gen->batch) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "context of %d prompts, but this generator makes %d images",
        ctx->batch, gen->batch);
    return FALSE;
  }
  if (transition_frames < 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "transition of %d frames (expected ≥ 0)", transition_frames);
    return FALSE;
  }
  return TRUE;
}

gboolean
hart_generator_set_context (HartGenerator * gen, const HartContext * ctx,
    int transition_frames, GError ** error)
{
  if (!check_new_context (gen, ctx, transition_frames, error))
    return FALSE;
  take_context (gen, context_copy (ctx), transition_frames);
  g_clear_pointer (&gen->prompt, g_free);
  return TRUE;
}

gboolean
hart_generator_set_prompt (HartGenerator * gen, HartTextEncoder * encoder,
    const char *prompt, int transition_frames, GCancellable * cancel,
    gboolean * changed, GError ** error)
{
  const HartTransformerConfig *tcfg = &gen->model->tcfg;
  const char **prompts;
  HartContext *encoded;

  if (changed)
    *changed = FALSE;
  g_return_val_if_fail (encoder != NULL && prompt != NULL, FALSE);
  if (gen->prompt != NULL && strcmp (gen->prompt, prompt) == 0)
    return TRUE;

  prompts = g_new (const char *, gen->batch);
  for (int b = 0; b < gen->batch; b++)
    prompts[b] = prompt;
  encoded = hart_text_encoder_encode (encoder, prompts, gen->batch,
      tcfg->context_token, cancel, error);
  g_free (prompts);
  if (encoded == NULL)
    return FALSE;
  if (encoded->tokens != tcfg->context_token
      || encoded->dim != tcfg->context_dim) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "the text encoder gives a context of %d × %d, the model takes "
        "%d × %d (context_token × context_dim)", encoded->tokens,
        encoded->dim, tcfg->context_token, tcfg->context_dim);
    hart_context_free (encoded);
    return FALSE;
  }
  if (!check_new_context (gen, encoded, transition_frames, error)) {
    hart_context_free (encoded);
    return FALSE;
  }
  take_context (gen, encoded, transition_frames);
  g_free (gen->prompt);
  gen->prompt = g_strdup (prompt);
  if (changed)
    *changed = TRUE;
  return TRUE;
}

void
hart_generator_reset (HartGenerator * gen)
{
  g_clear_pointer (&gen->from, hart_context_free);
  g_clear_pointer (&gen->held, hart_tokens_free);
  gen->have_frame = FALSE;
}

/* The context of the frame AHEAD frames after the next (0: the next) into
 * DATA, MASK and POSITIONS (the target's shape): the target, or during a
 * transition the blend (1 − a)·from + a·target, a = step / length for the
 * transition's steps but the last, with the target's mask and positions.
 * TRUE when it is a blend.  The transition advances only once a frame is
 * made (advance_transition). */
static gboolean
step_context (const HartGenerator * gen, int ahead, float *data,
    uint8_t * mask, int32_t * positions)
{
  const HartContext *t = gen->target;
  const gsize n = (gsize) t->batch * t->tokens * t->dim;
  const gsize rows = (gsize) t->batch * t->tokens;
  const int step = gen->transition_step + ahead;
  /* the transition's last frame (a = 1) is the target's own */
  const gboolean blended = gen->from != NULL
      && step + 1 < gen->transition_length;

  memcpy (mask, t->mask, rows * sizeof (uint8_t));
  memcpy (positions, t->positions, rows * sizeof (int32_t));
  if (blended) {
    const float a = (float) (step + 1) / gen->transition_length;

    g_debug ("transition %d/%d", step + 1, gen->transition_length);
    for (gsize i = 0; i < n; i++)
      data[i] = (1.0f - a) * gen->from->data[i] + a * t->data[i];
  } else {
    memcpy (data, t->data, n * sizeof (float));
  }
  return blended;
}

/* *CTX (allocated or remade) of BATCH times the target's images. */
static HartContext *
ensure_context (HartContext ** ctx, const HartContext * t, int batch)
{
  HartContext *c = *ctx;

  if (c == NULL || c->batch != batch || c->tokens != t->tokens
      || c->dim != t->dim) {
    hart_context_free (c);
    c = *ctx = hart_context_new (batch, t->tokens, t->dim);
  }
  return c;
}

/* The next frame's context, in gen->frame_ctx; *BLENDED says whether it
 * is a blend. */
static void
frame_context (HartGenerator * gen, int ahead, gboolean * blended)
{
  HartContext *f = ensure_context (&gen->frame_ctx, gen->target,
      gen->target->batch);

  *blended = step_context (gen, ahead, f->data, f->mask, f->positions);
}

static void
advance_transition (HartGenerator * gen)
{
  if (gen->from != NULL && ++gen->transition_step >= gen->transition_length)
    g_clear_pointer (&gen->from, hart_context_free);
}

/* What every next-frame call checks: a context set, no reuse of the
 * caller's, no draw files, valid settings; *KEEP: keep_scales clamped to
 * the model's scales − 1. */
static gboolean
check_next_call (const HartGenerator * gen, const HartGenerateParams * params,
    int *keep, GError ** error)
{
  if (gen->target == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "generator: no context or prompt set yet");
    return FALSE;
  }
  if (params->reuse != NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "generator: params->reuse must be NULL (the generator holds the "
        "token maps of keep_scales itself)");
    return FALSE;
  }
  if (!hart_generate_refuse_draw_files (params, error)
      || !hart_generate_check_params (params, error))
    return FALSE;
  *keep = MIN (params->keep_scales, gen->model->tcfg.n_scales - 1);
  return TRUE;
}

HartTokens *
hart_generator_next_tokens (HartGenerator * gen,
    const HartGenerateParams * params, GCancellable * cancel, GError ** error)
{
  HartDraws *draws;
  HartTokens *tokens;
  gboolean blended;
  int keep;

  if (!check_next_call (gen, params, &keep, error))
    return NULL;

  /* a failed (or cancelled) frame leaves the state as it was, except that
   * frame_ctx no longer holds the last frame's context */
  frame_context (gen, 0, &blended);
  /* the contexts were checked when set; a blend of them is checked here */
  if (blended && !hart_generate_check_context (gen->model, gen->frame_ctx,
          error))
    return NULL;
  gen->have_frame = FALSE;
  draws = hart_draws_new (params->seed, params->frame);
  tokens = hart_run_tokens (gen->run, gen->frame_ctx, params,
      blended ? NULL : gen->held, keep, draws, NULL, cancel, error);
  hart_draws_free (draws);
  if (tokens == NULL)
    return NULL;
  gen->have_frame = TRUE;
  advance_transition (gen);
  /* Hold this frame's maps when it is the prompt's own (no blend): the
   * first frame after a prompt change or a transition sets the layout the
   * next frames keep. */
  g_clear_pointer (&gen->held, hart_tokens_free);
  if (keep > 0 && !blended)
    gen->held = hart_tokens_copy (tokens);
  return tokens;
}

HartImage **
hart_generator_refine (HartGenerator * gen, const HartTokens * tokens,
    const HartGenerateParams * params, GCancellable * cancel, GError ** error)
{
  HartDraws *draws;
  HartImage **images;

  if (!hart_generate_refuse_draw_files (params, error))
    return NULL;
  draws = hart_draws_new (params->seed, params->frame);
  images = hart_run_refine (gen->run, tokens, params, draws, NULL, cancel,
      error);
  hart_draws_free (draws);
  return images;
}

HartImage **
hart_generator_next_images (HartGenerator * gen,
    const HartGenerateParams * params, HartTokens ** tokens_out,
    GCancellable * cancel, GError ** error)
{
  HartTokens *tokens;
  HartImage **images;

  if (tokens_out)
    *tokens_out = NULL;
  tokens = hart_generator_next_tokens (gen, params, cancel, error);
  if (tokens == NULL)
    return NULL;
  images = hart_generator_refine (gen, tokens, params, cancel, error);
  if (images != NULL && tokens_out != NULL)
    *tokens_out = g_steal_pointer (&tokens);
  hart_tokens_free (tokens);
  return images;
}

/* ---- batches of frames ---- */

/* How many of the next MAX_FRAMES frames one batch may hold: frames that
 * keep nothing (keep 0, or a transition's blends) are independent, and so
 * are frames that all keep the maps held now (which the frames after them
 * would keep too: a frame's kept maps are those it kept).  The frame that
 * lays out the prompt (keep > 0, nothing held) ends the batch: the frames
 * after it keep its maps. */
static int
batch_length (const HartGenerator * gen, int keep, int max_frames)
{
  int blends_left = 0;

  if (keep == 0 || gen->held != NULL)
    return max_frames;
  if (gen->from != NULL)
    blends_left = MAX (gen->transition_length - 1 - gen->transition_step, 0);
  return MIN (max_frames, blends_left + 1);
}

int
hart_generator_next_batch_length (const HartGenerator * gen,
    const HartGenerateParams * params, int max_frames)
{
  int keep;

  g_return_val_if_fail (gen != NULL && params != NULL, 1);
  /* check_next_call's clamp */
  keep = MIN (MAX (params->keep_scales, 0), gen->model->tcfg.n_scales - 1);
  return batch_length (gen, keep, CLAMP (max_frames, 1, HART_MAX_BATCH));
}

/* Each frame's context, as frame_context gives them one by one, into
 * gen->batch_ctx (N images of a one-image target); *N_BLENDED: how many
 * of the first are blends (the rest are the target's own). */
static void
batch_context (HartGenerator * gen, int n, int *n_blended)
{
  const HartContext *t = gen->target;
  const gsize one = (gsize) t->tokens * t->dim, rows = t->tokens;
  HartContext *c = ensure_context (&gen->batch_ctx, t, n);

  *n_blended = 0;
  for (int i = 0; i < n; i++)
    *n_blended += step_context (gen, i, c->data + i * one, c->mask + i * rows,
        c->positions + i * rows);
}

/* The run for batches of N frames (the generator's own for one). */
static HartRun *
batch_run (HartGenerator * gen, int n)
{
  if (n == 1)
    return gen->run;
  if (gen->batch_run != NULL && hart_run_get_batch (gen->batch_run) != n)
    g_clear_pointer (&gen->batch_run, hart_run_free);
  if (gen->batch_run == NULL)
    gen->batch_run = hart_run_new (gen->model, n);
  return gen->batch_run;
}

static HartDraws *
batch_draws (const HartGenerateParams * params, const guint32 * frames, int n)
{
  HartDraws *draws = hart_draws_new (params->seed, frames[0]);

  hart_draws_set_item_frames (draws, n, frames);
  return draws;
}

static gboolean
check_batch_call (const HartGenerator * gen, int max_frames, GError ** error)
{
  if (gen->batch != 1) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "batches of frames need a generator of one image a frame (this one "
        "makes %d)", gen->batch);
    return FALSE;
  }
  if (max_frames < 1 || max_frames > HART_MAX_BATCH) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "batch of %d frames is outside [1, %d]", max_frames, HART_MAX_BATCH);
    return FALSE;
  }
  return TRUE;
}

HartTokens *
hart_generator_next_token_batch (HartGenerator * gen,
    const HartGenerateParams * params, const guint32 * frames, int max_frames,
    GCancellable * cancel, GError ** error)
{
  HartGenerateParams first = *params;
  HartTokens *tokens, *reuse = NULL;
  HartDraws *draws;
  int keep, n, n_blended;

  if (!check_batch_call (gen, max_frames, error))
    return NULL;
  if (!check_next_call (gen, params, &keep, error))
    return NULL;
  n = batch_length (gen, keep, max_frames);

  batch_context (gen, n, &n_blended);
  if (n_blended > 0 && !hart_generate_check_context (gen->model,
          gen->batch_ctx, error))
    return NULL;
  /* the maps held are kept by every frame (none is blended then: a
   * transition starts with nothing held) */
  if (keep > 0 && gen->held != NULL) {
    const HartTokens *srcs[HART_MAX_BATCH];
    int items[HART_MAX_BATCH];

    for (int i = 0; i < n; i++) {
      srcs[i] = gen->held;
      items[i] = 0;
    }
    reuse = hart_tokens_gather (srcs, items, n);
  }
  gen->have_frame = FALSE;
  first.frame = frames[0];
  draws = batch_draws (params, frames, n);
  tokens = hart_run_tokens (batch_run (gen, n), gen->batch_ctx, &first,
      reuse, keep, draws, NULL, cancel, error);
  hart_draws_free (draws);
  hart_tokens_free (reuse);
  if (tokens == NULL)
    return NULL;

  /* the state one frame at a time would have after the last frame: its
   * context (a transition may start from it), the transition advanced by
   * N, its maps held when it is the prompt's own */
  {
    gboolean last_blended;
    int item = n - 1;

    /* before the transition advances: the last frame's own step */
    frame_context (gen, n - 1, &last_blended);
    gen->have_frame = TRUE;
    for (int i = 0; i < n; i++)
      advance_transition (gen);
    g_clear_pointer (&gen->held, hart_tokens_free);
    if (keep > 0 && !last_blended) {
      const HartTokens *src = tokens;

      gen->held = hart_tokens_gather (&src, &item, 1);
      gen->held->frame = frames[item];
    }
  }
  return tokens;
}

HartImage **
hart_generator_refine_batch (HartGenerator * gen, const HartTokens * tokens,
    const HartGenerateParams * params, const guint32 * frames,
    GCancellable * cancel, GError ** error)
{
  HartDraws *draws;
  HartImage **images;

  if (!check_batch_call (gen, tokens->batch, error)
      || !hart_generate_refuse_draw_files (params, error))
    return NULL;
  draws = batch_draws (params, frames, tokens->batch);
  images = hart_run_refine (batch_run (gen, tokens->batch), tokens, params,
      draws, NULL, cancel, error);
  hart_draws_free (draws);
  return images;
}

gboolean
hart_check_memory_budget_with_text_encoder (const char *model_dir,
    const char *qwen_dir, HartPrecision precision, gboolean host_memory,
    guint64 budget_bytes, const char *budget_source, GError ** error)
{
  HartMemoryEstimate est;
  guint64 encoder_bytes;
  char *what, *resolution, *detail;
  gboolean ok;

  if (budget_bytes == 0
      || !hart_model_estimate_memory (model_dir, TRUE, 1, precision, &est, NULL)
      || !hart_memory_text_encoder_bytes (qwen_dir, 1, est.context_tokens,
          hart_precision_matrix_dtype (precision), host_memory,
          &encoder_bytes, NULL))
    return TRUE;
  what = g_strdup_printf ("model %s with the text encoder %s", model_dir,
      qwen_dir);
  resolution = g_strdup_printf ("%dx%d", est.width, est.height);
  detail = g_strdup_printf ("model %" G_GUINT64_FORMAT " MiB + text encoder %"
      G_GUINT64_FORMAT " MiB", (est.total_bytes + (1 << 19)) >> 20,
      (encoder_bytes + (1 << 19)) >> 20);
  ok = hart_memory_check_budget (what, resolution,
      est.total_bytes + encoder_bytes, detail, budget_bytes, budget_source,
      error);
  g_free (what);
  g_free (resolution);
  g_free (detail);
  return ok;
}
