/* gst-hart — a release folder's files, their cross-checks and memory estimate
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Finds the configs and weights of a HART release folder (llm/ and the
 * tokenizer folder, following vae_path only inside the folder), checks that
 * its two halves belong together, and estimates the memory a load needs
 * from the configs and checkpoint headers alone (hart/memory.h).
 */
#include "hart.h"
#include "engine-private.h"
#include "model-private.h"
#include "checkpoint.h"
#include "memory.h"

#include <string.h>

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
gboolean
hart_model_check_no_extra_blocks (const HartCheckpoint * ckpt,
    const char *prefix, int depth, const char *field, GError ** error)
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

void
hart_model_files_clear (HartModelFiles * files)
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
gboolean
hart_model_files_resolve (const char *dir, gboolean use_ema,
    HartModelFiles * files, GError ** error)
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
    hart_model_files_clear (files);
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
 * configs, both in MATRIX_DTYPE. */
void
hart_model_files_estimate_memory (const HartModelFiles * files,
    const HartCheckpoint * llm_ckpt, const HartCheckpoint * tok_ckpt,
    int batch, HartDType matrix_dtype, HartMemoryEstimate * est)
{
  const HartTransformerConfig *t = &files->tcfg;

  memset (est, 0, sizeof *est);
  est->batch = MAX (batch, 1);
  est->context_tokens = t->context_token;
  est->width = est->height = t->patch_nums[t->n_scales - 1] *
      files->acfg.downsample;
  /* + what the loaders derive, in f32 in every precision: the fused QKV
   * biases, the level embeddings, the diffusion head's per-step time
   * embeddings */
  est->weight_bytes = hart_memory_checkpoint_bytes (llm_ckpt, NULL,
      matrix_dtype)
      + hart_memory_checkpoint_bytes (tok_ckpt, kept_autoencoder_prefixes,
      matrix_dtype)
      + 4 * ((guint64) t->depth * 3 * t->embed_dim
      + (guint64) t->n_scales * t->embed_dim
      + (guint64) t->num_sampling_steps * t->diff_width);
  est->generation_bytes = hart_memory_generation_bytes (t, &files->acfg,
      est->batch, matrix_dtype);
  est->total_bytes = est->weight_bytes + est->generation_bytes;
}

gboolean
hart_model_estimate_memory (const char *dir, gboolean use_ema, int batch,
    HartPrecision precision, HartMemoryEstimate * estimate, GError ** error)
{
  HartModelFiles files;
  HartCheckpoint *llm_ckpt = NULL, *tok_ckpt = NULL;
  gboolean ok = FALSE;

  if (!hart_model_files_resolve (dir, use_ema, &files, error))
    return FALSE;
  if ((llm_ckpt = hart_checkpoint_open (files.llm_weights, error))
      && (tok_ckpt = hart_checkpoint_open (files.tok_weights, error))) {
    hart_model_files_estimate_memory (&files, llm_ckpt, tok_ckpt, batch,
        hart_precision_matrix_dtype (precision), estimate);
    ok = TRUE;
  }
  hart_checkpoint_free (llm_ckpt);
  hart_checkpoint_free (tok_ckpt);
  hart_model_files_clear (&files);
  return ok;
}

/* FALSE with "model DIR needs about … MiB at WxH but the memory budget …"
 * when EST exceeds BUDGET_BYTES (0: no budget). */
gboolean
hart_model_check_estimate (const char *dir, const HartMemoryEstimate * est,
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
    int batch, HartPrecision precision, guint64 budget_bytes,
    const char *budget_source, GError ** error)
{
  HartMemoryEstimate est;

  /* no estimate, no refusal: the load will say what is wrong */
  if (budget_bytes == 0
      || !hart_model_estimate_memory (dir, use_ema, batch, precision, &est,
          NULL))
    return TRUE;
  return hart_model_check_estimate (dir, &est, budget_bytes, budget_source,
      error);
}
