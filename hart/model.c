/* gst-hart — engine, model loading and whole-image generation
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The order of work follows spec §6: stages 0 … SN−2 (transformer, guided
 * sampling, latent update), the last stage (transformer, sampling, diffusion
 * condition), the residual diffusion, then the decoder.
 */
#include "hart.h"
#include "engine-private.h"
#include "checkpoint.h"
#include "decoder.h"
#include "diffusion.h"
#include "draws.h"
#include "latent.h"
#include "sampler.h"
#include "transformer.h"
#include "safetensors-write.h"
#include "memory.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* engine                                                              */

struct _HartEngine
{
  gint ref_count;
  HartBackend *be;
  char *device;
};

HartEngine *
hart_engine_new (const char *device, int device_id, GError ** error)
{
  HartEngine *engine;
  HartBackend *be = NULL;
  char *name;

  if (device == NULL || strcmp (device, "auto") == 0) {
    GError *local = NULL;
    if (hart_backend_is_compiled ("cuda"))
      be = hart_backend_new ("cuda", device_id, 0, &local);
    if (be == NULL) {
      g_debug ("device auto: using the CPU (%s)",
          local ? local->message : "CUDA backend not compiled");
      g_clear_error (&local);
      be = hart_backend_new ("cpu", 0, 0, error);
    } else {
      g_debug ("device auto: using CUDA device %d", device_id);
    }
  } else if (strcmp (device, "cpu") == 0 || strcmp (device, "cuda") == 0) {
    be = hart_backend_new (device, device_id, 0, error);
  } else {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "unknown device \"%s\" (expected \"auto\", \"cpu\" or \"cuda\")",
        device);
  }
  if (be == NULL)
    return NULL;

  if (strcmp (be->ops->name, "cpu") == 0)
    name = g_strdup ("cpu");
  else
    name = g_strdup_printf ("%s:%d", be->ops->name, be->device_id);
  engine = g_new0 (HartEngine, 1);
  engine->ref_count = 1;
  engine->be = be;
  engine->device = name;
  return engine;
}

HartEngine *
hart_engine_ref (HartEngine * engine)
{
  g_atomic_int_inc (&engine->ref_count);
  return engine;
}

void
hart_engine_unref (HartEngine * engine)
{
  if (engine == NULL || !g_atomic_int_dec_and_test (&engine->ref_count))
    return;
  hart_backend_free (engine->be);
  g_free (engine->device);
  g_free (engine);
}

const char *
hart_engine_get_device (const HartEngine * engine)
{
  return engine->device;
}

HartBackend *
hart_engine_get_backend (HartEngine * engine)
{
  return engine->be;
}

/* ------------------------------------------------------------------ */
/* context                                                             */

HartContext *
hart_context_new (int batch, int tokens, int dim)
{
  HartContext *ctx = g_new0 (HartContext, 1);
  ctx->batch = batch;
  ctx->tokens = tokens;
  ctx->dim = dim;
  ctx->data = g_new0 (float, (gsize) batch * tokens * dim);
  ctx->mask = g_new (uint8_t, (gsize) batch * tokens);
  ctx->positions = g_new (int32_t, (gsize) batch * tokens);
  for (int b = 0; b < batch; b++) {
    for (int t = 0; t < tokens; t++) {
      ctx->mask[b * tokens + t] = 1;
      ctx->positions[b * tokens + t] = t;
    }
  }
  return ctx;
}

void
hart_context_free (HartContext * ctx)
{
  if (ctx == NULL)
    return;
  g_free (ctx->data);
  g_free (ctx->mask);
  g_free (ctx->positions);
  g_free (ctx);
}

/* The largest context a file may ask for: 64 prompts of the release's
 * [300, 1536] are 29.5 M values; a header may claim any shape (a sparse
 * file passes the size checks), so the bound comes before the allocation. */
#define CONTEXT_MAX_VALUES (G_GUINT64_CONSTANT (1) << 26)

/* Reads a context file; when TOKENS > 0 its shape must be [B, TOKENS, DIM]
 * (a model's context_token, context_dim), checked before any buffer of
 * that shape exists. */
static HartContext *
context_load (const char *path, int tokens, int dim, GError ** error)
{
  HartCheckpoint *ckpt = hart_checkpoint_open (path, error);
  const HartTensorInfo *t, *m, *p;
  HartContext *ctx = NULL;
  float *tmp = NULL;
  gsize n;

  if (ckpt == NULL)
    return NULL;
  t = hart_checkpoint_lookup (ckpt, "context_tensor");
  if (t == NULL || t->ndim != 3 || t->shape[0] < 1 || t->shape[0] > 64
      || t->shape[1] < 1 || t->shape[1] > 4096 || t->shape[2] < 1
      || t->shape[2] > 65536) {
    char buf[128] = "absent";
    if (t)
      hart_shape_to_string (t->ndim, t->shape, buf, sizeof buf);
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "%s: expected a tensor \"context_tensor\" [B ≤ 64, T, D], found %s",
        path, buf);
    goto out;
  }
  if (tokens > 0 && (t->shape[1] != tokens || t->shape[2] != dim)) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "%s: context is [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %"
        G_GINT64_FORMAT "] but the model expects [B, %d, %d]", path,
        t->shape[0], t->shape[1], t->shape[2], tokens, dim);
    goto out;
  }
  if ((guint64) t->shape[0] * (guint64) t->shape[1] * (guint64) t->shape[2]
      > CONTEXT_MAX_VALUES) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "%s: context [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %"
        G_GINT64_FORMAT "] holds more than %" G_GUINT64_FORMAT " values",
        path, t->shape[0], t->shape[1], t->shape[2], CONTEXT_MAX_VALUES);
    goto out;
  }
  ctx = hart_context_new ((int) t->shape[0], (int) t->shape[1],
      (int) t->shape[2]);
  n = (gsize) ctx->batch * ctx->tokens;
  if (!hart_checkpoint_read_f32 (ckpt, "context_tensor", 3, t->shape,
          ctx->data, error)
      || !hart_check_finite (ctx->data, n * ctx->dim, error,
          HART_ERROR_FORMAT, "%s: tensor \"context_tensor\"", path))
    goto fail;
  tmp = g_new (float, n);
  m = hart_checkpoint_lookup (ckpt, "context_mask");
  if (m) {
    /* NaN != 0 would silently read as "attend" */
    if (!hart_checkpoint_read_f32 (ckpt, "context_mask", 2, t->shape, tmp,
            error)
        || !hart_check_finite (tmp, n, error, HART_ERROR_FORMAT,
            "%s: tensor \"context_mask\"", path))
      goto fail;
    for (gsize i = 0; i < n; i++)
      ctx->mask[i] = tmp[i] != 0.0f;
  }
  p = hart_checkpoint_lookup (ckpt, "context_position_ids");
  if (p) {
    if (!hart_checkpoint_read_f32 (ckpt, "context_position_ids", 2, t->shape,
            tmp, error))
      goto fail;
    for (gsize i = 0; i < n; i++) {
      if (!(tmp[i] >= 0.0f && tmp[i] < (float) ctx->tokens)) {
        g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
            "%s: context_position_ids[%" G_GSIZE_FORMAT "] = %g is outside "
            "[0, %d)", path, i, tmp[i], ctx->tokens);
        goto fail;
      }
      ctx->positions[i] = (int32_t) tmp[i];
    }
  } else if (m) {
    /* right padding: positions = cumsum(mask) − 1, clamped at 0 */
    for (int b = 0; b < ctx->batch; b++) {
      int sum = 0;
      for (int j = 0; j < ctx->tokens; j++) {
        sum += ctx->mask[b * ctx->tokens + j];
        ctx->positions[b * ctx->tokens + j] = MAX (sum - 1, 0);
      }
    }
  }
  goto out;

fail:
  hart_context_free (ctx);
  ctx = NULL;
out:
  g_free (tmp);
  hart_checkpoint_free (ckpt);
  return ctx;
}

HartContext *
hart_context_load (const char *path, GError ** error)
{
  return context_load (path, 0, 0, error);
}

HartContext *
hart_model_load_context (const HartModel * model, const char *path,
    GError ** error)
{
  const HartTransformerConfig *t;

  g_return_val_if_fail (model != NULL, NULL);
  t = hart_model_get_transformer_config (model);
  return context_load (path, t->context_token, t->context_dim, error);
}

gboolean
hart_context_save (const HartContext * ctx, const char *path, GError ** error)
{
  HartSafetensorsWriter *w = hart_safetensors_writer_new ();
  const gsize n = (gsize) ctx->batch * ctx->tokens;
  int64_t *positions = g_new (int64_t, n);
  gboolean ok;

  for (gsize i = 0; i < n; i++)
    positions[i] = ctx->positions[i];
  hart_safetensors_writer_add (w, "context_tensor", HART_DTYPE_F32, 3,
      HART_SHAPE (ctx->batch, ctx->tokens, ctx->dim), ctx->data);
  hart_safetensors_writer_add (w, "context_mask", HART_DTYPE_BOOL, 2,
      HART_SHAPE (ctx->batch, ctx->tokens), ctx->mask);
  hart_safetensors_writer_add (w, "context_position_ids", HART_DTYPE_I64, 2,
      HART_SHAPE (ctx->batch, ctx->tokens), positions);
  ok = hart_safetensors_writer_save (w, path, error);
  hart_safetensors_writer_free (w);
  g_free (positions);
  return ok;
}

/* ------------------------------------------------------------------ */
/* images and parameters                                               */

void
hart_generate_params_init (HartGenerateParams * params)
{
  memset (params, 0, sizeof *params);
  params->seed = 1;
  params->cfg = 4.5;
  params->smooth = TRUE;
}

void
hart_image_free (HartImage * image)
{
  if (image == NULL)
    return;
  g_free (image->rgb);
  g_free (image);
}

void
hart_images_free (HartImage ** images)
{
  if (images == NULL)
    return;
  for (int i = 0; images[i]; i++)
    hart_image_free (images[i]);
  g_free (images);
}

/* ------------------------------------------------------------------ */
/* model                                                               */

struct _HartModel
{
  gint ref_count;
  GMutex lock;                  /* one generation at a time */
  HartEngine *engine;
  HartTransformerConfig tcfg;
  HartAutoencoderConfig acfg;
  HartCheckpoint *llm_ckpt, *tok_ckpt;
  HartTransformer *transformer;
  HartDiffusion *diffusion;
  HartLatent *latent;
  HartDecoder *decoder;
  char fingerprint[65];
};

/* TRUE when the relative PATH, taken inside llm/, stays inside the release
 * folder (llm/..): no absolute path, no ".." that climbs above it. */
static gboolean
vae_path_stays_inside (const char *path)
{
  char **parts;
  int depth = 1;                /* inside llm/ */
  gboolean inside = TRUE;

  if (g_path_is_absolute (path) || path[0] == '~')
    return FALSE;
  parts = g_strsplit_set (path, "/\\", -1);
  for (int i = 0; parts[i] && inside; i++) {
    if (strcmp (parts[i], "..") == 0)
      inside = --depth >= 0;
    else if (parts[i][0] != '\0' && strcmp (parts[i], ".") != 0)
      depth++;
  }
  g_strfreev (parts);
  return inside;
}

/* The tokenizer folder beside llm/, or the one vae_path names.  A vae_path
 * that leaves the release folder is refused: a model folder must not make
 * the engine read files elsewhere on the machine (docs/robustness.md). */
static char *
find_tokenizer_dir (const char *llm_dir, const char *cfg_path,
    const char *vae_path, GError ** error)
{
  if (vae_path) {
    char *candidate;

    if (!vae_path_stays_inside (vae_path)) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORBIDDEN,
          "%s: field \"vae_path\" is \"%s\", which leaves the model folder; "
          "only a relative path inside it is followed (or null: "
          "../tokenizer)", cfg_path, vae_path);
      return NULL;
    }
    candidate = g_build_filename (llm_dir, vae_path, NULL);
    if (g_file_test (candidate, G_FILE_TEST_IS_DIR))
      return candidate;
    g_debug ("vae_path \"%s\" is not a folder here; using ../tokenizer",
        vae_path);
    g_free (candidate);
  }
  return g_build_filename (llm_dir, "..", "tokenizer", NULL);
}

/* The transformer generates the scales of its patch_nums; the autoencoder's
 * quantizer (Φ choice, upsampling) was trained on its v_patch_nums.  A
 * folder whose two lists differ would load and draw garbage. */
static gboolean
check_scales_agree (const char *llm_cfg, const HartTransformerConfig * t,
    const char *tok_cfg, const HartAutoencoderConfig * a, GError ** error)
{
  GString *tl, *al;

  if (a->n_v_scales == 0)       /* absent: nothing to compare */
    return TRUE;
  if (a->n_v_scales == t->n_scales
      && memcmp (a->v_patch_nums, t->patch_nums,
          sizeof (int) * t->n_scales) == 0)
    return TRUE;
  tl = g_string_new (NULL);
  al = g_string_new (NULL);
  for (int s = 0; s < t->n_scales; s++)
    g_string_append_printf (tl, "%s%d", s ? ", " : "", t->patch_nums[s]);
  for (int s = 0; s < a->n_v_scales; s++)
    g_string_append_printf (al, "%s%d", s ? ", " : "", a->v_patch_nums[s]);
  g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
      "%s: \"patch_nums\" [%s] differ from \"v_patch_nums\" [%s] of %s: "
      "the transformer and the autoencoder come from different models",
      llm_cfg, tl->str, al->str, tok_cfg);
  g_string_free (tl, TRUE);
  g_string_free (al, TRUE);
  return FALSE;
}

/* A checkpoint holding more blocks than config "depth" says is another
 * model (or a damaged config): the extra blocks would be silently ignored.
 * Fewer blocks are caught when a tensor is missing. */
static gboolean
check_no_extra_blocks (const HartCheckpoint * ckpt, const char *prefix,
    int depth, const char *field, GError ** error)
{
  const gsize n_prefix = strlen (prefix);

  for (guint i = 0; i < hart_checkpoint_n_tensors (ckpt); i++) {
    const char *name = hart_checkpoint_tensor (ckpt, i)->name;
    guint64 block;
    char *end;

    if (strncmp (name, prefix, n_prefix) != 0
        || !g_ascii_isdigit (name[n_prefix]))
      continue;
    block = g_ascii_strtoull (name + n_prefix, &end, 10);
    if (*end == '.' && block >= (guint64) depth) {
      g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
          "%s: holds tensor \"%s\" but config \"%s\" is %d (blocks 0 to "
          "%d): the config and the weights come from different models",
          hart_checkpoint_get_path (ckpt), name, field, depth, depth - 1);
      return FALSE;
    }
  }
  return TRUE;
}

static void
compute_fingerprint (HartModel * model)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  const HartLatent *lat = model->latent;

  g_checksum_update (sum, (const guchar *) &model->tcfg.embed_dim,
      sizeof (int));
  g_checksum_update (sum, (const guchar *) model->tcfg.patch_nums,
      sizeof (int) * model->tcfg.n_scales);
  g_checksum_update (sum, (const guchar *) &model->acfg.vocab_size,
      sizeof (int));
  g_checksum_update (sum, (const guchar *) &model->acfg.z_channels,
      sizeof (int));
  g_checksum_update (sum, (const guchar *) lat->codebook,
      (gssize) ((gsize) lat->vocab * lat->channels * sizeof (float)));
  g_strlcpy (model->fingerprint, g_checksum_get_string (sum),
      sizeof model->fingerprint);
  g_checksum_free (sum);
}

/* The files of a release folder, as hart_model_load reads them. */
typedef struct
{
  HartTransformerConfig tcfg;
  HartAutoencoderConfig acfg;
  char *llm_weights;            /* transformer + diffusion checkpoint */
  char *tok_weights;            /* autoencoder checkpoint */
} ModelFiles;

static void
model_files_clear (ModelFiles * files)
{
  hart_transformer_config_clear (&files->tcfg);
  g_free (files->llm_weights);
  g_free (files->tok_weights);
  memset (files, 0, sizeof *files);
}

/* Reads both configs of DIR (hart-0.7b-1024px or its llm/) and finds both
 * weights files: llm/ema_model.bin when present and USE_EMA (as the
 * official sampler does), else llm's model.safetensors; the tokenizer
 * folder beside llm/ or the one vae_path names. */
static gboolean
model_files_resolve (const char *dir, gboolean use_ema, ModelFiles * files,
    GError ** error)
{
  char *llm_dir = NULL, *tok_dir = NULL, *cfg_path = NULL;
  char *tok_cfg_path = NULL;
  gboolean ok = FALSE;

  memset (files, 0, sizeof *files);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
        "%s: no such model folder (expected hart-0.7b-1024px or its llm/)",
        dir);
    return FALSE;
  }
  llm_dir = g_build_filename (dir, "llm", NULL);
  if (!g_file_test (llm_dir, G_FILE_TEST_IS_DIR)) {
    g_free (llm_dir);
    llm_dir = g_strdup (dir);
  }
  cfg_path = g_build_filename (llm_dir, "config.json", NULL);
  if (!hart_transformer_config_load (cfg_path, &files->tcfg, error))
    goto out;
  tok_dir = find_tokenizer_dir (llm_dir, cfg_path, files->tcfg.vae_path, error);
  if (tok_dir == NULL)
    goto out;
  tok_cfg_path = g_build_filename (tok_dir, "config.json", NULL);
  if (!hart_autoencoder_config_load (tok_cfg_path, &files->acfg, error)
      || !check_scales_agree (cfg_path, &files->tcfg, tok_cfg_path,
          &files->acfg, error))
    goto out;

  files->llm_weights = g_build_filename (llm_dir, "ema_model.bin", NULL);
  if (!use_ema || !g_file_test (files->llm_weights, G_FILE_TEST_EXISTS)) {
    gboolean has_ema = g_file_test (files->llm_weights, G_FILE_TEST_EXISTS);
    GError *find_error = NULL;

    g_free (files->llm_weights);
    files->llm_weights = hart_checkpoint_find_in_dir (llm_dir, &find_error);
    if (files->llm_weights == NULL) {
      /* use_ema = FALSE on a folder with only the EMA weights (the bundled
       * model ships one copy of the transformer): say so, do not fall back
       * to other weights than the ones asked for */
      if (has_ema && g_error_matches (find_error, HART_ERROR,
              HART_ERROR_NOT_FOUND)) {
        g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
            "%s; the folder holds only the EMA weights (ema_model.bin): "
            "the raw weights that --no-ema asks for are not there",
            find_error->message);
        g_error_free (find_error);
      } else {
        g_propagate_error (error, find_error);
      }
      goto out;
    }
  }
  if (!(files->tok_weights = hart_checkpoint_find_in_dir (tok_dir, error)))
    goto out;
  ok = TRUE;

out:
  if (!ok)
    model_files_clear (files);
  g_free (llm_dir);
  g_free (tok_dir);
  g_free (cfg_path);
  g_free (tok_cfg_path);
  return ok;
}

/* Tensors of the tokenizer checkpoint that the model keeps: the decoder
 * half of the autoencoder (the encoder is never used). */
static const char *const kept_autoencoder_prefixes[] = {
  "vae.decoder.", "vae.post_quant_conv.", "vae.quantize.", NULL
};

/* hart/memory.h: weights from the checkpoint headers, buffers from the
 * configs. */
static void
estimate_memory (const ModelFiles * files, const HartCheckpoint * llm_ckpt,
    const HartCheckpoint * tok_ckpt, int batch, HartMemoryEstimate * est)
{
  const HartTransformerConfig *t = &files->tcfg;

  memset (est, 0, sizeof *est);
  est->batch = MAX (batch, 1);
  est->context_tokens = t->context_token;
  est->width = est->height = t->patch_nums[t->n_scales - 1] *
      files->acfg.downsample;
  /* + what the loaders derive: the fused QKV biases, the level
   * embeddings, the diffusion head's per-step time embeddings */
  est->weight_bytes = hart_memory_checkpoint_bytes (llm_ckpt, NULL)
      + hart_memory_checkpoint_bytes (tok_ckpt, kept_autoencoder_prefixes)
      + 4 * ((guint64) t->depth * 3 * t->embed_dim
      + (guint64) t->n_scales * t->embed_dim
      + (guint64) t->num_sampling_steps * t->diff_width);
  est->generation_bytes = hart_memory_generation_bytes (t, &files->acfg,
      est->batch);
  est->total_bytes = est->weight_bytes + est->generation_bytes;
}

gboolean
hart_model_estimate_memory (const char *dir, gboolean use_ema, int batch,
    HartMemoryEstimate * estimate, GError ** error)
{
  ModelFiles files;
  HartCheckpoint *llm_ckpt = NULL, *tok_ckpt = NULL;
  gboolean ok = FALSE;

  if (!model_files_resolve (dir, use_ema, &files, error))
    return FALSE;
  if ((llm_ckpt = hart_checkpoint_open (files.llm_weights, error))
      && (tok_ckpt = hart_checkpoint_open (files.tok_weights, error))) {
    estimate_memory (&files, llm_ckpt, tok_ckpt, batch, estimate);
    ok = TRUE;
  }
  hart_checkpoint_free (llm_ckpt);
  hart_checkpoint_free (tok_ckpt);
  model_files_clear (&files);
  return ok;
}

/* FALSE with "model DIR needs about … MiB at WxH but the memory budget …"
 * when EST exceeds BUDGET_BYTES (0: no budget). */
static gboolean
check_estimate (const char *dir, const HartMemoryEstimate * est,
    guint64 budget_bytes, const char *budget_source, GError ** error)
{
  char *what, *resolution, *detail;
  gboolean ok;

  if (budget_bytes == 0)
    return TRUE;
  what = g_strdup_printf ("model %s", dir);
  resolution = g_strdup_printf ("%dx%d", est->width, est->height);
  detail = g_strdup_printf ("weights %" G_GUINT64_FORMAT " MiB + generation "
      "buffers %" G_GUINT64_FORMAT " MiB", (est->weight_bytes + (1 << 19))
      >> 20, (est->generation_bytes + (1 << 19)) >> 20);
  ok = hart_memory_check_budget (what, resolution, est->total_bytes, detail,
      budget_bytes, budget_source, error);
  g_free (what);
  g_free (resolution);
  g_free (detail);
  return ok;
}

gboolean
hart_model_check_memory_budget (const char *dir, gboolean use_ema,
    int batch, guint64 budget_bytes, const char *budget_source, GError ** error)
{
  HartMemoryEstimate est;

  /* no estimate, no refusal: the load will say what is wrong */
  if (budget_bytes == 0
      || !hart_model_estimate_memory (dir, use_ema, batch, &est, NULL))
    return TRUE;
  return check_estimate (dir, &est, budget_bytes, budget_source, error);
}

HartModel *
hart_model_load (HartEngine * engine, const char *dir, gboolean use_ema,
    GError ** error)
{
  return hart_model_load_with_budget (engine, dir, use_ema, 0, error);
}

HartModel *
hart_model_load_with_budget (HartEngine * engine, const char *dir,
    gboolean use_ema, guint64 budget_bytes, GError ** error)
{
  HartModel *model = g_new0 (HartModel, 1);
  HartBackend *be = engine->be;
  ModelFiles files = { 0 };
  const char *budget_source = NULL;
  int P;

  model->ref_count = 1;
  g_mutex_init (&model->lock);
  model->engine = hart_engine_ref (engine);

  if (budget_bytes == 0) {
    const char *env = g_getenv (HART_MEMORY_BUDGET_ENV);

    if (env != NULL && env[0] != '\0') {
      /* set: its value rules, "0" meaning no budget at all */
      if (!hart_memory_budget_from_env (&budget_bytes, error))
        goto fail;
      budget_source = HART_MEMORY_BUDGET_ENV;
    } else {
      /* unset: what the machine has, so that a config whose scales cannot
       * fit is refused with its estimate instead of exhausting memory */
      budget_bytes = hart_memory_machine_bytes ();
      budget_source = "the machine's memory; set " HART_MEMORY_BUDGET_ENV
          " to change it";
    }
  }
  if (!model_files_resolve (dir, use_ema, &files, error))
    goto fail;
  model->tcfg = files.tcfg;
  files.tcfg.vae_path = NULL;   /* owned by model->tcfg now */
  model->acfg = files.acfg;

  g_debug ("transformer weights: %s", files.llm_weights);
  if (!(model->llm_ckpt = hart_checkpoint_open (files.llm_weights, error))
      || !(model->tok_ckpt = hart_checkpoint_open (files.tok_weights, error)))
    goto fail;

  /* Refuse before the first weight is allocated. */
  if (budget_bytes > 0) {
    HartMemoryEstimate est;
    estimate_memory (&files, model->llm_ckpt, model->tok_ckpt, 1, &est);
    if (!check_estimate (dir, &est, budget_bytes, budget_source, error))
      goto fail;
  }

  P = model->tcfg.patch_nums[model->tcfg.n_scales - 1];
  if (!(model->transformer = hart_transformer_load (be, model->llm_ckpt,
              &model->tcfg, model->acfg.vocab_size, model->acfg.z_channels,
              error))
      || !(model->diffusion = hart_diffusion_load (be, model->llm_ckpt,
              &model->tcfg, model->acfg.z_channels, error))
      || !(model->latent = hart_latent_load (be, model->tok_ckpt,
              &model->acfg, P, error))
      || !(model->decoder = hart_decoder_load (be, model->tok_ckpt,
              &model->acfg, error)))
    goto fail;
  /* after the loads, so that a narrower model's weights are named by the
   * first tensor whose shape differs */
  if (!check_no_extra_blocks (model->llm_ckpt, "blocks.", model->tcfg.depth,
          "depth", error)
      || !check_no_extra_blocks (model->llm_ckpt, "diffloss.net.res_blocks.",
          model->tcfg.diff_depth, "diff_depth", error))
    goto fail;
  compute_fingerprint (model);

  /* Everything is on the device now; the files can go. */
  g_clear_pointer (&model->llm_ckpt, hart_checkpoint_free);
  g_clear_pointer (&model->tok_ckpt, hart_checkpoint_free);
  model_files_clear (&files);
  return model;

fail:
  model_files_clear (&files);
  hart_model_unref (model);
  return NULL;
}

HartModel *
hart_model_ref (HartModel * model)
{
  g_atomic_int_inc (&model->ref_count);
  return model;
}

void
hart_model_unref (HartModel * model)
{
  if (model == NULL || !g_atomic_int_dec_and_test (&model->ref_count))
    return;
  hart_transformer_free (model->transformer);
  hart_diffusion_free (model->diffusion);
  hart_latent_free (model->latent);
  hart_decoder_free (model->decoder);
  hart_checkpoint_free (model->llm_ckpt);
  hart_checkpoint_free (model->tok_ckpt);
  hart_transformer_config_clear (&model->tcfg);
  hart_engine_unref (model->engine);
  g_mutex_clear (&model->lock);
  g_free (model);
}

const HartTransformerConfig *
hart_model_get_transformer_config (const HartModel * model)
{
  return &model->tcfg;
}

const HartAutoencoderConfig *
hart_model_get_autoencoder_config (const HartModel * model)
{
  return &model->acfg;
}

int
hart_model_get_width (const HartModel * model)
{
  return model->tcfg.patch_nums[model->tcfg.n_scales - 1] *
      model->acfg.downsample;
}

int
hart_model_get_height (const HartModel * model)
{
  return hart_model_get_width (model);
}

const char *
hart_model_get_fingerprint (const HartModel * model)
{
  return model->fingerprint;
}

/* ------------------------------------------------------------------ */
/* generation                                                          */

typedef struct
{
  HartBackend *be;
  GPtrArray *dev;               /* device buffers to free */
  GPtrArray *host;              /* host buffers to free */
} Scratch;

static float *
scratch_dev (Scratch * s, gsize n, GError ** error)
{
  float *p = s->be->ops->alloc (s->be, n * sizeof (float), error);
  if (p) {
    s->be->ops->fill (s->be, p, 0.0f, n);
    g_ptr_array_add (s->dev, p);
  }
  return p;
}

static gpointer
scratch_host (Scratch * s, gsize bytes, GError ** error)
{
  gpointer p = g_try_malloc0 (bytes);
  if (p == NULL)
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "out of memory (%" G_GSIZE_FORMAT " bytes of host scratch)", bytes);
  else
    g_ptr_array_add (s->host, p);
  return p;
}

static void
scratch_free (Scratch * s)
{
  for (guint i = 0; i < s->dev->len; i++)
    s->be->ops->free (s->be, g_ptr_array_index (s->dev, i));
  g_ptr_array_free (s->dev, TRUE);
  g_ptr_array_set_free_func (s->host, g_free);
  g_ptr_array_free (s->host, TRUE);
}

static void
progress (const HartGenerateParams * params, int stage, int n, const char *what)
{
  if (params->progress)
    params->progress (stage, n, what, params->progress_data);
}

/* [B, l, Cv] token-major → [B, Cv, l] channel-major */
static void
tokens_to_nchw (const float *src, float *dst, int batch, int l, int Cv)
{
  for (int b = 0; b < batch; b++)
    for (int t = 0; t < l; t++)
      for (int c = 0; c < Cv; c++)
        dst[((gsize) b * Cv + c) * l + t] = src[((gsize) b * l + t) * Cv + c];
}

static HartImage **
images_from_device (HartBackend * be, const float *img, int batch, int W,
    int H, GError ** error)
{
  const gsize plane = (gsize) W * H;
  float *host = g_try_new (float, (gsize) batch * 3 * plane);
  HartImage **images;
  gsize n_bad = 0, first_bad = 0;

  if (host == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "out of memory for %d output images", batch);
    return NULL;
  }
  be->ops->download (be, host, img, (gsize) batch * 3 * plane * sizeof (float));
  images = g_new0 (HartImage *, batch + 1);
  for (int b = 0; b < batch; b++) {
    HartImage *im = g_new0 (HartImage, 1);
    im->width = W;
    im->height = H;
    im->stride = 3 * W;
    im->rgb = g_new (guint8, (gsize) 3 * plane);
    for (int c = 0; c < 3; c++) {
      const float *src = host + ((gsize) b * 3 + c) * plane;
      for (gsize i = 0; i < plane; i++) {
        /* uint8 = trunc(255 · (x + 1) · 0.5), as the official script.  The
         * comparisons are written so that NaN gives 0 and ±Inf clamps: the
         * conversion is defined for every float. */
        const float v = (src[i] + 1.0f) * 0.5f * 255.0f;
        im->rgb[i * 3 + c] = v > 0.0f ? (v < 255.0f ? (guint8) v : 255) : 0;
        /* counted here rather than in a pass of its own */
        if (G_UNLIKELY (!isfinite (src[i])) && n_bad++ == 0)
          first_bad = ((gsize) b * 3 + c) * plane + i;
      }
    }
    images[b] = im;
  }
  if (n_bad > 0) {
    /* The latent was finite (checked before decoding): the decoder made
     * these, from damaged weights or an overflow.  A black or speckled
     * frame must not pass for an image. */
    g_set_error (error, HART_ERROR, HART_ERROR_NUMERIC,
        "the decoded image holds %" G_GSIZE_FORMAT " non-finite values "
        "(%s at element %" G_GSIZE_FORMAT " of [%d, 3, %d, %d]); the "
        "decoder's weights are probably damaged", n_bad,
        hart_non_finite_name (host[first_bad]), first_bad, batch, H, W);
    hart_images_free (images);
    images = NULL;
  }
  g_free (host);
  return images;
}

/* Debugging aid: with HART_TRACE=FILE set, per-stage tensors are written
 * to FILE (safetensors, names as the reference's goldens). */
static void
trace_add (HartSafetensorsWriter * trace, HartBackend * be, const char *name,
    const float *data, gboolean on_device, int ndim, const int64_t * shape)
{
  gsize n = 1;
  float *host;
  if (trace == NULL)
    return;
  for (int i = 0; i < ndim; i++)
    n *= (gsize) shape[i];
  host = g_new (float, n);
  if (on_device)
    be->ops->download (be, host, data, n * sizeof (float));
  else
    memcpy (host, data, n * sizeof (float));
  hart_safetensors_writer_add (trace, name, HART_DTYPE_F32, ndim, shape, host);
  g_free (host);
}

static gboolean
check_context (const HartModel * model, const HartContext * ctx,
    GError ** error)
{
  if (ctx->tokens != model->tcfg.context_token
      || ctx->dim != model->tcfg.context_dim) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "context is [%d, %d, %d] but the model expects [B, %d, %d]",
        ctx->batch, ctx->tokens, ctx->dim, model->tcfg.context_token,
        model->tcfg.context_dim);
    return FALSE;
  }
  if (ctx->batch < 1 || ctx->batch > 64) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "batch %d is outside [1, 64]", ctx->batch);
    return FALSE;
  }
  for (gsize i = 0; i < (gsize) ctx->batch * ctx->tokens * ctx->dim; i++) {
    if (!isfinite (ctx->data[i])) {
      g_set_error (error, HART_ERROR, HART_ERROR_NUMERIC,
          "context value %" G_GSIZE_FORMAT " is not finite", i);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_reuse (const HartModel * model, const HartContext * ctx,
    const HartGenerateParams * params, GError ** error)
{
  const HartTokens *r = params->reuse;

  if (params->keep_scales <= 0 || r == NULL)
    return TRUE;
  if (params->keep_scales > model->tcfg.n_scales - 1) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "keep-scales %d: the model has %d scales, at most %d can be kept",
        params->keep_scales, model->tcfg.n_scales, model->tcfg.n_scales - 1);
    return FALSE;
  }
  if (strcmp (r->fingerprint, model->fingerprint) != 0
      || r->batch != ctx->batch) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "the tokens to reuse come from another model or batch size "
        "(model %.12s…, batch %d; expected %.12s…, batch %d)",
        r->fingerprint, r->batch, model->fingerprint, ctx->batch);
    return FALSE;
  }
  return TRUE;
}

/* Stages 0 … SN−1 (spec §6.3–§6.4.4): everything up to the diffusion
 * condition. */
static HartTokens *
tokens_locked (HartModel * model, const HartContext * ctx,
    const HartGenerateParams * params, HartDraws * draws,
    HartSafetensorsWriter * trace, GCancellable * cancel, GError ** error)
{
  const HartTransformerConfig *c = &model->tcfg;
  HartBackend *be = model->engine->be;
  const int B = ctx->batch, SN = c->n_scales, T = c->context_token;
  const int C = c->embed_dim, V = model->acfg.vocab_size;
  const int Cv = model->acfg.z_channels, P = c->patch_nums[SN - 1];
  const int L = P * P, max_tokens = MAX (T, L);
  const int n_progress = SN + 2;
  const gsize fhat_n = (gsize) B * Cv * L;
  const int keep = params->reuse ? params->keep_scales : 0;
  Scratch s = { be, g_ptr_array_new (), g_ptr_array_new () };
  HartTransformerState *st = NULL;
  HartTokens *tokens = NULL, *out_tokens = NULL;
  float *x, *logits, *fhat, *latent_scratch, *h_dev, *next, *z;
  float *logits_host, *h_host, *h_nchw;
  int32_t *idx;
  double ratio = 0.0;
  int stage_offset = 0;         /* rows of stage_h written so far */
  char tname[64];

  tokens = hart_tokens_new (B, Cv, P, C, SN, c->image_tokens - L + 1);
  g_strlcpy (tokens->fingerprint, model->fingerprint,
      sizeof tokens->fingerprint);
  tokens->seed = params->seed;
  tokens->frame = params->frame;

  if (!(st = hart_transformer_state_new (model->transformer, B, error))
      || !(x = scratch_dev (&s, (gsize) 2 * B * max_tokens * C, error))
      || !(logits = scratch_dev (&s, (gsize) 2 * B * L * V, error))
      || !(fhat = scratch_dev (&s, fhat_n, error))
      || !(latent_scratch = scratch_dev (&s, 2 * fhat_n, error))
      || !(h_dev = scratch_dev (&s, fhat_n, error))
      || !(next = scratch_dev (&s, fhat_n, error))
      || !(z = scratch_dev (&s, (gsize) 2 * B * L * C, error))
      || !(logits_host = scratch_host (&s, (gsize) 2 * B * L * V *
              sizeof (float), error))
      || !(h_host = scratch_host (&s, fhat_n * sizeof (float), error))
      || !(h_nchw = scratch_host (&s, fhat_n * sizeof (float), error))
      || !(idx = scratch_host (&s, (gsize) B * L * sizeof (int32_t), error)))
    goto out;

  if (!hart_transformer_begin (st, ctx->data, ctx->positions, error))
    goto out;
  hart_transformer_stage0_input (st, x);

  for (int si = 0; si < SN; si++) {
    const int pn = c->patch_nums[si];
    const int l = si == 0 ? 1 : pn * pn;
    const gboolean last = si == SN - 1;
    char what[64];

    g_snprintf (what, sizeof what, "stage %d/%d (%d×%d)", si + 1, SN, pn, pn);
    progress (params, si, n_progress, what);
    if (hart_error_if_cancelled (cancel, error))
      goto out;
    if (last) {
      /* B MaskGIT orders: no effect with one iteration, but they hold a
       * place in the official draw order (spec §6.4). */
      for (int b = 0; b < B; b++)
        if (!hart_draws_permutation (draws, L, error))
          goto out;
    }
    /* The KV cache needs every stage's forward, kept or not. */
    if (!hart_transformer_forward_stage (st, si, x, cancel, error))
      goto out;
    /* The last stage reuses the ratio of stage SN−2 (spec §6.4). */
    if (!last)
      ratio = (double) si / (double) (SN - 1);

    if (si < keep) {
      /* video: this stage's token map comes from the previous frame */
      for (int b = 0; b < B; b++)
        memcpy (h_host + (gsize) b * l * Cv, params->reuse->stage_h +
            ((gsize) b * tokens->stage_tokens + stage_offset) * Cv,
            (gsize) l * Cv * sizeof (float));
    } else {
      HartStageSampling samp;
      if (si == 0)              /* only the last context position (§6.3.3) */
        hart_transformer_logits (st, x + (gsize) (T - 1) * C, 1,
            (int64_t) T * C, logits);
      else
        hart_transformer_logits (st, x, l, (int64_t) l * C, logits);
      be->ops->download (be, logits_host, logits, (gsize) 2 * B * l * V *
          sizeof (float));
      if (!be->ops->synchronize (be, error))
        goto out;
      samp.stage = si;
      samp.ratio = ratio;
      samp.cfg_t = params->cfg * ratio;
      samp.top_k = params->top_k > 0 ? params->top_k : (si < 7 ? 600 : 300);
      samp.top_p = params->top_p;
      samp.smooth = params->smooth;
      if (!hart_sample_stage (logits_host, B, l, V, &samp, draws,
              model->latent->codebook, Cv, idx, h_host, error))
        goto out;
      if (trace) {
        float *fidx = g_new (float, (gsize) B * l);
        for (gsize i = 0; i < (gsize) B * l; i++)
          fidx[i] = (float) idx[i];
        g_snprintf (tname, sizeof tname, "s%02d_idx", si);
        trace_add (trace, be, tname, fidx, FALSE, 2, HART_SHAPE (B, l));
        g_free (fidx);
        g_snprintf (tname, sizeof tname, "s%02d_logits_cfg", si);
        trace_add (trace, be, tname, logits_host, FALSE, 3, HART_SHAPE (B, l,
                V));
      }
    }

    if (!last) {
      const int pn_next = c->patch_nums[si + 1];
      for (int b = 0; b < B; b++)
        memcpy (tokens->stage_h + ((gsize) b * tokens->stage_tokens +
                stage_offset) * Cv, h_host + (gsize) b * l * Cv,
            (gsize) l * Cv * sizeof (float));
      stage_offset += l;
      tokens_to_nchw (h_host, h_nchw, B, l, Cv);
      be->ops->upload (be, h_dev, h_nchw, (gsize) B * Cv * l * sizeof (float));
      hart_latent_update (model->latent, B,
          hart_latent_phi_index (model->latent, si, SN), h_dev, pn, fhat,
          next, pn_next, latent_scratch);
      hart_transformer_stage_input (st, si + 1, next, pn_next, x);
      g_snprintf (tname, sizeof tname, "s%02d_fhat", si);
      trace_add (trace, be, tname, fhat, TRUE, 4, HART_SHAPE (B, Cv, P, P));
      g_snprintf (tname, sizeof tname, "s%02d_next_latent", si);
      trace_add (trace, be, tname, next, TRUE, 4, HART_SHAPE (B, Cv, pn_next,
              pn_next));
    }
  }

  /* Diffusion condition z = RMSNorm(H + word_embed(E[idx])) with the hard
   * codes of the last stage (spec §6.4.4). */
  {
    float *codes = h_nchw;      /* reuse: E[idx] [B, L, Cv] */
    for (gsize r = 0; r < (gsize) B * L; r++)
      memcpy (codes + r * Cv, model->latent->codebook + (gsize) idx[r] * Cv,
          Cv * sizeof (float));
    be->ops->upload (be, h_dev, codes, fhat_n * sizeof (float));
    hart_transformer_diffusion_condition (st, x, h_dev, L, z);
  }
  be->ops->download (be, tokens->z, z, (gsize) 2 * B * L * C * sizeof (float));
  be->ops->download (be, tokens->f_hat, fhat, fhat_n * sizeof (float));
  memcpy (tokens->last_h, h_host, fhat_n * sizeof (float));
  tokens->cfg_scale = (float) (params->cfg * ratio);
  if (!be->ops->synchronize (be, error))
    goto out;
  trace_add (trace, be, "last_z", tokens->z, FALSE, 3, HART_SHAPE (2 * B, L,
          C));
  trace_add (trace, be, "last_h", h_host, FALSE, 3, HART_SHAPE (B, L, Cv));
  out_tokens = tokens;
  tokens = NULL;

out:
  hart_tokens_free (tokens);
  hart_transformer_state_free (st);
  scratch_free (&s);
  return out_tokens;
}

/* Residual diffusion and decoder (spec §6.4.5–§6.4.7, §8). */
static HartImage **
refine_locked (HartModel * model, const HartTokens * tokens,
    const HartGenerateParams * params, HartDraws * draws,
    HartSafetensorsWriter * trace, GCancellable * cancel, GError ** error)
{
  HartBackend *be = model->engine->be;
  const int SN = model->tcfg.n_scales, n_progress = SN + 2;
  const int B = tokens->batch, Cv = tokens->latent_channels;
  const int P = tokens->side, L = P * P, C = tokens->embed_dim;
  const int W = hart_model_get_width (model);
  const gsize fhat_n = (gsize) B * Cv * L;
  Scratch s = { be, g_ptr_array_new (), g_ptr_array_new () };
  HartImage **images = NULL;
  float *z, *res, *fhat, *img, *sum_host, *nchw_host;

  if (strcmp (tokens->fingerprint, model->fingerprint) != 0
      || Cv != model->acfg.z_channels
      || P != model->tcfg.patch_nums[SN - 1] || C != model->tcfg.embed_dim) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "token frame of model %.12s… (Cv %d, side %d, width %d) does not fit "
        "this model %.12s… (Cv %d, side %d, width %d)", tokens->fingerprint,
        Cv, P, C, model->fingerprint, model->acfg.z_channels,
        model->tcfg.patch_nums[SN - 1], model->tcfg.embed_dim);
    goto out;
  }
  /* The elements check frames when they parse them; a caller of the API
   * may hand over anything. */
  if (!isfinite (tokens->cfg_scale)) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "token frame: cfg scale is %s",
        hart_non_finite_name (tokens->cfg_scale));
    goto out;
  }
  progress (params, SN, n_progress, "residual diffusion");
  if (!(z = scratch_dev (&s, (gsize) 2 * B * L * C, error))
      || !(res = scratch_dev (&s, fhat_n, error))
      || !(fhat = scratch_dev (&s, fhat_n, error))
      || !(img = scratch_dev (&s, (gsize) B * 3 * W * W, error))
      || !(sum_host = scratch_host (&s, fhat_n * sizeof (float), error))
      || !(nchw_host = scratch_host (&s, fhat_n * sizeof (float), error)))
    goto out;
  be->ops->upload (be, z, tokens->z, (gsize) 2 * B * L * C * sizeof (float));
  if (!hart_diffusion_sample (model->diffusion, z, B * L, tokens->cfg_scale,
          draws, res, cancel, error))
    goto out;
  trace_add (trace, be, "diff_out", res, TRUE, 2, HART_SHAPE (B * L, Cv));

  /* f_hat += (h + res), token-major → NCHW, no Φ (spec §6.4.6) */
  be->ops->download (be, sum_host, res, fhat_n * sizeof (float));
  for (gsize i = 0; i < fhat_n; i++)
    sum_host[i] = tokens->last_h[i] + sum_host[i];
  tokens_to_nchw (sum_host, nchw_host, B, L, Cv);
  for (gsize i = 0; i < fhat_n; i++)
    nchw_host[i] = tokens->f_hat[i] + nchw_host[i];
  /* One pass over the small latent, already on the host: a NaN made by the
   * diffusion (or brought by the frame) stops here, before the decoder
   * spends its time and smears it over the image. */
  if (!hart_check_finite (nchw_host, fhat_n, error, HART_ERROR_NUMERIC,
          "the final latent (f_hat + h + diffusion residual)"))
    goto out;
  be->ops->upload (be, fhat, nchw_host, fhat_n * sizeof (float));
  trace_add (trace, be, "fhat_final", nchw_host, FALSE, 4, HART_SHAPE (B, Cv,
          P, P));

  progress (params, SN + 1, n_progress, "decoder");
  if (!hart_decoder_forward (model->decoder, fhat, B, P, P, img, cancel, error)
      || !be->ops->synchronize (be, error))
    goto out;
  trace_add (trace, be, "decoder_out", img, TRUE, 4, HART_SHAPE (B, 3, W, W));
  images = images_from_device (be, img, B, W, W, error);
  if (images)
    progress (params, n_progress, n_progress, "done");

out:
  scratch_free (&s);
  return images;
}

static gboolean
check_params (const HartGenerateParams * params, GError ** error)
{
  if (!(params->cfg >= 0.0 && params->cfg <= 100.0)
      || !(params->top_p >= 0.0 && params->top_p <= 1.0)
      || params->top_k < 0 || params->keep_scales < 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "invalid sampling settings: cfg %g (expected 0 … 100), top-k %d "
        "(≥ 0), top-p %g (0 … 1), keep-scales %d (≥ 0)", params->cfg,
        params->top_k, params->top_p, params->keep_scales);
    return FALSE;
  }
  return TRUE;
}

/* With HART_TRACE=FILE in the environment, intermediate tensors of the
 * generation are written to FILE (debugging; names as the goldens). */
static HartSafetensorsWriter *
trace_begin (void)
{
  return g_getenv ("HART_TRACE") ? hart_safetensors_writer_new () : NULL;
}

static void
trace_end (HartSafetensorsWriter * trace)
{
  GError *error = NULL;
  if (trace == NULL)
    return;
  if (!hart_safetensors_writer_save (trace, g_getenv ("HART_TRACE"), &error)) {
    g_warning ("HART_TRACE: %s", error->message);
    g_error_free (error);
  }
  hart_safetensors_writer_free (trace);
}

HartImage **
hart_model_generate (HartModel * model, const HartContext * ctx,
    const HartGenerateParams * params, GCancellable * cancel, GError ** error)
{
  HartDraws *draws;
  HartImage **images = NULL;
  HartTokens *tokens;
  HartSafetensorsWriter *trace;

  if (!check_context (model, ctx, error) || !check_params (params, error)
      || !check_reuse (model, ctx, params, error))
    return NULL;
  if (params->replay_draws) {
    if (!(draws = hart_draws_new_replay (params->replay_draws, error)))
      return NULL;
  } else {
    draws = hart_draws_new (params->seed, params->frame);
  }
  if (params->record_draws)
    hart_draws_set_record_path (draws, params->record_draws);

  trace = trace_begin ();
  g_mutex_lock (&model->lock);
  tokens = tokens_locked (model, ctx, params, draws, trace, cancel, error);
  if (tokens)
    images = refine_locked (model, tokens, params, draws, trace, cancel, error);
  g_mutex_unlock (&model->lock);
  trace_end (trace);
  hart_tokens_free (tokens);

  if (images && !hart_draws_finish (draws, error)) {
    hart_images_free (images);
    images = NULL;
  }
  hart_draws_free (draws);
  return images;
}

static gboolean
refuse_draw_files (const HartGenerateParams * params, GError ** error)
{
  if (params->record_draws || params->replay_draws) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "recording or replaying draw files needs the whole generation "
        "(hart_model_generate), not one half of it");
    return FALSE;
  }
  return TRUE;
}

HartTokens *
hart_model_generate_tokens (HartModel * model, const HartContext * ctx,
    const HartGenerateParams * params, GCancellable * cancel, GError ** error)
{
  HartDraws *draws;
  HartTokens *tokens;

  if (!check_context (model, ctx, error) || !check_params (params, error)
      || !check_reuse (model, ctx, params, error)
      || !refuse_draw_files (params, error))
    return NULL;
  draws = hart_draws_new (params->seed, params->frame);
  g_mutex_lock (&model->lock);
  tokens = tokens_locked (model, ctx, params, draws, NULL, cancel, error);
  g_mutex_unlock (&model->lock);
  hart_draws_free (draws);
  return tokens;
}

HartImage **
hart_model_refine (HartModel * model, const HartTokens * tokens,
    const HartGenerateParams * params, GCancellable * cancel, GError ** error)
{
  HartDraws *draws;
  HartImage **images;

  if (!refuse_draw_files (params, error))
    return NULL;
  draws = hart_draws_new (params->seed, params->frame);
  g_mutex_lock (&model->lock);
  images = refine_locked (model, tokens, params, draws, NULL, cancel, error);
  g_mutex_unlock (&model->lock);
  hart_draws_free (draws);
  return images;
}
