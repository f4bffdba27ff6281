/* gst-hart — libhart public API
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Load once, generate many:
 *
 *   HartEngine *engine = hart_engine_new ("auto", 0, &error);
 *   HartModel *model = hart_model_load (engine, "hart-0.7b-1024px", &error);
 *   HartContext *ctx = hart_context_load ("context.safetensors", &error);
 *   HartGenerateParams params;
 *   hart_generate_params_init (&params);
 *   params.seed = 1;
 *   HartImage **images = hart_model_generate (model, ctx, &params, NULL, &error);
 *
 * The loaded model (read-only, shareable) is separate from the per-call
 * state, so several callers may share one HartModel and generate at the
 * same time.  The calls here make that state for one call; a caller that
 * generates frame after frame keeps it in a HartGenerator
 * (hart/generator.h: buffers allocated once, prompt transitions, held
 * scales).  Every failure a user can cause returns NULL/FALSE with a GError
 * in the HART_ERROR domain (hart/error.h).
 */
#ifndef HART_HART_H
#define HART_HART_H

#include <glib.h>
#include <gio/gio.h>
#include <stdint.h>
#include "hart/config.h"
#include "hart/error.h"
#include "hart/memory.h"
#include "hart/tokens.h"

G_BEGIN_DECLS

/* ---- engine: one compute device ---- */

typedef struct _HartEngine HartEngine;

/* device: "cpu", "cuda" or "auto" (CUDA when a usable GPU is present, else
 * CPU; the choice is logged). */
HartEngine *hart_engine_new (const char *device, int device_id,
    GError ** error);
/* The most CPU threads an engine may be asked for. */
#define HART_MAX_THREADS 1024
/* hart_engine_new () with the number of CPU threads of the engine: the CPU
 * backend's ops run on them, and so do host-side loops (sampling) with any
 * device.  0: every core this process may run on, or HART_NUM_THREADS when
 * that is set in the environment.  The threads wait passively (they sleep
 * between jobs; docs/performance.md, "Threads").  Fails with
 * HART_ERROR_INVALID_ARGUMENT outside [0, HART_MAX_THREADS]. */
HartEngine *hart_engine_new_full (const char *device, int device_id,
    int n_threads, GError ** error);
/* Precision of the model's matrix products (docs/precision.md).  FP32 is
 * the reference: every parity result with the official code holds in it.
 * BF16 holds the linear layers' weights (the text encoder's layer
 * matrices too) in bf16 and multiplies in bf16 with fp32 sums; the
 * attention's two products (q·kᵀ, P·v), the KV cache and the decoder's
 * convolutions (their weights stay fp32 in memory) are bf16 too.  Norms,
 * RoPE, the softmax statistics, sampling and residuals stay fp32.  AUTO
 * picks BF16 where the hardware computes in it (AMX, AVX-512 BF16), else
 * FP32. */
typedef enum
{
  HART_PRECISION_FP32 = 0,
  HART_PRECISION_BF16,
  HART_PRECISION_FP16,
  HART_PRECISION_AUTO,
} HartPrecision;

/* "fp32", "bf16", "fp16", "auto" */
const char *hart_precision_to_string (HartPrecision precision);
/* FALSE (error HART_ERROR_INVALID_ARGUMENT) for an unknown name */
gboolean hart_precision_from_string (const char *name,
    HartPrecision * precision, GError ** error);
/* hart_engine_new_full () in a precision.  A precision the device does not
 * have fails with HART_ERROR_UNSUPPORTED saying why (no oneDNN in this
 * build, no bf16 matmul on this CPU, CUDA not yet); AUTO never fails for
 * that reason. */
HartEngine *hart_engine_new_with_precision (const char *device,
    int device_id, int n_threads, HartPrecision precision, GError ** error);
/* The precision the engine runs: never AUTO. */
HartPrecision hart_engine_get_precision (const HartEngine * engine);
/* What computes the products, for logs and benchmarks: "fp32 (CBLAS)" or
 * e.g. "bf16 (oneDNN 2.6.3 brg:avx512_core_amx_bf16)". */
const char *hart_engine_get_precision_impl (const HartEngine * engine);
HartEngine *hart_engine_ref (HartEngine * engine);
void hart_engine_unref (HartEngine * engine);
/* "cpu" or "cuda:N" */
const char *hart_engine_get_device (const HartEngine * engine);
/* TRUE when the engine's memory is the host's (the CPU backend): weights
 * stored in its type can be read in place from a mapped file (the memory
 * estimates ask it: hart/memory.h). */
gboolean hart_engine_has_host_memory (const HartEngine * engine);
/* The engine's CPU threads (>= 1), 0 resolved to a number. */
int hart_engine_get_n_threads (const HartEngine * engine);

/* Where a generation's time goes, op by op (`hart bench --ops`;
 * docs/performance.md, "Where the time goes"). */
typedef struct
{
  const char *op;               /* the backend op: "linear_half", "conv2d", … */
  guint64 calls;
  double seconds;               /* wall time inside the op, summed */
  /* Nominal floating-point operations of the products (gemm, linear,
   * attention, convolution; a multiply-add is 2, attention counts masked
   * keys too); 0 for every other op. */
  double flops;
} HartOpTime;
/* From now on, times every op the engine's backend runs.  The results are
 * the same bits; a CPU run is as fast (two clock reads per op), a GPU is
 * synchronised after each op (its time is then the op's own, and the run
 * slower).  Call it while nothing runs on the engine; it cannot be turned
 * off. */
void hart_engine_time_ops (HartEngine * engine);
/* The totals since hart_engine_time_ops (), one entry per op of the
 * backend op table, called or not, in a fixed order, then one per kind of
 * host work between the ops ("(host) sampling", "(host) diffusion steps":
 * op NULL never; flops 0), into TIMES [n_times];
 * returns how many entries there are (fills at most n_times), 0 when the
 * engine's ops are not timed.  Callable while a generation runs: from its
 * progress callback the totals are exact (its ops run on that thread);
 * from another thread an op that ends meanwhile may be half counted. */
int hart_engine_get_op_times (const HartEngine * engine, HartOpTime * times,
    int n_times);

/* ---- text context (context file: docs/algorithm.md §11.1) ---- */

typedef struct
{
  int batch;                    /* B */
  int tokens;                   /* T */
  int dim;                      /* D */
  float *data;                  /* [B, T, D] */
  uint8_t *mask;                /* [B, T] */
  int32_t *positions;           /* [B, T]: cumsum(mask) − 1 */
} HartContext;

/* Reads context_tensor f32 [B, T, D] and, when present, context_mask bool
 * [B, T] and context_position_ids i64 [B, T] (else mask = 1, positions =
 * 0 … T−1). */
HartContext *hart_context_load (const char *path, GError ** error);
HartContext *hart_context_new (int batch, int tokens, int dim);
gboolean hart_context_save (const HartContext * ctx, const char *path,
    GError ** error);
void hart_context_free (HartContext * ctx);

/* ---- generation parameters ---- */

/* Classifier-free guidance of the official sampler (hart_generate_params_init,
 * the CLI's --cfg, hartsrc's cfg-scale) and the largest one accepted. */
#define HART_DEFAULT_CFG 4.5
#define HART_MAX_CFG 100.0
/* The most prompts (images) in one generation: a context file, a context
 * passed to hart_model_generate and a token frame are refused beyond it. */
#define HART_MAX_BATCH 64

typedef void (*HartProgressFunc) (int stage, int n_stages, const char *what,
    gpointer user_data);

typedef struct
{
  guint64 seed;                 /* keys every random draw */
  guint32 frame;                /* frame index (video): keys the draws too */
  double cfg;                   /* guidance, 0 … HART_MAX_CFG (HART_DEFAULT_CFG) */
  gboolean smooth;              /* Gumbel "more_smooth" path (official default TRUE) */
  int top_k;                    /* 0: official schedule (600 / 300 from stage 7) */
  double top_p;                 /* 0 … 1; 0: off (1 drops only p = 0) */
  const char *record_draws;     /* write every draw to this file, or NULL */
  const char *replay_draws;     /* take every draw from this file, or NULL */
  /* Video: reuse the token maps of the first keep_scales stages of a
   * previous frame (same model, same batch), generate the rest. */
  const HartTokens *reuse;
  int keep_scales;
  HartProgressFunc progress;
  gpointer progress_data;
} HartGenerateParams;

void hart_generate_params_init (HartGenerateParams * params);

/* ---- images ---- */

typedef struct
{
  int width, height;
  int stride;                   /* bytes per row */
  guint8 *rgb;                  /* packed RGB, 3 bytes per pixel */
} HartImage;

void hart_image_free (HartImage * image);
void hart_images_free (HartImage ** images);    /* NULL-terminated */

/* ---- model ---- */

typedef struct _HartModel HartModel;

/* Loads a HART release folder: `dir` is hart-0.7b-1024px (holding llm/ and
 * tokenizer/) or its llm/ folder.  Transformer weights come from
 * llm/ema_model.bin when present (as the official sampler does), else from
 * llm/model.safetensors; use_ema = FALSE forces the latter. */
HartModel *hart_model_load (HartEngine * engine, const char *dir,
    gboolean use_ema, GError ** error);
/* As hart_model_load, but refuses (HART_ERROR_LIMIT, before any weight is
 * allocated) when the memory estimate for one image in the engine's
 * precision (hart_model_estimate_memory) exceeds BUDGET_BYTES;
 * 0 takes the budget from $HART_MEMORY_BUDGET ("4G", "512M", bytes; "0"
 * for none; an invalid value is an error) or, when it is unset, from the
 * machine's memory (hart_memory_machine_bytes).  hart_model_load is this
 * with 0. */
HartModel *hart_model_load_with_budget (HartEngine * engine, const char *dir,
    gboolean use_ema, guint64 budget_bytes, GError ** error);

/* What loading DIR and generating BATCH images at its resolution needs
 * on an engine of PRECISION (hart/memory.h gives the formula), from
 * config.json and the checkpoint headers only: no weight is read.  In
 * BF16 or FP16 the weight matrices held in 16 bits and the KV cache count
 * 2 bytes an element.  PRECISION should be the engine's
 * (hart_engine_get_precision, never AUTO); AUTO, whose choice only an
 * engine knows, is estimated as FP32, the larger. */
gboolean hart_model_estimate_memory (const char *dir, gboolean use_ema,
    int batch, HartPrecision precision, HartMemoryEstimate * estimate,
    GError ** error);
/* TRUE when BUDGET_BYTES is 0 or the estimate in PRECISION (as
 * hart_model_estimate_memory) fits it; else FALSE with HART_ERROR_LIMIT:
 * "model DIR needs about N MiB at WxH but the memory budget
 * (BUDGET_SOURCE) is M MiB (…)".  BUDGET_SOURCE may be NULL.  When no
 * estimate can be made (a missing or broken file) it returns TRUE: the
 * load that follows reports what is wrong, so FALSE always means "over
 * budget". */
gboolean hart_model_check_memory_budget (const char *dir, gboolean use_ema,
    int batch, HartPrecision precision, guint64 budget_bytes,
    const char *budget_source, GError ** error);
HartModel *hart_model_ref (HartModel * model);
void hart_model_unref (HartModel * model);

const HartTransformerConfig *hart_model_get_transformer_config (const
    HartModel * model);
const HartAutoencoderConfig *hart_model_get_autoencoder_config (const
    HartModel * model);
int hart_model_get_width (const HartModel * model);
int hart_model_get_height (const HartModel * model);
/* Hex digest of the configs and codebook: identifies token frames. */
const char *hart_model_get_fingerprint (const HartModel * model);

/* As hart_context_load, for MODEL: a context whose [T, D] is not the
 * model's is refused from the file's header, before anything of its size
 * is allocated (use this one for files from elsewhere). */
HartContext *hart_model_load_context (const HartModel * model,
    const char *path, GError ** error);

/* Whole generation: context → images (NULL-terminated array of B images). */
HartImage **hart_model_generate (HartModel * model, const HartContext * ctx,
    const HartGenerateParams * params, GCancellable * cancel,
    GError ** error);

/* The two halves of hart_model_generate, for split pipelines: the
 * autoregressive stage (→ token frame) and the refinement (residual
 * diffusion + decoder → images).  Draws come from the Philox streams of
 * params->seed / params->frame (record/replay files need the whole
 * generation: they are refused here). */
HartTokens *hart_model_generate_tokens (HartModel * model,
    const HartContext * ctx, const HartGenerateParams * params,
    GCancellable * cancel, GError ** error);
HartImage **hart_model_refine (HartModel * model, const HartTokens * tokens,
    const HartGenerateParams * params, GCancellable * cancel,
    GError ** error);

G_END_DECLS
#endif /* HART_HART_H */
