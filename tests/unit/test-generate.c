/* gst-hart — golden tests of the whole engine against the PyTorch reference
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Goldens: tests/fixtures/goldens/{tiny,tiny2}.safetensors, written by
 * tests/reference/make_goldens.py with the same Philox draws (seed 42) on
 * the committed tiny checkpoints.  The reference itself reproduces the
 * official code's tokens and image exactly (docs/reference-validation.md).
 *
 * Tolerances: fp32 through different summation orders (OpenBLAS vs torch).
 * Per layer ~1e-6 relative; after the transformer 1e-4 absolute on O(1)
 * logits; images are compared as bytes after truncation, where a value
 * within ~1e-5 of an integer boundary may land one level apart, so at most
 * one level of difference is accepted on ≤ 0.5 % of the samples.
 */
#include "hart/hart.h"
#include "hart/checkpoint.h"
#include "hart/transformer.h"
#include "hart/safetensors-write.h"
#include "hart/tokens.h"
#include "tests/hart-test-bf16.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  const char *config;           /* tiny | tiny2 */
  gboolean smooth;
} GoldenCase;

static char *
fixture_path (const char *first, ...)
{
  const char *root = g_getenv ("HART_FIXTURES");
  va_list args;
  GPtrArray *parts = g_ptr_array_new ();
  char *path;

  g_ptr_array_add (parts, (gpointer) (root ? root : "tests/fixtures"));
  va_start (args, first);
  for (const char *p = first; p; p = va_arg (args, const char *))
      g_ptr_array_add (parts, (gpointer) p);
  va_end (args);
  g_ptr_array_add (parts, NULL);
  path = g_build_filenamev ((char **) parts->pdata);
  g_ptr_array_free (parts, TRUE);
  return path;
}

/* Reads golden tensor `name` as f32, any shape; n_out = element count. */
static float *
golden_read (HartCheckpoint * g, const char *name, gsize * n_out)
{
  const HartTensorInfo *t = hart_checkpoint_lookup (g, name);
  GError *error = NULL;
  float *data;

  if (t == NULL)
    g_error ("golden tensor \"%s\" is missing", name);
  data = g_new (float, t->n_elements);
  if (!hart_checkpoint_read_f32 (g, name, t->ndim, t->shape, data, &error))
    g_error ("%s", error->message);
  if (n_out)
    *n_out = t->n_elements;
  return data;
}

static double
max_abs_diff (const float *a, const float *b, gsize n)
{
  double m = 0;
  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs ((double) a[i] - b[i]));
  return m;
}

static HartModel *
load_model (const char *config, HartEngine ** engine_out)
{
  GError *error = NULL;
  char *dir = fixture_path (config, "hart-0.7b-1024px", NULL);
  HartEngine *engine = hart_engine_new ("cpu", 0, &error);
  HartModel *model;

  g_assert_no_error (error);
  model = hart_model_load (engine, dir, TRUE, &error);
  g_assert_no_error (error);
  g_free (dir);
  *engine_out = engine;
  return model;
}

/* The whole generation: same tokens → same image bytes as the reference. */
static void
test_image (gconstpointer data)
{
  const GoldenCase *gc = data;
  char *golden_path = fixture_path ("goldens", NULL);
  char *file = g_strdup_printf ("%s/%s.safetensors", golden_path, gc->config);
  char *name = g_strdup_printf ("smooth%d.image_u8", gc->smooth ? 1 : 0);
  GError *error = NULL;
  HartEngine *engine;
  HartModel *model = load_model (gc->config, &engine);
  HartCheckpoint *g = hart_checkpoint_open (file, &error);
  HartContext *ctx;
  HartGenerateParams params;
  HartImage **images;
  float *expected;
  gsize n, off_by_one = 0;
  int max_diff = 0;

  g_assert_no_error (error);
  ctx = hart_context_load (file, &error);       /* the golden holds its context */
  g_assert_no_error (error);
  hart_generate_params_init (&params);
  params.seed = 42;
  params.cfg = 4.5;
  params.smooth = gc->smooth;
  images = hart_model_generate (model, ctx, &params, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (images[0]);
  g_assert_null (images[1]);

  expected = golden_read (g, name, &n);
  g_assert_cmpuint (n, ==, (gsize) 3 * images[0]->width * images[0]->height);
  for (int c = 0; c < 3; c++) {
    for (int i = 0; i < images[0]->width * images[0]->height; i++) {
      int want = (int) expected[(gsize) c * images[0]->width *
          images[0]->height + i];
      int got = images[0]->rgb[(gsize) i * 3 + c];
      int d = ABS (want - got);
      max_diff = MAX (max_diff, d);
      off_by_one += d == 1;
    }
  }
  g_test_message ("%s smooth=%d: max byte difference %d, %" G_GSIZE_FORMAT
      " of %" G_GSIZE_FORMAT " samples one level apart", gc->config,
      gc->smooth, max_diff, off_by_one, n);
  g_assert_cmpint (max_diff, <=, 1);
  g_assert_cmpuint (off_by_one, <=, n / 200);

  g_free (expected);
  hart_images_free (images);
  hart_context_free (ctx);
  hart_checkpoint_free (g);
  hart_model_unref (model);
  hart_engine_unref (engine);
  g_free (name);
  g_free (file);
  g_free (golden_path);
}

/* Stage-level: text conditioning, level embeddings and stage-0 logits. */
static void
test_stage0 (gconstpointer data)
{
  const GoldenCase *gc = data;
  char *golden_dir = fixture_path ("goldens", NULL);
  char *file = g_strdup_printf ("%s/%s.safetensors", golden_dir, gc->config);
  char *llm = fixture_path (gc->config, "hart-0.7b-1024px", "llm", NULL);
  char *cfg_path = g_build_filename (llm, "config.json", NULL);
  char *weights = g_build_filename (llm, "ema_model.bin", NULL);
  char *tok_cfg = fixture_path (gc->config, "hart-0.7b-1024px", "tokenizer",
      "config.json", NULL);
  GError *error = NULL;
  HartTransformerConfig cfg;
  HartAutoencoderConfig acfg;
  HartBackend *be = hart_backend_new ("cpu", 0, 0, &error);
  HartCheckpoint *ckpt, *g;
  HartTransformer *tf;
  HartTransformerState *st;
  HartContext *ctx;
  float *expected, *got, *x, *logits;
  gsize n;
  int T, C, V;

  g_assert_no_error (error);
  g_assert_true (hart_transformer_config_load (cfg_path, &cfg, &error));
  g_assert_true (hart_autoencoder_config_load (tok_cfg, &acfg, &error));
  ckpt = hart_checkpoint_open (weights, &error);
  g_assert_no_error (error);
  g = hart_checkpoint_open (file, &error);
  g_assert_no_error (error);
  ctx = hart_context_load (file, &error);
  g_assert_no_error (error);
  tf = hart_transformer_load (be, ckpt, &cfg, acfg.vocab_size,
      acfg.z_channels, HART_DTYPE_F32, &error);
  g_assert_no_error (error);
  st = hart_transformer_state_new (tf, 1, 0, &error);
  g_assert_no_error (error);
  g_assert_true (hart_transformer_begin (st, ctx->data, ctx->positions,
          &error));
  T = cfg.context_token;
  C = cfg.embed_dim;
  V = acfg.vocab_size;

  /* level embeddings (G4): elementwise MLP of exact sinusoids */
  expected = golden_read (g, "lvl_vectors", &n);
  g_assert_cmpuint (n, ==, (gsize) cfg.n_scales * C);
  g_assert_cmpfloat (max_abs_diff (expected, tf->lvl, n), <, 1e-5);
  g_free (expected);

  /* cond_BD (G3) */
  expected = golden_read (g, "cond_BD", &n);
  g_assert_cmpuint (n, ==, (gsize) 2 * T * C);
  g_assert_cmpfloat (max_abs_diff (expected, hart_transformer_cond (st), n),
      <, 1e-5);
  g_free (expected);

  /* stage-0 logits of every context position (G6) */
  x = g_new (float, (gsize) 2 * T * C);
  logits = g_new (float, (gsize) 2 * T * V);
  hart_transformer_stage0_input (st, x);
  g_assert_true (hart_transformer_forward_stage (st, 0, x, NULL, &error));
  g_assert_no_error (error);
  hart_transformer_logits (st, x, T, (int64_t) T * C, logits);
  expected = golden_read (g, "s00_logits_raw", &n);
  g_assert_cmpuint (n, ==, (gsize) 2 * T * V);
  got = logits;
  g_test_message ("stage-0 logits: max abs diff %g",
      max_abs_diff (expected, got, n));
  g_assert_cmpfloat (max_abs_diff (expected, got, n), <, 1e-4);
  g_free (expected);

  g_free (x);
  g_free (logits);
  hart_context_free (ctx);
  hart_transformer_state_free (st);
  hart_transformer_free (tf);
  hart_checkpoint_free (ckpt);
  hart_checkpoint_free (g);
  hart_transformer_config_clear (&cfg);
  hart_backend_free (be);
  g_free (golden_dir);
  g_free (file);
  g_free (llm);
  g_free (cfg_path);
  g_free (weights);
  g_free (tok_cfg);
}

/* In bf16 the transformer holds its KV cache in bf16 (docs/precision.md):
 * half the fp32 cache's memory, and the refinement's request for that
 * memory as scratch (hart_transformer_state_workspace) still honoured. */
static void
test_kv_cache_bf16 (void)
{
  char *llm = fixture_path ("tiny", "hart-0.7b-1024px", "llm", NULL);
  char *cfg_path = g_build_filename (llm, "config.json", NULL);
  char *weights = g_build_filename (llm, "ema_model.bin", NULL);
  char *tok_cfg = fixture_path ("tiny", "hart-0.7b-1024px", "tokenizer",
      "config.json", NULL);
  GError *error = NULL;
  HartTransformerConfig cfg;
  HartAutoencoderConfig acfg;
  HartBackend *be = hart_backend_new ("cpu", 0, 0, &error);
  HartCheckpoint *ckpt;
  HartTransformer *tf32, *tf16;
  HartTransformerState *st32, *st16, *big;
  gsize n32, n16, n_big, kv32;

  g_assert_no_error (error);
  if (be->ops->init_half != NULL)
    be->ops->init_half (be);
  if (!hart_test_bf16_go_on ((be->half_dtypes & (1u << HART_DTYPE_BF16))
          == 0, "precision bf16 is not available on device cpu (no bf16 "
          "products on this backend)")) {
    hart_backend_free (be);
    goto out;
  }
  g_assert_true (hart_transformer_config_load (cfg_path, &cfg, &error));
  g_assert_true (hart_autoencoder_config_load (tok_cfg, &acfg, &error));
  ckpt = hart_checkpoint_open (weights, &error);
  g_assert_no_error (error);
  tf32 = hart_transformer_load (be, ckpt, &cfg, acfg.vocab_size,
      acfg.z_channels, HART_DTYPE_F32, &error);
  g_assert_no_error (error);
  tf16 = hart_transformer_load (be, ckpt, &cfg, acfg.vocab_size,
      acfg.z_channels, HART_DTYPE_BF16, &error);
  g_assert_no_error (error);
  st32 = hart_transformer_state_new (tf32, 2, 0, &error);
  g_assert_no_error (error);
  st16 = hart_transformer_state_new (tf16, 2, 0, &error);
  g_assert_no_error (error);
  /* every block over seq − P² positions, and the last stage over seq,
   * keys and values, 2B rows of C */
  kv32 = hart_transformer_state_cache_bytes (st32);
  g_assert_cmpuint (kv32, ==, (gsize) (2 * cfg.depth * (cfg.seq_len -
              cfg.patch_nums[cfg.n_scales - 1] * cfg.patch_nums[cfg.n_scales -
                  1]) + 2 * cfg.seq_len) * 4 * cfg.embed_dim * 4);
  g_assert_cmpuint (2 * hart_transformer_state_cache_bytes (st16), ==, kv32);
  /* the workspace: the caches and the activations, as large as asked */
  hart_transformer_state_workspace (st32, &n32);
  hart_transformer_state_workspace (st16, &n16);
  g_assert_cmpuint (n32 * 4, >, kv32);
  g_assert_cmpuint (n32 - n16, ==, kv32 / 8);
  big = hart_transformer_state_new (tf16, 2, n32 + 7, &error);
  g_assert_no_error (error);
  hart_transformer_state_workspace (big, &n_big);
  g_assert_cmpuint (n_big, >=, n32 + 7);

  hart_transformer_state_free (big);
  hart_transformer_state_free (st16);
  hart_transformer_state_free (st32);
  hart_transformer_free (tf16);
  hart_transformer_free (tf32);
  hart_checkpoint_free (ckpt);
  hart_transformer_config_clear (&cfg);
  hart_backend_free (be);
out:
  g_free (llm);
  g_free (cfg_path);
  g_free (weights);
  g_free (tok_cfg);
}

static HartImage **
generate_tiny (HartModel * model, guint64 seed, const char *record,
    const char *replay, GError ** error)
{
  char *file = fixture_path ("goldens", "tiny-context.safetensors", NULL);
  HartContext *ctx = hart_context_load (file, error);
  HartGenerateParams params;
  HartImage **images;

  g_free (file);
  if (ctx == NULL)
    return NULL;
  hart_generate_params_init (&params);
  params.seed = seed;
  params.record_draws = record;
  params.replay_draws = replay;
  images = hart_model_generate (model, ctx, &params, NULL, error);
  hart_context_free (ctx);
  return images;
}

static gboolean
same_image (const HartImage * a, const HartImage * b)
{
  return a->width == b->width && a->height == b->height
      && memcmp (a->rgb, b->rgb, (gsize) a->stride * a->height) == 0;
}

/* Seed 3 with the environment variable VAR at each of VALUES (a chunk
 * size) gives the bytes of WHOLE; VAR is unset after. */
static void
assert_same_chunked (HartModel * model, const HartImage * whole,
    const char *var, const char *const *values, guint n_values)
{
  GError *error = NULL;

  for (guint i = 0; i < n_values; i++) {
    HartImage **chunked;

    g_setenv (var, values[i], TRUE);
    chunked = generate_tiny (model, 3, NULL, NULL, &error);
    g_assert_no_error (error);
    g_test_message ("%s=%s", var, values[i]);
    g_assert_true (same_image (whole, chunked[0]));
    hart_images_free (chunked);
  }
  g_unsetenv (var);
}

/* A stage's tokens go through the QKV projection and the MLP in chunks
 * (transformer.c; 1,024 tokens, more than the tiny model's stages have):
 * in fp32 the image is the same byte for byte whatever the chunk, down to
 * one token — chunks of positions within a row, and of several whole
 * rows of the batch. */
static void
test_chunked_stages (void)
{
  HartEngine *engine;
  HartModel *model = load_model ("tiny", &engine);
  GError *error = NULL;
  const char *chunks[] = { "1", "5", "37" };
  HartImage **whole;

  g_unsetenv ("HART_STAGE_CHUNK_ROWS");
  whole = generate_tiny (model, 3, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_same_chunked (model, whole[0], "HART_STAGE_CHUNK_ROWS", chunks,
      G_N_ELEMENTS (chunks));
  hart_images_free (whole);
  hart_model_unref (model);
  hart_engine_unref (engine);
}

/* A stage's logits are computed and sampled in chunks of positions
 * (generate.c; 256, as many as the tiny model's last stage has): the image
 * is the same byte for byte whatever the chunk, in fp32, and the same as
 * with the logits whole (draws recorded to a file need them so). */
static void
test_chunked_logits (void)
{
  HartEngine *engine;
  HartModel *model = load_model ("tiny", &engine);
  GError *error = NULL;
  const char *chunks[] = { "1", "7", "100" };
  char *dir = g_dir_make_tmp ("hart-draws-XXXXXX", NULL);
  char *draws = g_build_filename (dir, "draws.safetensors", NULL);
  HartImage **whole;

  g_unsetenv ("HART_LOGITS_CHUNK");
  whole = generate_tiny (model, 3, draws, NULL, &error);        /* whole */
  g_assert_no_error (error);
  assert_same_chunked (model, whole[0], "HART_LOGITS_CHUNK", chunks,
      G_N_ELEMENTS (chunks));
  hart_images_free (whole);
  hart_model_unref (model);
  hart_engine_unref (engine);
  g_unlink (draws);
  g_rmdir (dir);
  g_free (draws);
  g_free (dir);
}

/* Same seed → same bytes; other seed → other image; record → replay. */
static void
test_determinism_and_replay (void)
{
  HartEngine *engine;
  HartModel *model = load_model ("tiny", &engine);
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("hart-draws-XXXXXX", NULL);
  char *draws = g_build_filename (dir, "draws.safetensors", NULL);
  HartImage **a, **b, **c, **d;

  a = generate_tiny (model, 7, draws, NULL, &error);
  g_assert_no_error (error);
  b = generate_tiny (model, 7, NULL, NULL, &error);
  g_assert_no_error (error);
  c = generate_tiny (model, 8, NULL, NULL, &error);
  g_assert_no_error (error);
  d = generate_tiny (model, 999, NULL, draws, &error);  /* seed ignored */
  g_assert_no_error (error);
  g_assert_true (same_image (a[0], b[0]));
  g_assert_false (same_image (a[0], c[0]));
  g_assert_true (same_image (a[0], d[0]));

  hart_images_free (a);
  hart_images_free (b);
  hart_images_free (c);
  hart_images_free (d);
  hart_model_unref (model);
  hart_engine_unref (engine);
  g_unlink (draws);
  g_rmdir (dir);
  g_free (draws);
  g_free (dir);
}

/* A draw file from another configuration is refused with a clear error. */
static void
test_replay_mismatch (void)
{
  HartEngine *engine;
  HartModel *model = load_model ("tiny", &engine);
  GError *error = NULL;
  char *other = fixture_path ("goldens", "diffusion-tiny-replay.safetensors",
      NULL);
  HartImage **images = generate_tiny (model, 1, NULL, other, &error);

  g_assert_null (images);
  g_assert_error (error, HART_ERROR, HART_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "draw 0"));
  g_clear_error (&error);
  hart_model_unref (model);
  hart_engine_unref (engine);
  g_free (other);
}

static void
test_errors (void)
{
  HartEngine *engine;
  HartModel *model = load_model ("tiny", &engine);
  GError *error = NULL;
  HartContext *ctx = hart_context_new (1, 5, 16);       /* T 5, model wants 12 */
  HartGenerateParams params;
  GCancellable *cancel = g_cancellable_new ();
  HartImage **images;

  hart_generate_params_init (&params);
  images = hart_model_generate (model, ctx, &params, NULL, &error);
  g_assert_null (images);
  g_assert_error (error, HART_ERROR, HART_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "expects [B, 12, 16]"));
  g_clear_error (&error);
  hart_context_free (ctx);

  ctx = hart_context_new (1, 12, 16);
  ctx->data[3] = NAN;
  images = hart_model_generate (model, ctx, &params, NULL, &error);
  g_assert_error (error, HART_ERROR, HART_ERROR_NUMERIC);
  g_clear_error (&error);
  ctx->data[3] = 0.0f;

  params.cfg = -1;
  images = hart_model_generate (model, ctx, &params, NULL, &error);
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  params.cfg = 4.5;

  g_cancellable_cancel (cancel);
  images = hart_model_generate (model, ctx, &params, cancel, &error);
  g_assert_null (images);
  g_assert_error (error, HART_ERROR, HART_ERROR_CANCELLED);
  g_clear_error (&error);

  g_assert_null (hart_model_load (engine, "/nonexistent/hart", TRUE, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/hart"));
  g_clear_error (&error);

  /* context files round-trip */
  {
    char *dir = g_dir_make_tmp ("hart-ctx-XXXXXX", NULL);
    char *path = g_build_filename (dir, "ctx.safetensors", NULL);
    HartContext *back;
    ctx->positions[5] = 3;
    ctx->mask[7] = 0;
    g_assert_true (hart_context_save (ctx, path, &error));
    back = hart_context_load (path, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (back->data, 12 * 16 * 4, ctx->data, 12 * 16 * 4);
    g_assert_cmpmem (back->mask, 12, ctx->mask, 12);
    g_assert_cmpmem (back->positions, 12 * 4, ctx->positions, 12 * 4);
    hart_context_free (back);
    g_unlink (path);
    g_rmdir (dir);
    g_free (path);
    g_free (dir);
  }

  g_assert_null (hart_engine_new ("tpu", 0, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_object_unref (cancel);
  hart_context_free (ctx);
  hart_model_unref (model);
  hart_engine_unref (engine);
}

/* generate_tokens → serialise → parse → refine gives the same bytes as
 * the whole generation (what hartsrc ! hartrefine relies on). */
static void
test_split_equals_whole (void)
{
  HartEngine *engine;
  HartModel *model = load_model ("tiny", &engine);
  GError *error = NULL;
  char *file = fixture_path ("goldens", "tiny-context.safetensors", NULL);
  HartContext *ctx = hart_context_load (file, &error);
  HartGenerateParams params;
  HartImage **whole, **split;
  HartTokens *tokens, *parsed;
  gsize size;
  guint8 *bytes;

  g_assert_no_error (error);
  hart_generate_params_init (&params);
  params.seed = 5;
  whole = hart_model_generate (model, ctx, &params, NULL, &error);
  g_assert_no_error (error);
  tokens = hart_model_generate_tokens (model, ctx, &params, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tokens->fingerprint, ==, hart_model_get_fingerprint (model));
  size = hart_tokens_serialized_size (tokens);
  bytes = g_malloc (size);
  hart_tokens_serialize (tokens, bytes);
  parsed = hart_tokens_parse (bytes, size, &error);
  g_assert_no_error (error);
  split = hart_model_refine (model, parsed, &params, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (same_image (whole[0], split[0]));

  /* a corrupted frame is refused, not decoded */
  g_assert_null (hart_tokens_parse (bytes, size - 4, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_clear_error (&error);
  bytes[0] = 'X';
  g_assert_null (hart_tokens_parse (bytes, size, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_clear_error (&error);
  /* a frame of another model is refused by refine */
  parsed->fingerprint[0] = parsed->fingerprint[0] == 'a' ? 'b' : 'a';
  g_assert_null (hart_model_refine (model, parsed, &params, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_SHAPE);
  g_clear_error (&error);

  g_free (bytes);
  hart_tokens_free (tokens);
  hart_tokens_free (parsed);
  hart_images_free (whole);
  hart_images_free (split);
  hart_context_free (ctx);
  hart_model_unref (model);
  hart_engine_unref (engine);
  g_free (file);
}

/* keep_scales: the first K token maps come from the previous frame, so a
 * new seed changes only the later scales; K = 0 leaves frames independent. */
static void
test_keep_scales (void)
{
  HartEngine *engine;
  HartModel *model = load_model ("tiny", &engine);
  GError *error = NULL;
  char *file = fixture_path ("goldens", "tiny-context.safetensors", NULL);
  HartContext *ctx = hart_context_load (file, &error);
  HartGenerateParams params;
  HartTokens *first, *kept, *free_run;
  const int K = 4;
  gsize kept_rows = 0;

  g_assert_no_error (error);
  hart_generate_params_init (&params);
  params.seed = 1;
  first = hart_model_generate_tokens (model, ctx, &params, NULL, &error);
  g_assert_no_error (error);
  params.seed = 2;
  params.reuse = first;
  params.keep_scales = K;
  kept = hart_model_generate_tokens (model, ctx, &params, NULL, &error);
  g_assert_no_error (error);
  params.keep_scales = 0;
  free_run = hart_model_generate_tokens (model, ctx, &params, NULL, &error);
  g_assert_no_error (error);

  for (int si = 0; si < K; si++) {
    int pn = hart_model_get_transformer_config (model)->patch_nums[si];
    kept_rows += si == 0 ? 1 : (gsize) pn *pn;
  }
  g_assert_cmpmem (first->stage_h, kept_rows * first->latent_channels * 4,
      kept->stage_h, kept_rows * kept->latent_channels * 4);
  g_assert_true (memcmp (first->stage_h, free_run->stage_h,
          kept_rows * first->latent_channels * 4) != 0);
  g_assert_true (memcmp (first->last_h, kept->last_h,
          (gsize) first->side * first->side * first->latent_channels * 4)
      != 0);

  params.keep_scales = 99;
  params.reuse = first;
  g_assert_null (hart_model_generate_tokens (model, ctx, &params, NULL,
          &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  hart_tokens_free (first);
  hart_tokens_free (kept);
  hart_tokens_free (free_run);
  hart_context_free (ctx);
  hart_model_unref (model);
  hart_engine_unref (engine);
  g_free (file);
}

/* A copy of the tiny model in a new folder whose tokenizer (VAE) weights
 * have one value, element `index` of `tensor`, replaced by `value`; the
 * other files are symbolic links to the fixture. */
static char *
tiny_with_bad_vae_weight (const char *tensor, gsize index, float value)
{
  char *src = fixture_path ("tiny", "hart-0.7b-1024px", NULL);
  char *dir = g_dir_make_tmp ("hart-nonfinite-XXXXXX", NULL);
  const char *links[] = { "llm/config.json", "llm/ema_model.bin",
    "llm/model.safetensors", "tokenizer/config.json"
  };
  char *st = g_build_filename (src, "tokenizer", "model.safetensors", NULL);
  char *out = g_build_filename (dir, "tokenizer", "model.safetensors", NULL);
  GError *error = NULL;
  HartCheckpoint *ckpt = hart_checkpoint_open (st, &error);
  HartSafetensorsWriter *w = hart_safetensors_writer_new ();
  gboolean found = FALSE;

  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (links); i++) {
    char *from = g_build_filename (src, links[i], NULL);
    char *to = g_build_filename (dir, links[i], NULL);
    char *parent = g_path_get_dirname (to);
    g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
    g_assert_cmpint (symlink (from, to), ==, 0);
    g_free (parent);
    g_free (from);
    g_free (to);
  }
  for (guint i = 0; i < hart_checkpoint_n_tensors (ckpt); i++) {
    const HartTensorInfo *t = hart_checkpoint_tensor (ckpt, i);
    float *data = g_new (float, t->n_elements);
    g_assert_true (hart_checkpoint_read_f32 (ckpt, t->name, t->ndim,
            t->shape, data, &error));
    if (strcmp (t->name, tensor) == 0) {
      g_assert_cmpuint (index, <, t->n_elements);
      data[index] = value;
      found = TRUE;
    }
    hart_safetensors_writer_add (w, t->name, HART_DTYPE_F32, t->ndim,
        t->shape, data);
    g_free (data);
  }
  g_assert_true (found);
  g_assert_true (hart_safetensors_writer_save (w, out, &error));
  hart_safetensors_writer_free (w);
  hart_checkpoint_free (ckpt);
  g_free (st);
  g_free (out);
  g_free (src);
  return dir;
}

static void
remove_tree (const char *dir)
{
  char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (cmd);
}

/* Replayed draws and context files holding NaN or Inf are refused where
 * they are read, naming the file, tensor, value and element. */
static void
test_non_finite_files (void)
{
  HartEngine *engine;
  HartModel *model = load_model ("tiny", &engine);
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("hart-nonfinite-XXXXXX", NULL);
  char *draws = g_build_filename (dir, "draws.safetensors", NULL);
  char *context = g_build_filename (dir, "context.safetensors", NULL);
  float exp_draw[1024], mask[12];
  HartContext *ctx = hart_context_new (1, 12, 16);
  HartSafetensorsWriter *w;
  HartImage **images;

  /* the tiny model's first draw is exp [1, 1024] */
  for (int i = 0; i < 1024; i++)
    exp_draw[i] = 0.5f;
  exp_draw[3] = NAN;
  w = hart_safetensors_writer_new ();
  hart_safetensors_writer_add (w, "draw_000_exp", HART_DTYPE_F32, 2,
      HART_SHAPE (1, 1024), exp_draw);
  g_assert_true (hart_safetensors_writer_save (w, draws, &error));
  hart_safetensors_writer_free (w);
  images = generate_tiny (model, 1, NULL, draws, &error);
  g_assert_null (images);
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message,
          "draws.safetensors: tensor \"draw_000_exp\" holds NaN at element 3"));
  g_clear_error (&error);

  ctx->data[5] = INFINITY;
  g_assert_true (hart_context_save (ctx, context, &error));
  g_assert_null (hart_context_load (context, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message,
          "context.safetensors: tensor \"context_tensor\" holds +Inf at "
          "element 5"));
  g_clear_error (&error);

  /* an f32 mask: NaN != 0 used to read as "attend" */
  for (int i = 0; i < 12; i++)
    mask[i] = 1.0f;
  mask[2] = NAN;
  ctx->data[5] = 0.0f;
  w = hart_safetensors_writer_new ();
  hart_safetensors_writer_add (w, "context_tensor", HART_DTYPE_F32, 3,
      HART_SHAPE (1, 12, 16), ctx->data);
  hart_safetensors_writer_add (w, "context_mask", HART_DTYPE_F32, 2,
      HART_SHAPE (1, 12), mask);
  g_assert_true (hart_safetensors_writer_save (w, context, &error));
  hart_safetensors_writer_free (w);
  g_assert_null (hart_context_load (context, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message,
          "tensor \"context_mask\" holds NaN at element 2"));
  g_clear_error (&error);

  hart_context_free (ctx);
  remove_tree (dir);
  g_free (draws);
  g_free (context);
  g_free (dir);
  hart_model_unref (model);
  hart_engine_unref (engine);
}

/* Token frames: the parser refuses NaN/Inf (FORMAT); refine refuses a
 * non-finite cfg scale from an API caller (INVALID_ARGUMENT) and stops a
 * non-finite latent before the decoder (NUMERIC). */
static void
test_non_finite_tokens (void)
{
  HartEngine *engine;
  HartModel *model = load_model ("tiny", &engine);
  GError *error = NULL;
  char *file = fixture_path ("goldens", "tiny-context.safetensors", NULL);
  HartContext *ctx = hart_context_load (file, &error);
  HartGenerateParams params;
  HartTokens *tokens, *bad;
  guint8 *bytes;
  gsize size;

  g_assert_no_error (error);
  hart_generate_params_init (&params);
  tokens = hart_model_generate_tokens (model, ctx, &params, NULL, &error);
  g_assert_no_error (error);
  size = hart_tokens_serialized_size (tokens);
  bytes = g_malloc (size);

  bad = hart_tokens_copy (tokens);
  bad->cfg_scale = NAN;
  hart_tokens_serialize (bad, bytes);
  g_assert_null (hart_tokens_parse (bytes, size, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_assert_cmpstr (error->message, ==, "token frame: cfg scale is NaN");
  g_clear_error (&error);
  g_assert_null (hart_model_refine (model, bad, &params, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  hart_tokens_free (bad);

  bad = hart_tokens_copy (tokens);
  bad->z[7] = -INFINITY;
  hart_tokens_serialize (bad, bytes);
  g_assert_null (hart_tokens_parse (bytes, size, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_assert_cmpstr (error->message, ==,
      "token frame: z holds -Inf at element 7");
  g_clear_error (&error);
  hart_tokens_free (bad);

  bad = hart_tokens_copy (tokens);
  bad->f_hat[1] = NAN;
  hart_tokens_serialize (bad, bytes);
  g_assert_null (hart_tokens_parse (bytes, size, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_clear_error (&error);
  /* handed over directly, it reaches the engine's latent check */
  g_assert_null (hart_model_refine (model, bad, &params, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "final latent"));
  g_clear_error (&error);
  hart_tokens_free (bad);

  g_free (bytes);
  hart_tokens_free (tokens);
  hart_context_free (ctx);
  hart_model_unref (model);
  hart_engine_unref (engine);
  g_free (file);
}

/* Weights: a NaN bias is refused at load; a NaN in a matrix (not scanned
 * at load) makes the decoded image non-finite, which is a NUMERIC error
 * and no image — it used to come out black with success. */
static void
test_non_finite_weights (void)
{
  HartEngine *engine = hart_engine_new ("cpu", 0, NULL);
  GError *error = NULL;
  char *dir;
  HartModel *model;
  HartImage **images;

  dir = tiny_with_bad_vae_weight ("vae.decoder.conv_out.bias", 1, NAN);
  g_assert_null (hart_model_load (engine, dir, TRUE, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message,
          "tensor \"vae.decoder.conv_out.bias\" holds NaN at element 1"));
  g_clear_error (&error);
  remove_tree (dir);
  g_free (dir);

  dir = tiny_with_bad_vae_weight ("vae.decoder.conv_out.weight", 7, INFINITY);
  model = hart_model_load (engine, dir, TRUE, &error);
  g_assert_no_error (error);
  images = generate_tiny (model, 1, NULL, NULL, &error);
  g_assert_null (images);
  g_assert_error (error, HART_ERROR, HART_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "the decoded image holds"));
  g_clear_error (&error);
  hart_model_unref (model);
  remove_tree (dir);
  g_free (dir);
  hart_engine_unref (engine);
}

int
main (int argc, char **argv)
{
  static const GoldenCase cases[] = {
    {"tiny", TRUE}, {"tiny", FALSE}, {"tiny2", TRUE}, {"tiny2", FALSE},
  };

  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    char *path = g_strdup_printf ("/generate/%s/image/smooth%d",
        cases[i].config, cases[i].smooth);
    g_test_add_data_func (path, &cases[i], test_image);
    g_free (path);
  }
  g_test_add_data_func ("/generate/tiny/stage0", &cases[0], test_stage0);
  g_test_add_data_func ("/generate/tiny2/stage0", &cases[2], test_stage0);
  g_test_add_func ("/generate/kv-cache-bf16", test_kv_cache_bf16);
  g_test_add_func ("/generate/chunked-stages", test_chunked_stages);
  g_test_add_func ("/generate/chunked-logits", test_chunked_logits);
  g_test_add_func ("/generate/determinism-and-replay",
      test_determinism_and_replay);
  g_test_add_func ("/generate/replay-mismatch", test_replay_mismatch);
  g_test_add_func ("/generate/errors", test_errors);
  g_test_add_func ("/generate/split-equals-whole", test_split_equals_whole);
  g_test_add_func ("/generate/keep-scales", test_keep_scales);
  g_test_add_func ("/generate/non-finite/files", test_non_finite_files);
  g_test_add_func ("/generate/non-finite/tokens", test_non_finite_tokens);
  g_test_add_func ("/generate/non-finite/weights", test_non_finite_weights);
  return g_test_run ();
}
