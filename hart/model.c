/* gst-hart — model loading
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A HartModel holds the weights of one release folder on an engine's
 * device: the folder's files are found and checked (model-files.c), the
 * memory budget is checked before the first weight is allocated, then each
 * part loads its tensors.  Generation is in generate.c.
 */
#include "hart.h"
#include "engine-private.h"
#include "model-private.h"

#include <string.h>

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
  HartBackend *be = hart_engine_get_backend (engine);
  HartModelFiles files = { 0 };
  const char *budget_source = NULL;
  int P;

  model->ref_count = 1;
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
  if (!hart_model_files_resolve (dir, use_ema, &files, error))
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
    hart_model_files_estimate_memory (&files, model->llm_ckpt,
        model->tok_ckpt, 1, hart_engine_get_matrix_dtype (engine), &est);
    if (!hart_model_check_estimate (dir, &est, budget_bytes, budget_source,
            error))
      goto fail;
  }

  P = model->tcfg.patch_nums[model->tcfg.n_scales - 1];
  if (!(model->transformer = hart_transformer_load (be, model->llm_ckpt,
              &model->tcfg, model->acfg.vocab_size, model->acfg.z_channels,
              hart_engine_get_matrix_dtype (engine), error))
      || !(model->diffusion = hart_diffusion_load (be, model->llm_ckpt,
              &model->tcfg, model->acfg.z_channels,
              hart_engine_get_matrix_dtype (engine), error))
      || !(model->latent = hart_latent_load (be, model->tok_ckpt,
              &model->acfg, P, error))
      || !(model->decoder = hart_decoder_load (be, model->tok_ckpt,
              &model->acfg, error)))
    goto fail;
  hart_decoder_set_precision (model->decoder,
      hart_engine_get_matrix_dtype (engine));
  /* after the loads, so that a narrower model's weights are named by the
   * first tensor whose shape differs */
  if (!hart_model_check_no_extra_blocks (model->llm_ckpt, "blocks.",
          model->tcfg.depth, "depth", error)
      || !hart_model_check_no_extra_blocks (model->llm_ckpt,
          "diffloss.net.res_blocks.", model->tcfg.diff_depth, "diff_depth",
          error))
    goto fail;
  compute_fingerprint (model);

  /* Everything is on the device now; the files can go. */
  g_clear_pointer (&model->llm_ckpt, hart_checkpoint_free);
  g_clear_pointer (&model->tok_ckpt, hart_checkpoint_free);
  hart_model_files_clear (&files);
  return model;

fail:
  hart_model_files_clear (&files);
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
  g_free (model);
}

guint64
hart_model_weights_bytes (const HartModel * model)
{
  const HartLatent *lat = model->latent;

  return hart_weights_bytes (model->transformer->weights)
      + hart_diffusion_weights_bytes (model->diffusion)
      + hart_weights_bytes (lat->weights)
      + (guint64) lat->vocab * lat->channels * sizeof (float)
      + hart_decoder_weights_bytes (model->decoder);
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
