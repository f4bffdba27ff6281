/* gst-hart — tests of config.json parsing and validation
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "hart/config.h"
#include "hart/error.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

/* The released llm/config.json values (docs/algorithm.md §2.2), as save_pretrained
 * writes them: every field present, num_sampling_steps a string. */
static const char *real_transformer_json =
    "{\"architectures\": [\"HARTForT2I\"], \"model_type\": \"hart_transformer_t2i\","
    " \"context_token\": 300, \"context_dim\": 1536, \"embed_dim\": 1536,"
    " \"depth\": 24, \"num_heads\": 24, \"mlp_ratio\": 4.0, \"norm_eps\": 1e-06,"
    " \"patch_nums\": [1,2,3,4,5,7,9,12,16,21,27,36,48,64],"
    " \"attn_type\": \"llama\", \"mlp_type\": \"llama\", \"disable_aln\": true,"
    " \"shared_aln\": false, \"use_timestep_embed\": true, \"use_context_norm\": true,"
    " \"context_norm_scale\": 1.0, \"attn_l2_norm\": false, \"use_cross_attn\": false,"
    " \"sep_aln_pooling_mode\": \"max\", \"diff_width\": 1024, \"diff_depth\": 6,"
    " \"num_sampling_steps\": \"8\", \"sampler\": \"iddpm\", \"vae_path\": null,"
    " \"diffusion_batch_mul\": 4, \"cond_drop_rate\": 0.1, \"transformers_version\": \"4.42.2\"}";

static const char *real_autoencoder_json =
    "{\"model_type\": \"hart_autoencoder_with_disc\", \"vocab_size\": 4096,"
    " \"z_channels\": 32, \"ch\": 160, \"ch_mult\": [1,1,2,2,4], \"dropout\": 0.0,"
    " \"quant_conv_ks\": 3, \"quant_resi\": 0.5, \"share_quant_resi\": 4,"
    " \"quantizer_type\": \"var_hybrid\", \"hybrid\": true, \"double_decoder\": false}";

static const char *real_qwen2_json =
    "{\"architectures\": [\"Qwen2ForCausalLM\"], \"model_type\": \"qwen2\","
    " \"hidden_size\": 1536, \"num_hidden_layers\": 28, \"num_attention_heads\": 12,"
    " \"num_key_value_heads\": 2, \"intermediate_size\": 8960, \"hidden_act\": \"silu\","
    " \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"max_position_embeddings\": 32768,"
    " \"vocab_size\": 151936, \"tie_word_embeddings\": true, \"use_sliding_window\": false,"
    " \"sliding_window\": 32768, \"torch_dtype\": \"bfloat16\"}";

static char *tmp_dir;

static char *
write_tmp (const char *name, const char *contents)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

/* Replaces the first occurrence of `from` in `json` by `to`. */
static char *
patched (const char *json, const char *from, const char *to)
{
  const char *at = strstr (json, from);
  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - json), json, to,
      at + strlen (from));
}

static void
test_real_transformer (void)
{
  char *path = write_tmp ("t.json", real_transformer_json);
  HartTransformerConfig cfg;
  GError *error = NULL;

  g_assert_true (hart_transformer_config_load (path, &cfg, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cfg.context_token, ==, 300);
  g_assert_cmpint (cfg.embed_dim, ==, 1536);
  g_assert_cmpint (cfg.head_dim, ==, 64);
  g_assert_cmpint (cfg.mlp_hidden, ==, 4096);   /* docs/algorithm.md §2.5 */
  g_assert_cmpint (cfg.n_scales, ==, 14);
  g_assert_cmpint (cfg.patch_nums[13], ==, 64);
  g_assert_cmpint (cfg.seq_len, ==, 9750);      /* lvl_1L length */
  g_assert_cmpint (cfg.num_sampling_steps, ==, 8);
  g_assert_true (cfg.use_context_norm);
  g_assert_null (cfg.vae_path);
  g_assert_cmpfloat (cfg.norm_eps, ==, 1e-6);
  hart_transformer_config_clear (&cfg);
  g_free (path);
}

static void
test_real_autoencoder (void)
{
  char *path = write_tmp ("a.json", real_autoencoder_json);
  HartAutoencoderConfig cfg;
  GError *error = NULL;

  g_assert_true (hart_autoencoder_config_load (path, &cfg, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cfg.vocab_size, ==, 4096);
  g_assert_cmpint (cfg.z_channels, ==, 32);
  g_assert_cmpint (cfg.n_levels, ==, 5);
  g_assert_cmpint (cfg.downsample, ==, 16);
  g_assert_cmpint (cfg.share_quant_resi, ==, 4);
  g_assert_cmpfloat (cfg.quant_resi, ==, 0.5);
  g_free (path);
}

static void
test_real_qwen2 (void)
{
  char *path = write_tmp ("q.json", real_qwen2_json);
  HartQwen2Config cfg;
  GError *error = NULL;

  g_assert_true (hart_qwen2_config_load (path, &cfg, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cfg.head_dim, ==, 128);
  g_assert_cmpint (cfg.num_key_value_heads, ==, 2);
  g_assert_cmpint (cfg.intermediate_size, ==, 8960);
  g_assert_cmpfloat (cfg.rope_theta, ==, 1e6);
  g_assert_true (cfg.tie_word_embeddings);
  g_free (path);
}

typedef struct
{
  const char *what;
  const char *from;             /* substring of real_transformer_json */
  const char *to;
  HartError code;
  const char *message_part;
} BadTransformer;

static const BadTransformer bad_transformers[] = {
  {"gpt2 attention", "\"attn_type\": \"llama\"", "\"attn_type\": \"gpt2\"",
      HART_ERROR_UNSUPPORTED, "field \"attn_type\" is \"gpt2\""},
  {"AdaLN blocks", "\"disable_aln\": true", "\"disable_aln\": false",
      HART_ERROR_UNSUPPORTED, "\"disable_aln\" is false"},
  {"depth as string", "\"depth\": 24", "\"depth\": \"24\"",
        HART_ERROR_FORMAT,
      "field \"depth\": expected an integer, found a string"},
  {"negative width", "\"embed_dim\": 1536", "\"embed_dim\": -5",
      HART_ERROR_UNSUPPORTED, "field \"embed_dim\": expected an integer in"},
  {"heads do not divide", "\"num_heads\": 24", "\"num_heads\": 7",
      HART_ERROR_UNSUPPORTED, "not a multiple of \"num_heads\" 7"},
  {"head dim 6", "\"num_heads\": 24", "\"num_heads\": 256",
      HART_ERROR_UNSUPPORTED, "head dimension 6"},
  {"scales not increasing", "[1,2,3,4,5,7,9,", "[1,2,3,3,5,7,9,",
      HART_ERROR_UNSUPPORTED, "must increase strictly, found 3 after 3"},
  {"scales not starting at 1", "[1,2,3,4,5,7,9,", "[2,3,4,5,6,7,9,",
      HART_ERROR_UNSUPPORTED, "must start with 1"},
  {"scale list as number", "[1,2,3,4,5,7,9,12,16,21,27,36,48,64]", "64",
      HART_ERROR_FORMAT, "\"patch_nums\": expected an array"},
  {"ddim steps", "\"num_sampling_steps\": \"8\"",
        "\"num_sampling_steps\": \"ddim25\"", HART_ERROR_UNSUPPORTED,
      "\"num_sampling_steps\" is \"ddim25\""},
  {"other sampler", "\"sampler\": \"iddpm\"", "\"sampler\": \"dpm\"",
      HART_ERROR_UNSUPPORTED, "\"sampler\" is \"dpm\""},
  {"wrong model type", "\"hart_transformer_t2i\"", "\"var_transformer\"",
      HART_ERROR_UNSUPPORTED, "\"model_type\" is \"var_transformer\""},
  {"huge scale", "48,64]", "48,100000]", HART_ERROR_UNSUPPORTED,
      "\"patch_nums\"[13]"},
  {"fractional depth", "\"depth\": 24", "\"depth\": 24.5",
      HART_ERROR_UNSUPPORTED, "found 24.5"},
  /* issue #14: [1, 1024] passed and started a generation without end */
  {"side beyond 256", "[1,2,3,4,5,7,9,12,16,21,27,36,48,64]", "[1, 1024]",
      HART_ERROR_UNSUPPORTED, "\"patch_nums\"[1]: expected an integer in "
        "[1, 256], found 1024"},
  {"too many image tokens", "[1,2,3,4,5,7,9,12,16,21,27,36,48,64]",
        "[1,200,210,220,230]", HART_ERROR_UNSUPPORTED,
      "make 185400 image tokens, beyond the limit of 131072"},
  /* a 65,536-wide head overflowed the stack RoPE table */
  {"huge head", "\"num_heads\": 24", "\"num_heads\": 1",
        HART_ERROR_UNSUPPORTED,
      "head dimension 1536 (embed_dim / num_heads) is "
        "beyond the limit of 1024"},
  {"integer beyond 64 bits", "\"depth\": 24",
        "\"depth\": 123456789012345678901234", HART_ERROR_FORMAT,
      "integer 123456789012345678901234 does not fit in 64 bits"},
  {"duplicate key", "\"depth\": 24", "\"depth\": 24, \"depth\": 2",
      HART_ERROR_FORMAT, "names \"depth\" twice"},
};

static void
test_bad_transformer (gconstpointer data)
{
  const BadTransformer *bad = data;
  char *json = patched (real_transformer_json, bad->from, bad->to);
  char *path = write_tmp ("bad.json", json);
  HartTransformerConfig cfg;
  GError *error = NULL;

  g_assert_false (hart_transformer_config_load (path, &cfg, &error));
  g_assert_error (error, HART_ERROR, (gint) bad->code);
  if (strstr (error->message, bad->message_part) == NULL)
    g_error ("%s: message \"%s\" lacks \"%s\"", bad->what, error->message,
        bad->message_part);
  /* every message names the file */
  g_assert_nonnull (strstr (error->message, path));
  g_error_free (error);
  g_free (path);
  g_free (json);
}

static void
test_file_errors (void)
{
  HartTransformerConfig cfg;
  HartQwen2Config qcfg;
  GError *error = NULL;
  char *path;

  g_assert_false (hart_transformer_config_load ("/nonexistent/config.json",
          &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/config.json"));
  g_clear_error (&error);

  path = write_tmp ("garbage.json", "{\"depth\": 24,");
  g_assert_false (hart_transformer_config_load (path, &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "garbage.json: not valid JSON"));
  g_clear_error (&error);
  g_free (path);

  path = write_tmp ("array.json", "[1, 2, 3]");
  g_assert_false (hart_qwen2_config_load (path, &qcfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "expected a JSON object"));
  g_clear_error (&error);
  g_free (path);

  path = write_tmp ("empty.json", "");
  g_assert_false (hart_qwen2_config_load (path, &qcfg, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_free (path);

  /* A 2 MB "config" is refused before parsing. */
  {
    char *big = g_malloc (2 << 20);
    memset (big, ' ', 2 << 20);
    big[0] = '{';
    big[(2 << 20) - 1] = '\0';
    path = write_tmp ("big.json", big);
    g_free (big);
    g_assert_false (hart_qwen2_config_load (path, &qcfg, &error));
    g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
    g_clear_error (&error);
    g_free (path);
  }
}

static void
test_bad_qwen2 (void)
{
  HartQwen2Config cfg;
  GError *error = NULL;
  char *json, *path;

  json = patched (real_qwen2_json, "\"num_key_value_heads\": 2",
      "\"num_key_value_heads\": 5");
  path = write_tmp ("q.json", json);
  g_assert_false (hart_qwen2_config_load (path, &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "\"num_key_value_heads\" 5"));
  g_clear_error (&error);
  g_free (json);
  g_free (path);

  json = patched (real_qwen2_json, "\"hidden_act\": \"silu\"",
      "\"hidden_act\": \"gelu\"");
  path = write_tmp ("q.json", json);
  g_assert_false (hart_qwen2_config_load (path, &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_free (json);
  g_free (path);

  json = patched (real_qwen2_json, "\"model_type\": \"qwen2\"",
      "\"model_type\": \"qwen2_vl\"");
  path = write_tmp ("q.json", json);
  g_assert_false (hart_qwen2_config_load (path, &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "\"qwen2_vl\""));
  g_clear_error (&error);
  g_free (json);
  g_free (path);

  json = patched (real_qwen2_json, "\"use_sliding_window\": false",
      "\"use_sliding_window\": true");
  path = write_tmp ("q.json", json);
  g_assert_false (hart_qwen2_config_load (path, &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_free (json);
  g_free (path);
}

static void
test_bad_autoencoder (void)
{
  HartAutoencoderConfig cfg;
  GError *error = NULL;
  char *json, *path;

  json = patched (real_autoencoder_json, "\"double_decoder\": false",
      "\"double_decoder\": true");
  path = write_tmp ("a.json", json);
  g_assert_false (hart_autoencoder_config_load (path, &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "\"double_decoder\""));
  g_clear_error (&error);
  g_free (json);
  g_free (path);

  json = patched (real_autoencoder_json, "[1,1,2,2,4]", "[]");
  path = write_tmp ("a.json", json);
  g_assert_false (hart_autoencoder_config_load (path, &cfg, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "\"ch_mult\""));
  g_clear_error (&error);
  g_free (json);
  g_free (path);
}

/* The committed tiny fixtures parse, and agree with their generator's
 * configuration (tests/reference/make_fixtures.py). */
static void
test_fixture_configs (void)
{
  const char *fixtures = g_getenv ("HART_FIXTURES");
  HartTransformerConfig t;
  HartAutoencoderConfig a;
  HartQwen2Config q;
  GError *error = NULL;
  char *path;

  if (fixtures == NULL) {
    g_test_skip ("HART_FIXTURES is not set");
    return;
  }
  path = g_build_filename (fixtures, "tiny", "hart-0.7b-1024px", "llm",
      "config.json", NULL);
  g_assert_true (hart_transformer_config_load (path, &t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (t.patch_nums[0], ==, 1);
  g_assert_cmpint (t.n_scales, >=, 8);
  g_free (path);

  path = g_build_filename (fixtures, "tiny", "hart-0.7b-1024px", "tokenizer",
      "config.json", NULL);
  g_assert_true (hart_autoencoder_config_load (path, &a, &error));
  g_assert_no_error (error);
  g_free (path);

  path = g_build_filename (fixtures, "tiny", "Qwen2-VL-1.5B-Instruct",
      "config.json", NULL);
  g_assert_true (hart_qwen2_config_load (path, &q, &error));
  g_assert_no_error (error);
  /* HART consumes Qwen2's hidden states as its context */
  g_assert_cmpint (q.hidden_size, ==, t.context_dim);
  g_free (path);
  hart_transformer_config_clear (&t);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("hart-test-config-XXXXXX", NULL);

  g_test_add_func ("/config/transformer/real", test_real_transformer);
  g_test_add_func ("/config/autoencoder/real", test_real_autoencoder);
  g_test_add_func ("/config/qwen2/real", test_real_qwen2);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_transformers); i++) {
    char *name = g_strdup_printf ("/config/transformer/refuses/%s",
        bad_transformers[i].what);
    g_test_add_data_func (name, &bad_transformers[i], test_bad_transformer);
    g_free (name);
  }
  g_test_add_func ("/config/file-errors", test_file_errors);
  g_test_add_func ("/config/qwen2/refuses", test_bad_qwen2);
  g_test_add_func ("/config/autoencoder/refuses", test_bad_autoencoder);
  g_test_add_func ("/config/fixtures", test_fixture_configs);

  status = g_test_run ();

  /* clean the temporary folder */
  {
    GDir *dir = g_dir_open (tmp_dir, 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name (dir))) {
      char *p = g_build_filename (tmp_dir, name, NULL);
      g_unlink (p);
      g_free (p);
    }
    if (dir)
      g_dir_close (dir);
    g_rmdir (tmp_dir);
    g_free (tmp_dir);
  }
  return status;
}
