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
#include "hart/text-encoder-private.h"
#include "tests/hart-test-bf16.h"

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
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

/* How make_qwen_copy changes the tiny Qwen folder. */
typedef struct
{
  const char *from, *to;        /* config.json: FROM replaced by TO */
  const char *drop;             /* a tensor left out */
  int embed_rows;               /* > 0: only the embedding's first rows */
  gboolean f32;                 /* every tensor stored in f32 … */
  const char *keep_stored;      /* … but this one, as it is */
  int shift;                    /* > 0: the tensors this many bytes off
                                 * their type's alignment */
} QwenCopy;

/* A copy of the tiny Qwen folder in a temporary folder, changed as HOW
 * says: the weights linked when it changes none of them, else rewritten as
 * one model.safetensors (f32 widens the fixture's bf16 exactly; SHIFT
 * pads the header with SHIFT more spaces than the 8-byte rule). */
static char *
make_qwen_copy (const QwenCopy * how)
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
  if (how->from != NULL) {
    char **parts = g_strsplit (text, how->from, -1);
    g_assert_cmpint (g_strv_length (parts), ==, 2);
    g_free (text);
    text = g_strjoinv (how->to, parts);
    g_strfreev (parts);
  }
  g_file_set_contents (config_dst, text, -1, &error);
  g_assert_no_error (error);

  if (how->drop == NULL && how->embed_rows == 0 && !how->f32 && how->shift == 0) {
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
      const gboolean widen = how->f32 && (how->keep_stored == NULL
          || strcmp (t->name, how->keep_stored) != 0);
      int64_t shape[HART_MAX_DIMS];
      void *blob;
      if (how->drop != NULL && strcmp (t->name, how->drop) == 0)
        continue;
      blob = g_malloc (widen ? MAX (t->n_elements, 1) * sizeof (float) :
          t->n_bytes);
      if (widen)
        hart_checkpoint_read_f32 (ckpt, t->name, t->ndim, t->shape, blob,
            &error);
      else
        hart_checkpoint_read_raw (ckpt, t, blob, &error);
      g_assert_no_error (error);
      g_ptr_array_add (blobs, blob);
      memcpy (shape, t->shape, sizeof shape);
      if (how->embed_rows > 0
          && strcmp (t->name, "model.embed_tokens.weight") == 0)
        shape[0] = how->embed_rows;     /* the first rows of the same blob */
      hart_safetensors_writer_add (w, t->name, widen ? HART_DTYPE_F32 :
          t->dtype, t->ndim, shape, blob);
    }
    hart_safetensors_writer_save (w, out, &error);
    g_assert_no_error (error);
    hart_safetensors_writer_free (w);
    g_ptr_array_free (blobs, TRUE);
    hart_checkpoint_free (ckpt);
    if (how->shift > 0) {
      /* header length + SHIFT, SHIFT spaces more (JSON allows them) */
      gchar *bytes = NULL;
      gsize n = 0;
      guint64 len, new_len_le;
      GString *file;
      g_file_get_contents (out, &bytes, &n, &error);
      g_assert_no_error (error);
      memcpy (&len, bytes, 8);
      len = GUINT64_FROM_LE (len);
      new_len_le = GUINT64_TO_LE (len + how->shift);
      file = g_string_sized_new (n + how->shift);
      g_string_append_len (file, (const char *) &new_len_le, 8);
      g_string_append_len (file, bytes + 8, (gssize) len);
      for (int k = 0; k < how->shift; k++)
        g_string_append_c (file, ' ');
      g_string_append_len (file, bytes + 8 + len, (gssize) (n - 8 - len));
      g_file_set_contents (out, file->str, (gssize) file->len, &error);
      g_assert_no_error (error);
      g_string_free (file, TRUE);
      g_free (bytes);
    }
    g_free (index);
    g_free (out);
  }
  g_free (text);
  g_free (config_src);
  g_free (config_dst);
  g_free (src);
  return tmp;
}

/* config.json with FROM replaced by TO (when FROM is not NULL), and the
 * weights linked, or rewritten without tensor DROP (when not NULL) and
 * with only the first EMBED_ROWS rows of the embedding (when > 0). */
static char *
make_qwen_variant (const char *from, const char *to, const char *drop,
    int embed_rows)
{
  const QwenCopy how = { from, to, drop, embed_rows };

  return make_qwen_copy (&how);
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

/* The tiny Qwen folder with every tensor stored in f32 but KEEP_BF16
 * (when not NULL), SHIFT bytes off alignment (when > 0). */
static char *
make_qwen_f32_variant (const char *keep_bf16, int shift)
{
  const QwenCopy how = {.f32 = TRUE,.keep_stored = keep_bf16,.shift = shift };

  return make_qwen_copy (&how);
}

static char *
make_qwen_f32 (void)
{
  return make_qwen_f32_variant (NULL, 0);
}

/* Encodes the batch4-t12 prompts with QWEN on ENG; the encoder's matrices
 * are asked to be WANT. */
static HartContext *
encode_with (HartEngine * eng, const char *qwen, HartTextEncoderMatrices want)
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
   * the pages are given back: /text-encoder/in-place-pages) */
  mapped = encode_with (engine, dir32, HART_TEXT_ENCODER_MATRICES_MAPPED);
  g_setenv ("HART_TEXT_ENCODER_RESIDENT", "1", TRUE);
  held = encode_with (engine, dir32, HART_TEXT_ENCODER_MATRICES_HELD);
  g_unsetenv ("HART_TEXT_ENCODER_RESIDENT");
  streamed = encode_with (engine, bf16, HART_TEXT_ENCODER_MATRICES_STREAMED);
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
    mapped = encode_with (half, bf16, HART_TEXT_ENCODER_MATRICES_MAPPED);
    g_setenv ("HART_TEXT_ENCODER_RESIDENT", "1", TRUE);
    held = encode_with (half, bf16, HART_TEXT_ENCODER_MATRICES_HELD);
    g_unsetenv ("HART_TEXT_ENCODER_RESIDENT");
    assert_same_context (mapped, held);
    hart_context_free (mapped);
    hart_context_free (held);
    /* an f32 file in bf16 is held, rounded once */
    hart_context_free (encode_with (half, dir32,
            HART_TEXT_ENCODER_MATRICES_HELD));
    hart_engine_unref (half);
  } else {
    g_assert_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED);
    g_clear_error (&error);
  }
  g_free (bf16);
  remove_dir (dir32);
}

/* hart_text_encoder_plan_matrices on QWEN_DIR */
static HartTextEncoderMatrices
plan_of (const char *qwen_dir, HartDType dtype, gboolean host_memory)
{
  GError *error = NULL;
  char *config = g_build_filename (qwen_dir, "config.json", NULL);
  char *weights = hart_checkpoint_find_in_dir (qwen_dir, &error);
  HartCheckpoint *ckpt;
  HartQwen2Config cfg;
  HartTextEncoderMatrices plan;

  g_assert_no_error (error);
  g_assert_true (hart_qwen2_config_load (config, &cfg, &error));
  g_assert_no_error (error);
  ckpt = hart_checkpoint_open (weights, &error);
  g_assert_no_error (error);
  plan = hart_text_encoder_plan_matrices (ckpt, "model.", &cfg, dtype,
      host_memory);
  hart_checkpoint_free (ckpt);
  g_free (weights);
  g_free (config);
  return plan;
}

/* Every branch of the rule (hart/text-encoder-private.h) */
static void
test_plan (void)
{
  char *bf16 = fixture_path ("tiny", "Qwen2-VL-1.5B-Instruct", NULL);
  char *f32 = make_qwen_f32 ();
  char *mixed = make_qwen_f32_variant ("model.layers.1.mlp.up_proj.weight", 0);
  char *shifted = make_qwen_f32_variant (NULL, 2);
  HartContext *a, *b;

  /* the release (bf16): in place in bf16, streamed in fp32, held where
   * the backend's memory is not the host's; f32: in place in fp32, held
   * in bf16 (rounded once) or off the host; one matrix of another type, or
   * every one off its alignment: held */
  const struct
  {
    const char *dir;
    HartDType dtype;
    gboolean host_memory;
    HartTextEncoderMatrices want;
  } rules[] = {
    {bf16, HART_DTYPE_BF16, TRUE, HART_TEXT_ENCODER_MATRICES_MAPPED},
    {bf16, HART_DTYPE_F32, TRUE, HART_TEXT_ENCODER_MATRICES_STREAMED},
    {bf16, HART_DTYPE_F32, FALSE, HART_TEXT_ENCODER_MATRICES_STREAMED},
    {bf16, HART_DTYPE_BF16, FALSE, HART_TEXT_ENCODER_MATRICES_HELD},
    {f32, HART_DTYPE_F32, TRUE, HART_TEXT_ENCODER_MATRICES_MAPPED},
    {f32, HART_DTYPE_BF16, TRUE, HART_TEXT_ENCODER_MATRICES_HELD},
    {f32, HART_DTYPE_F32, FALSE, HART_TEXT_ENCODER_MATRICES_HELD},
    {mixed, HART_DTYPE_F32, TRUE, HART_TEXT_ENCODER_MATRICES_HELD},
    {shifted, HART_DTYPE_F32, TRUE, HART_TEXT_ENCODER_MATRICES_HELD},
  };

  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    g_assert_cmpint (plan_of (rules[i].dir, rules[i].dtype,
            rules[i].host_memory), ==, rules[i].want);
  /* asked for: held */
  g_setenv ("HART_TEXT_ENCODER_RESIDENT", "1", TRUE);
  g_assert_cmpint (plan_of (f32, HART_DTYPE_F32, TRUE), ==,
      HART_TEXT_ENCODER_MATRICES_HELD);
  g_assert_cmpint (plan_of (bf16, HART_DTYPE_F32, TRUE), ==,
      HART_TEXT_ENCODER_MATRICES_HELD);
  g_unsetenv ("HART_TEXT_ENCODER_RESIDENT");

  /* the held fallbacks encode as the matrices in place do */
  a = encode_with (engine, shifted, HART_TEXT_ENCODER_MATRICES_HELD);
  b = encode_with (engine, f32, HART_TEXT_ENCODER_MATRICES_MAPPED);
  assert_same_context (a, b);
  hart_context_free (a);
  hart_context_free (b);

  remove_dir (shifted);
  remove_dir (mixed);
  remove_dir (f32);
  g_free (bf16);
}

/* ---- pages given back ---- */

#define BIG_H 256
#define BIG_F 1024
#define BIG_KV 128              /* 2 key/value heads of 64 */
#define BIG_VOCAB 151936        /* the tokenizer's ids must fit */

typedef struct
{
  GString *json;
  guint64 offset;
  GPtrArray *blobs;             /* data of each tensor, NULL: a hole */
  GArray *offsets;              /* guint64 each */
} BigFile;

static void
big_add (BigFile * f, const char *name, const char *dtype, int64_t d0,
    int64_t d1, gconstpointer data)
{
  const guint64 n = (guint64) d0 * (d1 > 0 ? d1 : 1) *
      (strcmp (dtype, "F32") == 0 ? 4 : 2);

  g_string_append_printf (f->json, "%s\"%s\": {\"dtype\": \"%s\", "
      "\"shape\": [%" G_GINT64_FORMAT, f->json->len > 1 ? ", " : "", name,
      dtype, d0);
  if (d1 > 0)
    g_string_append_printf (f->json, ", %" G_GINT64_FORMAT, d1);
  g_string_append_printf (f->json, "], \"data_offsets\": [%" G_GUINT64_FORMAT
      ", %" G_GUINT64_FORMAT "]}", f->offset, f->offset + n);
  g_ptr_array_add (f->blobs, (gpointer) data);
  g_array_append_val (f->offsets, f->offset);
  f->offset += n;
}

/* A Qwen2 folder of BIG_H × BIG_F, 2 layers, f32 matrices (random, small),
 * the bf16 embedding table a hole of the file (zeros).  Its layer matrices
 * take 7.5 MiB: enough pages that those the kernel maps around a fault
 * cannot pass for a layer that kept its pages.  Written here rather than
 * by hart_safetensors_writer, which builds the whole file in memory: the
 * 78 MB table stays a hole (test-memory.c's sparse files do the same for
 * every tensor).  *MATRICES receives the file offsets [begin, end) of
 * the matrices. */
static char *
make_big_qwen (guint64 matrices[2])
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("qwen-big-XXXXXX", &error);
  char *path = g_build_filename (dir, "model.safetensors", NULL);
  char *config = g_build_filename (dir, "config.json", NULL);
  char *text = g_strdup_printf ("{\"model_type\": \"qwen2\", "
      "\"hidden_size\": %d, \"intermediate_size\": %d, "
      "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
      "\"num_hidden_layers\": 2, \"vocab_size\": %d, "
      "\"max_position_embeddings\": 1024, \"rms_norm_eps\": 1e-06, "
      "\"rope_theta\": 1000000.0}", BIG_H, BIG_F, BIG_VOCAB);
  const char *const mats[7] = { "self_attn.q_proj.weight",
    "self_attn.k_proj.weight", "self_attn.v_proj.weight",
    "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
    "mlp.down_proj.weight"
  };
  const int64_t rows[7] = { BIG_H, BIG_KV, BIG_KV, BIG_H, BIG_F, BIG_F, BIG_H };
  const int64_t cols[7] = { BIG_H, BIG_H, BIG_H, BIG_H, BIG_H, BIG_H, BIG_F };
  float *random = g_new (float, BIG_F * BIG_H), *ones = g_new (float, BIG_F);
  float *zeros = g_new0 (float, BIG_F);
  GRand *rng = g_rand_new_with_seed (5);
  BigFile f = { g_string_new ("{"), 0, g_ptr_array_new (), g_array_new
        (FALSE, FALSE, sizeof (guint64))
  };
  guint64 header_len, le;
  int fd;

  g_assert_no_error (error);
  g_file_set_contents (config, text, -1, &error);
  g_assert_no_error (error);
  for (int i = 0; i < BIG_F * BIG_H; i++)
    random[i] = (float) g_rand_double_range (rng, -0.05, 0.05);
  for (int i = 0; i < BIG_F; i++)
    ones[i] = 1.0f;
  for (int l = 0; l < 2; l++) {
    char name[96];
    g_snprintf (name, sizeof name, "model.layers.%d.input_layernorm.weight", l);
    big_add (&f, name, "F32", BIG_H, 0, ones);
    g_snprintf (name, sizeof name,
        "model.layers.%d.post_attention_layernorm.weight", l);
    big_add (&f, name, "F32", BIG_H, 0, ones);
    g_snprintf (name, sizeof name, "model.layers.%d.self_attn.q_proj.bias", l);
    big_add (&f, name, "F32", BIG_H, 0, zeros);
    g_snprintf (name, sizeof name, "model.layers.%d.self_attn.k_proj.bias", l);
    big_add (&f, name, "F32", BIG_KV, 0, zeros);
    g_snprintf (name, sizeof name, "model.layers.%d.self_attn.v_proj.bias", l);
    big_add (&f, name, "F32", BIG_KV, 0, zeros);
  }
  big_add (&f, "model.norm.weight", "F32", BIG_H, 0, ones);
  matrices[0] = f.offset;
  for (int l = 0; l < 2; l++) {
    for (int m = 0; m < 7; m++) {
      char name[96];
      g_snprintf (name, sizeof name, "model.layers.%d.%s", l, mats[m]);
      big_add (&f, name, "F32", rows[m], cols[m], random);
    }
  }
  matrices[1] = f.offset;
  big_add (&f, "model.embed_tokens.weight", "BF16", BIG_VOCAB, BIG_H, NULL);
  g_string_append_c (f.json, '}');
  while (f.json->len % 8 != 0)
    g_string_append_c (f.json, ' ');
  header_len = f.json->len;

  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, >=, 0);
  le = GUINT64_TO_LE (header_len);
  g_assert_cmpint (write (fd, &le, 8), ==, 8);
  g_assert_cmpint (write (fd, f.json->str, header_len), ==,
      (gssize) header_len);
  for (guint i = 0; i + 1 < f.blobs->len; i++) {
    const guint64 begin = g_array_index (f.offsets, guint64, i);
    const guint64 end = g_array_index (f.offsets, guint64, i + 1);
    g_assert_cmpint (pwrite (fd, f.blobs->pdata[i], end - begin,
            (off_t) (8 + header_len + begin)), ==, (gssize) (end - begin));
  }
  g_assert_cmpint (ftruncate (fd, (off_t) (8 + header_len + f.offset)), ==, 0);
  close (fd);
  matrices[0] += 8 + header_len;
  matrices[1] += 8 + header_len;

  g_rand_free (rng);
  g_string_free (f.json, TRUE);
  g_ptr_array_free (f.blobs, TRUE);
  g_array_free (f.offsets, TRUE);
  g_free (random);
  g_free (ones);
  g_free (zeros);
  g_free (text);
  g_free (config);
  g_free (path);
  return dir;
}

/* Pages of this process's mapping of FILE (at file offsets [begin, end))
 * that are present in it (/proc/self/pagemap, bit 63), or -1 when the file
 * is not mapped or pagemap cannot be read. */
static gint64
present_pages (const char *file, guint64 begin, guint64 end)
{
  char *real = realpath (file, NULL);
  char *maps = NULL;
  guintptr base = 0;
  gint64 present = 0;
  const long page = sysconf (_SC_PAGESIZE);
  int fd;

  g_assert_nonnull (real);
  if (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL)) {
    char **lines = g_strsplit (maps, "\n", -1);
    /* "start-end perms offset dev inode path": the mapping of the whole
     * file, from offset 0 */
    for (char **l = lines; *l && base == 0; l++) {
      char **fields;
      if (!g_str_has_suffix (*l, real))
        continue;
      fields = g_strsplit_set (*l, " -", 5);
      if (g_strv_length (fields) == 5
          && g_ascii_strtoull (fields[3], NULL, 16) == 0)
        base = (guintptr) g_ascii_strtoull (fields[0], NULL, 16);
      g_strfreev (fields);
    }
    g_strfreev (lines);
  }
  g_free (maps);
  free (real);
  if (base == 0 || (fd = open ("/proc/self/pagemap", O_RDONLY)) < 0)
    return -1;
  for (guintptr a = (base + begin + page - 1) / page * page;
      a + page <= base + end; a += page) {
    guint64 entry = 0;
    if (pread (fd, &entry, 8, (off_t) (a / page * 8)) != 8) {
      present = -1;
      break;
    }
    present += (entry >> 63) & 1;
  }
  close (fd);
  return present;
}

/* Matrices in place: a forward pass maps each layer's pages in and gives
 * them back once the layer has run, so after it the process holds next to
 * none of them (here: 2 of 1,920 pages; without the giving back, 1,919). */
static void
test_in_place_pages (void)
{
  guint64 range[2];
  char *dir = make_big_qwen (range);
  char *file = g_build_filename (dir, "model.safetensors", NULL);
  char *tok = fixture_path ("tokenizer", NULL);
  GError *error = NULL;
  HartTextEncoder *enc = hart_text_encoder_load (engine, dir, tok, &error);
  const int32_t ids[8] = { 32, 2518, 12671, 389, 264, 6303, 9334, 13 };
  float *hidden = g_new (float, 8 * BIG_H);
  const gint64 total = (gint64) ((range[1] - range[0]) / sysconf
      (_SC_PAGESIZE));
  gint64 before, after;

  g_assert_no_error (error);
  g_assert_cmpint (hart_text_encoder_get_matrices (enc), ==,
      HART_TEXT_ENCODER_MATRICES_MAPPED);
  before = present_pages (file, range[0], range[1]);
  if (before < 0) {
    g_test_skip ("no /proc/self/pagemap");
  } else {
    g_assert_true (hart_text_encoder_forward (enc, ids, NULL, 1, 8, 0, 8,
            hidden, -1, NULL, NULL, &error));
    g_assert_no_error (error);
    after = present_pages (file, range[0], range[1]);
    g_test_message ("layer matrices: %" G_GINT64_FORMAT " pages, present "
        "%" G_GINT64_FORMAT " after the load, %" G_GINT64_FORMAT " after a "
        "forward pass", total, before, after);
    /* a layer that kept its pages would leave them all; the kernel may
     * map a few around a fault, or a whole large folio of the page cache
     * (up to 2 MiB, where the file system makes them): a quarter bounds
     * both */
    g_assert_cmpint (total, >, 1500);
    g_assert_cmpint (before, <=, total / 4);
    g_assert_cmpint (after, <=, total / 4);
    for (int i = 0; i < 8 * BIG_H; i++)
      g_assert_true (isfinite (hidden[i]));
  }
  g_free (hidden);
  hart_text_encoder_free (enc);
  g_free (tok);
  g_free (file);
  remove_dir (dir);
}

/* One encoder in place serves several threads (hart/text-encoder.h): a
 * thread giving a layer's pages back while another reads them only makes
 * the other fault them in again from the page cache. */
typedef struct
{
  HartTextEncoder *enc;
  const HartContext *want;
  int mismatches;
} EncodeThread;

static gpointer
encode_thread (gpointer data)
{
  EncodeThread *t = data;
  const GoldenCase *gc = &cases[0];

  for (int r = 0; r < 4; r++) {
    GError *error = NULL;
    HartContext *ctx = hart_text_encoder_encode (t->enc, gc->prompts,
        gc->n_prompts, gc->max_tokens, NULL, &error);
    const gsize n = (gsize) t->want->batch * t->want->tokens * t->want->dim;
    if (ctx == NULL || memcmp (ctx->data, t->want->data, n * sizeof (float)))
      t->mismatches++;
    g_clear_error (&error);
    hart_context_free (ctx);
  }
  return NULL;
}

static void
test_in_place_threads (void)
{
  char *dir32 = make_qwen_f32 ();
  char *tok = fixture_path ("tokenizer", NULL);
  GError *error = NULL;
  HartTextEncoder *enc = hart_text_encoder_load (engine, dir32, tok, &error);
  HartContext *want;
  EncodeThread t[4];
  GThread *threads[4];

  g_assert_no_error (error);
  g_assert_cmpint (hart_text_encoder_get_matrices (enc), ==,
      HART_TEXT_ENCODER_MATRICES_MAPPED);
  want = encode_with (engine, dir32, HART_TEXT_ENCODER_MATRICES_MAPPED);
  for (int i = 0; i < 4; i++) {
    t[i] = (EncodeThread) {
    enc, want, 0};
    threads[i] = g_thread_new ("encode", encode_thread, &t[i]);
  }
  for (int i = 0; i < 4; i++) {
    g_thread_join (threads[i]);
    g_assert_cmpint (t[i].mismatches, ==, 0);
  }
  hart_context_free (want);
  hart_text_encoder_free (enc);
  g_free (tok);
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
  g_test_add_func ("/text-encoder/plan", test_plan);
  g_test_add_func ("/text-encoder/in-place-pages", test_in_place_pages);
  g_test_add_func ("/text-encoder/in-place-threads", test_in_place_threads);
  g_test_add_func ("/text-encoder/matrices-in-place-bf16",
      test_matrices_in_place_bf16);
  status = g_test_run ();
  hart_text_encoder_free (tiny);
  hart_engine_unref (engine);
  return status;
}
