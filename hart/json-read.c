/* gst-hart — the one bounded way to read JSON
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See json-read.h.  Why a pre-scan in front of json-glib rather than another
 * parser: json-glib is the GLib project's parser, already a dependency and
 * well kept; it only lacks limits.  Nesting, value counts, number ranges and
 * NUL escapes are all visible to a linear scan of the bytes that keeps a
 * counter and a flag, so the scan adds no allocation and no recursion.
 * Duplicate names need the tree, so they are caught from json-glib's
 * "object-member" signal: it is emitted after each member is stored, and an
 * object whose size did not grow received a name it already had.
 */
#include "hart/json-read.h"
#include "hart/error.h"
#include "hart/file-read.h"

#include <math.h>
#include <string.h>

/* "header", or "" when the JSON is the whole file (its path says enough) */
#define PART(limits) ((limits)->part ? (limits)->part : "")

/* A JSON number longer than this is not written by any tool we read. */
#define MAX_NUMBER_CHARS 64

typedef struct
{
  const char *path;
  const HartJsonLimits *limits;
  guint line;
} Scan;

/* *INDENT-OFF* */
/* GNU indent takes an attribute after a prototype for a declaration and
 * misindents the rest of the file */
static gboolean
scan_fail (const Scan * s, GError ** error, int code, const char *format, ...)
    G_GNUC_PRINTF (4, 5);
/* *INDENT-ON* */

static gboolean
scan_fail (const Scan * s, GError ** error, int code, const char *format, ...)
{
  va_list args;
  char *what;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, HART_ERROR, code, "%s: %s%sline %u: %s", s->path,
      PART (s->limits), s->limits->part ? ", " : "", s->line, what);
  g_free (what);
  return FALSE;
}

/* An integer token (optional '-', digits) that fits gint64? */
static gboolean
integer_fits_64 (const char *token, gsize n)
{
  static const char max_positive[] = "9223372036854775807";
  static const char max_negative[] = "9223372036854775808";
  gboolean negative = n > 0 && token[0] == '-';
  const char *digits = token + (negative ? 1 : 0);
  gsize n_digits = n - (negative ? 1 : 0);

  while (n_digits > 1 && digits[0] == '0') {
    digits++;
    n_digits--;
  }
  if (n_digits != 19)
    return n_digits < 19;
  return memcmp (digits, negative ? max_negative : max_positive, 19) <= 0;
}

/* Checks the number token at TEXT[*i] and moves *i past it. */
static gboolean
scan_number (Scan * s, const char *text, gsize length, gsize * i,
    GError ** error)
{
  gsize start = *i, n;
  gboolean is_integer = TRUE;
  char token[MAX_NUMBER_CHARS + 1];

  while (*i < length && (g_ascii_isdigit (text[*i]) || text[*i] == '-'
          || text[*i] == '+' || text[*i] == '.' || text[*i] == 'e'
          || text[*i] == 'E')) {
    if (!g_ascii_isdigit (text[*i]) && !(*i == start && text[*i] == '-'))
      is_integer = FALSE;
    (*i)++;
  }
  n = *i - start;
  if (n > MAX_NUMBER_CHARS)
    return scan_fail (s, error, HART_ERROR_FORMAT, "a number of %"
        G_GSIZE_FORMAT " characters (\"%.20s…\") is longer than the limit "
        "of %d", n, text + start, MAX_NUMBER_CHARS);
  memcpy (token, text + start, n);
  token[n] = '\0';
  if (is_integer) {
    if (!integer_fits_64 (token, n))
      return scan_fail (s, error, HART_ERROR_FORMAT,
          "integer %s does not fit in 64 bits", token);
  } else {
    /* json-glib turns an overflowing number into inf, which no field of
     * ours accepts; malformed tokens are left to json-glib's message */
    double value = g_ascii_strtod (token, NULL);
    if (!isfinite (value))
      return scan_fail (s, error, HART_ERROR_FORMAT,
          "number %s is out of range", token);
  }
  return TRUE;
}

static gboolean
literal_is_json (const char *word, gsize n)
{
  return (n == 4 && (memcmp (word, "true", 4) == 0
          || memcmp (word, "null", 4) == 0))
      || (n == 5 && memcmp (word, "false", 5) == 0);
}

static gboolean
count_value (Scan * s, guint64 * values, GError ** error)
{
  if (++*values <= s->limits->max_values)
    return TRUE;
  g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
      "%s: %s%sholds more than %" G_GUINT64_FORMAT " values and member "
      "names (line %u; the limit for a %s)", s->path, PART (s->limits),
      s->limits->part ? " " : "", s->limits->max_values, s->line,
      s->limits->what);
  return FALSE;
}

/* The linear pre-scan: no allocation, no recursion.  It does not validate
 * the syntax (json-glib does, afterwards); it only makes sure that what
 * json-glib will build is bounded and that nothing is silently changed. */
static gboolean
prescan (Scan * s, const char *text, gsize length, GError ** error)
{
  guint64 values = 0;
  guint depth = 0;
  gsize i = 0;

  s->line = 1;
  while (i < length) {
    char c = text[i];

    switch (c) {
      case '\0':
        return scan_fail (s, error, HART_ERROR_FORMAT, "a NUL byte at byte %"
            G_GSIZE_FORMAT " (JSON text cannot hold one)", i);
      case '\n':
        s->line++;
        i++;
        break;
      case '[':
      case '{':
        if (++depth > s->limits->max_depth) {
          g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
              "%s: %s%snests arrays and objects deeper than %u levels "
              "(line %u)", s->path, PART (s->limits),
              s->limits->part ? " " : "", s->limits->max_depth, s->line);
          return FALSE;
        }
        if (!count_value (s, &values, error))
          return FALSE;
        i++;
        break;
      case ']':
      case '}':
        if (depth > 0)
          depth--;
        i++;
        break;
      case '"':
        if (!count_value (s, &values, error))
          return FALSE;
        for (i++; i < length && text[i] != '"'; i++) {
          if (text[i] == '\0')
            return scan_fail (s, error, HART_ERROR_FORMAT, "a NUL byte at "
                "byte %" G_GSIZE_FORMAT " inside a string", i);
          if (text[i] == '\n')
            s->line++;          /* invalid JSON: json-glib will say so */
          if (text[i] != '\\')
            continue;
          /* C strings end at NUL: "a\u0000b" would be read as "a" */
          if (i + 5 < length && text[i + 1] == 'u'
              && memcmp (text + i + 2, "0000", 4) == 0)
            return scan_fail (s, error, HART_ERROR_FORMAT, "a string holds "
                "the escape \\u0000 (NUL), which is not supported");
          i++;                  /* the escaped character */
        }
        i++;                    /* the closing quote */
        break;
      default:
        if (c == '-' || g_ascii_isdigit (c)) {
          if (!count_value (s, &values, error)
              || !scan_number (s, text, length, &i, error))
            return FALSE;
        } else if (g_ascii_isalpha (c)) {
          gsize start = i;

          if (!count_value (s, &values, error))
            return FALSE;
          while (i < length && g_ascii_isalnum (text[i]))
            i++;
          if (!literal_is_json (text + start, i - start))
            return scan_fail (s, error, HART_ERROR_FORMAT, "\"%.*s\" is not "
                "JSON (only true, false and null are words)",
                (int) MIN (i - start, 32), text + start);
        } else if (c == ' ' || c == '\t' || c == '\r' || c == ':' || c == ',') {
          i++;
        } else {
          /* json-glib also takes comments, single-quoted strings and hex
           * numbers; a '"' inside those would hide the brackets after it
           * from this scan, so anything outside strict JSON is refused */
          return scan_fail (s, error, HART_ERROR_FORMAT, "byte 0x%02x (%c) "
              "is not JSON here (comments, single quotes and the like are "
              "not accepted)", (guint) (guchar) c,
              g_ascii_isprint (c) ? c : '?');
        }
        break;
    }
  }
  return TRUE;
}

typedef struct
{
  GHashTable *members_seen;     /* JsonObject * → number of members parsed */
  char *duplicate;
  guint duplicate_line;
} DuplicateWatch;

static void
on_object_member (JsonParser * parser, JsonObject * object,
    const char *member_name, gpointer user_data)
{
  DuplicateWatch *watch = user_data;
  guint seen = GPOINTER_TO_UINT (g_hash_table_lookup (watch->members_seen,
          object)) + 1;

  g_hash_table_insert (watch->members_seen, object, GUINT_TO_POINTER (seen));
  if (seen != json_object_get_size (object) && watch->duplicate == NULL) {
    watch->duplicate = g_strdup (member_name);
    watch->duplicate_line = json_parser_get_current_line (parser);
  }
}

JsonParser *
hart_json_parse (const char *path, const HartJsonLimits * limits,
    const char *text, gsize length, JsonNode ** root, GError ** error)
{
  Scan scan = { path, limits, 1 };
  DuplicateWatch watch = { NULL, NULL, 0 };
  JsonParser *parser;
  GError *local = NULL;
  gboolean ok;

  *root = NULL;
  if (length > limits->max_bytes) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "%s: %" G_GSIZE_FORMAT " bytes of JSON is too large for a %s "
        "(limit %" G_GSIZE_FORMAT " bytes)", path, length, limits->what,
        limits->max_bytes);
    return NULL;
  }
  if (!prescan (&scan, text, length, error))
    return NULL;

  parser = json_parser_new_immutable ();
  watch.members_seen = g_hash_table_new (NULL, NULL);
  g_signal_connect (parser, "object-member", G_CALLBACK (on_object_member),
      &watch);
  ok = json_parser_load_from_data (parser, text, (gssize) length, &local);
  g_signal_handlers_disconnect_by_data (parser, &watch);
  g_hash_table_unref (watch.members_seen);

  if (!ok) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: %s%snot valid JSON: %s", path, PART (limits),
        limits->part ? " is " : "", local->message);
    g_error_free (local);
  } else if (watch.duplicate != NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: %s%snames \"%s\" twice in one object (line %u; duplicate "
        "key)", path, PART (limits), limits->part ? " " : "",
        watch.duplicate, watch.duplicate_line);
    ok = FALSE;
  }
  g_free (watch.duplicate);
  if (!ok) {
    g_object_unref (parser);
    return NULL;
  }
  *root = json_parser_get_root (parser);
  return parser;
}

JsonParser *
hart_json_load_file (const char *path, const HartJsonLimits * limits,
    JsonNode ** root, GError ** error)
{
  char *text = NULL;
  gsize length = 0;
  JsonParser *parser;
  char *what = g_strdup_printf ("a %s", limits->what);
  gboolean ok = hart_file_read_bounded (path, what, limits->max_bytes, &text,
      &length, error);

  g_free (what);
  *root = NULL;
  if (!ok)
    return NULL;
  parser = hart_json_parse (path, limits, text, length, root, error);
  g_free (text);
  return parser;
}
