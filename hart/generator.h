/* gst-hart — generator: one caller's generation state, and video
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The model (hart.h) is the weights: read-only, loaded once, shared.  A
 * generator is what one caller needs besides, created once and used frame
 * after frame: the buffers of a generation (KV cache, scratch, the image),
 * the prompt's context, a transition between two prompts, and the token
 * maps held from one frame to the next (keep-scales).  Several generators
 * may share one model and run side by side, each from its own thread; one
 * generator is used by one thread at a time.  docs/video.md gives the
 * rules; in short:
 *
 *   HartGenerator *gen = hart_generator_new (model, 1, &error);
 *   hart_generator_set_prompt (gen, encoder, "a fox", 0, NULL, NULL, &error);
 *   for (frame = 0; …; frame++) {
 *     params.frame = frame;      (seed-mode "increment"; 0 keeps the draws)
 *     params.keep_scales = 4;    (hold the layout of the first 4 scales)
 *     images = hart_generator_next_images (gen, &params, NULL, NULL, &error);
 *     if (frame == 24)           (a new prompt, blended in over 12 frames)
 *       hart_generator_set_prompt (gen, encoder, "a cat", 12, …);
 *   }
 */
#ifndef HART_GENERATOR_H
#define HART_GENERATOR_H

#include <glib.h>
#include <gio/gio.h>
#include "hart/hart.h"
#include "hart/text-encoder.h"

G_BEGIN_DECLS

typedef struct _HartGenerator HartGenerator;

/* A generator of BATCH images a frame (1 … HART_MAX_BATCH) for MODEL (a
 * reference is taken).  Nothing is allocated until the first frame. */
HartGenerator *hart_generator_new (HartModel * model, int batch,
    GError ** error);
void hart_generator_free (HartGenerator * gen);
HartModel *hart_generator_get_model (HartGenerator * gen);
int hart_generator_get_batch (const HartGenerator * gen);

/* The context the next frames are generated from (copied).  It is a new
 * prompt: the held token maps are dropped, so the next frame lays out the
 * new prompt from scratch.  With TRANSITION_FRAMES > 0 and a frame already
 * generated, the next TRANSITION_FRAMES frames blend from the last frame's
 * context to CTX: frame k of the transition (1 … n) is generated from
 * (1 − k/n)·previous + (k/n)·CTX, with CTX's mask and positions (frame n
 * is CTX's own).  Blended frames keep no token maps and are not kept from:
 * holding starts again with frame n.   CTX must fit the model and the
 * generator's batch. */
gboolean hart_generator_set_context (HartGenerator * gen,
    const HartContext * ctx, int transition_frames, GError ** error);

/* hart_generator_set_context with PROMPT encoded by ENCODER (one prompt
 * for every image of the batch), when PROMPT differs from the prompt set
 * last; an unchanged prompt changes nothing.  *CHANGED (may be NULL) tells
 * which.  Fails when the encoder's context does not have the model's shape
 * (context_token × context_dim), naming both. */
gboolean hart_generator_set_prompt (HartGenerator * gen,
    HartTextEncoder * encoder, const char *prompt, int transition_frames,
    GCancellable * cancel, gboolean * changed, GError ** error);

/* The prompt of hart_generator_set_prompt, or NULL (a context was set
 * directly, or nothing yet).  Owned by the generator. */
const char *hart_generator_get_prompt (const HartGenerator * gen);

/* Forgets the held token maps and any transition in progress, and the last
 * frame's context (the next prompt change starts no transition): what a
 * seek or a discontinuity needs.  The context set stays. */
void hart_generator_reset (HartGenerator * gen);

/* The next frame's autoregressive half: its token frame (free with
 * hart_tokens_free).  PARAMS as for hart_model_generate, except:
 * params->reuse must be NULL (the generator holds the maps itself), and
 * params->keep_scales takes the first keep_scales stages from the last
 * frame generated from the same prompt outside a transition (clamped to
 * the model's scales − 1; nothing is held before such a frame exists).
 * Draw files (record/replay) need hart_model_generate. */
HartTokens *hart_generator_next_tokens (HartGenerator * gen,
    const HartGenerateParams * params, GCancellable * cancel,
    GError ** error);

/* The second half: TOKENS (of this model and batch) → images, in the
 * generator's buffers (the decoder works in the idle KV cache). */
HartImage **hart_generator_refine (HartGenerator * gen,
    const HartTokens * tokens, const HartGenerateParams * params,
    GCancellable * cancel, GError ** error);

/* Both halves: the next frame's images, byte for byte what
 * hart_model_generate gives for the same context and settings.  With
 * TOKENS non-NULL the token frame is handed back too. */
HartImage **hart_generator_next_images (HartGenerator * gen,
    const HartGenerateParams * params, HartTokens ** tokens,
    GCancellable * cancel, GError ** error);

/* ---- batches of frames ----
 *
 * A generator of one image a frame can make several successive frames in
 * one engine call (better use of the matrix units, and how a GPU reaches
 * its throughput).  The frames of a batch are byte for byte those the
 * calls above give one by one: frame i draws as FRAMES[i] (what
 * params->frame would be for it), takes its own step of a transition, and
 * keeps the maps it would keep (docs/video.md, "Batches of frames").  */

/* The next frames' token frame: n images (1 … MAX_FRAMES, at most
 * HART_MAX_BATCH), image i being frame i.  Fewer than MAX_FRAMES only with
 * keep_scales > 0, when a frame lays out the prompt (the first after a
 * prompt change or a transition): it ends the batch, since the frames
 * after it keep its maps.  The batch's buffers are the generator's (a
 * second set, sized for n, besides the one-frame set). */
HartTokens *hart_generator_next_token_batch (HartGenerator * gen,
    const HartGenerateParams * params, const guint32 * frames, int max_frames,
    GCancellable * cancel, GError ** error);

/* How many frames hart_generator_next_token_batch (GEN, PARAMS, …,
 * MAX_FRAMES) would make now (1 … MAX_FRAMES): for progress reports before
 * the call. */
int hart_generator_next_batch_length (const HartGenerator * gen,
    const HartGenerateParams * params, int max_frames);

/* The images of a token frame of n successive frames (FRAMES[i] the draws
 * of image i), in the batch's buffers. */
HartImage **hart_generator_refine_batch (HartGenerator * gen,
    const HartTokens * tokens, const HartGenerateParams * params,
    const guint32 * frames, GCancellable * cancel, GError ** error);

/* The memory budget of a model and its text encoder together, before
 * either is loaded: FALSE (HART_ERROR_LIMIT) when the estimate for MODEL_DIR
 * (one image) plus the text encoder in QWEN_DIR, both run in PRECISION on
 * an engine whose memory is the host's when HOST_MEMORY
 * (hart_engine_has_host_memory), exceeds BUDGET_BYTES (0: no budget),
 * naming both and BUDGET_SOURCE.
 * PRECISION is the engine's (hart_engine_get_precision); AUTO, not known
 * without an engine, is estimated as FP32.  As
 * hart_model_check_memory_budget, an estimate that cannot be made refuses
 * nothing: the load that follows reports what is wrong. */
gboolean hart_check_memory_budget_with_text_encoder (const char *model_dir,
    const char *qwen_dir, HartPrecision precision, gboolean host_memory,
    guint64 budget_bytes, const char *budget_source, GError ** error);

G_END_DECLS
#endif /* HART_GENERATOR_H */
