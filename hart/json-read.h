/* gst-hart — the one bounded way to read JSON
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * json-glib builds a tree by recursion, with no limit on nesting, on the
 * number of values or on the size of numbers: 100,000 nested "[" overflow
 * the stack, and a 99 MB safetensors header of small values costs gigabytes
 * of nodes.  Every JSON text libhart reads (config.json, tokenizer files,
 * safetensors headers and indexes — so also context and draw files) goes
 * through hart_json_parse(), which first scans the bytes once, in constant
 * memory, and refuses before json-glib sees them:
 *
 * - nesting deeper than the limit, more values than the limit;
 * - integers outside 64 bits (json-glib would wrap them to -1) and numbers
 *   that overflow a double (json-glib would give inf), quoting the text;
 * - anything outside strict JSON: json-glib also takes comments,
 *   single-quoted strings and hex numbers, inside which a '"' would hide
 *   what follows from the scan;
 * - the escape \u0000 and raw NUL bytes: json-glib hands out C strings, so
 *   "a\u0000b" would silently become "a" and collide with another key;
 *
 * and, while json-glib parses, duplicate member names in any object (it
 * silently keeps the last one).  The limits of each kind of file, with the
 * real releases' figures beside them, are in docs/checkpoint-formats.md
 * ("JSON limits").
 */
#ifndef HART_JSON_READ_H
#define HART_JSON_READ_H

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *what;             /* the kind, for limit messages ("config.json") */
  const char *part;             /* JSON inside a file: "header"; NULL: whole file */
  gsize max_bytes;
  guint max_depth;              /* arrays and objects, the top level is 1 */
  guint64 max_values;           /* values and member names together */
} HartJsonLimits;

/* The figures of the real releases (hart-0.7b-1024px, Qwen2-VL-1.5B-
 * Instruct) are in docs/checkpoint-formats.md ("Files and JSON limits");
 * each limit is far above them and far below what exhausts memory
 * (json-glib needs 80 to 150 bytes a value).  Static constants rather than
 * exported variables: test programs link libhart and also load the plugin,
 * which holds a copy of it. */
static const HartJsonLimits hart_json_limits_config = {
  "config.json", NULL, 1 << 20, 32, 65536
};

static const HartJsonLimits hart_json_limits_tokenizer = {
  "tokenizer.json", NULL, 64 << 20, 32, 8000000
};

static const HartJsonLimits hart_json_limits_tokenizer_config = {
  "tokenizer_config.json", NULL, 64 << 20, 32, 8000000
};

static const HartJsonLimits hart_json_limits_vocab = {
  "vocab.json", NULL, 16 << 20, 8, 1000000
};

/* 100 MB is the safetensors format's own header limit. */
static const HartJsonLimits hart_json_limits_safetensors_header = {
  "safetensors header", "header", 100 * 1000 * 1000, 8, 1000000
};

static const HartJsonLimits hart_json_limits_safetensors_index = {
  "safetensors index", "index", 100 * 1000 * 1000, 8, 1000000
};

/* Parses LENGTH bytes of TEXT (PATH names it in messages) within LIMITS.
 * Returns the parser that owns the tree, with *ROOT set to its root (NULL
 * for an empty text), or NULL with an error: HART_ERROR_LIMIT for a limit,
 * HART_ERROR_FORMAT for everything else.  Messages name the file, the kind
 * of text, the line and what was expected and found. */
JsonParser *hart_json_parse (const char *path, const HartJsonLimits * limits,
    const char *text, gsize length, JsonNode ** root, GError ** error);

/* hart_json_parse on a regular file of at most limits->max_bytes bytes
 * (hart_file_read_bounded). */
JsonParser *hart_json_load_file (const char *path,
    const HartJsonLimits * limits, JsonNode ** root, GError ** error);

G_END_DECLS
#endif /* HART_JSON_READ_H */
