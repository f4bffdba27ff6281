/* gst-hart — memory estimates and the memory budget
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The formulas mirror what generate.c, transformer.c, diffusion.c, decoder.c
 * and text-encoder.c allocate, in the engine's precision (the type of its
 * weight matrices); a change of buffers or of what a precision holds in 16
 * bits there should be reflected here.  tests/unit/test-memory.c checks
 * the weights against what both fixtures' loaders hold, to the byte, in
 * fp32 and bf16, and the buffers against one real-size measurement only
 * loosely: they are an estimate.
 */
#include "memory.h"
#include "checkpoint.h"
#include "text-encoder-private.h"
#include "error.h"

#include <string.h>
#include <unistd.h>

/* Prompt positions the system prompt adds before the MAX_TOKENS of a
 * prompt; the real one is ~30 tokens, this is a round upper bound. */
#define SYSTEM_PROMPT_ALLOWANCE 64

/* Must match diffusion.c: the MLP runs over at most this many rows. */
#define DIFFUSION_CHUNK_ROWS 4096
/* Must match transformer.c: a stage's QKV projection and MLP run over at
 * most this many tokens at a time. */
#define STAGE_CHUNK_ROWS 1024
/* Must match generate.c: a stage's logits are computed and sampled this
 * many positions at a time. */
#define LOGITS_CHUNK 256

gboolean
hart_memory_parse_size (const char *text, guint64 * bytes, GError ** error)
{
  static const char multiples[] = "KMGT";
  const char *p = text, *unit;
  guint64 value = 0;
  int shift = 0;

  if (text == NULL)
    goto invalid;
  while (g_ascii_isspace (*p))
    p++;
  if (!g_ascii_isdigit (*p))
    goto invalid;
  for (; g_ascii_isdigit (*p); p++) {
    const guint64 digit = (guint64) (*p - '0');
    if (value > (G_MAXUINT64 - digit) / 10)
      goto overflow;
    value = value * 10 + digit;
  }
  if (*p != '\0' && (unit = strchr (multiples, g_ascii_toupper (*p)))
      != NULL) {
    shift = 10 * (int) (unit - multiples + 1);
    p++;
    /* "G", "GB" and "GiB" all mean 2^30 */
    if (*p == 'i' && (p[1] == 'B' || p[1] == 'b'))
      p += 2;
    else if (*p == 'B' || *p == 'b')
      p++;
  }
  while (g_ascii_isspace (*p))
    p++;
  if (*p != '\0')
    goto invalid;
  if (shift > 0 && value > (G_MAXUINT64 >> shift))
    goto overflow;
  *bytes = value << shift;
  return TRUE;

invalid:
  g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
      "invalid memory size \"%s\": expected a number of bytes, optionally "
      "followed by K, M, G or T (e.g. \"4G\", \"512M\")", text ? text : "");
  return FALSE;
overflow:
  g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
      "memory size \"%s\" does not fit in 64 bits", text);
  return FALSE;
}

gboolean
hart_memory_budget_from_env (guint64 * budget_bytes, GError ** error)
{
  const char *value = g_getenv (HART_MEMORY_BUDGET_ENV);
  GError *local = NULL;

  *budget_bytes = 0;
  if (value == NULL || value[0] == '\0')
    return TRUE;
  if (!hart_memory_parse_size (value, budget_bytes, &local)) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "%s=\"%s\": %s", HART_MEMORY_BUDGET_ENV, value, local->message);
    g_error_free (local);
    return FALSE;
  }
  return TRUE;
}

guint64
hart_memory_machine_bytes (void)
{
  long pages = sysconf (_SC_PHYS_PAGES), page_size = sysconf (_SC_PAGESIZE);
  guint64 bytes = pages > 0 && page_size > 0 ?
      (guint64) pages * (guint64) page_size : 0;
  char *text = NULL;

  /* cgroup v2: "max" or a byte count; a kernel file, read as it is */
  if (g_file_get_contents ("/sys/fs/cgroup/memory.max", &text, NULL, NULL)) {
    guint64 limit = g_ascii_strtoull (text, NULL, 10);
    if (g_ascii_isdigit (text[0]) && limit > 0 && (bytes == 0 || limit < bytes))
      bytes = limit;
    g_free (text);
  }
  return bytes;
}

/* Elements of the largest decoder activation of one image at latent side
 * h × w: the same walk as decoder.c's decoder_max_elements (channels
 * ch · ch_mult[l], doubling the side after every level but the first). */
static guint64
decoder_max_elements (const HartAutoencoderConfig * a, int h, int w)
{
  guint64 hw = (guint64) h * w;
  const guint64 low = (guint64) a->ch * a->ch_mult[a->n_levels - 1];
  guint64 m = MAX ((guint64) a->z_channels, low) * hw;
  guint64 block_in = low;

  m = MAX (m, 3 * low * hw);    /* the mid attention's qkv */
  for (int l = a->n_levels - 1; l >= 0; l--) {
    const guint64 c = (guint64) a->ch * a->ch_mult[l];
    m = MAX (m, MAX (block_in, c) * hw);
    block_in = c;
    if (l != 0) {
      hw *= 4;
      m = MAX (m, c * hw);
    }
  }
  return m;
}

guint64
hart_memory_generation_bytes (const HartTransformerConfig * t,
    const HartAutoencoderConfig * a, int batch, HartDType matrix_dtype)
{
  const guint64 B = (guint64) MAX (batch, 1), rows = 2 * B;
  const guint64 C = t->embed_dim, F = t->mlp_hidden, hd = t->head_dim;
  const guint64 T = t->context_token, V = a->vocab_size, Cv = a->z_channels;
  const guint64 P = t->patch_nums[t->n_scales - 1], L = P * P;
  const guint64 seq = t->seq_len, max_tokens = MAX (T, L);
  const guint64 rows_max = rows * max_tokens;
  const guint64 fhat = B * Cv * L;
  const guint64 W = P * a->downsample;
  const guint64 n = B * L;      /* diffusion rows */
  const guint64 Wd = t->diff_width;
  /* bytes of a key or value: with 16-bit matrices the attention takes
   * them in bf16 and the state holds them so (transformer.c,
   * hart_attention_takes_half_kv); every other buffer is f32 */
  const guint64 kv = matrix_dtype == HART_DTYPE_F32 ? 4 : 2;
  guint64 kv_slab, state, ar_scratch, frame, ar, diffusion_dev, diffusion;
  guint64 decoder, workspace, refine, refine_only, image, chunk;

  g_return_val_if_fail (matrix_dtype == HART_DTYPE_F32
      || matrix_dtype == HART_DTYPE_BF16 || matrix_dtype == HART_DTYPE_F16, 0);

  /* transformer.c, hart_transformer_state_new: one slab holds the KV
   * cache of every block over the positions before the last stage
   * [2B, seq − L, C] × 2, the last stage's keys and values [2B, seq, C]
   * × 2, the per-row activations of the widest stage: a, q, attn, tmp,
   * head_rows [.., C], RoPE cos/sin [.., hd] × 2, and those of one chunk
   * of its tokens: qkv [chunk, 3C], gate and up [chunk, F].  Beside it:
   * the context condition [2B, T, C], the head modulation [2B, 2C], the
   * RoPE tables' host copies [.., hd] × 2. */
  chunk = MIN (rows_max, STAGE_CHUNK_ROWS);
  kv_slab = kv * ((guint64) t->depth * 2 * rows * (seq - L) * C
      + 2 * rows * seq * C) + 4 * rows_max * (5 * C + 2 * hd)
      + 4 * chunk * (3 * C + 2 * F);
  state = kv_slab + 4 * (rows * T * C + rows * 2 * C + rows_max * 2 * hd);
  /* generate.c, run_stage_buffers: x [2B, max_tokens, C], the logits of
   * LOGITS_CHUNK positions [2B, chunk, V] on device and host, f_hat and
   * its latent scratch (5 × [B, Cv, L] on the device, 2 on the host), the
   * condition z [2B, L, C], the indices.  On a backend whose memory is the
   * host's (the CPU's) the sampler reads the logits in place, one copy;
   * the estimate does not know the backend and counts two.  (A stage's
   * whole logits, [2B, L, V], only for an observer, a trace, or draws
   * replayed or recorded: debugging, not counted.) */
  ar_scratch = 4 * (rows_max * C + 2 * rows * MIN (L, LOGITS_CHUNK) * V
      + 7 * fhat + rows * L * C + n);
  /* tokens.c: f_hat, last_h, z and every stage's token map but the last */
  frame = 4 * (2 * fhat + rows * L * C + B * (t->image_tokens - L + 1) * Cv);
  ar = state + ar_scratch + frame;

  /* diffusion.c, hart_diffusion_sample: cond_embed [2n, Wd], x and out
   * [n, Cv] + [n, 2Cv], the MLP scratch 7 × [min (n, chunk), Wd] on the
   * device, host copies x, noise, out_c, out_u (6 n Cv). */
  diffusion_dev = 4 * (2 * n * Wd + 3 * n * Cv
      + 7 * MIN (n, DIFFUSION_CHUNK_ROWS) * Wd);
  diffusion = diffusion_dev + 4 * 6 * n * Cv;
  /* decoder.c: three buffers of the largest activation and a plane of
   * ones (hart_decoder_workspace_floats, up to the alignment of each) */
  decoder = 4 * (3 * (decoder_max_elements (a, (int) P, (int) P) + 64) + L);
  /* the image [B, 3, W, W] on the device, its download (floats) and the
   * packed RGB output (bytes) */
  image = 4 * B * 3 * W * W + 4 * B * 3 * W * W + B * 3 * W * W;
  /* generate.c, run_refine after the stages: the run keeps its state and
   * scratch (ar); the diffusion's device buffers and the decoder's
   * activations go in the slab, which hart_transformer_state_new makes at
   * least as large as the larger of the two (only what they need beyond
   * the caches and activations counts); the diffusion's host copies and
   * the image. */
  workspace = MAX (diffusion_dev, decoder);
  refine = ar + (workspace > kv_slab ? workspace - kv_slab : 0)
      + 4 * 6 * n * Cv + image;
  /* a run that refines only (hartrefine): the token frame, z, res, f_hat,
   * two host planes of f_hat, then the diffusion or the decoder in buffers
   * of their own, and the image */
  refine_only = frame + 4 * (rows * L * C + 4 * fhat)
      + MAX (diffusion, decoder) + image;

  return MAX (refine, refine_only);
}

/* How the loaders hold the tensors of a release's checkpoints, by name
 * ('#' stands for a block number).  MATRIX_TENSORS are what
 * hart_transformer_load and hart_diffusion_load read with
 * hart_weights_get_matrix (held in the engine's matrix type); every other
 * tensor they read is held in f32, and UNREAD_TENSORS are the training
 * buffers of the official state dicts that no loader reads.  The lists
 * mirror the loaders: tests/unit/test-memory.c checks the weights
 * estimate against hart_weights_bytes of both fixtures loaded in fp32 and
 * in bf16, to the byte. */
static const char *const matrix_tensors[] = {
  /* transformer.c */
  "context_embed.weight", "head_nm.ada_lin.1.weight", "head.weight",
  "blocks.#.attn.qkv_proj.weight", "blocks.#.attn.proj.weight",
  "blocks.#.ffn.gate_proj.weight", "blocks.#.ffn.up_proj.weight",
  "blocks.#.ffn.down_proj.weight",
  /* diffusion.c: the MLP's wide products; input_proj and
   * final_layer.linear (over the Cv latent channels) and the time
   * embedding (computed once at load) stay f32 */
  "diffloss.net.cond_embed.weight",
  "diffloss.net.res_blocks.#.mlp.0.weight",
  "diffloss.net.res_blocks.#.mlp.2.weight",
  "diffloss.net.res_blocks.#.adaLN_modulation.1.weight",
  "diffloss.net.final_layer.adaLN_modulation.1.weight",
};

static const char *const unread_tensors[] = {
  "lvl_1L", "attn_bias_for_masking", "blocks.#.attn.zero_k_bias",
  "vae.quantize.ema_vocab_hit_SV",
};

/* TRUE when NAME is PATTERN, where '#' in PATTERN stands for one or more
 * decimal digits. */
static gboolean
name_matches (const char *name, const char *pattern)
{
  for (; *pattern != '\0'; pattern++) {
    if (*pattern == '#') {
      if (!g_ascii_isdigit (*name))
        return FALSE;
      while (g_ascii_isdigit (*name))
        name++;
    } else if (*name++ != *pattern) {
      return FALSE;
    }
  }
  return *name == '\0';
}

static gboolean
name_in (const char *name, const char *const *patterns, gsize n_patterns)
{
  for (gsize i = 0; i < n_patterns; i++)
    if (name_matches (name, patterns[i]))
      return TRUE;
  return FALSE;
}

guint64
hart_memory_checkpoint_bytes (const HartCheckpoint * ckpt,
    const char *const *prefixes, HartDType matrix_dtype)
{
  guint64 bytes = 0;
  const guint n = hart_checkpoint_n_tensors (ckpt);

  g_return_val_if_fail (matrix_dtype == HART_DTYPE_F32
      || matrix_dtype == HART_DTYPE_BF16 || matrix_dtype == HART_DTYPE_F16, 0);

  for (guint i = 0; i < n; i++) {
    const HartTensorInfo *info = hart_checkpoint_tensor (ckpt, i);
    gboolean wanted = prefixes == NULL;
    for (int p = 0; !wanted && prefixes[p]; p++)
      wanted = g_str_has_prefix (info->name, prefixes[p]);
    if (!wanted || name_in (info->name, unread_tensors,
            G_N_ELEMENTS (unread_tensors)))
      continue;
    if (name_in (info->name, matrix_tensors, G_N_ELEMENTS (matrix_tensors)))
      bytes += hart_dtype_size (matrix_dtype) * info->n_elements;
    else
      bytes += 4 * info->n_elements;
  }
  return bytes;
}

gboolean
hart_memory_text_encoder_bytes (const char *qwen_dir, int n_prompts,
    int max_tokens, HartDType matrix_dtype, gboolean host_memory,
    guint64 * bytes, GError ** error)
{
  char *config_path = g_build_filename (qwen_dir, "config.json", NULL);
  char *weights_path = NULL, *q0 = NULL;
  HartCheckpoint *ckpt = NULL;
  const HartTensorInfo *embed;
  const char *prefix;
  HartQwen2Config c;
  guint64 H, KV, F, hd, layer, resident, N, len, scratch;
  HartTextEncoderMatrices matrices;
  gboolean ok = FALSE;

  g_return_val_if_fail (matrix_dtype == HART_DTYPE_F32
      || matrix_dtype == HART_DTYPE_BF16 || matrix_dtype == HART_DTYPE_F16,
      FALSE);
  if (!g_file_test (qwen_dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
        "text encoder folder %s does not exist or is not a folder", qwen_dir);
    goto out;
  }
  if (!hart_qwen2_config_load (config_path, &c, error)
      || !(weights_path = hart_checkpoint_find_in_dir (qwen_dir, error))
      || !(ckpt = hart_checkpoint_open (weights_path, error)))
    goto out;
  prefix = hart_checkpoint_lookup (ckpt, "model.embed_tokens.weight")
      ? "model." : "";
  q0 = g_strdup_printf ("%sembed_tokens.weight", prefix);
  embed = hart_checkpoint_lookup (ckpt, q0);

  H = c.hidden_size;
  KV = (guint64) c.num_key_value_heads * c.head_dim;
  F = c.intermediate_size;
  hd = c.head_dim;
  /* text-encoder.c: the seven matrices of a layer, held in the engine's
   * matrix type (2 bytes an element in a 16-bit one) */
  layer = hart_dtype_size (matrix_dtype) * (2 * H * H + 2 * KV * H + 3 * F * H);
  /* the rule hart_text_encoder_load follows */
  matrices = hart_text_encoder_plan_matrices (ckpt, prefix, &c, matrix_dtype,
      host_memory);
  /* the embedding table in its stored dtype on the host, unless its rows
   * are read from the mapped file; norms and biases in f32; the layer
   * matrices: all of them, or one f32 layer and its host staging buffer
   * when streamed, or one layer's pages of the file when used in place */
  resident = (hart_checkpoint_is_mapped (ckpt) ? 0 : embed ? embed->n_bytes :
      (guint64) c.vocab_size * H * 2)
      + 4 * ((guint64) c.num_hidden_layers * (3 * H + 2 * KV) + H);
  if (matrices == HART_TEXT_ENCODER_MATRICES_STREAMED)
    resident += layer + 4 * MAX (F, H) * H;
  else if (matrices == HART_TEXT_ENCODER_MATRICES_MAPPED)
    resident += layer;
  else
    resident += (guint64) c.num_hidden_layers * layer;
  /* one encode: x, a, q, attn, tmp [N, H], k, v [N, KV], gate, up [N, F],
   * RoPE tables on device and host */
  len = (guint64) max_tokens + SYSTEM_PROMPT_ALLOWANCE;
  N = (guint64) MAX (n_prompts, 1) * len;
  scratch = 4 * (N * (5 * H + 2 * KV + 2 * F) + 4 * len * hd) + N;
  *bytes = resident + scratch;
  ok = TRUE;

out:
  g_free (q0);
  g_free (config_path);
  g_free (weights_path);
  hart_checkpoint_free (ckpt);
  return ok;
}

static guint64
ceil_mib (guint64 bytes)
{
  return (bytes + (1u << 20) - 1) >> 20;
}

gboolean
hart_memory_check_budget (const char *what, const char *resolution,
    guint64 need_bytes, const char *detail, guint64 budget_bytes,
    const char *source, GError ** error)
{
  if (budget_bytes == 0 || need_bytes <= budget_bytes)
    return TRUE;
  /* The need is rounded up and the budget down, so the two figures never
   * print equal when the need is over. */
  g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
      "%s needs about %" G_GUINT64_FORMAT " MiB%s%s but the memory budget%s%s"
      "%s is %" G_GUINT64_FORMAT " MiB%s%s%s", what, ceil_mib (need_bytes),
      resolution ? " at " : "", resolution ? resolution : "",
      source ? " (" : "", source ? source : "", source ? ")" : "",
      budget_bytes >> 20, detail ? " (" : "", detail ? detail : "",
      detail ? ")" : "");
  return FALSE;
}
