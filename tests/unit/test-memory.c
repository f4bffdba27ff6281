/* gst-hart — memory estimates and the memory budget
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The size parser and $HART_MEMORY_BUDGET against hand-computed values;
 * the budget refusing and accepting the tiny fixture; the estimate of the
 * real release's buffers against the peak measured in docs/performance.md
 * (7.43 GiB resident, of which 2.9 GB fp32 weights: ≈ 4.5 GiB of
 * generation buffers; the estimate must land within 20 %).
 */
#include "hart/hart.h"
#include "hart/memory.h"
#include "hart/checkpoint.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

static char *
tiny_model_dir (void)
{
  const char *root = g_getenv ("HART_FIXTURES");
  return g_build_filename (root ? root : "tests/fixtures", "tiny",
      "hart-0.7b-1024px", NULL);
}

static void
test_parse_size (void)
{
  static const struct
  {
    const char *text;
    guint64 bytes;
  } good[] = {
    {"0", 0},
    {"1073741824", G_GUINT64_CONSTANT (1073741824)},
    {"4G", G_GUINT64_CONSTANT (4) * 1024 * 1024 * 1024},
    {"4g", G_GUINT64_CONSTANT (4) * 1024 * 1024 * 1024},
    {"512M", G_GUINT64_CONSTANT (512) * 1024 * 1024},
    {"512MB", G_GUINT64_CONSTANT (512) * 1024 * 1024},
    {"2GiB", G_GUINT64_CONSTANT (2) * 1024 * 1024 * 1024},
    {"3k", 3 * 1024},
    {"1T", G_GUINT64_CONSTANT (1) << 40},
    {" 8M ", G_GUINT64_CONSTANT (8) * 1024 * 1024},
    {"18446744073709551615", G_MAXUINT64},
    {"16777215T", G_GUINT64_CONSTANT (16777215) << 40},
  };
  static const char *bad[] = {
    "", " ", "abc", "4X", "-1", "1.5G", "4 G B", "G", "4GG", "4Gi",
    "18446744073709551616", "16777216T", "99999999999999999999999",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    GError *error = NULL;
    guint64 bytes = 12345;
    g_assert_true (hart_memory_parse_size (good[i].text, &bytes, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (bytes, ==, good[i].bytes);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *error = NULL;
    guint64 bytes = 0;
    if (hart_memory_parse_size (bad[i], &bytes, &error))
      g_test_fail_printf ("\"%s\" was accepted as %" G_GUINT64_FORMAT,
          bad[i], bytes);
    g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, bad[i]));
    g_error_free (error);
  }
}

static void
test_budget_from_env (void)
{
  GError *error = NULL;
  guint64 budget = 1;

  g_unsetenv (HART_MEMORY_BUDGET_ENV);
  g_assert_true (hart_memory_budget_from_env (&budget, &error));
  g_assert_cmpuint (budget, ==, 0);

  g_setenv (HART_MEMORY_BUDGET_ENV, "", TRUE);
  g_assert_true (hart_memory_budget_from_env (&budget, &error));
  g_assert_cmpuint (budget, ==, 0);

  g_setenv (HART_MEMORY_BUDGET_ENV, "512M", TRUE);
  g_assert_true (hart_memory_budget_from_env (&budget, &error));
  g_assert_cmpuint (budget, ==, G_GUINT64_CONSTANT (512) << 20);

  g_setenv (HART_MEMORY_BUDGET_ENV, "4096", TRUE);
  g_assert_true (hart_memory_budget_from_env (&budget, &error));
  g_assert_cmpuint (budget, ==, 4096);

  g_setenv (HART_MEMORY_BUDGET_ENV, "lots", TRUE);
  g_assert_false (hart_memory_budget_from_env (&budget, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "HART_MEMORY_BUDGET=\"lots\""));
  g_assert_nonnull (strstr (error->message, "K, M, G or T"));
  g_clear_error (&error);
  g_unsetenv (HART_MEMORY_BUDGET_ENV);
}

static void
test_check_budget_message (void)
{
  GError *error = NULL;

  g_assert_true (hart_memory_check_budget ("x", NULL, G_MAXUINT64, NULL, 0,
          NULL, &error));
  g_assert_true (hart_memory_check_budget ("x", NULL, 100 << 20, NULL,
          100 << 20, NULL, &error));
  g_assert_false (hart_memory_check_budget ("model /x/y", "1024x1024",
          (G_GUINT64_CONSTANT (7431) << 20) - 1000, "w", 4096ull << 20,
          NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_assert_cmpstr (error->message, ==, "model /x/y needs about 7431 MiB at "
      "1024x1024 but the memory budget is 4096 MiB (w)");
  g_clear_error (&error);
  g_assert_false (hart_memory_check_budget ("text encoder", NULL,
          (100 << 20) + 1, NULL, 100 << 20, "HART_MEMORY_BUDGET", &error));
  g_assert_cmpstr (error->message, ==, "text encoder needs about 101 MiB "
      "but the memory budget (HART_MEMORY_BUDGET) is 100 MiB");
  g_clear_error (&error);
}

/* The tiny fixture's estimate: the weights it keeps come from its
 * checkpoint headers, so they equal 4 bytes × the elements of every
 * transformer tensor + the decoder half of the autoencoder (counted here
 * directly, tensor by tensor) + the derived buffers. */
static void
test_estimate_tiny (void)
{
  char *dir = tiny_model_dir ();
  char *llm = g_build_filename (dir, "llm", "ema_model.bin", NULL);
  char *tok = g_build_filename (dir, "tokenizer", "model.safetensors", NULL);
  HartMemoryEstimate one, two;
  GError *error = NULL;
  HartCheckpoint *ckpt;
  guint64 expected = 0;

  g_assert_true (hart_model_estimate_memory (dir, TRUE, 1, &one, &error));
  g_assert_no_error (error);
  g_assert_true (hart_model_estimate_memory (dir, TRUE, 2, &two, &error));
  g_assert_cmpint (one.width, ==, 128);
  g_assert_cmpint (one.height, ==, 128);
  g_assert_cmpint (one.batch, ==, 1);
  g_assert_cmpuint (one.total_bytes, ==, one.weight_bytes +
      one.generation_bytes);
  g_assert_cmpuint (two.weight_bytes, ==, one.weight_bytes);
  g_assert_cmpuint (two.generation_bytes, >, one.generation_bytes);
  g_assert_cmpuint (two.generation_bytes, <=, 2 * one.generation_bytes);

  ckpt = hart_checkpoint_open (llm, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < hart_checkpoint_n_tensors (ckpt); i++)
    expected += 4 * hart_checkpoint_tensor (ckpt, i)->n_elements;
  hart_checkpoint_free (ckpt);
  ckpt = hart_checkpoint_open (tok, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < hart_checkpoint_n_tensors (ckpt); i++) {
    const HartTensorInfo *t = hart_checkpoint_tensor (ckpt, i);
    if (!g_str_has_prefix (t->name, "vae.encoder.")
        && !g_str_has_prefix (t->name, "vae.quant_conv."))
      expected += 4 * t->n_elements;
  }
  hart_checkpoint_free (ckpt);
  /* tiny: depth 2 × 3C fused QKV biases, 11 level embeddings of C = 64,
   * 8 time embeddings of the diffusion width 64 */
  expected += 4 * (2 * 3 * 64 + 11 * 64 + 8 * 64);
  g_assert_cmpuint (one.weight_bytes, ==, expected);

  g_free (llm);
  g_free (tok);
  g_free (dir);
}

static void
test_budget_refuses_tiny (void)
{
  char *dir = tiny_model_dir ();
  HartEngine *engine;
  HartModel *model;
  GError *error = NULL;
  char *prefix;

  g_unsetenv (HART_MEMORY_BUDGET_ENV);
  engine = hart_engine_new ("cpu", 0, &error);
  g_assert_no_error (error);

  model = hart_model_load_with_budget (engine, dir, TRUE, 1 << 20, &error);
  g_assert_null (model);
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_test_message ("%s", error->message);
  prefix = g_strdup_printf ("model %s needs about ", dir);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  g_assert_nonnull (strstr (error->message, " MiB at 128x128 but the memory "
          "budget is 1 MiB (weights "));
  g_clear_error (&error);

  /* the same through hart_model_check_memory_budget, naming the source */
  g_assert_false (hart_model_check_memory_budget (dir, TRUE, 1, 1 << 20,
          "memory-budget", &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_assert_nonnull (strstr (error->message, "the memory budget "
          "(memory-budget) is 1 MiB"));
  g_clear_error (&error);

  /* 1 GiB is plenty for the tiny model */
  model = hart_model_load_with_budget (engine, dir, TRUE, 1 << 30, &error);
  g_assert_no_error (error);
  g_assert_nonnull (model);
  hart_model_unref (model);
  g_assert_true (hart_model_check_memory_budget (dir, TRUE, 1, 1 << 30,
          NULL, &error));
  g_assert_true (hart_model_check_memory_budget (dir, TRUE, 1, 0, NULL,
          &error));

  /* the environment, when the caller passes 0 */
  g_setenv (HART_MEMORY_BUDGET_ENV, "1M", TRUE);
  model = hart_model_load (engine, dir, TRUE, &error);
  g_assert_null (model);
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_assert_nonnull (strstr (error->message,
          "the memory budget (HART_MEMORY_BUDGET) is 1 MiB"));
  g_clear_error (&error);
  /* an explicit budget wins over the environment */
  model = hart_model_load_with_budget (engine, dir, TRUE, 1 << 30, &error);
  g_assert_no_error (error);
  hart_model_unref (model);
  g_setenv (HART_MEMORY_BUDGET_ENV, "1G", TRUE);
  model = hart_model_load (engine, dir, TRUE, &error);
  g_assert_no_error (error);
  hart_model_unref (model);
  g_setenv (HART_MEMORY_BUDGET_ENV, "12 parsecs", TRUE);
  model = hart_model_load (engine, dir, TRUE, &error);
  g_assert_null (model);
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "HART_MEMORY_BUDGET="));
  g_clear_error (&error);
  g_unsetenv (HART_MEMORY_BUDGET_ENV);

  hart_engine_unref (engine);
  g_free (prefix);
  g_free (dir);
}

/* The real release's configs, written out (the fixtures are tiny). */
static void
test_estimate_real_size (void)
{
  static const char *llm_json = "{\"model_type\": \"hart_transformer_t2i\", "
      "\"attn_type\": \"llama\", \"mlp_type\": \"llama\", \"disable_aln\": true, "
      "\"sep_aln_pooling_mode\": \"max\", \"use_timestep_embed\": true, "
      "\"context_dim\": 1536, \"context_token\": 300, \"depth\": 24, "
      "\"embed_dim\": 1536, \"num_heads\": 24, \"mlp_ratio\": 4.0, "
      "\"diff_width\": 1024, \"diff_depth\": 6, \"num_sampling_steps\": \"8\","
      " \"patch_nums\": [1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 24, 32, 40, 48,"
      " 64], \"use_context_norm\": true}";
  static const char *tok_json = "{\"model_type\": "
      "\"hart_autoencoder_with_disc\", \"vocab_size\": 4096, \"z_channels\": "
      "32, \"ch\": 160, \"ch_mult\": [1, 1, 2, 2, 4], \"quant_resi\": 0.5, "
      "\"share_quant_resi\": 4, \"quant_conv_ks\": 3}";
  char *tmp = g_dir_make_tmp ("hart-memory-XXXXXX", NULL);
  char *llm = g_build_filename (tmp, "llm.json", NULL);
  char *tok = g_build_filename (tmp, "tok.json", NULL);
  HartTransformerConfig t = { 0 };
  HartAutoencoderConfig a = { 0 };
  GError *error = NULL;
  double gib, measured = 7.43 - 2.9e9 / (1 << 30);

  g_assert_true (g_file_set_contents (llm, llm_json, -1, NULL));
  g_assert_true (g_file_set_contents (tok, tok_json, -1, NULL));
  g_assert_true (hart_transformer_config_load (llm, &t, &error));
  g_assert_no_error (error);
  g_assert_true (hart_autoencoder_config_load (tok, &a, &error));
  g_assert_no_error (error);
  gib = hart_memory_generation_bytes (&t, &a, 1) / (double) (1 << 30);
  g_test_message ("real size, batch 1: generation buffers %.2f GiB "
      "(measured ≈ %.2f GiB)", gib, measured);
  g_assert_cmpfloat (gib, >, 0.8 * measured);
  g_assert_cmpfloat (gib, <, 1.2 * measured);

  hart_transformer_config_clear (&t);
  g_unlink (llm);
  g_unlink (tok);
  g_rmdir (tmp);
  g_free (llm);
  g_free (tok);
  g_free (tmp);
}

static void
test_text_encoder_estimate (void)
{
  const char *root = g_getenv ("HART_FIXTURES");
  char *dir = g_build_filename (root ? root : "tests/fixtures", "tiny",
      "Qwen2-VL-1.5B-Instruct", NULL);
  GError *error = NULL;
  guint64 one = 0, four = 0;

  g_assert_true (hart_memory_text_encoder_bytes (dir, 1, 12, &one, &error));
  g_assert_no_error (error);
  g_assert_true (hart_memory_text_encoder_bytes (dir, 4, 12, &four, &error));
  g_assert_cmpuint (one, >, 0);
  g_assert_cmpuint (four, >, one);
  g_assert_false (hart_memory_text_encoder_bytes ("/nonexistent", 1, 12,
          &one, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/memory/parse-size", test_parse_size);
  g_test_add_func ("/memory/budget-from-env", test_budget_from_env);
  g_test_add_func ("/memory/check-budget-message", test_check_budget_message);
  g_test_add_func ("/memory/estimate-tiny", test_estimate_tiny);
  g_test_add_func ("/memory/budget-refuses-tiny", test_budget_refuses_tiny);
  g_test_add_func ("/memory/estimate-real-size", test_estimate_real_size);
  g_test_add_func ("/memory/text-encoder-estimate", test_text_encoder_estimate);
  return g_test_run ();
}
