/* gst-hart — typed, validated model configurations (config.json)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Absent fields take the default of the official configuration class (that
 * is what the official loader does); present fields are type- and
 * range-checked; values the engine does not implement are refused by name.
 */
#include "config.h"
#include "error.h"
#include "json-read.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* Generous sanity bounds: far above any released model, far below sizes
 * whose products could overflow an int. */
#define MAX_WIDTH 65536
#define MAX_DEPTH 1024
#define MAX_VOCAB (1 << 24)

typedef struct
{
  const char *path;
  JsonObject *obj;
} ConfigReader;

static JsonParser *
config_parse_file (const char *path, ConfigReader * reader, GError ** error)
{
  JsonNode *root;
  JsonParser *parser = hart_json_load_file (path, &hart_json_limits_config,
      &root, error);

  if (parser == NULL)
    return NULL;
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: expected a JSON object at the top level, found %s", path,
        root ? json_node_type_name (root) : "nothing");
    g_object_unref (parser);
    return NULL;
  }
  reader->path = path;
  reader->obj = json_node_get_object (root);
  return parser;
}

/* Parses `path` and fills `cfg` (size bytes, zeroed first) with `read`. */
typedef gboolean (*ConfigReadFunc) (const ConfigReader * r, void *cfg,
    GError ** error);

static gboolean
config_load (const char *path, void *cfg, gsize size, ConfigReadFunc read,
    GError ** error)
{
  ConfigReader r;
  JsonParser *parser;
  gboolean ok;

  memset (cfg, 0, size);
  parser = config_parse_file (path, &r, error);
  if (parser == NULL)
    return FALSE;
  ok = read (&r, cfg, error);
  g_object_unref (parser);
  return ok;
}

static const char *
node_kind (JsonNode * node)
{
  if (JSON_NODE_HOLDS_NULL (node))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT (node))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY (node))
    return "an array";
  switch (json_node_get_value_type (node)) {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    case G_TYPE_DOUBLE:
      return "a number";
    default:
      return "an integer";
  }
}

/* Integer field within [min, max]; absent → def.  A JSON number with an
 * integral value (e.g. 24.0) is accepted, as Python would. */
static gboolean
read_int (const ConfigReader * r, const char *field, int def, int min,
    int max, int *out, GError ** error)
{
  JsonNode *node = json_object_get_member (r->obj, field);
  double value;

  if (node == NULL) {
    *out = def;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || (json_node_get_value_type (node) != G_TYPE_INT64
          && json_node_get_value_type (node) != G_TYPE_DOUBLE))
    goto bad;
  value = json_node_get_double (node);
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    value = (double) json_node_get_int (node);
  if (value != floor (value) || value < min || value > max)
    goto bad_range;
  *out = (int) value;
  return TRUE;

bad:
  g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
      "%s: field \"%s\": expected an integer, found %s", r->path, field,
      node_kind (node));
  return FALSE;
bad_range:
  g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
      "%s: field \"%s\": expected an integer in [%d, %d], found %g",
      r->path, field, min, max, value);
  return FALSE;
}

static gboolean
read_double (const ConfigReader * r, const char *field, double def,
    double min, double max, double *out, GError ** error)
{
  JsonNode *node = json_object_get_member (r->obj, field);
  double value;

  if (node == NULL) {
    *out = def;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || (json_node_get_value_type (node) != G_TYPE_INT64
          && json_node_get_value_type (node) != G_TYPE_DOUBLE)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: field \"%s\": expected a number, found %s", r->path, field,
        node_kind (node));
    return FALSE;
  }
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    value = (double) json_node_get_int (node);
  else
    value = json_node_get_double (node);
  if (!(value >= min && value <= max)) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: field \"%s\": expected a number in [%g, %g], found %g",
        r->path, field, min, max, value);
    return FALSE;
  }
  *out = value;
  return TRUE;
}

static gboolean
read_bool (const ConfigReader * r, const char *field, gboolean def,
    gboolean * out, GError ** error)
{
  JsonNode *node = json_object_get_member (r->obj, field);

  if (node == NULL) {
    *out = def;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_BOOLEAN) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: field \"%s\": expected true or false, found %s", r->path, field,
        node_kind (node));
    return FALSE;
  }
  *out = json_node_get_boolean (node);
  return TRUE;
}

/* String field (absent → def, null → NULL when allow_null). Newly allocated. */
static gboolean
read_string (const ConfigReader * r, const char *field, const char *def,
    gboolean allow_null, char **out, GError ** error)
{
  JsonNode *node = json_object_get_member (r->obj, field);

  if (node == NULL) {
    *out = g_strdup (def);
    return TRUE;
  }
  if (JSON_NODE_HOLDS_NULL (node) && allow_null) {
    *out = NULL;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: field \"%s\": expected a string, found %s", r->path, field,
        node_kind (node));
    return FALSE;
  }
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

/* A string field that must equal one of the implemented values. */
static gboolean
require_string (const ConfigReader * r, const char *field, const char *def,
    const char *const *accepted, GError ** error)
{
  char *value = NULL;
  gboolean ok;

  if (!read_string (r, field, def, FALSE, &value, error))
    return FALSE;
  ok = g_strv_contains (accepted, value);
  if (!ok) {
    char *list = g_strjoinv ("\", \"", (char **) accepted);
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: field \"%s\" is \"%s\"; this engine implements only \"%s\"",
        r->path, field, value, list);
    g_free (list);
  }
  g_free (value);
  return ok;
}

/* A boolean field that must have a given value. */
static gboolean
require_bool (const ConfigReader * r, const char *field, gboolean def,
    gboolean wanted, GError ** error)
{
  gboolean value;

  if (!read_bool (r, field, def, &value, error))
    return FALSE;
  if (value != wanted) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: field \"%s\" is %s; this engine implements only %s",
        r->path, field, value ? "true" : "false", wanted ? "true" : "false");
    return FALSE;
  }
  return TRUE;
}

/* Integer array field (absent → def). */
static gboolean
read_int_array (const ConfigReader * r, const char *field,
    const int *def, int n_def, int max_len, int min, int max, int *out,
    int *n_out, GError ** error)
{
  JsonNode *node = json_object_get_member (r->obj, field);
  JsonArray *array;
  guint n;

  if (node == NULL) {
    memcpy (out, def, n_def * sizeof (int));
    *n_out = n_def;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: field \"%s\": expected an array of integers, found %s", r->path,
        field, node_kind (node));
    return FALSE;
  }
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n == 0 || n > (guint) max_len) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: field \"%s\": expected 1 to %d entries, found %u", r->path,
        field, max_len, n);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    JsonNode *el = json_array_get_element (array, i);
    if (!JSON_NODE_HOLDS_VALUE (el)
        || json_node_get_value_type (el) != G_TYPE_INT64) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: field \"%s\"[%u]: expected an integer, found %s", r->path,
          field, i, node_kind (el));
      return FALSE;
    }
    gint64 v = json_node_get_int (el);
    if (v < min || v > max) {
      g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
          "%s: field \"%s\"[%u]: expected an integer in [%d, %d], found %"
          G_GINT64_FORMAT, r->path, field, i, min, max, v);
      return FALSE;
    }
    out[i] = (int) v;
  }
  *n_out = (int) n;
  return TRUE;
}

static gboolean
check_model_type (const ConfigReader * r, const char *const *accepted,
    GError ** error)
{
  char *value = NULL;
  gboolean ok;

  if (!read_string (r, "model_type", NULL, FALSE, &value, error))
    return FALSE;
  if (value == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: field \"model_type\" is missing (expected \"%s\")", r->path,
        accepted[0]);
    return FALSE;
  }
  ok = g_strv_contains (accepted, value);
  if (!ok)
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: field \"model_type\" is \"%s\", expected \"%s\"", r->path,
        value, accepted[0]);
  g_free (value);
  return ok;
}

char *
hart_config_read_model_type (const char *path, GError ** error)
{
  ConfigReader r;
  JsonParser *parser = config_parse_file (path, &r, error);
  char *value = NULL;

  if (parser == NULL)
    return NULL;
  if (read_string (&r, "model_type", NULL, FALSE, &value, error)
      && value == NULL)
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: field \"model_type\" is missing", path);
  g_object_unref (parser);
  return value;
}

/* ------------------------------------------------------------------ */

static gboolean
transformer_config_read (const ConfigReader * r, void *cfg, GError ** error)
{
  HartTransformerConfig *c = cfg;
  static const char *const model_types[] = { "hart_transformer_t2i", NULL };
  static const char *const llama[] = { "llama", NULL };
  static const char *const iddpm[] = { "iddpm", NULL };
  static const int default_patch_nums[] = { 1, 2, 3, 4, 5, 6, 8, 10, 13, 16 };
  char *steps = NULL;

  if (!check_model_type (r, model_types, error))
    return FALSE;

  /* Defaults below are those of the official configuration classes. */
  if (!read_int (r, "context_token", 77, 1, 4096, &c->context_token, error)
      || !read_int (r, "context_dim", 768, 1, MAX_WIDTH, &c->context_dim, error)
      || !read_int (r, "embed_dim", 1024, 1, MAX_WIDTH, &c->embed_dim, error)
      || !read_int (r, "depth", 16, 1, MAX_DEPTH, &c->depth, error)
      || !read_int (r, "num_heads", 16, 1, MAX_WIDTH, &c->num_heads, error)
      || !read_double (r, "mlp_ratio", 4.0, 0.01, 64.0, &c->mlp_ratio, error)
      || !read_double (r, "norm_eps", 1e-6, 0.0, 1.0, &c->norm_eps, error)
      || !read_int_array (r, "patch_nums", default_patch_nums,
          G_N_ELEMENTS (default_patch_nums), HART_MAX_SCALES, 1, HART_MAX_SIDE,
          c->patch_nums, &c->n_scales, error)
      || !read_bool (r, "use_context_norm", FALSE, &c->use_context_norm, error)
      || !read_int (r, "diff_width", 1024, 1, MAX_WIDTH, &c->diff_width, error)
      || !read_int (r, "diff_depth", 6, 1, MAX_DEPTH, &c->diff_depth, error)
      || !read_string (r, "vae_path", NULL, TRUE, &c->vae_path, error))
    return FALSE;

  /* The variants the released checkpoint uses (docs/algorithm.md §2.2); the others
   * (docs/algorithm.md §2.5) would need other tensors and other math. */
  if (!require_string (r, "attn_type", "gpt2", llama, error)
      || !require_string (r, "mlp_type", "gpt2", llama, error)
      || !require_bool (r, "disable_aln", FALSE, TRUE, error)
      || !require_bool (r, "shared_aln", FALSE, FALSE, error)
      || !require_bool (r, "use_timestep_embed", FALSE, TRUE, error)
      || !require_bool (r, "attn_l2_norm", FALSE, FALSE, error)
      || !require_bool (r, "use_cross_attn", FALSE, FALSE, error)
      || !require_string (r, "sampler", "iddpm", iddpm, error))
    return FALSE;

  /* num_sampling_steps is a string in the official config ("8"); accept an
   * integer too.  Only plain step counts are implemented (no "ddim25"). */
  {
    JsonNode *node = json_object_get_member (r->obj, "num_sampling_steps");
    gint64 n = 8;
    if (node && JSON_NODE_HOLDS_VALUE (node)
        && json_node_get_value_type (node) == G_TYPE_INT64) {
      n = json_node_get_int (node);
    } else if (node) {
      char *end = NULL;
      if (!read_string (r, "num_sampling_steps", "8", FALSE, &steps, error))
        return FALSE;
      n = g_ascii_strtoll (steps, &end, 10);
      if (end == steps || *end != '\0') {
        g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
            "%s: field \"num_sampling_steps\" is \"%s\"; expected a step "
            "count such as \"8\"", r->path, steps);
        g_free (steps);
        return FALSE;
      }
      g_free (steps);
    }
    if (n < 1 || n > 1000) {
      g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
          "%s: field \"num_sampling_steps\": expected 1 to 1000, found %"
          G_GINT64_FORMAT, r->path, n);
      return FALSE;
    }
    c->num_sampling_steps = (int) n;
  }

  /* Structural checks. */
  if (c->embed_dim % c->num_heads != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: \"embed_dim\" %d is not a multiple of \"num_heads\" %d",
        r->path, c->embed_dim, c->num_heads);
    return FALSE;
  }
  c->head_dim = c->embed_dim / c->num_heads;
  if (c->head_dim > HART_MAX_HEAD_DIM) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: head dimension %d (embed_dim / num_heads) is beyond the limit "
        "of %d", r->path, c->head_dim, HART_MAX_HEAD_DIM);
    return FALSE;
  }
  if (c->head_dim % 4 != 0) {
    /* The image RoPE splits each head into two halves of two quarters. */
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: head dimension %d (embed_dim / num_heads) must be a multiple "
        "of 4 for the 2-D rotary embedding", r->path, c->head_dim);
    return FALSE;
  }
  if (c->patch_nums[0] != 1) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: \"patch_nums\" must start with 1 (the text stage), found %d",
        r->path, c->patch_nums[0]);
    return FALSE;
  }
  if (c->n_scales < 2) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: \"patch_nums\" needs at least 2 scales, found %d", r->path,
        c->n_scales);
    return FALSE;
  }
  c->image_tokens = 0;
  for (int s = 1; s < c->n_scales; s++) {
    if (c->patch_nums[s] <= c->patch_nums[s - 1]) {
      g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
          "%s: \"patch_nums\" must increase strictly, found %d after %d",
          r->path, c->patch_nums[s], c->patch_nums[s - 1]);
      return FALSE;
    }
    c->image_tokens += c->patch_nums[s] * c->patch_nums[s];
  }
  if (c->image_tokens > HART_MAX_IMAGE_TOKENS) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: \"patch_nums\" make %d image tokens, beyond the limit of %d "
        "(the released model has 9,450)", r->path, c->image_tokens,
        HART_MAX_IMAGE_TOKENS);
    return FALSE;
  }
  c->seq_len = c->context_token + c->image_tokens;
  /* SwiGLU hidden width of the llama MLP (docs/algorithm.md §2.5). */
  {
    double h = floor ((c->embed_dim * c->mlp_ratio * 2.0 / 3.0 + 255) / 256);
    if (h * 256 > MAX_WIDTH * 8.0) {
      g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
          "%s: MLP width %g (from embed_dim and mlp_ratio) is too large",
          r->path, h * 256);
      return FALSE;
    }
    c->mlp_hidden = (int) h *256;
  }
  return TRUE;
}

gboolean
hart_transformer_config_load (const char *path, HartTransformerConfig * cfg,
    GError ** error)
{
  if (config_load (path, cfg, sizeof *cfg, transformer_config_read, error))
    return TRUE;
  hart_transformer_config_clear (cfg);
  return FALSE;
}

void
hart_transformer_config_clear (HartTransformerConfig * cfg)
{
  g_clear_pointer (&cfg->vae_path, g_free);
}

/* ------------------------------------------------------------------ */

static gboolean
autoencoder_config_read (const ConfigReader * r, void *cfg, GError ** error)
{
  HartAutoencoderConfig *c = cfg;
  static const char *const model_types[] = {
    "hart_autoencoder_with_disc", "hart_autoencoder", NULL
  };
  static const char *const quantizers[] = { "var_hybrid", "var", NULL };
  static const int default_ch_mult[] = { 1, 1, 2, 2, 4 };

  if (!check_model_type (r, model_types, error))
    return FALSE;
  if (!read_int (r, "vocab_size", 4096, 1, MAX_VOCAB, &c->vocab_size, error)
      || !read_int (r, "z_channels", 32, 1, 4096, &c->z_channels, error)
      || !read_int (r, "ch", 160, 1, 4096, &c->ch, error)
      || !read_int_array (r, "ch_mult", default_ch_mult,
          G_N_ELEMENTS (default_ch_mult), HART_MAX_LEVELS, 1, 64, c->ch_mult,
          &c->n_levels, error)
      || !read_double (r, "quant_resi", 0.5, -16.0, 16.0, &c->quant_resi, error)
      || !read_int (r, "share_quant_resi", 4, 0, 64, &c->share_quant_resi,
          error)
      || !read_int (r, "quant_conv_ks", 3, 1, 7, &c->quant_conv_ks, error))
    return FALSE;
  /* optional: when present, the model loader checks that the transformer
   * uses the same scales (hart/model.c) */
  if (json_object_has_member (r->obj, "v_patch_nums")
      && !read_int_array (r, "v_patch_nums", NULL, 0, HART_MAX_SCALES, 1,
          HART_MAX_SIDE, c->v_patch_nums, &c->n_v_scales, error))
    return FALSE;
  if (!require_string (r, "quantizer_type", "var", quantizers, error)
      || !require_bool (r, "double_decoder", FALSE, FALSE, error)
      || !require_bool (r, "disable_quant_resi", FALSE, FALSE, error))
    return FALSE;
  if (c->quant_conv_ks % 2 == 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: \"quant_conv_ks\" must be odd (same-size convolution), found %d",
        r->path, c->quant_conv_ks);
    return FALSE;
  }
  if (c->share_quant_resi == 0) {
    /* One Φ per scale needs the transformer's scale list; not released. */
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: \"share_quant_resi\" 0 (one Φ per scale) is not implemented; "
        "the released model uses 4", r->path);
    return FALSE;
  }
  if (c->ch * c->ch_mult[c->n_levels - 1] > 65536) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: decoder width ch × ch_mult = %d is too large", r->path,
        c->ch * c->ch_mult[c->n_levels - 1]);
    return FALSE;
  }
  c->downsample = 1 << (c->n_levels - 1);
  return TRUE;
}

gboolean
hart_autoencoder_config_load (const char *path, HartAutoencoderConfig * cfg,
    GError ** error)
{
  return config_load (path, cfg, sizeof *cfg, autoencoder_config_read, error);
}

/* ------------------------------------------------------------------ */

static gboolean
qwen2_config_read (const ConfigReader * r, void *cfg, GError ** error)
{
  HartQwen2Config *c = cfg;
  static const char *const model_types[] = { "qwen2", NULL };
  static const char *const silu[] = { "silu", NULL };
  gboolean sliding = FALSE;

  if (!check_model_type (r, model_types, error))
    return FALSE;
  /* Defaults of transformers' Qwen2Config. */
  if (!read_int (r, "hidden_size", 4096, 1, MAX_WIDTH, &c->hidden_size, error)
      || !read_int (r, "num_hidden_layers", 32, 1, MAX_DEPTH,
          &c->num_hidden_layers, error)
      || !read_int (r, "num_attention_heads", 32, 1, MAX_WIDTH,
          &c->num_attention_heads, error)
      || !read_int (r, "num_key_value_heads", c->num_attention_heads, 1,
          MAX_WIDTH, &c->num_key_value_heads, error)
      || !read_int (r, "intermediate_size", 22016, 1, 8 * MAX_WIDTH,
          &c->intermediate_size, error)
      || !read_int (r, "vocab_size", 151936, 1, MAX_VOCAB, &c->vocab_size,
          error)
      || !read_int (r, "max_position_embeddings", 32768, 1, 1 << 24,
          &c->max_position_embeddings, error)
      || !read_double (r, "rms_norm_eps", 1e-6, 0.0, 1.0, &c->rms_norm_eps,
          error)
      || !read_double (r, "rope_theta", 10000.0, 1.0, 1e12, &c->rope_theta,
          error)
      || !read_bool (r, "tie_word_embeddings", FALSE,
          &c->tie_word_embeddings, error)
      || !read_bool (r, "use_sliding_window", FALSE, &sliding, error))
    return FALSE;
  if (!require_string (r, "hidden_act", "silu", silu, error))
    return FALSE;
  if (json_object_has_member (r->obj, "rope_scaling")
      && !JSON_NODE_HOLDS_NULL (json_object_get_member (r->obj,
              "rope_scaling"))) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: field \"rope_scaling\" is set; only plain RoPE (null) is "
        "implemented", r->path);
    return FALSE;
  }
  if (sliding) {
    /* Windowed attention would change which keys a query sees; HART's
     * text encoder never uses it. */
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: field \"use_sliding_window\" is true; only full attention is "
        "implemented", r->path);
    return FALSE;
  }
  if (c->hidden_size % c->num_attention_heads != 0
      || c->num_attention_heads % c->num_key_value_heads != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: \"hidden_size\" %d, \"num_attention_heads\" %d and "
        "\"num_key_value_heads\" %d do not divide evenly", r->path,
        c->hidden_size, c->num_attention_heads, c->num_key_value_heads);
    return FALSE;
  }
  c->head_dim = c->hidden_size / c->num_attention_heads;
  if (c->head_dim % 2 != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: head dimension %d must be even for RoPE", r->path, c->head_dim);
    return FALSE;
  }
  return TRUE;
}

gboolean
hart_qwen2_config_load (const char *path, HartQwen2Config * cfg,
    GError ** error)
{
  return config_load (path, cfg, sizeof *cfg, qwen2_config_read, error);
}

/* ------------------------------------------------------------------ */

void
hart_transformer_config_print (const HartTransformerConfig * c, GString * out)
{
  g_string_append_printf (out,
      "HART transformer (hart_transformer_t2i)\n"
      "  context          %d tokens × %d\n"
      "  width            %d, %d blocks, %d heads × %d\n"
      "  MLP              SwiGLU %d (mlp_ratio %g)\n"
      "  norm eps         %g\n"
      "  context norm     %s\n"
      "  scales           %d:", c->context_token, c->context_dim,
      c->embed_dim, c->depth, c->num_heads, c->head_dim, c->mlp_hidden,
      c->mlp_ratio, c->norm_eps, c->use_context_norm ? "yes" : "no",
      c->n_scales);
  for (int s = 0; s < c->n_scales; s++)
    g_string_append_printf (out, " %d", c->patch_nums[s]);
  g_string_append_printf (out,
      "\n  sequence         %d positions (%d image tokens)\n"
      "  diffusion MLP    width %d, %d blocks, %d sampling steps (iddpm)\n",
      c->seq_len, c->image_tokens, c->diff_width, c->diff_depth,
      c->num_sampling_steps);
}

void
hart_autoencoder_config_print (const HartAutoencoderConfig * c, GString * out)
{
  g_string_append_printf (out,
      "HART autoencoder (hart_autoencoder_with_disc)\n"
      "  codebook         %d × %d\n"
      "  decoder          ch %d, ch_mult (", c->vocab_size, c->z_channels,
      c->ch);
  for (int i = 0; i < c->n_levels; i++)
    g_string_append_printf (out, "%s%d", i ? ", " : "", c->ch_mult[i]);
  g_string_append_printf (out,
      "), %d× upsampling\n"
      "  quant_resi       %g, %d Φ convolutions (%d×%d)\n",
      c->downsample, c->quant_resi, c->share_quant_resi, c->quant_conv_ks,
      c->quant_conv_ks);
}

void
hart_qwen2_config_print (const HartQwen2Config * c, GString * out)
{
  g_string_append_printf (out,
      "Qwen2 text encoder (qwen2)\n"
      "  width            %d, %d layers\n"
      "  attention        %d query heads, %d KV heads × %d, rope_theta %g\n"
      "  MLP              SwiGLU %d\n"
      "  vocabulary       %d\n"
      "  RMSNorm eps      %g\n", c->hidden_size, c->num_hidden_layers,
      c->num_attention_heads, c->num_key_value_heads, c->head_dim,
      c->rope_theta, c->intermediate_size, c->vocab_size, c->rms_norm_eps);
}
