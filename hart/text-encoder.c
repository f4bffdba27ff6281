/* gst-hart — HART's text encoder: tokenizer + Qwen2 (Qwen2-VL-1.5B-Instruct)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The forward pass is transformers 4.42.2's Qwen2Model as HART runs it
 * (docs/algorithm.md §4.3), written over the backend op table:
 *
 *   x = embed_tokens[ids]                                   [B·L, H]
 *   per layer:  a = RMSNorm (x) · input_layernorm
 *               q, k, v = a·Wᵀ + b  (q: heads × hd, k/v: kv_heads × hd)
 *               q, k = RoPE (positions 0 … L−1, θ = rope_theta)
 *               x += o_proj (attention (q, k, v; causal, key mask))
 *               b = RMSNorm (x) · post_attention_layernorm
 *               x += down (silu (gate (b)) ⊙ up (b))
 *   h = RMSNorm (x) · norm
 */
#include "text-encoder.h"
#include "text-encoder-private.h"
#include "checkpoint.h"
#include "engine-private.h"
#include "error.h"
#include "weights.h"

#include <math.h>
#include <string.h>

/* One decoder layer, device pointers owned by the encoder's HartWeights.
 * H = hidden_size, KV = num_key_value_heads × head_dim, F = intermediate. */
typedef struct
{
  float *input_norm;            /* [H] */
  float *post_norm;             /* [H] */
  HartMatrix w_q;               /* [H, H] */
  float *b_q;                   /* [H] */
  HartMatrix w_k, w_v;          /* [KV, H] */
  float *b_k, *b_v;             /* [KV] */
  HartMatrix w_o;               /* [H, H] (no bias) */
  HartMatrix w_gate, w_up;      /* [F, H] */
  HartMatrix w_down;            /* [H, F] */
} Qwen2Layer;

struct _HartTextEncoder
{
  HartEngine *engine;           /* reference held */
  HartBackend *be;              /* the engine's */
  HartQwen2Config cfg;
  char *dir;
  HartTokenizer *tokenizer;
  int32_t pad_id;
  GArray *system_ids;           /* int32_t [S] */

  HartWeights *weights;
  /* embed_tokens.weight [vocab, H] in embed_dtype: its rows are read from
   * the mapped checkpoint when a prompt needs them (embed_info; a prompt
   * touches a few hundred of 151,936 rows, so the 467 MB table stays on
   * disk), or from a host copy (embed) when the checkpoint is an archive */
  const HartTensorInfo *embed_info;
  guint8 *embed;
  HartDType embed_dtype;
  Qwen2Layer *layers;           /* [num_hidden_layers] */
  float *final_norm;            /* [H] */

  /* Where the layer matrices are (hart_text_encoder_plan_matrices;
   * docs/precision.md, "The text encoder's matrices"): held by the encoder
   * (HELD), converted to f32 one layer at a time from the mapped file
   * (STREAMED: the bf16 release in fp32, 5.2 GB of f32 matrices replaced by
   * one layer, 187 MB, for ~1 s of conversion per encode), or used in
   * place in the mapped file (MAPPED: the file stores them in the type the
   * engine computes in, such as the bf16 release in bf16; the pages a
   * layer read are given back after it, so between encodes the matrices
   * take no memory of the process).  Norms and biases are always held. */
  HartTextEncoderMatrices matrices;
  /* MAPPED: the seven matrices of each layer in the checkpoint,
   * [num_hidden_layers × 7] in layer_matrix_names order */
  const HartTensorInfo **matrix_info;
  /* kept open while the matrices are streamed or mapped or embedding rows
   * are read, else NULL */
  HartCheckpoint *ckpt;
  char *prefix;                 /* "model." or "" */
};

/* The seven matrices of a layer, in the order they are streamed. */
static const char *const layer_matrix_names[] = {
  "self_attn.q_proj.weight", "self_attn.k_proj.weight",
  "self_attn.v_proj.weight", "self_attn.o_proj.weight",
  "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight",
};

static void
layer_matrix_shape (const HartQwen2Config * c, int m, int64_t shape[2])
{
  const int64_t H = c->hidden_size, F = c->intermediate_size;
  const int64_t KV = (int64_t) c->num_key_value_heads * c->head_dim;
  static const int rows_is[7] = { 0, 1, 1, 0, 2, 2, 0 };        /* H, KV, F */
  const int64_t dims[3] = { H, KV, F };
  shape[0] = dims[rows_is[m]];
  shape[1] = m == 6 ? F : H;
}

/* ------------------------------------------------------------------ */
/* loading                                                             */

/* embed_tokens.weight [vocab, H] in its stored float dtype: where its rows
 * will be read from (see the struct). */
static gboolean
load_embedding (HartTextEncoder * enc, HartCheckpoint * ckpt,
    const char *prefix, GError ** error)
{
  const HartQwen2Config *c = &enc->cfg;
  char *name = g_strconcat (prefix, "embed_tokens.weight", NULL);
  const HartTensorInfo *info = hart_checkpoint_lookup (ckpt, name);
  char want[64], found[64];
  gboolean ok = FALSE;

  if (info->ndim != 2 || info->shape[0] != c->vocab_size
      || info->shape[1] != c->hidden_size) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "%s: tensor \"%s\" has shape %s, config.json (vocab_size, "
        "hidden_size) implies %s", info->file, name,
        hart_shape_to_string (info->ndim, info->shape, found, sizeof found),
        hart_shape_to_string (2, HART_SHAPE (c->vocab_size, c->hidden_size),
            want, sizeof want));
    goto out;
  }
  if (info->dtype != HART_DTYPE_F32 && info->dtype != HART_DTYPE_F16
      && info->dtype != HART_DTYPE_BF16) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "%s: tensor \"%s\" has dtype %s, expected F32, F16 or BF16",
        info->file, name, hart_dtype_name (info->dtype));
    goto out;
  }
  enc->embed_dtype = info->dtype;
  if (hart_checkpoint_is_mapped (ckpt)) {
    enc->embed_info = info;
    ok = TRUE;
    goto out;
  }
  enc->embed = g_try_malloc (info->n_bytes);
  if (enc->embed == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "out of memory reading tensor \"%s\" (%" G_GUINT64_FORMAT " bytes)",
        name, info->n_bytes);
    goto out;
  }
  ok = hart_checkpoint_read_raw (ckpt, info, enc->embed, error);

out:
  g_free (name);
  return ok;
}

/* When the matrices are not held (streamed or mapped) only checks that
 * every matrix exists with its shape, and records each one's tensor in
 * INFOS [num_hidden_layers × 7] when not NULL. */
static gboolean
check_layer_matrices (HartTextEncoder * enc, HartCheckpoint * ckpt,
    const HartTensorInfo ** infos, GError ** error)
{
  for (int i = 0; i < enc->cfg.num_hidden_layers; i++) {
    for (int m = 0; m < 7; m++) {
      int64_t shape[2];
      char *name = g_strdup_printf ("%slayers.%d.%s", enc->prefix, i,
          layer_matrix_names[m]);
      const HartTensorInfo *t = hart_checkpoint_lookup (ckpt, name);
      char want[64], got[64];
      layer_matrix_shape (&enc->cfg, m, shape);
      if (t == NULL || t->ndim != 2 || t->shape[0] != shape[0]
          || t->shape[1] != shape[1]) {
        g_set_error (error, HART_ERROR, t ? HART_ERROR_SHAPE :
            HART_ERROR_NOT_FOUND, "%s: tensor \"%s\" %s is %s",
            hart_checkpoint_get_path (ckpt), name,
            hart_shape_to_string (2, shape, want, sizeof want),
            t ? hart_shape_to_string (t->ndim, t->shape, got, sizeof got) :
            "missing");
        g_free (name);
        return FALSE;
      }
      if (infos != NULL)
        infos[i * 7 + m] = t;
      g_free (name);
    }
  }
  return TRUE;
}

HartTextEncoderMatrices
hart_text_encoder_plan_matrices (HartCheckpoint * ckpt, const char *prefix,
    const HartQwen2Config * cfg, HartDType matrix_dtype, gboolean host_memory)
{
  HartDType stored = HART_DTYPE_F32;
  gboolean all_in_place = hart_checkpoint_is_mapped (ckpt);

  if (g_getenv ("HART_TEXT_ENCODER_RESIDENT") != NULL)
    return HART_TEXT_ENCODER_MATRICES_HELD;
  for (int i = 0; i < cfg->num_hidden_layers; i++) {
    for (int m = 0; m < 7; m++) {
      char *name = g_strdup_printf ("%slayers.%d.%s", prefix, i,
          layer_matrix_names[m]);
      const HartTensorInfo *t = hart_checkpoint_lookup (ckpt, name);
      const void *bytes;
      g_free (name);
      if (t == NULL)
        return HART_TEXT_ENCODER_MATRICES_HELD; /* the load says */
      if (i == 0 && m == 0)
        stored = t->dtype;
      /* in place: every matrix in the engine's type, on an address of that
       * type (safetensors does not promise alignment) */
      bytes = all_in_place ? hart_checkpoint_mapped_bytes (ckpt, t, NULL) :
          NULL;
      if (t->dtype != matrix_dtype || bytes == NULL
          || (guintptr) bytes % hart_dtype_size (matrix_dtype) != 0)
        all_in_place = FALSE;
    }
  }
  if (all_in_place && host_memory)
    return HART_TEXT_ENCODER_MATRICES_MAPPED;
  if ((stored == HART_DTYPE_BF16 || stored == HART_DTYPE_F16)
      && hart_checkpoint_get_format (ckpt) != HART_CHECKPOINT_TORCH_ZIP
      && matrix_dtype == HART_DTYPE_F32)
    return HART_TEXT_ENCODER_MATRICES_STREAMED;
  return HART_TEXT_ENCODER_MATRICES_HELD;
}

/* Mapped: points LW's matrices at layer i's bytes in the mapped file. */
static void
map_layer (HartTextEncoder * enc, int i, Qwen2Layer * lw)
{
  HartMatrix *matrices[7] = { &lw->w_q, &lw->w_k, &lw->w_v, &lw->w_o,
    &lw->w_gate, &lw->w_up, &lw->w_down
  };

  *lw = enc->layers[i];
  for (int m = 0; m < 7; m++) {
    const HartTensorInfo *t = enc->matrix_info[i * 7 + m];
    /* checked when planned: mapped, of the engine's type, aligned */
    *matrices[m] = (HartMatrix) {
    (gpointer) hart_checkpoint_mapped_bytes (enc->ckpt, t, NULL), t->dtype,
          (int) t->shape[0], (int) t->shape[1]};
  }
}

/* Mapped: layer i has run; its pages go back to the page cache. */
static void
unmap_layer (HartTextEncoder * enc, int i)
{
  for (int m = 0; m < 7; m++)
    hart_checkpoint_release_pages (enc->ckpt, enc->matrix_info[i * 7 + m]);
}

static gboolean
load_layers (HartTextEncoder * enc, gboolean streaming, GError ** error)
{
  const HartQwen2Config *c = &enc->cfg;
  HartWeights *w = enc->weights;
  const int64_t H = c->hidden_size;
  const int64_t KV = (int64_t) c->num_key_value_heads * c->head_dim;

  enc->layers = g_new0 (Qwen2Layer, c->num_hidden_layers);
  for (int i = 0; i < c->num_hidden_layers; i++) {
    Qwen2Layer *l = &enc->layers[i];
    HartMatrix *matrices[7] = { &l->w_q, &l->w_k, &l->w_v, &l->w_o,
      &l->w_gate, &l->w_up, &l->w_down
    };
    if (!(l->input_norm = hart_weights_get (w, HART_DIMS (H), error,
                "layers.%d.input_layernorm.weight", i))
        || !(l->post_norm = hart_weights_get (w, HART_DIMS (H), error,
                "layers.%d.post_attention_layernorm.weight", i))
        || !(l->b_q = hart_weights_get (w, HART_DIMS (H), error,
                "layers.%d.self_attn.q_proj.bias", i))
        || !(l->b_k = hart_weights_get (w, HART_DIMS (KV), error,
                "layers.%d.self_attn.k_proj.bias", i))
        || !(l->b_v = hart_weights_get (w, HART_DIMS (KV), error,
                "layers.%d.self_attn.v_proj.bias", i)))
      return FALSE;
    if (streaming)
      continue;
    for (int m = 0; m < 7; m++) {
      int64_t shape[2];
      layer_matrix_shape (c, m, shape);
      if (!hart_weights_get_matrix (w, matrices[m], (int) shape[0],
              (int) shape[1], error, "layers.%d.%s", i, layer_matrix_names[m]))
        return FALSE;
    }
  }
  enc->final_norm = hart_weights_get (w, HART_DIMS (H), error, "norm.weight");
  return enc->final_norm != NULL;
}

/* Streaming: converts layer i's matrices into dev (one layer's worth,
 * through the host buffer staging) and points lw's matrices at them. */
static gboolean
stream_layer (HartTextEncoder * enc, int i, float *dev, float *staging,
    Qwen2Layer * lw, GError ** error)
{
  HartMatrix *matrices[7] = { &lw->w_q, &lw->w_k, &lw->w_v, &lw->w_o,
    &lw->w_gate, &lw->w_up, &lw->w_down
  };
  gsize offset = 0;

  *lw = enc->layers[i];
  for (int m = 0; m < 7; m++) {
    int64_t shape[2];
    char *name;
    gboolean ok;
    gsize n;
    layer_matrix_shape (&enc->cfg, m, shape);
    n = (gsize) shape[0] * shape[1];
    name = g_strdup_printf ("%slayers.%d.%s", enc->prefix, i,
        layer_matrix_names[m]);
    ok = hart_checkpoint_read_f32 (enc->ckpt, name, 2, shape, staging, error);
    g_free (name);
    if (!ok)
      return FALSE;
    enc->be->ops->upload (enc->be, dev + offset, staging, n * sizeof (float));
    *matrices[m] = (HartMatrix) {
    dev + offset, HART_DTYPE_F32, (int) shape[0], (int) shape[1]};
    offset += n;
  }
  return TRUE;
}

static gsize
layer_matrix_floats (const HartQwen2Config * c)
{
  gsize total = 0;
  for (int m = 0; m < 7; m++) {
    int64_t shape[2];
    layer_matrix_shape (c, m, shape);
    total += (gsize) shape[0] * shape[1];
  }
  return total;
}

char *
hart_text_encoder_default_dir (const char *model_path)
{
  char *model = g_canonicalize_filename (model_path, NULL);
  char *base = g_path_get_basename (model);
  char *parent, *dir;

  if (strcmp (base, "llm") == 0) {
    char *up = g_path_get_dirname (model);
    g_free (model);
    model = up;
  }
  parent = g_path_get_dirname (model);
  dir = g_build_filename (parent, HART_TEXT_ENCODER_FOLDER, NULL);
  g_free (parent);
  g_free (base);
  g_free (model);
  return dir;
}

char *
hart_text_encoder_tokenizer_dir (const char *qwen_dir)
{
  char *json = g_build_filename (qwen_dir, "tokenizer.json", NULL);
  char *vocab = g_build_filename (qwen_dir, "vocab.json", NULL);
  const char *env = g_getenv (HART_TOKENIZER_PATH_ENV);
  char *dir;

  if (!g_file_test (json, G_FILE_TEST_EXISTS)
      && !g_file_test (vocab, G_FILE_TEST_EXISTS) && env && env[0])
    dir = g_strdup (env);
  else
    dir = g_strdup (qwen_dir);
  g_free (json);
  g_free (vocab);
  return dir;
}

HartTextEncoder *
hart_text_encoder_load (HartEngine * engine, const char *qwen_dir,
    const char *tokenizer_dir, GError ** error)
{
  HartTextEncoder *enc;
  HartCheckpoint *ckpt = NULL;
  char *config_path = NULL, *weights_path = NULL, *found_tokenizer = NULL;
  const char *prefix;
  int n_vocab;

  g_return_val_if_fail (engine != NULL && qwen_dir != NULL, NULL);
  if (tokenizer_dir == NULL)
    tokenizer_dir = found_tokenizer = hart_text_encoder_tokenizer_dir
        (qwen_dir);

  enc = g_new0 (HartTextEncoder, 1);
  enc->engine = hart_engine_ref (engine);
  enc->be = hart_engine_get_backend (engine);
  enc->dir = g_strdup (qwen_dir);
  enc->system_ids = g_array_new (FALSE, FALSE, sizeof (int32_t));

  if (!g_file_test (qwen_dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
        "text encoder folder %s does not exist or is not a folder", qwen_dir);
    goto fail;
  }
  config_path = g_build_filename (qwen_dir, "config.json", NULL);
  if (!hart_qwen2_config_load (config_path, &enc->cfg, error))
    goto fail;

  if (!(weights_path = hart_checkpoint_find_in_dir (qwen_dir, error))
      || !(ckpt = hart_checkpoint_open (weights_path, error)))
    goto fail;
  /* Qwen2ForCausalLM checkpoints say "model.layers…", bare Qwen2Model ones
   * "layers…"; Qwen2-VL shards also hold visual.* and lm_head.*, which are
   * never asked for. */
  if (hart_checkpoint_lookup (ckpt, "model.embed_tokens.weight"))
    prefix = "model.";
  else if (hart_checkpoint_lookup (ckpt, "embed_tokens.weight"))
    prefix = "";
  else {
    g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
        "%s: tensor \"model.embed_tokens.weight\" (or "
        "\"embed_tokens.weight\") is missing", weights_path);
    goto fail;
  }
  if (!load_embedding (enc, ckpt, prefix, error))
    goto fail;
  enc->prefix = g_strdup (prefix);
  enc->weights = hart_weights_new (enc->be, ckpt, prefix);
  hart_weights_set_matrix_dtype (enc->weights,
      hart_engine_get_matrix_dtype (engine));
  {
    /* where the layer matrices are (see the struct) */
    const HartTextEncoderMatrices plan = hart_text_encoder_plan_matrices
        (ckpt, prefix, &enc->cfg, hart_engine_get_matrix_dtype (engine),
        enc->be->host_memory);
    const gboolean held = plan == HART_TEXT_ENCODER_MATRICES_HELD;

    if (plan == HART_TEXT_ENCODER_MATRICES_MAPPED)
      enc->matrix_info = g_new (const HartTensorInfo *,
          (gsize) enc->cfg.num_hidden_layers * 7);
    if (!load_layers (enc, !held, error))
      goto fail;
    if (!held && !check_layer_matrices (enc, ckpt, enc->matrix_info, error))
      goto fail;
    enc->matrices = plan;
    if (!held || enc->embed_info != NULL)
      enc->ckpt = g_steal_pointer (&ckpt);
  }
  if (!enc->be->ops->synchronize (enc->be, error))
    goto fail;

  if (!(enc->tokenizer = hart_tokenizer_load (tokenizer_dir ? tokenizer_dir :
              qwen_dir, error)))
    goto fail;
  /* Every id the tokenizer can produce must index the embedding table. */
  n_vocab = hart_tokenizer_n_vocab (enc->tokenizer);
  if (n_vocab > enc->cfg.vocab_size) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "%s: the tokenizer (%s) has ids up to %d but \"vocab_size\" is %d",
        config_path, tokenizer_dir ? tokenizer_dir : qwen_dir, n_vocab - 1,
        enc->cfg.vocab_size);
    goto fail;
  }
  enc->pad_id = hart_tokenizer_pad_id (enc->tokenizer);
  if (enc->pad_id < 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "tokenizer of %s has no pad token; HART's prompt mask needs one",
        tokenizer_dir ? tokenizer_dir : qwen_dir);
    goto fail;
  }
  if (!hart_tokenizer_encode (enc->tokenizer, hart_tokenizer_system_prompt (),
          -1, enc->system_ids, error))
    goto fail;
  if ((int) enc->system_ids->len >= enc->cfg.max_position_embeddings) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "%s: the system prompt's %u tokens leave no room for a prompt "
        "(max_position_embeddings %d)", config_path, enc->system_ids->len,
        enc->cfg.max_position_embeddings);
    goto fail;
  }

  g_debug ("text encoder %s: %d layers × %d, %u system tokens, embedding "
      "%s %s, layer matrices %s, %" G_GUINT64_FORMAT " MB of weights on %s",
      qwen_dir, enc->cfg.num_hidden_layers, enc->cfg.hidden_size,
      enc->system_ids->len, hart_dtype_name (enc->embed_dtype),
      enc->embed_info ? "read from the file by row" : "on the host",
      hart_text_encoder_matrices_name (enc->matrices),
      hart_weights_bytes (enc->weights) >> 20, hart_engine_get_device (engine));
  hart_checkpoint_free (ckpt);
  g_free (config_path);
  g_free (weights_path);
  g_free (found_tokenizer);
  return enc;

fail:
  hart_checkpoint_free (ckpt);
  g_free (config_path);
  g_free (weights_path);
  g_free (found_tokenizer);
  hart_text_encoder_free (enc);
  return NULL;
}

void
hart_text_encoder_free (HartTextEncoder * enc)
{
  if (enc == NULL)
    return;
  hart_weights_free (enc->weights);
  hart_checkpoint_free (enc->ckpt);
  g_free (enc->matrix_info);
  g_free (enc->prefix);
  g_free (enc->layers);
  g_free (enc->embed);
  g_array_free (enc->system_ids, TRUE);
  hart_tokenizer_free (enc->tokenizer);
  g_free (enc->dir);
  hart_engine_unref (enc->engine);
  g_free (enc);
}

const char *
hart_text_encoder_matrices_name (HartTextEncoderMatrices matrices)
{
  switch (matrices) {
    case HART_TEXT_ENCODER_MATRICES_HELD:
      return "held";
    case HART_TEXT_ENCODER_MATRICES_STREAMED:
      return "converted to f32 layer by layer";
    case HART_TEXT_ENCODER_MATRICES_MAPPED:
      return "used in place in the mapped file";
  }
  return "?";
}

HartTextEncoderMatrices
hart_text_encoder_get_matrices (const HartTextEncoder * enc)
{
  return enc->matrices;
}

const HartQwen2Config *
hart_text_encoder_get_config (const HartTextEncoder * enc)
{
  return &enc->cfg;
}

HartTokenizer *
hart_text_encoder_get_tokenizer (HartTextEncoder * enc)
{
  return enc->tokenizer;
}

const int32_t *
hart_text_encoder_get_system_ids (const HartTextEncoder * enc, int *n_ids)
{
  if (n_ids)
    *n_ids = (int) enc->system_ids->len;
  return (const int32_t *) enc->system_ids->data;
}

/* ------------------------------------------------------------------ */
/* forward                                                             */

/* Per-call device buffers; N = B·L rows. */
typedef struct
{
  HartBackend *be;
  GPtrArray *buffers;
  float *x;                     /* [N, H] residual stream */
  float *a;                     /* [N, H] normed input of a sublayer */
  float *q;                     /* [N, H] */
  float *k, *v;                 /* [N, KV] */
  float *attn;                  /* [N, H] */
  float *tmp;                   /* [N, H] sublayer output */
  float *gate, *up;             /* [N, F] */
  float *cos, *sin;             /* [L, hd] shared by the batch */
  uint8_t *mask;                /* [B, L] or NULL */
} Qwen2Scratch;

static void *
scratch_alloc (Qwen2Scratch * s, gsize bytes, GError ** error)
{
  void *p = s->be->ops->alloc (s->be, bytes, error);
  if (p != NULL)
    g_ptr_array_add (s->buffers, p);
  return p;
}

static void
scratch_clear (Qwen2Scratch * s)
{
  for (guint i = 0; i < s->buffers->len; i++)
    s->be->ops->free (s->be, g_ptr_array_index (s->buffers, i));
  g_ptr_array_free (s->buffers, TRUE);
}

/* RoPE tables [L, hd] for positions 0 … L−1 as transformers builds them in
 * fp32: inv_freq_d = 1 / θ^(2d / hd), angle = pos · inv_freq_d, both halves
 * of the table equal (standard 1-D RoPE under the half-split rule). */
static void
fill_rope_tables (float *cos_t, float *sin_t, int len, int head_dim,
    double theta)
{
  const int half = head_dim / 2;
  float *inv_freq = g_new (float, half);

  for (int d = 0; d < half; d++)
    inv_freq[d] = 1.0f / powf ((float) theta, (float) (2 * d) /
        (float) head_dim);
  for (int p = 0; p < len; p++) {
    for (int d = 0; d < half; d++) {
      float angle = (float) p * inv_freq[d];
      float c = cosf (angle), s = sinf (angle);
      cos_t[(gsize) p * head_dim + d] = c;
      cos_t[(gsize) p * head_dim + d + half] = c;
      sin_t[(gsize) p * head_dim + d] = s;
      sin_t[(gsize) p * head_dim + d + half] = s;
    }
  }
  g_free (inv_freq);
}

/* x [N, H] (device) = embed_tokens[ids], gathered and converted on the host
 * from the stored dtype. */
static gboolean
embed_rows (HartTextEncoder * enc, float *x, const int32_t * ids, gsize n,
    GError ** error)
{
  const int H = enc->cfg.hidden_size;
  const gsize row_bytes = (gsize) H * hart_dtype_size (enc->embed_dtype);
  float *host = g_new (float, n * H);
  guint8 *row = enc->embed_info ? g_malloc (row_bytes) : NULL;
  gboolean ok = TRUE;

  for (gsize i = 0; ok && i < n; i++) {
    const guint8 *src = row;
    if (row != NULL)
      ok = hart_checkpoint_read_rows (enc->ckpt, enc->embed_info, ids[i], 1,
          row, error);
    else
      src = enc->embed + (gsize) ids[i] * row_bytes;
    if (ok)
      hart_convert_to_f32 (host + i * H, src, enc->embed_dtype, H);
  }
  if (ok)
    enc->be->ops->upload (enc->be, x, host, n * H * sizeof (float));
  g_free (row);
  g_free (host);
  return ok;
}

gboolean
hart_text_encoder_forward (HartTextEncoder * enc, const int32_t * ids,
    const uint8_t * mask, int batch, int len, int row_start, int n_rows,
    float *hidden, int capture_layer, float *layer_hidden,
    GCancellable * cancel, GError ** error)
{
  const HartQwen2Config *c = &enc->cfg;
  HartBackend *be = enc->be;
  const int H = c->hidden_size, F = c->intermediate_size, hd = c->head_dim;
  const int heads = c->num_attention_heads, kv_heads = c->num_key_value_heads;
  const int KV = kv_heads * hd;
  const float eps = (float) c->rms_norm_eps;
  Qwen2Scratch s = { be, g_ptr_array_new (), };
  gsize N;
  float *host_cos = NULL, *host_sin = NULL;
  float *stream_dev = NULL, *stream_host = NULL;
  gboolean ok = FALSE;

  if (batch < 1 || len < 1 || row_start < 0 || n_rows < 0
      || n_rows > len - row_start || hidden == NULL
      || (layer_hidden != NULL && (capture_layer < 0
              || capture_layer >= c->num_hidden_layers))) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "text encoder: invalid arguments (batch %d, length %d, rows %d+%d, "
        "layer %d of %d)", batch, len, row_start, n_rows, capture_layer,
        c->num_hidden_layers);
    goto out;
  }
  if (len > c->max_position_embeddings) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "text encoder: %d tokens exceed max_position_embeddings %d of %s",
        len, c->max_position_embeddings, enc->dir);
    goto out;
  }
  N = (gsize) batch *len;
  for (gsize i = 0; i < N; i++) {
    if (ids[i] < 0 || ids[i] >= c->vocab_size) {
      g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
          "text encoder: token id %d (item %d, position %d) is outside the "
          "embedding table of %s (vocab_size %d)", ids[i],
          (int) (i / len), (int) (i % len), enc->dir, c->vocab_size);
      goto out;
    }
  }

  if (!(s.x = scratch_alloc (&s, N * H * sizeof (float), error))
      || !(s.a = scratch_alloc (&s, N * H * sizeof (float), error))
      || !(s.q = scratch_alloc (&s, N * H * sizeof (float), error))
      || !(s.k = scratch_alloc (&s, N * KV * sizeof (float), error))
      || !(s.v = scratch_alloc (&s, N * KV * sizeof (float), error))
      || !(s.attn = scratch_alloc (&s, N * H * sizeof (float), error))
      || !(s.tmp = scratch_alloc (&s, N * H * sizeof (float), error))
      || !(s.gate = scratch_alloc (&s, N * F * sizeof (float), error))
      || !(s.up = scratch_alloc (&s, N * F * sizeof (float), error))
      || !(s.cos = scratch_alloc (&s, (gsize) len * hd * sizeof (float), error))
      || !(s.sin = scratch_alloc (&s, (gsize) len * hd * sizeof (float),
              error)))
    goto out;
  if (mask != NULL) {
    if (!(s.mask = scratch_alloc (&s, N, error)))
      goto out;
    be->ops->upload (be, s.mask, mask, N);
  }
  host_cos = g_new (float, (gsize) len * hd);
  host_sin = g_new (float, (gsize) len * hd);
  fill_rope_tables (host_cos, host_sin, len, hd, c->rope_theta);
  be->ops->upload (be, s.cos, host_cos, (gsize) len * hd * sizeof (float));
  be->ops->upload (be, s.sin, host_sin, (gsize) len * hd * sizeof (float));

  if (!embed_rows (enc, s.x, ids, N, error))
    goto out;

  if (enc->matrices == HART_TEXT_ENCODER_MATRICES_STREAMED) {
    gsize n = layer_matrix_floats (c);
    stream_dev = be->ops->alloc (be, n * sizeof (float), error);
    stream_host = g_try_new (float, (gsize) MAX (c->intermediate_size,
            c->hidden_size) * c->hidden_size);
    if (stream_dev == NULL || stream_host == NULL) {
      if (stream_dev != NULL && stream_host == NULL)
        g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
            "out of memory for the text encoder's layer staging buffer");
      goto out;
    }
  }

  for (int i = 0; i < c->num_hidden_layers; i++) {
    const Qwen2Layer *l = &enc->layers[i];
    Qwen2Layer layer_view;      /* a streamed or mapped layer */
    HartAttentionParams p = {
      .batch = batch,.q_heads = heads,.kv_heads = kv_heads,
      .q_len = len,.kv_len = len,.head_dim = hd,
      .scale = 1.0f / sqrtf ((float) hd),
      .q = s.q,.q_batch_stride = (int64_t) len * H,.q_row_stride = H,
      .k = s.k,.k_batch_stride = (int64_t) len * KV,.k_row_stride = KV,
      .v = s.v,.v_batch_stride = (int64_t) len * KV,.v_row_stride = KV,
      .out = s.attn,.out_batch_stride = (int64_t) len * H,
      .out_row_stride = H,
      .key_mask = s.mask,.causal = TRUE,.causal_offset = 0,
    };

    if (hart_error_if_cancelled (cancel, error))
      goto out;
    if (enc->matrices == HART_TEXT_ENCODER_MATRICES_STREAMED) {
      /* the previous layer's GEMMs must be done with the scratch */
      if (!be->ops->synchronize (be, error)
          || !stream_layer (enc, i, stream_dev, stream_host, &layer_view,
              error))
        goto out;
      l = &layer_view;
    } else if (enc->matrices == HART_TEXT_ENCODER_MATRICES_MAPPED) {
      map_layer (enc, i, &layer_view);
      l = &layer_view;
    }

    /* self-attention */
    be->ops->rms_norm (be, s.a, s.x, l->input_norm, (int) N, H, eps);
    hart_matrix_linear (be, s.q, s.a, &l->w_q, l->b_q, (int) N);
    hart_matrix_linear (be, s.k, s.a, &l->w_k, l->b_k, (int) N);
    hart_matrix_linear (be, s.v, s.a, &l->w_v, l->b_v, (int) N);
    be->ops->rope (be, s.q, (int64_t) len * H, H, s.cos, s.sin, 0, batch,
        len, heads, hd);
    be->ops->rope (be, s.k, (int64_t) len * KV, KV, s.cos, s.sin, 0, batch,
        len, kv_heads, hd);
    hart_attention_in (be, &p, l->w_q.dtype);
    hart_matrix_linear (be, s.tmp, s.attn, &l->w_o, NULL, (int) N);
    be->ops->add (be, s.x, s.x, s.tmp, N * H);

    /* SwiGLU MLP */
    be->ops->rms_norm (be, s.a, s.x, l->post_norm, (int) N, H, eps);
    hart_matrix_linear (be, s.gate, s.a, &l->w_gate, NULL, (int) N);
    hart_matrix_linear (be, s.up, s.a, &l->w_up, NULL, (int) N);
    be->ops->swiglu (be, s.gate, s.gate, s.up, N * F);
    hart_matrix_linear (be, s.tmp, s.gate, &l->w_down, NULL, (int) N);
    be->ops->add (be, s.x, s.x, s.tmp, N * H);

    if (layer_hidden != NULL && i == capture_layer)
      be->ops->download (be, layer_hidden, s.x, N * H * sizeof (float));
    if (enc->matrices == HART_TEXT_ENCODER_MATRICES_MAPPED) {
      /* the layer's products are done with its pages (a host-memory
       * backend: its ops have returned) */
      gboolean done = be->ops->synchronize (be, error);
      unmap_layer (enc, i);
      if (!done)
        goto out;
    }
  }

  be->ops->rms_norm (be, s.a, s.x, enc->final_norm, (int) N, H, eps);
  for (int b = 0; b < batch; b++)
    be->ops->download (be, hidden + (gsize) b * n_rows * H,
        s.a + ((gsize) b * len + row_start) * H,
        (gsize) n_rows * H * sizeof (float));
  ok = be->ops->synchronize (be, error);

out:
  g_free (host_cos);
  g_free (host_sin);
  if (stream_dev != NULL) {
    be->ops->synchronize (be, NULL);
    be->ops->free (be, stream_dev);
  }
  g_free (stream_host);
  scratch_clear (&s);
  return ok;
}

/* ------------------------------------------------------------------ */
/* HART's prompt encoding                                              */

HartContext *
hart_text_encoder_encode (HartTextEncoder * enc, const char *const *prompts,
    int n_prompts, int max_tokens, GCancellable * cancel, GError ** error)
{
  const int S = (int) enc->system_ids->len;
  const int L = S + max_tokens;
  HartContext *ctx = NULL;
  int32_t *ids = NULL;
  uint8_t *mask = NULL;
  gboolean ok;

  if (n_prompts < 1 || prompts == NULL || max_tokens < 1
      || max_tokens > G_MAXINT / 2 - S) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "text encoder: need at least one prompt and max_tokens ≥ 1 (got %d "
        "prompts, max_tokens %d)", n_prompts, max_tokens);
    return NULL;
  }
  for (int b = 0; b < n_prompts; b++) {
    if (prompts[b] == NULL) {
      g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
          "text encoder: prompt %d is NULL", b);
      return NULL;
    }
  }

  ctx = hart_context_new (n_prompts, max_tokens, enc->cfg.hidden_size);
  ids = g_new (int32_t, (gsize) n_prompts * L);
  mask = g_new (uint8_t, (gsize) n_prompts * L);
  /* [system ‖ prompt] per item; the system prompt is always visible. */
  for (int b = 0; b < n_prompts; b++) {
    int32_t *row_ids = ids + (gsize) b * L;
    uint8_t *row_mask = mask + (gsize) b * L;
    uint8_t *ctx_mask = ctx->mask + (gsize) b * max_tokens;
    memcpy (row_ids, enc->system_ids->data, (gsize) S * sizeof (int32_t));
    memset (row_mask, 1, S);
    if (!hart_tokenizer_encode_prompt (enc->tokenizer, prompts[b],
            max_tokens, row_ids + S, ctx_mask,
            ctx->positions + (gsize) b * max_tokens, NULL, error))
      goto fail;
    memcpy (row_mask + S, ctx_mask, max_tokens);
  }
  hart_engine_enter (enc->engine);
  ok = hart_text_encoder_forward (enc, ids, mask, n_prompts, L, S,
      max_tokens, ctx->data, -1, NULL, cancel, error);
  hart_engine_leave (enc->engine);
  if (!ok)
    goto fail;
  g_free (ids);
  g_free (mask);
  return ctx;

fail:
  g_free (ids);
  g_free (mask);
  hart_context_free (ctx);
  return NULL;
}
