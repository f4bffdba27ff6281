/* gst-hart — typed, validated model configurations (config.json)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each release folder carries a Hugging Face style config.json.  These
 * parsers read it into plain structs and refuse, by field name, every value
 * the engine does not implement, so that a later stage never meets an
 * unexpected combination.
 */
#ifndef HART_CONFIG_H
#define HART_CONFIG_H

#include <glib.h>

G_BEGIN_DECLS

#define HART_MAX_SCALES 32
#define HART_MAX_LEVELS 8
/* Bounds that keep a hostile but well-formed config.json from starting a
 * generation without end (docs/robustness.md, "Threat model"): the release
 * has head_dim 64, a last side of 64 and 9,450 image tokens. */
#define HART_MAX_HEAD_DIM 1024  /* the RoPE tables hold head_dim / 2 angles */
#define HART_MAX_SIDE 256       /* a token map side: 4096 px at downsample 16 */
#define HART_MAX_IMAGE_TOKENS 131072    /* Σ pn² over the image scales */

/* hart-0.7b-1024px/llm/config.json (model_type "hart_transformer_t2i") */
typedef struct
{
  int context_token;            /* T: text positions (300) */
  int context_dim;              /* D: text feature width (1536) */
  int embed_dim;                /* C: transformer width (1536) */
  int depth;                    /* number of blocks (24) */
  int num_heads;                /* attention heads (24) */
  double mlp_ratio;             /* 4.0 */
  double norm_eps;              /* RMSNorm eps (1e-6) */
  int n_scales;                 /* SN = len(patch_nums) (14) */
  int patch_nums[HART_MAX_SCALES];      /* token-map sides, 1 … 64 */
  gboolean use_context_norm;
  int diff_width;               /* diffusion MLP width (1024) */
  int diff_depth;               /* diffusion residual blocks (6) */
  int num_sampling_steps;       /* respaced diffusion steps (8) */
  char *vae_path;               /* NULL → ../tokenizer */

  /* derived */
  int head_dim;                 /* C / num_heads */
  int mlp_hidden;               /* SwiGLU width: round_up(C·ratio·2/3, 256) */
  int seq_len;                  /* T + Σ_{s≥1} pn_s² : every position */
  int image_tokens;             /* Σ_{s≥1} pn_s² */
} HartTransformerConfig;

/* hart-0.7b-1024px/tokenizer/config.json ("hart_autoencoder_with_disc") */
typedef struct
{
  int vocab_size;               /* V: codebook entries (4096) */
  int z_channels;               /* Cv: latent channels (32) */
  int ch;                       /* base decoder width (160) */
  int n_levels;                 /* len(ch_mult) */
  int ch_mult[HART_MAX_LEVELS]; /* (1, 1, 2, 2, 4) */
  int n_v_scales;               /* len(v_patch_nums), 0 when absent */
  int v_patch_nums[HART_MAX_SCALES];    /* the scales it was trained on */
  double quant_resi;            /* Φ mixing ratio (0.5) */
  int share_quant_resi;         /* number of Φ convs K (4) */
  int quant_conv_ks;            /* Φ / post_quant_conv kernel (3) */

  /* derived */
  int downsample;               /* 2^(n_levels − 1): latent → pixels */
} HartAutoencoderConfig;

/* Qwen2-VL-1.5B-Instruct/config.json (model_type "qwen2") */
typedef struct
{
  int hidden_size;              /* 1536 */
  int num_hidden_layers;        /* 28 */
  int num_attention_heads;      /* 12 */
  int num_key_value_heads;      /* 2 */
  int intermediate_size;        /* 8960 */
  int vocab_size;               /* 151936 */
  int max_position_embeddings;  /* 32768 */
  double rms_norm_eps;          /* 1e-6 */
  double rope_theta;            /* 1e6 */
  gboolean tie_word_embeddings;

  /* derived */
  int head_dim;                 /* hidden / heads */
} HartQwen2Config;

gboolean hart_transformer_config_load (const char *path,
    HartTransformerConfig * cfg, GError ** error);
void hart_transformer_config_clear (HartTransformerConfig * cfg);

gboolean hart_autoencoder_config_load (const char *path,
    HartAutoencoderConfig * cfg, GError ** error);

gboolean hart_qwen2_config_load (const char *path, HartQwen2Config * cfg,
    GError ** error);

/* What kind of folder/config this is, from config.json "model_type":
 * "hart_transformer_t2i", "hart_autoencoder_with_disc", "qwen2", … ;
 * newly allocated, NULL with an error if unreadable. */
char *hart_config_read_model_type (const char *path, GError ** error);

/* Human-readable dumps for `hart inspect`. */
void hart_transformer_config_print (const HartTransformerConfig * cfg,
    GString * out);
void hart_autoencoder_config_print (const HartAutoencoderConfig * cfg,
    GString * out);
void hart_qwen2_config_print (const HartQwen2Config * cfg, GString * out);

G_END_DECLS
#endif /* HART_CONFIG_H */
