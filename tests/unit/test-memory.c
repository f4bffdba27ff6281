/* gst-hart — memory estimates and the memory budget
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The size parser and $HART_MEMORY_BUDGET against hand-computed values;
 * the budget refusing and accepting the tiny fixture, and a budget between
 * the bf16 and the fp32 estimate refusing fp32 and accepting bf16; the
 * estimate's weights against what the loaders of both fixtures hold, to
 * the byte, in fp32 and bf16, and its bf16 buffers against the states the
 * engine makes; at the real release's size (sparse checkpoints: headers
 * only), the fp32 − bf16 differences (16-bit matrices, KV cache, text
 * encoder) against hand-computed values, and the buffers against the peak
 * measured in docs/performance.md (7.43 GiB resident, of which 2.9 GB fp32
 * weights: ≈ 4.5 GiB of generation buffers; the estimate must land within
 * 20 %).
 */
#include "hart/hart.h"
#include "hart/memory.h"
#include "hart/checkpoint.h"
#include "hart/generator.h"
#include "hart/model-private.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char *
fixture_model_dir (const char *fixture)
{
  const char *root = g_getenv ("HART_FIXTURES");
  return g_build_filename (root ? root : "tests/fixtures", fixture,
      "hart-0.7b-1024px", NULL);
}

static char *
tiny_model_dir (void)
{
  return fixture_model_dir ("tiny");
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

/* The weight matrices that hart_transformer_load and hart_diffusion_load
 * hold in the engine's matrix type (docs/precision.md), counted from the
 * config: what a 16-bit precision holds at 2 bytes an element instead of
 * 4.  Written out here from the loaders' shapes, apart from memory.c's
 * list of names, so that the two check each other. */
static guint64
matrix_elements (const HartTransformerConfig * t, int V)
{
  const guint64 C = t->embed_dim, D = t->context_dim, F = t->mlp_hidden;
  const guint64 W = t->diff_width;

  return C * D + 2 * C * C + (guint64) V *C     /* context, head adaLN, head */
  + (guint64) t->depth * (3 * C * C + C * C + 3 * F * C)
  + W * C                       /* diffusion: cond_embed */
  + (guint64) t->diff_depth * (W * W + W * W + 3 * W * W)
  + 2 * W * W;                  /* final_layer.adaLN_modulation.1 */
}

/* Elements of every block's KV cache and of the last stage's keys and
 * values for BATCH images (transformer.c): 2 bytes each in a 16-bit
 * precision, 4 in fp32. */
static guint64
kv_elements (const HartTransformerConfig * t, int batch)
{
  const guint64 rows = 2 * (guint64) batch, C = t->embed_dim;
  const guint64 P = t->patch_nums[t->n_scales - 1];

  return (guint64) t->depth * 2 * rows * (t->seq_len - P * P) * C
      + 2 * rows * t->seq_len * C;
}

/* The tensor names no loader reads (training buffers of the official
 * state dicts), which the estimate does not count. */
static gboolean
is_unread (const char *name)
{
  return strcmp (name, "lvl_1L") == 0
      || strcmp (name, "attn_bias_for_masking") == 0
      || strcmp (name, "vae.quantize.ema_vocab_hit_SV") == 0
      || (g_str_has_prefix (name, "blocks.")
      && g_str_has_suffix (name, ".attn.zero_k_bias"));
}

/* The tiny fixture's estimate: the weights it keeps come from its
 * checkpoint headers, so in fp32 they equal 4 bytes × the elements of
 * every transformer tensor a loader reads + the decoder half of the
 * autoencoder (counted here directly, tensor by tensor) + the derived
 * buffers; in bf16 the 16-bit matrices count half of that. */
static void
test_estimate_tiny (void)
{
  char *dir = tiny_model_dir ();
  char *llm = g_build_filename (dir, "llm", "ema_model.bin", NULL);
  char *tok = g_build_filename (dir, "tokenizer", "model.safetensors", NULL);
  HartMemoryEstimate one, two, half;
  GError *error = NULL;
  HartCheckpoint *ckpt;
  guint64 expected = 0;

  g_assert_true (hart_model_estimate_memory (dir, TRUE, 1,
          HART_PRECISION_FP32, &one, &error));
  g_assert_no_error (error);
  g_assert_true (hart_model_estimate_memory (dir, TRUE, 2,
          HART_PRECISION_FP32, &two, &error));
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
  for (guint i = 0; i < hart_checkpoint_n_tensors (ckpt); i++) {
    const HartTensorInfo *t = hart_checkpoint_tensor (ckpt, i);
    if (!is_unread (t->name))
      expected += 4 * t->n_elements;
  }
  hart_checkpoint_free (ckpt);
  ckpt = hart_checkpoint_open (tok, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < hart_checkpoint_n_tensors (ckpt); i++) {
    const HartTensorInfo *t = hart_checkpoint_tensor (ckpt, i);
    if (!g_str_has_prefix (t->name, "vae.encoder.")
        && !g_str_has_prefix (t->name, "vae.quant_conv.")
        && !is_unread (t->name))
      expected += 4 * t->n_elements;
  }
  hart_checkpoint_free (ckpt);
  /* tiny: depth 2 × 3C fused QKV biases, 11 level embeddings of C = 64,
   * 8 time embeddings of the diffusion width 64 */
  expected += 4 * (2 * 3 * 64 + 11 * 64 + 8 * 64);
  g_assert_cmpuint (one.weight_bytes, ==, expected);

  /* bf16: tiny's matrices are C × D 64 × 16, 2C × C, V × C 1024 × 64, per
   * block 4C² + 3 F C (F = 256), diffusion W C + 2 × 5 W² + 2 W² (W = 64):
   * 259,072 elements, 2 bytes each instead of 4.  The buffers of one image
   * do not shrink: the decoder's workspace (3 × 32 channels × 128²) is
   * larger than the KV cache and the activations, and the slab is made
   * its size in either precision. */
  g_assert_true (hart_model_estimate_memory (dir, TRUE, 1,
          HART_PRECISION_BF16, &half, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (one.weight_bytes - half.weight_bytes, ==, 2 * 259072);
  g_assert_cmpuint (half.generation_bytes, ==, one.generation_bytes);
  g_assert_cmpuint (half.total_bytes, ==, half.weight_bytes +
      half.generation_bytes);

  g_free (llm);
  g_free (tok);
  g_free (dir);
}

/* A CPU engine in PRECISION, or NULL with the test skipped (saying why)
 * where this build or this CPU has none: bf16 needs oneDNN and a CPU with
 * bf16 products (be->half_dtypes, after init_half). */
static HartEngine *
engine_or_skip (HartPrecision precision)
{
  GError *error = NULL;
  HartEngine *engine = hart_engine_new_with_precision ("cpu", 0, 0,
      precision, &error);

  if (engine == NULL) {
    char *why;

    g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
    why = g_strdup_printf ("no %s on this backend: %s",
        hart_precision_to_string (precision), error->message);
    g_test_skip (why);
    g_free (why);
    g_error_free (error);
  }
  return engine;
}

/* The slab of a transformer state of BATCH images of MODEL, made as
 * generate.c makes it (large enough for the refinement's workspace). */
static guint64
state_slab_bytes (HartModel * model, int batch)
{
  const HartTransformerConfig *t = &model->tcfg;
  const int P = t->patch_nums[t->n_scales - 1];
  const gsize workspace = MAX (hart_diffusion_workspace_floats
      (model->diffusion, batch * P * P),
      hart_decoder_workspace_floats (model->decoder, P, P));
  GError *error = NULL;
  HartTransformerState *st = hart_transformer_state_new (model->transformer,
      batch, workspace, &error);
  gsize n_floats = 0;

  g_assert_no_error (error);
  hart_transformer_state_workspace (st, &n_floats);
  hart_transformer_state_free (st);
  return (guint64) n_floats *sizeof (float);
}

/* The estimate's weights against what the loaders hold (hart_weights_bytes
 * of the transformer, diffusion head, latent and decoder, and the latent's
 * host codebook) on both fixtures, to the byte: the rule of memory.c (which
 * tensors the loaders hold in the matrix type, which they do not read)
 * mirrors the loaders exactly.  In bf16 also the buffers: the estimate's
 * fp32 − bf16 difference is the difference of the states' slabs (KV cache
 * + activations, at least the refinement's workspace) that the engine
 * makes in the two precisions, within 8 KiB (the 256-byte alignment of
 * the slab's and the decoder's buffers, which the estimate rounds
 * differently). */
static void
check_loaders (HartPrecision precision)
{
  static const char *const fixtures[] = { "tiny", "tiny2" };
  HartEngine *engine = engine_or_skip (precision), *engine32 = NULL;

  if (engine == NULL)
    return;
  if (precision != HART_PRECISION_FP32)
    engine32 = engine_or_skip (HART_PRECISION_FP32);
  for (guint f = 0; f < G_N_ELEMENTS (fixtures); f++) {
    char *dir = fixture_model_dir (fixtures[f]);
    GError *error = NULL;
    HartMemoryEstimate est;
    HartModel *model;
    guint64 held;

    model = hart_model_load_with_budget (engine, dir, TRUE, G_MAXUINT64,
        &error);
    g_assert_no_error (error);
    g_assert_true (hart_model_estimate_memory (dir, TRUE, 1, precision, &est,
            &error));
    g_assert_no_error (error);
    held = hart_model_weights_bytes (model);
    g_test_message ("%s, %s: weights estimated %" G_GUINT64_FORMAT
        " bytes, held by the loaders %" G_GUINT64_FORMAT, fixtures[f],
        hart_precision_to_string (precision), est.weight_bytes, held);
    g_assert_cmpuint (est.weight_bytes, ==, held);

    if (engine32 != NULL) {
      HartModel *model32 = hart_model_load_with_budget (engine32, dir, TRUE,
          G_MAXUINT64, &error);
      const HartTransformerConfig *t = &model->tcfg;

      g_assert_no_error (error);
      /* one image (the decoder's workspace sets the slab in both) and 8
       * (the KV cache does, in both) */
      for (int batch = 1; batch <= 8; batch += 7) {
        HartMemoryEstimate e32, e16;
        const guint64 slab32 = state_slab_bytes (model32, batch);
        const guint64 slab16 = state_slab_bytes (model, batch);
        gint64 gap;

        g_assert_true (hart_model_estimate_memory (dir, TRUE, batch,
                HART_PRECISION_FP32, &e32, &error));
        g_assert_true (hart_model_estimate_memory (dir, TRUE, batch,
                precision, &e16, &error));
        g_test_message ("%s, batch %d: buffers estimated %" G_GUINT64_FORMAT
            " (fp32), %" G_GUINT64_FORMAT " (%s) bytes; slabs made %"
            G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "; KV cache %"
            G_GUINT64_FORMAT " elements", fixtures[f], batch,
            e32.generation_bytes, e16.generation_bytes,
            hart_precision_to_string (precision), slab32, slab16,
            kv_elements (t, batch));
        gap = (gint64) (e32.generation_bytes - e16.generation_bytes)
            - (gint64) (slab32 - slab16);
        g_assert_cmpint (ABS (gap), <=, 8192);
        if (batch == 8) {
          /* the caches decide: the whole saving of a 2-byte KV cache */
          g_assert_cmpuint (e32.generation_bytes - e16.generation_bytes, ==,
              2 * kv_elements (t, batch));
        }
      }
      hart_model_unref (model32);
    }
    hart_model_unref (model);
    g_free (dir);
  }
  if (engine32)
    hart_engine_unref (engine32);
  hart_engine_unref (engine);
}

static void
test_loaders_fp32 (void)
{
  check_loaders (HART_PRECISION_FP32);
}

static void
test_loaders_bf16 (void)
{
  check_loaders (HART_PRECISION_BF16);
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
  g_assert_false (hart_model_check_memory_budget (dir, TRUE, 1,
          HART_PRECISION_FP32, 1 << 20, "memory-budget", &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_assert_nonnull (strstr (error->message, "the memory budget "
          "(memory-budget) is 1 MiB"));
  g_clear_error (&error);

  /* 1 GiB is plenty for the tiny model */
  model = hart_model_load_with_budget (engine, dir, TRUE, 1 << 30, &error);
  g_assert_no_error (error);
  g_assert_nonnull (model);
  hart_model_unref (model);
  g_assert_true (hart_model_check_memory_budget (dir, TRUE, 1,
          HART_PRECISION_FP32, 1 << 30, NULL, &error));
  g_assert_true (hart_model_check_memory_budget (dir, TRUE, 1,
          HART_PRECISION_FP32, 0, NULL, &error));

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

/* A budget between the bf16 and the fp32 estimate refuses fp32 (and AUTO,
 * estimated as fp32 where no engine resolved it) and accepts bf16: through
 * hart_model_check_memory_budget, and through the load's own check, which
 * takes the engine's precision. */
static void
test_budget_precision (void)
{
  char *dir = tiny_model_dir ();
  HartMemoryEstimate e32, e16;
  GError *error = NULL;
  HartEngine *engine;
  HartModel *model;
  guint64 budget;

  g_unsetenv (HART_MEMORY_BUDGET_ENV);
  g_assert_true (hart_model_estimate_memory (dir, TRUE, 1,
          HART_PRECISION_FP32, &e32, &error));
  g_assert_true (hart_model_estimate_memory (dir, TRUE, 1,
          HART_PRECISION_BF16, &e16, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (e16.total_bytes, <, e32.total_bytes);
  budget = e16.total_bytes + (e32.total_bytes - e16.total_bytes) / 2;

  g_assert_false (hart_model_check_memory_budget (dir, TRUE, 1,
          HART_PRECISION_FP32, budget, "test", &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_clear_error (&error);
  g_assert_false (hart_model_check_memory_budget (dir, TRUE, 1,
          HART_PRECISION_AUTO, budget, "test", &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_clear_error (&error);
  g_assert_true (hart_model_check_memory_budget (dir, TRUE, 1,
          HART_PRECISION_BF16, budget, "test", &error));
  g_assert_no_error (error);
  g_assert_true (hart_model_check_memory_budget (dir, TRUE, 1,
          HART_PRECISION_FP16, budget, "test", &error));
  g_assert_no_error (error);

  engine = hart_engine_new ("cpu", 0, &error);
  g_assert_no_error (error);
  g_assert_null (hart_model_load_with_budget (engine, dir, TRUE, budget,
          &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_clear_error (&error);
  hart_engine_unref (engine);
  if ((engine = engine_or_skip (HART_PRECISION_BF16)) != NULL) {
    model = hart_model_load_with_budget (engine, dir, TRUE, budget, &error);
    g_assert_no_error (error);
    g_assert_nonnull (model);
    hart_model_unref (model);
    hart_engine_unref (engine);
  }
  g_free (dir);
}

/* ---- the real release's sizes, in sparse files ---- */

/* A safetensors header being built; the data is never written (the file
 * is made sparse to its full size), since the estimate reads headers only. */
typedef struct
{
  GString *json;
  guint64 offset;
} Sparse;

#define DIMS(...) \
  (int) (sizeof ((const guint64[]) { __VA_ARGS__ }) / sizeof (guint64)), \
  (const guint64[]) { __VA_ARGS__ }

static void
sparse_add (Sparse * s, const char *dtype, int ndim, const guint64 * shape,
    const char *name_fmt, ...)
G_GNUC_PRINTF (5, 6);

     static void
         sparse_add (Sparse * s, const char *dtype, int ndim,
    const guint64 * shape, const char *name_fmt, ...)
{
  guint64 n = strcmp (dtype, "F32") == 0 ? 4 : strcmp (dtype, "I64") == 0 ?
      8 : 2;
  va_list args;
  char *name;

  va_start (args, name_fmt);
  name = g_strdup_vprintf (name_fmt, args);
  va_end (args);
  if (s->json == NULL)
    s->json = g_string_new ("{");
  g_string_append_printf (s->json, "%s\"%s\": {\"dtype\": \"%s\", "
      "\"shape\": [", s->json->len > 1 ? ", " : "", name, dtype);
  for (int i = 0; i < ndim; i++) {
    g_string_append_printf (s->json, "%s%" G_GUINT64_FORMAT, i ? ", " : "",
        shape[i]);
    n *= shape[i];
  }
  g_string_append_printf (s->json, "], \"data_offsets\": [%" G_GUINT64_FORMAT
      ", %" G_GUINT64_FORMAT "]}", s->offset, s->offset + n);
  s->offset += n;
  g_free (name);
}

/* A linear layer NAME.weight [OUT, IN] and NAME.bias [OUT], in f32. */
static void
sparse_linear (Sparse * s, const char *name, guint64 out, guint64 in)
{
  sparse_add (s, "F32", DIMS (out, in), "%s.weight", name);
  sparse_add (s, "F32", DIMS (out), "%s.bias", name);
}

static void
sparse_conv (Sparse * s, const char *name, guint64 out, guint64 in, guint64 k)
{
  sparse_add (s, "F32", DIMS (out, in, k, k), "%s.weight", name);
  sparse_add (s, "F32", DIMS (out), "%s.bias", name);
}

static void
sparse_norm (Sparse * s, const char *name, guint64 c)
{
  sparse_add (s, "F32", DIMS (c), "%s.weight", name);
  sparse_add (s, "F32", DIMS (c), "%s.bias", name);
}

static void
sparse_write (Sparse * s, const char *path)
{
  guint64 length;
  FILE *f;

  g_string_append_c (s->json, '}');
  /* padded with spaces to a multiple of 8, as the safetensors library
   * writes it: the tensors lie on addresses of their type */
  while (s->json->len % 8 != 0)
    g_string_append_c (s->json, ' ');
  length = GUINT64_TO_LE (s->json->len);
  f = fopen (path, "wb");
  g_assert_nonnull (f);
  g_assert_cmpuint (fwrite (&length, 8, 1, f), ==, 1);
  g_assert_cmpuint (fwrite (s->json->str, s->json->len, 1, f), ==, 1);
  g_assert_cmpint (fflush (f), ==, 0);
  g_assert_cmpint (ftruncate (fileno (f), (off_t) (8 + s->json->len
              + s->offset)), ==, 0);
  fclose (f);
  g_string_free (s->json, TRUE);
  s->json = NULL;
  s->offset = 0;
}

/* The transformer checkpoint of the release (tests/reference/
 * make_fixtures.py's inventory: every tensor of the official state dict,
 * the training buffers included), f32. */
static void
write_real_llm (const char *path, const HartTransformerConfig * t, guint64 V,
    guint64 Cv)
{
  const guint64 C = t->embed_dim, D = t->context_dim, F = t->mlp_hidden;
  const guint64 W = t->diff_width, S = t->seq_len;
  Sparse s = { 0 };
  char name[96];

  sparse_add (&s, "I64", DIMS (1, S), "lvl_1L");
  sparse_add (&s, "F32", DIMS (1, 1, S, S), "attn_bias_for_masking");
  sparse_linear (&s, "word_embed", C, Cv);
  sparse_linear (&s, "context_embed", C, D);
  sparse_add (&s, "F32", DIMS (D), "context_norm.weight");
  sparse_linear (&s, "lvl_embed.mlp.0", C, 256);
  sparse_linear (&s, "lvl_embed.mlp.2", C, C);
  for (int i = 0; i < t->depth; i++) {
    sparse_add (&s, "F32", DIMS (C), "blocks.%d.attn.q_bias", i);
    sparse_add (&s, "F32", DIMS (C), "blocks.%d.attn.v_bias", i);
    sparse_add (&s, "F32", DIMS (C), "blocks.%d.attn.zero_k_bias", i);
    sparse_add (&s, "F32", DIMS (3 * C, C), "blocks.%d.attn.qkv_proj.weight",
        i);
    g_snprintf (name, sizeof name, "blocks.%d.attn.proj", i);
    sparse_linear (&s, name, C, C);
    sparse_add (&s, "F32", DIMS (F, C), "blocks.%d.ffn.gate_proj.weight", i);
    sparse_add (&s, "F32", DIMS (F, C), "blocks.%d.ffn.up_proj.weight", i);
    sparse_add (&s, "F32", DIMS (C, F), "blocks.%d.ffn.down_proj.weight", i);
    sparse_add (&s, "F32", DIMS (C), "blocks.%d.ln_wo_grad.weight", i);
  }
  sparse_add (&s, "F32", DIMS (C), "head_nm.ln_wo_grad.weight");
  sparse_linear (&s, "head_nm.ada_lin.1", 2 * C, C);
  sparse_linear (&s, "head", V, C);
  sparse_add (&s, "F32", DIMS (C), "decoder_norm.weight");
  sparse_linear (&s, "diffloss.net.time_embed.mlp.0", W, 256);
  sparse_linear (&s, "diffloss.net.time_embed.mlp.2", W, W);
  sparse_linear (&s, "diffloss.net.cond_embed", W, C);
  sparse_linear (&s, "diffloss.net.input_proj", W, Cv);
  for (int j = 0; j < t->diff_depth; j++) {
    g_snprintf (name, sizeof name, "diffloss.net.res_blocks.%d.in_ln", j);
    sparse_add (&s, "F32", DIMS (W), "%s.weight", name);
    sparse_add (&s, "F32", DIMS (W), "%s.bias", name);
    g_snprintf (name, sizeof name, "diffloss.net.res_blocks.%d.mlp.0", j);
    sparse_linear (&s, name, W, W);
    g_snprintf (name, sizeof name, "diffloss.net.res_blocks.%d.mlp.2", j);
    sparse_linear (&s, name, W, W);
    g_snprintf (name, sizeof name,
        "diffloss.net.res_blocks.%d.adaLN_modulation.1", j);
    sparse_linear (&s, name, 3 * W, W);
  }
  sparse_linear (&s, "diffloss.net.final_layer.linear", 2 * Cv, W);
  sparse_linear (&s, "diffloss.net.final_layer.adaLN_modulation.1", 2 * W, W);
  sparse_write (&s, path);
}

static void
sparse_resnet (Sparse * s, const char *p, guint64 cin, guint64 cout)
{
  char name[128];

  g_snprintf (name, sizeof name, "%s.norm1", p);
  sparse_norm (s, name, cin);
  g_snprintf (name, sizeof name, "%s.conv1", p);
  sparse_conv (s, name, cout, cin, 3);
  g_snprintf (name, sizeof name, "%s.norm2", p);
  sparse_norm (s, name, cout);
  g_snprintf (name, sizeof name, "%s.conv2", p);
  sparse_conv (s, name, cout, cout, 3);
  if (cin != cout) {
    g_snprintf (name, sizeof name, "%s.nin_shortcut", p);
    sparse_conv (s, name, cout, cin, 1);
  }
}

static void
sparse_attn (Sparse * s, const char *p, guint64 c)
{
  char name[128];

  g_snprintf (name, sizeof name, "%s.norm", p);
  sparse_norm (s, name, c);
  g_snprintf (name, sizeof name, "%s.qkv", p);
  sparse_conv (s, name, 3 * c, c, 1);
  g_snprintf (name, sizeof name, "%s.proj_out", p);
  sparse_conv (s, name, c, c, 1);
}

/* The tokenizer checkpoint's tensors that the estimate reads: the decoder
 * half of the autoencoder (make_fixtures.py's inventory, --lean). */
static void
write_real_tokenizer (const char *path, const HartAutoencoderConfig * a,
    int n_scales)
{
  const guint64 ch = a->ch, z = a->z_channels, V = a->vocab_size;
  guint64 block_in = ch * a->ch_mult[a->n_levels - 1];
  Sparse s = { 0 };
  char name[128];

  sparse_conv (&s, "vae.decoder.conv_in", block_in, z, 3);
  sparse_resnet (&s, "vae.decoder.mid.block_1", block_in, block_in);
  sparse_attn (&s, "vae.decoder.mid.attn_1", block_in);
  sparse_resnet (&s, "vae.decoder.mid.block_2", block_in, block_in);
  for (int l = a->n_levels - 1; l >= 0; l--) {
    const guint64 block_out = ch * a->ch_mult[l];
    for (int b = 0; b < 3; b++) {
      g_snprintf (name, sizeof name, "vae.decoder.up.%d.block.%d", l, b);
      sparse_resnet (&s, name, block_in, block_out);
      block_in = block_out;
    }
    for (int b = 0; l == a->n_levels - 1 && b < 3; b++) {
      g_snprintf (name, sizeof name, "vae.decoder.up.%d.attn.%d", l, b);
      sparse_attn (&s, name, block_in);
    }
    if (l != 0) {
      g_snprintf (name, sizeof name, "vae.decoder.up.%d.upsample.conv", l);
      sparse_conv (&s, name, block_in, block_in, 3);
    }
  }
  sparse_norm (&s, "vae.decoder.norm_out", block_in);
  sparse_conv (&s, "vae.decoder.conv_out", 3, block_in, 3);
  sparse_conv (&s, "vae.post_quant_conv", z, z, 3);
  sparse_add (&s, "F32", DIMS (n_scales, V), "vae.quantize.ema_vocab_hit_SV");
  for (int k = 0; k < 4; k++) {
    g_snprintf (name, sizeof name, "vae.quantize.quant_resi.qresi_ls.%d", k);
    sparse_conv (&s, name, z, z, 3);
  }
  sparse_add (&s, "F32", DIMS (V, z), "vae.quantize.embedding.weight");
  sparse_write (&s, path);
}

/* Qwen2-VL-1.5B-Instruct's language model, bf16 as released. */
static void
write_real_qwen (const char *path, const HartQwen2Config * q)
{
  const guint64 H = q->hidden_size, F = q->intermediate_size;
  const guint64 KV = (guint64) q->num_key_value_heads * q->head_dim;
  Sparse s = { 0 };

  sparse_add (&s, "BF16", DIMS (q->vocab_size, H), "model.embed_tokens.weight");
  for (int i = 0; i < q->num_hidden_layers; i++) {
    const char *p = "model.layers";
    sparse_add (&s, "BF16", DIMS (H), "%s.%d.input_layernorm.weight", p, i);
    sparse_add (&s, "BF16", DIMS (H), "%s.%d.post_attention_layernorm.weight",
        p, i);
    sparse_add (&s, "BF16", DIMS (H, H), "%s.%d.self_attn.q_proj.weight", p, i);
    sparse_add (&s, "BF16", DIMS (H), "%s.%d.self_attn.q_proj.bias", p, i);
    sparse_add (&s, "BF16", DIMS (KV, H), "%s.%d.self_attn.k_proj.weight", p,
        i);
    sparse_add (&s, "BF16", DIMS (KV), "%s.%d.self_attn.k_proj.bias", p, i);
    sparse_add (&s, "BF16", DIMS (KV, H), "%s.%d.self_attn.v_proj.weight", p,
        i);
    sparse_add (&s, "BF16", DIMS (KV), "%s.%d.self_attn.v_proj.bias", p, i);
    sparse_add (&s, "BF16", DIMS (H, H), "%s.%d.self_attn.o_proj.weight", p, i);
    sparse_add (&s, "BF16", DIMS (F, H), "%s.%d.mlp.gate_proj.weight", p, i);
    sparse_add (&s, "BF16", DIMS (F, H), "%s.%d.mlp.up_proj.weight", p, i);
    sparse_add (&s, "BF16", DIMS (H, F), "%s.%d.mlp.down_proj.weight", p, i);
  }
  sparse_add (&s, "BF16", DIMS (H), "model.norm.weight");
  sparse_write (&s, path);
}

/* The text encoder's estimate in bf16 minus fp32's for a bf16 checkpoint:
 * one layer's seven matrices at 2 bytes (the pages of the mapped file a
 * layer reads while it runs: MAPPED), or every layer's held at 2 bytes
 * (HELD: $HART_TEXT_ENCODER_RESIDENT), instead of one layer streamed in
 * f32 with its host staging buffer (hart/text-encoder.h). */
static gint64
text_encoder_bf16_minus_fp32 (const HartQwen2Config * q, gboolean held)
{
  const gint64 H = q->hidden_size, F = q->intermediate_size;
  const gint64 KV = (gint64) q->num_key_value_heads * q->head_dim;
  const gint64 layer = 2 * H * H + 2 * KV * H + 3 * F * H;

  return 2 * (held ? q->num_hidden_layers : 1) * layer
      - (4 * layer + 4 * MAX (F, H) * H);
}

/* hart_memory_text_encoder_bytes with the layer matrices held
 * ($HART_TEXT_ENCODER_RESIDENT) */
static guint64
text_encoder_bytes_held (const char *qwen, int max_tokens, HartDType dtype)
{
  GError *error = NULL;
  guint64 bytes = 0;

  g_setenv ("HART_TEXT_ENCODER_RESIDENT", "1", TRUE);
  g_assert_true (hart_memory_text_encoder_bytes (qwen, 1, max_tokens, dtype,
          TRUE, &bytes, &error));
  g_assert_no_error (error);
  g_unsetenv ("HART_TEXT_ENCODER_RESIDENT");
  return bytes;
}

#define GIB(bytes) ((double) (bytes) / (1 << 30))

/* The real release's configs, written out (the fixtures are tiny), with
 * sparse checkpoints of its tensors: the estimate at 1024² in fp32 and
 * bf16, with and without the text encoder. */
static void
test_estimate_real_size (void)
{
  static const char *llm_json = "{\"model_type\": \"hart_transformer_t2i\", "
      "\"attn_type\": \"llama\", \"mlp_type\": \"llama\", \"disable_aln\": true, "
      "\"sep_aln_pooling_mode\": \"max\", \"use_timestep_embed\": true, "
      "\"context_dim\": 1536, \"context_token\": 300, \"depth\": 24, "
      "\"embed_dim\": 1536, \"num_heads\": 24, \"mlp_ratio\": 4.0, "
      "\"diff_width\": 1024, \"diff_depth\": 6, \"num_sampling_steps\": \"8\","
      " \"patch_nums\": [1, 2, 3, 4, 5, 7, 9, 12, 16, 21, 27, 36, 48, 64],"
      " \"use_context_norm\": true}";
  static const char *tok_json = "{\"model_type\": "
      "\"hart_autoencoder_with_disc\", \"vocab_size\": 4096, \"z_channels\": "
      "32, \"ch\": 160, \"ch_mult\": [1, 1, 2, 2, 4], \"quant_resi\": 0.5, "
      "\"share_quant_resi\": 4, \"quant_conv_ks\": 3, \"v_patch_nums\": [1, "
      "2, 3, 4, 5, 7, 9, 12, 16, 21, 27, 36, 48, 64]}";
  static const char *qwen_json = "{\"architectures\": "
      "[\"Qwen2ForCausalLM\"], \"model_type\": \"qwen2\", \"hidden_act\": "
      "\"silu\", \"hidden_size\": 1536, \"intermediate_size\": 8960, "
      "\"max_position_embeddings\": 32768, \"max_window_layers\": 28, "
      "\"num_attention_heads\": 12, \"num_hidden_layers\": 28, "
      "\"num_key_value_heads\": 2, \"rms_norm_eps\": 1e-06, \"rope_theta\": "
      "1000000.0, \"sliding_window\": 32768, \"tie_word_embeddings\": true, "
      "\"torch_dtype\": \"bfloat16\", \"use_sliding_window\": false, "
      "\"vocab_size\": 151936}";
  char *tmp = g_dir_make_tmp ("hart-memory-XXXXXX", NULL);
  char *model = g_build_filename (tmp, "hart-0.7b-1024px", NULL);
  char *llm = g_build_filename (model, "llm", NULL);
  char *tokd = g_build_filename (model, "tokenizer", NULL);
  char *qwen = g_build_filename (tmp, "Qwen2-VL-1.5B-Instruct", NULL);
  char *files[6] = {
    g_build_filename (llm, "config.json", NULL),
    g_build_filename (llm, "model.safetensors", NULL),
    g_build_filename (tokd, "config.json", NULL),
    g_build_filename (tokd, "model.safetensors", NULL),
    g_build_filename (qwen, "config.json", NULL),
    g_build_filename (qwen, "model.safetensors", NULL),
  };
  HartTransformerConfig t = { 0 };
  HartAutoencoderConfig a = { 0 };
  HartQwen2Config q = { 0 };
  HartMemoryEstimate e32, e16;
  GError *error = NULL;
  guint64 enc32, enc16, enc16_held, budget;
  /* docs/performance.md: 7.43 GiB resident in fp32, of which 2.9 GB
   * weights; docs/precision.md: HART with the text encoder's matrices held
   * in bf16, 1024² (hart bench --prompt), peak RSS 6.58 GiB */
  const double measured = 7.43 - 2.9e9 / (1 << 30), measured16 = 6.58;
  double gib;

  g_assert_cmpint (g_mkdir_with_parents (llm, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (tokd, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (qwen, 0755), ==, 0);
  g_assert_true (g_file_set_contents (files[0], llm_json, -1, NULL));
  g_assert_true (g_file_set_contents (files[2], tok_json, -1, NULL));
  g_assert_true (g_file_set_contents (files[4], qwen_json, -1, NULL));
  g_assert_true (hart_transformer_config_load (files[0], &t, &error));
  g_assert_no_error (error);
  g_assert_true (hart_autoencoder_config_load (files[2], &a, &error));
  g_assert_no_error (error);
  g_assert_true (hart_qwen2_config_load (files[4], &q, &error));
  g_assert_no_error (error);
  write_real_llm (files[1], &t, a.vocab_size, a.z_channels);
  write_real_tokenizer (files[3], &a, t.n_scales);
  write_real_qwen (files[5], &q);

  /* the buffers from the configs alone, against the fp32 measurement */
  gib = GIB (hart_memory_generation_bytes (&t, &a, 1, HART_DTYPE_F32));
  g_test_message ("real size, batch 1: generation buffers %.2f GiB in fp32 "
      "(measured ≈ %.2f GiB), %.2f GiB in bf16", gib, measured,
      GIB (hart_memory_generation_bytes (&t, &a, 1, HART_DTYPE_BF16)));
  g_assert_cmpfloat (gib, >, 0.8 * measured);
  g_assert_cmpfloat (gib, <, 1.2 * measured);

  g_assert_true (hart_model_estimate_memory (model, TRUE, 1,
          HART_PRECISION_FP32, &e32, &error));
  g_assert_no_error (error);
  g_assert_true (hart_model_estimate_memory (model, TRUE, 1,
          HART_PRECISION_BF16, &e16, &error));
  g_assert_no_error (error);
  g_assert_true (hart_memory_text_encoder_bytes (qwen, 1, t.context_token,
          HART_DTYPE_F32, TRUE, &enc32, &error));
  g_assert_no_error (error);
  g_assert_true (hart_memory_text_encoder_bytes (qwen, 1, t.context_token,
          HART_DTYPE_BF16, TRUE, &enc16, &error));
  g_assert_no_error (error);
  g_test_message ("real size, 1024x1024, batch 1, fp32: weights %.2f GiB + "
      "buffers %.2f GiB = %.2f GiB; with the text encoder (%.2f GiB) "
      "%.2f GiB", GIB (e32.weight_bytes), GIB (e32.generation_bytes),
      GIB (e32.total_bytes), GIB (enc32), GIB (e32.total_bytes + enc32));
  enc16_held = text_encoder_bytes_held (qwen, t.context_token, HART_DTYPE_BF16);
  g_test_message ("real size, 1024x1024, batch 1, bf16: weights %.2f GiB + "
      "buffers %.2f GiB = %.2f GiB; with the text encoder (%.2f GiB, its "
      "matrices in place in the file) %.2f GiB; with its matrices held "
      "(%.2f GiB) %.2f GiB (measured ≈ %.2f GiB)", GIB (e16.weight_bytes),
      GIB (e16.generation_bytes), GIB (e16.total_bytes), GIB (enc16),
      GIB (e16.total_bytes + enc16), GIB (enc16_held),
      GIB (e16.total_bytes + enc16_held), measured16);

  /* bf16 saves 2 bytes an element of the 16-bit matrices and of the KV
   * cache (the decoder's 2 GB workspace fits the bf16 slab too), and
   * reads the encoder's bf16 layers in place instead of streaming them in
   * f32 (or holds them at 2 bytes, when asked to) */
  g_assert_cmpuint (e32.weight_bytes - e16.weight_bytes, ==,
      2 * matrix_elements (&t, a.vocab_size));
  g_assert_cmpuint (e32.generation_bytes - e16.generation_bytes, ==,
      2 * kv_elements (&t, 1));
  g_assert_cmpint ((gint64) (enc16 - enc32), ==,
      text_encoder_bf16_minus_fp32 (&q, FALSE));
  g_assert_cmpint ((gint64) (enc16_held - enc32), ==,
      text_encoder_bf16_minus_fp32 (&q, TRUE));
  g_assert_cmpfloat (GIB (e16.total_bytes + enc16_held), >, 0.8 * measured16);
  g_assert_cmpfloat (GIB (e16.total_bytes + enc16_held), <, 1.2 * measured16);
  /* in place, the encoder's 1.3 G matrix elements are off the estimate:
   * HART and its text encoder fit the 6 GiB */
  g_assert_cmpfloat (GIB (e16.total_bytes + enc16), <, 6.0);

  /* a budget between the two refuses fp32 and accepts bf16, the model
   * alone and with its text encoder */
  budget = e16.total_bytes + (e32.total_bytes - e16.total_bytes) / 2;
  g_assert_false (hart_model_check_memory_budget (model, TRUE, 1,
          HART_PRECISION_FP32, budget, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_true (hart_model_check_memory_budget (model, TRUE, 1,
          HART_PRECISION_BF16, budget, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (e16.total_bytes + enc16, <, e32.total_bytes + enc32);
  budget = e16.total_bytes + enc16
      + (e32.total_bytes + enc32 - e16.total_bytes - enc16) / 2;
  g_assert_false (hart_check_memory_budget_with_text_encoder (model, qwen,
          HART_PRECISION_FP32, TRUE, budget, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_true (hart_check_memory_budget_with_text_encoder (model, qwen,
          HART_PRECISION_BF16, TRUE, budget, NULL, &error));
  g_assert_no_error (error);
  /* 1 MiB under the model and its encoder refuses */
  g_assert_false (hart_check_memory_budget_with_text_encoder (model, qwen,
          HART_PRECISION_BF16, TRUE, e16.total_bytes + enc16 - (1 << 20), NULL,
          &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_LIMIT);
  g_clear_error (&error);

  hart_transformer_config_clear (&t);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    g_unlink (files[i]);
    g_free (files[i]);
  }
  g_rmdir (llm);
  g_rmdir (tokd);
  g_rmdir (model);
  g_rmdir (qwen);
  g_rmdir (tmp);
  g_free (llm);
  g_free (tokd);
  g_free (model);
  g_free (qwen);
  g_free (tmp);
}

/* The tiny text encoder (bf16 matrices, a safetensors index): streamed in
 * fp32, read in place in bf16 (or held at 2 bytes, when asked to or off the
 * host), its embedding table read from the mapped files in all. */
static void
test_text_encoder_estimate (void)
{
  const char *root = g_getenv ("HART_FIXTURES");
  char *dir = g_build_filename (root ? root : "tests/fixtures", "tiny",
      "Qwen2-VL-1.5B-Instruct", NULL);
  char *config = g_build_filename (dir, "config.json", NULL);
  GError *error = NULL;
  guint64 one = 0, four = 0, half = 0;
  HartQwen2Config q;

  g_assert_true (hart_memory_text_encoder_bytes (dir, 1, 12, HART_DTYPE_F32,
          TRUE, &one, &error));
  g_assert_no_error (error);
  g_assert_true (hart_memory_text_encoder_bytes (dir, 4, 12, HART_DTYPE_F32,
          TRUE, &four, &error));
  g_assert_cmpuint (one, >, 0);
  g_assert_cmpuint (four, >, one);
  g_assert_true (hart_memory_text_encoder_bytes (dir, 1, 12,
          HART_DTYPE_BF16, TRUE, &half, &error));
  g_assert_no_error (error);
  g_assert_true (hart_qwen2_config_load (config, &q, &error));
  g_assert_no_error (error);
  g_test_message ("tiny text encoder: %" G_GUINT64_FORMAT " bytes in fp32, %"
      G_GUINT64_FORMAT " in bf16", one, half);
  g_assert_cmpint ((gint64) (half - one), ==,
      text_encoder_bf16_minus_fp32 (&q, FALSE));
  g_assert_cmpint ((gint64) (text_encoder_bytes_held (dir, 12,
              HART_DTYPE_BF16) - one), ==, text_encoder_bf16_minus_fp32 (&q,
          TRUE));
  /* on a backend whose memory is not the host's, nothing is read in
   * place: held */
  g_assert_true (hart_memory_text_encoder_bytes (dir, 1, 12,
          HART_DTYPE_BF16, FALSE, &half, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (half, ==, text_encoder_bytes_held (dir, 12,
          HART_DTYPE_BF16));
  g_assert_false (hart_memory_text_encoder_bytes ("/nonexistent", 1, 12,
          HART_DTYPE_F32, TRUE, &one, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_free (config);
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
  g_test_add_func ("/memory/loaders-fp32", test_loaders_fp32);
  g_test_add_func ("/memory/loaders-bf16", test_loaders_bf16);
  g_test_add_func ("/memory/budget-refuses-tiny", test_budget_refuses_tiny);
  g_test_add_func ("/memory/budget-precision", test_budget_precision);
  g_test_add_func ("/memory/estimate-real-size", test_estimate_real_size);
  g_test_add_func ("/memory/text-encoder-estimate", test_text_encoder_estimate);
  return g_test_run ();
}
