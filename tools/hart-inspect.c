/* gst-hart — `hart inspect PATH`
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Prints the parsed configuration and the tensor table (name, dtype, shape,
 * bytes) of a release folder or of a single weights file.  Any broken file
 * gives one error line naming the file and what is wrong, and exit status 1.
 */
#include "hart-cli.h"
#include "hart/checkpoint.h"
#include "hart/config.h"
#include "hart/error.h"

#include <glib.h>
#include <string.h>

static const char *
format_name (HartCheckpointFormat format)
{
  switch (format) {
    case HART_CHECKPOINT_SAFETENSORS:
      return "safetensors";
    case HART_CHECKPOINT_SAFETENSORS_SHARDED:
      return "sharded safetensors";
    case HART_CHECKPOINT_TORCH_ZIP:
      return "PyTorch zip (restricted unpickler)";
  }
  return "?";
}

static gboolean
inspect_weights (const char *path, GString * out, GError ** error)
{
  HartCheckpoint *ckpt = hart_checkpoint_open (path, error);
  guint64 total_params = 0, total_bytes = 0;
  guint n;
  int name_width = 4;
  char shape[128];

  if (ckpt == NULL)
    return FALSE;
  n = hart_checkpoint_n_tensors (ckpt);
  for (guint i = 0; i < n; i++) {
    const HartTensorInfo *t = hart_checkpoint_tensor (ckpt, i);
    name_width = MAX (name_width, (int) strlen (t->name));
  }
  name_width = MIN (name_width, 72);

  g_string_append_printf (out, "\nWeights: %s (%s)\n", path,
      format_name (hart_checkpoint_get_format (ckpt)));
  g_string_append_printf (out, "  %-*s  %-5s  %-24s  %12s\n", name_width,
      "name", "dtype", "shape", "bytes");
  for (guint i = 0; i < n; i++) {
    const HartTensorInfo *t = hart_checkpoint_tensor (ckpt, i);
    hart_shape_to_string (t->ndim, t->shape, shape, sizeof shape);
    g_string_append_printf (out, "  %-*s  %-5s  %-24s  %12" G_GUINT64_FORMAT
        "\n", name_width, t->name, hart_dtype_name (t->dtype), shape,
        t->n_bytes);
    total_params += t->n_elements;
    total_bytes += t->n_bytes;
  }
  g_string_append_printf (out, "  %u tensors, %" G_GUINT64_FORMAT
      " elements, %" G_GUINT64_FORMAT " bytes\n", n, total_params, total_bytes);
  hart_checkpoint_free (ckpt);
  return TRUE;
}

static gboolean
inspect_config (const char *config_path, char **model_type_out,
    GString * out, GError ** error)
{
  char *model_type = hart_config_read_model_type (config_path, error);
  gboolean ok = FALSE;

  if (model_type == NULL)
    return FALSE;
  g_string_append_printf (out, "Config: %s\n", config_path);
  if (strcmp (model_type, "hart_transformer_t2i") == 0) {
    HartTransformerConfig cfg;
    if ((ok = hart_transformer_config_load (config_path, &cfg, error))) {
      hart_transformer_config_print (&cfg, out);
      hart_transformer_config_clear (&cfg);
    }
  } else if (strcmp (model_type, "hart_autoencoder_with_disc") == 0
      || strcmp (model_type, "hart_autoencoder") == 0) {
    HartAutoencoderConfig cfg;
    if ((ok = hart_autoencoder_config_load (config_path, &cfg, error)))
      hart_autoencoder_config_print (&cfg, out);
  } else if (strcmp (model_type, "qwen2") == 0) {
    HartQwen2Config cfg;
    if ((ok = hart_qwen2_config_load (config_path, &cfg, error)))
      hart_qwen2_config_print (&cfg, out);
  } else {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: model_type \"%s\" is not one of \"hart_transformer_t2i\", "
        "\"hart_autoencoder_with_disc\", \"qwen2\"", config_path, model_type);
  }
  if (ok)
    *model_type_out = model_type;
  else
    g_free (model_type);
  return ok;
}

/* One release folder: config.json plus its weights.  For the transformer
 * folder both the EMA file (what the official sampler uses) and the regular
 * weights are listed. */
static gboolean
inspect_model_dir (const char *dir, GString * out, GError ** error)
{
  char *config_path = g_build_filename (dir, "config.json", NULL);
  char *model_type = NULL;
  char *weights = NULL;
  gboolean ok = FALSE, have_config;

  have_config = g_file_test (config_path, G_FILE_TEST_EXISTS);
  if (have_config && !inspect_config (config_path, &model_type, out, error))
    goto done;

  if (g_strcmp0 (model_type, "hart_transformer_t2i") == 0) {
    char *ema = g_build_filename (dir, "ema_model.bin", NULL);
    gboolean have_ema = g_file_test (ema, G_FILE_TEST_EXISTS);
    if (have_ema && !inspect_weights (ema, out, error)) {
      g_free (ema);
      goto done;
    }
    g_free (ema);
    weights = hart_checkpoint_find_in_dir (dir, have_ema ? NULL : error);
    if (weights == NULL && !have_ema)
      goto done;
  } else {
    GError *local = NULL;
    weights = hart_checkpoint_find_in_dir (dir, &local);
    if (weights == NULL) {
      if (!have_config)
        g_prefix_error (&local, "%s: no config.json, and ", dir);
      g_propagate_error (error, local);
      goto done;
    }
  }
  ok = weights == NULL || inspect_weights (weights, out, error);

done:
  g_free (weights);
  g_free (model_type);
  g_free (config_path);
  return ok;
}

static gboolean
inspect_path (const char *path, GString * out, GError ** error)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    char *llm = g_build_filename (path, "llm", "config.json", NULL);
    char *tok = g_build_filename (path, "tokenizer", "config.json", NULL);
    gboolean release_root = g_file_test (llm, G_FILE_TEST_EXISTS)
        && g_file_test (tok, G_FILE_TEST_EXISTS);
    gboolean ok;
    g_free (llm);
    g_free (tok);
    if (release_root) {
      /* hart-0.7b-1024px/: the transformer and the autoencoder */
      char *llm_dir = g_build_filename (path, "llm", NULL);
      char *tok_dir = g_build_filename (path, "tokenizer", NULL);
      ok = inspect_model_dir (llm_dir, out, error);
      if (ok) {
        g_string_append_c (out, '\n');
        ok = inspect_model_dir (tok_dir, out, error);
      }
      g_free (llm_dir);
      g_free (tok_dir);
      return ok;
    }
    return inspect_model_dir (path, out, error);
  }
  if (g_file_test (path, G_FILE_TEST_EXISTS)) {
    const char *base = strrchr (path, '/');
    base = base ? base + 1 : path;
    if (strcmp (base, "config.json") == 0) {
      char *model_type = NULL;
      gboolean ok = inspect_config (path, &model_type, out, error);
      g_free (model_type);
      return ok;
    }
    return inspect_weights (path, out, error);
  }
  g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
      "%s: no such file or folder", path);
  return FALSE;
}

int
hart_cli_inspect (int argc, char **argv)
{
  GOptionContext *ctx;
  GError *error = NULL;
  GString *out;
  int status = 0;

  ctx = g_option_context_new ("PATH");
  g_option_context_set_summary (ctx,
      "Print the parsed configuration and the tensor table (name, dtype,\n"
      "shape, bytes) of a release folder (hart-0.7b-1024px, its llm/ or\n"
      "tokenizer/, Qwen2-VL-1.5B-Instruct), a config.json, or one weights\n"
      "file (.safetensors, .safetensors.index.json, PyTorch .bin).");
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "hart inspect: %s\n", error->message);
    g_error_free (error);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (argc != 2) {
    fprintf (stderr, "Usage: hart inspect PATH\n");
    return 2;
  }

  out = g_string_new (NULL);
  if (inspect_path (argv[1], out, &error)) {
    fputs (out->str, stdout);
  } else {
    fprintf (stderr, "hart: error: %s\n", error->message);
    g_error_free (error);
    status = 1;
  }
  g_string_free (out, TRUE);
  return status;
}
