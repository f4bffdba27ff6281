/* gst-hart — tests of the Qwen2 text encoder and HART's prompt encoding
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Goldens: tests/fixtures/goldens/qwen2-*.safetensors, written by
 * tests/reference/make_qwen_goldens.py with Hugging Face transformers 4.42.2's
 * own Qwen2Model (fp32, eager attention) on the committed tiny Qwen2 fixture
 * (hidden 16, 2 layers, bf16 shards) and the real Qwen2 tokenizer.
 *
 * Tolerance: both sides compute in fp32 from the same bf16-exact weights, so
 * the differences are summation order (OpenBLAS vs torch's GEMMs, our
 * blocked online softmax vs a full softmax) and libm's sin/cos/pow vs
 * torch's: a few ulp per op.  Hidden states are O(1) (post-norm) to O(10)
 * (residual stream); we accept |Δ| ≤ 2e-5 · max (1, |ref|), about 15× the
 * 1.3e-6 observed, and far below a real bug (a wrong mask, position or RoPE
 * pairing changes values at the 1e-1 level).
 */
#include "hart/hart.h"
#include "hart/checkpoint.h"
#include "hart/safetensors-write.h"
#include "hart/text-encoder.h"
#include "tests/hart-test-bf16.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#define TOLERANCE 2e-5

static HartEngine *engine;      /* cpu, shared by every test */
static HartTextEncoder *tiny;   /* the tiny fixture, loaded once */

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

static HartTextEncoder *
get_tiny (void)
{
  if (tiny == NULL) {
    GError *error = NULL;
    char *qwen = fixture_path ("tiny", "Qwen2-VL-1.5B-Instruct", NULL);
    char *tok = fixture_path ("tokenizer", NULL);
    tiny = hart_text_encoder_load (engine, qwen, tok, &error);
    g_assert_no_error (error);
    g_free (qwen);
    g_free (tok);
  }
  return tiny;
}

/* Golden tensor `name` converted to f32; shape into shape[4]. */
static float *
golden_read (HartCheckpoint * g, const char *name, int *ndim, int64_t * shape)
{
  const HartTensorInfo *t = hart_checkpoint_lookup (g, name);
  GError *error = NULL;
  float *data;

  g_assert_nonnull (t);
  data = g_new (float, t->n_elements);
  hart_checkpoint_read_f32 (g, name, t->ndim, t->shape, data, &error);
  g_assert_no_error (error);
  if (ndim)
    *ndim = t->ndim;
  if (shape)
    memcpy (shape, t->shape, t->ndim * sizeof (int64_t));
  return data;
}

/* Largest |a − b| / max (1, |b|). */
static double
max_rel_diff (const float *a, const float *b, gsize n)
{
  double m = 0;
  for (gsize i = 0; i < n; i++) {
    double d = fabs ((double) a[i] - b[i]) / MAX (1.0, fabs ((double) b[i]));
    if (isnan (d))
      return INFINITY;
    m = MAX (m, d);
  }
  return m;
}

typedef struct
{
  const char *name;
  int max_tokens;
  int n_prompts;
  const char *prompts[4];
} GoldenCase;

/* The prompts of make_qwen_goldens.py's CASES, in order. */
static const GoldenCase cases[] = {
  {"batch4-t12", 12, 4, {
              "a red circle",
              "Ein Bär läuft über die Straße — 東京の夜景 🌃",
              "",
          "A bustling city street scene at dusk, featuring glowing street "
              "lamps, a diverse crowd of people in colorful clothing"}},
  {"t300", 300, 1, {"A cat sleeping on a warm sunny windowsill ☀️"}},
};

/* Forward pass on the golden ids + mask: every row of the final hidden
 * state and the residual stream after layer 0. */
static void
test_forward (gconstpointer data)
{
  const GoldenCase *gc = data;
  HartTextEncoder *enc = get_tiny ();
  const int H = hart_text_encoder_get_config (enc)->hidden_size;
  char *file_name = g_strdup_printf ("qwen2-%s.safetensors", gc->name);
  char *file = fixture_path ("goldens", file_name, NULL);
  GError *error = NULL;
  HartCheckpoint *g = hart_checkpoint_open (file, &error);
  int ndim, B, L, S;
  int64_t shape[4];
  float *ids_f, *mask_f, *want_final, *want_layer0, *got_final, *got_layer0;
  int32_t *ids;
  uint8_t *mask;
  const int32_t *sys_ids;
  double d_final, d_layer0;

  g_assert_no_error (error);
  ids_f = golden_read (g, "input_ids", &ndim, shape);
  g_assert_cmpint (ndim, ==, 2);
  B = (int) shape[0];
  L = (int) shape[1];
  g_assert_cmpint (B, ==, gc->n_prompts);
  mask_f = golden_read (g, "attention_mask", NULL, NULL);
  want_final = golden_read (g, "hidden_final", NULL, shape);
  g_assert_cmpint (shape[2], ==, H);
  want_layer0 = golden_read (g, "hidden_layer0", NULL, NULL);

  /* our tokenizer + system prompt give the golden's first S ids */
  sys_ids = hart_text_encoder_get_system_ids (enc, &S);
  g_assert_cmpint (S + gc->max_tokens, ==, L);
  for (int b = 0; b < B; b++)
    for (int j = 0; j < S; j++)
      g_assert_cmpint (sys_ids[j], ==, (int32_t) ids_f[(gsize) b * L + j]);

  ids = g_new (int32_t, (gsize) B * L);
  mask = g_new (uint8_t, (gsize) B * L);
  for (gsize i = 0; i < (gsize) B * L; i++) {
    ids[i] = (int32_t) ids_f[i];
    mask[i] = mask_f[i] != 0.0f;
  }
  got_final = g_new (float, (gsize) B * L * H);
  got_layer0 = g_new (float, (gsize) B * L * H);
  hart_text_encoder_forward (enc, ids, mask, B, L, 0, L, got_final, 0,
      got_layer0, NULL, &error);
  g_assert_no_error (error);
  d_final = max_rel_diff (got_final, want_final, (gsize) B * L * H);
  d_layer0 = max_rel_diff (got_layer0, want_layer0, (gsize) B * L * H);
  g_test_message ("%s: B %d, L %d: max rel. difference final %.3g, "
      "layer 0 %.3g", gc->name, B, L, d_final, d_layer0);
  g_assert_cmpfloat (d_layer0, <=, TOLERANCE);
  g_assert_cmpfloat (d_final, <=, TOLERANCE);

  /* a mask that hides nothing must change the pad rows (the mask is used) */
  if (memchr (mask, 0, (gsize) B * L) != NULL) {
    memset (mask, 1, (gsize) B * L);
    hart_text_encoder_forward (enc, ids, mask, B, L, 0, L, got_final, -1,
        NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpfloat (max_rel_diff (got_final, want_final,
            (gsize) B * L * H), >, 1e-2);
  }

  g_free (ids);
  g_free (mask);
  g_free (ids_f);
  g_free (mask_f);
  g_free (want_final);
  g_free (want_layer0);
  g_free (got_final);
  g_free (got_layer0);
  hart_checkpoint_free (g);
  g_free (file);
  g_free (file_name);
}

/* The whole prompt encoding: prompts → context, mask, positions. */
static void
test_encode (gconstpointer data)
{
  const GoldenCase *gc = data;
  HartTextEncoder *enc = get_tiny ();
  const int H = hart_text_encoder_get_config (enc)->hidden_size;
  const int T = gc->max_tokens, B = gc->n_prompts;
  char *file_name = g_strdup_printf ("qwen2-%s.safetensors", gc->name);
  char *file = fixture_path ("goldens", file_name, NULL);
  GError *error = NULL;
  HartCheckpoint *g = hart_checkpoint_open (file, &error);
  HartContext *ctx;
  float *want_ctx, *want_mask, *want_pos;
  int64_t shape[4];
  double d;

  g_assert_no_error (error);
  want_ctx = golden_read (g, "context_tensor", NULL, shape);
  g_assert_cmpint (shape[0], ==, B);
  g_assert_cmpint (shape[1], ==, T);
  want_mask = golden_read (g, "context_mask", NULL, NULL);
  want_pos = golden_read (g, "context_position_ids", NULL, NULL);

  ctx = hart_text_encoder_encode (enc, gc->prompts, B, T, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ctx->batch, ==, B);
  g_assert_cmpint (ctx->tokens, ==, T);
  g_assert_cmpint (ctx->dim, ==, H);
  for (int i = 0; i < B * T; i++) {
    g_assert_cmpint (ctx->mask[i], ==, (int) want_mask[i]);
    g_assert_cmpint (ctx->positions[i], ==, (int) want_pos[i]);
  }
  d = max_rel_diff (ctx->data, want_ctx, (gsize) B * T * H);
  g_test_message ("%s: context max rel. difference %.3g", gc->name, d);
  g_assert_cmpfloat (d, <=, TOLERANCE);

  hart_context_free (ctx);
  g_free (want_ctx);
  g_free (want_mask);
  g_free (want_pos);
  hart_checkpoint_free (g);
  g_free (file);
  g_free (file_name);
}

/* ------------------------------------------------------------------ */
/* errors                                                              */

/* A copy of the tiny Qwen folder in a temporary folder: config.json with
 * FROM replaced by TO (when FROM is not NULL), and the weights linked, or
 * rewritten as one model.safetensors without tensor DROP (when not NULL)
 * and with only the first EMBED_ROWS rows of the embedding (when > 0). */
static char *
make_qwen_variant (const char *from, const char *to, const char *drop,
    int embed_rows)
{
  GError *error = NULL;
  char *src = fixture_path ("tiny", "Qwen2-VL-1.5B-Instruct", NULL);
  char *tmp = g_dir_make_tmp ("qwen-XXXXXX", &error);
  char *config_src = g_build_filename (src, "config.json", NULL);
  char *config_dst = g_build_filename (tmp, "config.json", NULL);
  char *text = NULL;

  g_assert_no_error (error);
  g_file_get_contents (config_src, &text, NULL, &error);
  g_assert_no_error (error);
  if (from != NULL) {
    char **parts = g_strsplit (text, from, -1);
    g_assert_cmpint (g_strv_length (parts), ==, 2);
    g_free (text);
    text = g_strjoinv (to, parts);
    g_strfreev (parts);
  }
  g_file_set_contents (config_dst, text, -1, &error);
  g_assert_no_error (error);

  if (drop == NULL && embed_rows == 0) {
    static const char *const files[] = { "model.safetensors.index.json",
      "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
    };
    for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
      char *s = g_build_filename (src, files[i], NULL);
      char *abs = g_canonicalize_filename (s, NULL);
      char *d = g_build_filename (tmp, files[i], NULL);
      g_assert_cmpint (symlink (abs, d), ==, 0);
      g_free (s);
      g_free (abs);
      g_free (d);
    }
  } else {
    char *index = g_build_filename (src, "model.safetensors.index.json",
        NULL);
    char *out = g_build_filename (tmp, "model.safetensors", NULL);
    HartCheckpoint *ckpt = hart_checkpoint_open (index, &error);
    HartSafetensorsWriter *w = hart_safetensors_writer_new ();
    GPtrArray *blobs = g_ptr_array_new_with_free_func (g_free);

    g_assert_no_error (error);
    for (guint i = 0; i < hart_checkpoint_n_tensors (ckpt); i++) {
      const HartTensorInfo *t = hart_checkpoint_tensor (ckpt, i);
      int64_t shape[HART_MAX_DIMS];
      void *blob;
      if (drop != NULL && strcmp (t->name, drop) == 0)
        continue;
      blob = g_malloc (t->n_bytes);
      hart_checkpoint_read_raw (ckpt, t, blob, &error);
      g_assert_no_error (error);
      g_ptr_array_add (blobs, blob);
      memcpy (shape, t->shape, sizeof shape);
      if (embed_rows > 0 && strcmp (t->name, "model.embed_tokens.weight") == 0)
        shape[0] = embed_rows;  /* the first rows of the same blob */
      hart_safetensors_writer_add (w, t->name, t->dtype, t->ndim, shape, blob);
    }
    hart_safetensors_writer_save (w, out, &error);
    g_assert_no_error (error);
    hart_safetensors_writer_free (w);
    g_ptr_array_free (blobs, TRUE);
    hart_checkpoint_free (ckpt);
    g_free (index);
    g_free (out);
  }
  g_free (text);
  g_free (config_src);
  g_free (config_dst);
  g_free (src);
  return tmp;
}

static void
remove_dir (char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL) {
    char *p = g_build_filename (dir, name, NULL);
    g_unlink (p);
    g_free (p);
  }
  g_dir_close (d);
  g_rmdir (dir);
  g_free (dir);
}

/* Loads DIR with the fixture tokenizer; asserts failure with CODE and a
 * message that contains NEEDLE. */
static void
expect_load_error (const char *dir, int code, const char *needle)
{
  GError *error = NULL;
  char *tok = fixture_path ("tokenizer", NULL);
  HartTextEncoder *enc = hart_text_encoder_load (engine, dir, tok, &error);

  g_assert_null (enc);
  g_assert_error (error, HART_ERROR, code);
  g_test_message ("expected error: %s", error->message);
  g_assert_nonnull (strstr (error->message, needle));
  g_clear_error (&error);
  g_free (tok);
}

static void
test_errors (void)
{
  HartTextEncoder *enc = get_tiny ();
  GError *error = NULL;
  char *dir;
  float out[16 * 4];
  int32_t ids[4] = { 1, 2, 3, 4 };
  const char *prompts[] = { "a", NULL };

  /* missing folder */
  expect_load_error ("/nonexistent/Qwen2-VL-1.5B-Instruct",
      HART_ERROR_NOT_FOUND, "/nonexistent/Qwen2-VL-1.5B-Instruct");

  /* a tokenizer whose ids do not fit the embedding table */
  dir = make_qwen_variant ("\"vocab_size\": 151936", "\"vocab_size\": 1000",
      NULL, 1000);
  expect_load_error (dir, HART_ERROR_SHAPE, "has ids up to 151656");
  remove_dir (dir);

  /* hidden_size that the tensors do not have */
  dir = make_qwen_variant ("\"hidden_size\": 16", "\"hidden_size\": 32",
      NULL, 0);
  expect_load_error (dir, HART_ERROR_SHAPE, "embed_tokens.weight");
  remove_dir (dir);

  /* a missing layer tensor (single-file checkpoint without it) */
  dir = make_qwen_variant (NULL, NULL, "model.layers.1.mlp.up_proj.weight", 0);
  expect_load_error (dir, HART_ERROR_NOT_FOUND,
      "model.layers.1.mlp.up_proj.weight");
  remove_dir (dir);

  /* token ids outside the table */
  ids[2] = 151936;
  g_assert_false (hart_text_encoder_forward (enc, ids, NULL, 1, 4, 0, 4, out,
          -1, NULL, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "151936"));
  g_clear_error (&error);
  ids[2] = -1;
  g_assert_false (hart_text_encoder_forward (enc, ids, NULL, 1, 4, 0, 4, out,
          -1, NULL, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ids[2] = 3;

  /* bad arguments */
  g_assert_false (hart_text_encoder_forward (enc, ids, NULL, 1, 4, 2, 3, out,
          -1, NULL, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (hart_text_encoder_encode (enc, prompts, 0, 12, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (hart_text_encoder_encode (enc, prompts, 2, 12, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (hart_text_encoder_encode (enc, prompts, 1, 0, NULL, &error));
  g_assert_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* cancellation */
  {
    GCancellable *cancel = g_cancellable_new ();
    g_cancellable_cancel (cancel);
    g_assert_null (hart_text_encoder_encode (enc, prompts, 1, 12, cancel,
            &error));
    g_assert_error (error, HART_ERROR, HART_ERROR_CANCELLED);
    g_clear_error (&error);
    g_object_unref (cancel);
  }
}

/* ------------------------------------------------------------------ */
/* where the layer matrices are (hart/text-encoder.h)                  */

/* A copy of the tiny Qwen folder whose every tensor is stored in f32, in
 * one model.safetensors (the fixture's values: bf16 widens exactly). */
static char *
make_qwen_f32 (void)
{
  GError *error = NULL;
  char *src = fixture_path ("tiny", "Qwen2-VL-1.5B-Instruct", NULL);
  char *tmp = g_dir_make_tmp ("qwen-f32-XXXXXX", &error);
  char *config_src = g_build_filename (src, "config.json", NULL);
  char *config_dst = g_build_filename (tmp, "config.json", NULL);
  char *index = g_build_filename (src, "model.safetensors.index.json", NULL);
  char *out = g_build_filename (tmp, "model.safetensors", NULL);
  HartCheckpoint *ckpt;
  HartSafetensorsWriter *w = hart_safetensors_writer_new ();
  char *text = NULL;

  g_assert_no_error (error);
  g_file_get_contents (config_src, &text, NULL, &error);
  g_assert_no_error (error);
  g_file_set_contents (config_dst, text, -1, &error);
  g_assert_no_error (error);
  ckpt = hart_checkpoint_open (index, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < hart_checkpoint_n_tensors (ckpt); i++) {
    const HartTensorInfo *t = hart_checkpoint_tensor (ckpt, i);
    float *values = g_new (float, MAX (t->n_elements, 1));
    hart_checkpoint_read_f32 (ckpt, t->name, t->ndim, t->shape, values, &error);
    g_assert_no_error (error);
    hart_safetensors_writer_add (w, t->name, HART_DTYPE_F32, t->ndim,
        t->shape, values);
    g_free (values);
  }
  hart_safetensors_writer_save (w, out, &error);
  g_assert_no_error (error);
  hart_safetensors_writer_free (w);
  hart_checkpoint_free (ckpt);
  g_free (text);
  g_free (out);
  g_free (index);
  g_free (config_src);
  g_free (config_dst);
  g_free (src);
  return tmp;
}

/* Encodes the batch4-t12 prompts with QWEN on ENG; the encoder's matrices
 * are asked to be WANT.  KEEP (may be NULL) receives the encoder. */
static HartContext *
encode_with (HartEngine * eng, const char *qwen, HartTextEncoderMatrices want,
    HartTextEncoder ** keep)
{
  const GoldenCase *gc = &cases[0];
  GError *error = NULL;
  char *tok = fixture_path ("tokenizer", NULL);
  HartTextEncoder *enc = hart_text_encoder_load (eng, qwen, tok, &error);
  HartContext *ctx;

  g_assert_no_error (error);
  g_test_message ("%s on %s: layer matrices %s", qwen,
      hart_precision_to_string (hart_engine_get_precision (eng)),
      hart_text_encoder_matrices_name (hart_text_encoder_get_matrices (enc)));
  g_assert_cmpint (hart_text_encoder_get_matrices (enc), ==, want);
  ctx = hart_text_encoder_encode (enc, gc->prompts, gc->n_prompts,
      gc->max_tokens, NULL, &error);
  g_assert_no_error (error);
  if (keep)
    *keep = enc;
  else
    hart_text_encoder_free (enc);
  g_free (tok);
  return ctx;
}

static void
assert_same_context (const HartContext * a, const HartContext * b)
{
  const gsize n = (gsize) a->batch * a->tokens;

  g_assert_cmpint (a->batch, ==, b->batch);
  g_assert_cmpint (a->tokens, ==, b->tokens);
  g_assert_cmpint (a->dim, ==, b->dim);
  g_assert_cmpmem (a->data, n * a->dim * sizeof (float), b->data,
      n * b->dim * sizeof (float));
  g_assert_cmpmem (a->mask, n, b->mask, n);
}

/* Matrices stored in the type the engine computes in are used in place in
 * the mapped file: the same context, bit for bit, as with the matrices
 * held (or streamed). */
static void
test_matrices_in_place (void)
{
  char *dir32 = make_qwen_f32 ();
  char *bf16 = fixture_path ("tiny", "Qwen2-VL-1.5B-Instruct", NULL);
  HartContext *mapped, *held, *streamed;

  /* fp32: an f32 file in place, held, and the bf16 file streamed (that
   * the pages are given back: /checkpoint/mapped-bytes) */
  mapped = encode_with (engine, dir32, HART_TEXT_ENCODER_MATRICES_MAPPED, NULL);
  g_setenv ("HART_TEXT_ENCODER_RESIDENT", "1", TRUE);
  held = encode_with (engine, dir32, HART_TEXT_ENCODER_MATRICES_RESIDENT, NULL);
  g_unsetenv ("HART_TEXT_ENCODER_RESIDENT");
  streamed =
      encode_with (engine, bf16, HART_TEXT_ENCODER_MATRICES_STREAMED, NULL);
  assert_same_context (mapped, held);
  assert_same_context (mapped, streamed);
  hart_context_free (mapped);
  hart_context_free (held);
  hart_context_free (streamed);
  g_free (bf16);
  remove_dir (dir32);
}

/* The same in bf16: the bf16 release's matrices in place, against held */
static void
test_matrices_in_place_bf16 (void)
{
  char *dir32 = make_qwen_f32 ();
  char *bf16 = fixture_path ("tiny", "Qwen2-VL-1.5B-Instruct", NULL);
  HartContext *mapped, *held;
  GError *error = NULL;
  HartEngine *half;

  half = hart_engine_new_with_precision ("cpu", 0, 0, HART_PRECISION_BF16,
      &error);
  if (hart_test_bf16_go_on (half == NULL, error ? error->message : NULL)) {
    mapped = encode_with (half, bf16, HART_TEXT_ENCODER_MATRICES_MAPPED, NULL);
    g_setenv ("HART_TEXT_ENCODER_RESIDENT", "1", TRUE);
    held = encode_with (half, bf16, HART_TEXT_ENCODER_MATRICES_RESIDENT, NULL);
    g_unsetenv ("HART_TEXT_ENCODER_RESIDENT");
    assert_same_context (mapped, held);
    hart_context_free (mapped);
    hart_context_free (held);
    /* an f32 file in bf16 is held, rounded once */
    hart_context_free (encode_with (half, dir32,
            HART_TEXT_ENCODER_MATRICES_RESIDENT, NULL));
    hart_engine_unref (half);
  } else {
    g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
    g_clear_error (&error);
  }
  g_free (bf16);
  remove_dir (dir32);
}

/* ------------------------------------------------------------------ */
/* end to end: prompt → context → image on the tiny HART model          */

static guint8 *
generate (HartModel * model, HartContext * ctx, guint64 seed, gsize * n)
{
  GError *error = NULL;
  HartGenerateParams params;
  HartImage **images;
  guint8 *rgb;

  hart_generate_params_init (&params);
  params.seed = seed;
  images = hart_model_generate (model, ctx, &params, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (images[0]);
  g_assert_null (images[1]);
  g_assert_cmpint (images[0]->width, ==, hart_model_get_width (model));
  g_assert_cmpint (images[0]->height, ==, hart_model_get_height (model));
  *n = (gsize) images[0]->stride * images[0]->height;
  rgb = g_memdup2 (images[0]->rgb, *n);
  hart_images_free (images);
  return rgb;
}

static void
test_generate (void)
{
  HartTextEncoder *enc = get_tiny ();
  char *dir = fixture_path ("tiny", "hart-0.7b-1024px", NULL);
  const char *prompts[] = { "a red circle" };
  const char *other[] = { "a blue square" };
  GError *error = NULL;
  HartModel *model = hart_model_load (engine, dir, TRUE, &error);
  const HartTransformerConfig *tc;
  HartContext *ctx, *ctx2;
  guint8 *a, *b, *c, *d;
  gsize na, nb, nc, nd;

  g_assert_no_error (error);
  tc = hart_model_get_transformer_config (model);
  g_assert_cmpint (tc->context_dim, ==,
      hart_text_encoder_get_config (enc)->hidden_size);
  ctx = hart_text_encoder_encode (enc, prompts, 1, tc->context_token, NULL,
      &error);
  g_assert_no_error (error);
  ctx2 = hart_text_encoder_encode (enc, other, 1, tc->context_token, NULL,
      &error);
  g_assert_no_error (error);

  a = generate (model, ctx, 7, &na);
  b = generate (model, ctx, 7, &nb);
  c = generate (model, ctx, 8, &nc);
  d = generate (model, ctx2, 7, &nd);
  /* same seed, same prompt → same bytes; another seed or prompt → other */
  g_assert_cmpmem (a, na, b, nb);
  g_assert_cmpuint (na, ==, nc);
  g_assert_true (memcmp (a, c, na) != 0);
  g_assert_true (memcmp (a, d, na) != 0);

  g_free (a);
  g_free (b);
  g_free (c);
  g_free (d);
  hart_context_free (ctx);
  hart_context_free (ctx2);
  hart_model_unref (model);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  engine = hart_engine_new ("cpu", 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    char *path = g_strdup_printf ("/text-encoder/forward/%s", cases[i].name);
    g_test_add_data_func (path, &cases[i], test_forward);
    g_free (path);
    path = g_strdup_printf ("/text-encoder/encode/%s", cases[i].name);
    g_test_add_data_func (path, &cases[i], test_encode);
    g_free (path);
  }
  g_test_add_func ("/text-encoder/errors", test_errors);
  g_test_add_func ("/text-encoder/generate", test_generate);
  g_test_add_func ("/text-encoder/matrices-in-place", test_matrices_in_place);
  g_test_add_func ("/text-encoder/matrices-in-place-bf16",
      test_matrices_in_place_bf16);
  status = g_test_run ();
  hart_text_encoder_free (tiny);
  hart_engine_unref (engine);
  return status;
}
