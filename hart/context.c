/* gst-hart — text contexts: create, read, write
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The context interchange file (docs/algorithm.md §11.1): context_tensor f32 [B, T, D],
 * optional context_mask and context_position_ids.  A file is checked
 * against the model's [T, D] before any buffer of its shape exists.
 */
#include "hart.h"
#include "checkpoint.h"
#include "safetensors-write.h"
#include "weights.h"

#include <string.h>

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

/* The largest context a file may ask for: HART_MAX_BATCH (64) prompts of
 * the release's [300, 1536] are 29.5 M values; a header may claim any
 * shape (a sparse file passes the size checks), so the bound comes before
 * the allocation. */
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
  if (t == NULL || t->ndim != 3 || t->shape[0] < 1
      || t->shape[0] > HART_MAX_BATCH
      || t->shape[1] < 1 || t->shape[1] > 4096 || t->shape[2] < 1
      || t->shape[2] > 65536) {
    char buf[128] = "absent";
    if (t)
      hart_shape_to_string (t->ndim, t->shape, buf, sizeof buf);
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "%s: expected a tensor \"context_tensor\" [B ≤ %d, T, D], found %s",
        path, HART_MAX_BATCH, buf);
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
