/* gst-hart — Qwen2 byte-level BPE tokenizer
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reproduces the Hugging Face `tokenizers` BPE model as Qwen2 configures it
 * (see tokenizer.h for the steps).  Symbols are handled as vocabulary ids
 * from the first step on: a piece starts as one id per byte (the id of the
 * byte's GPT-2 unicode stand-in) and a merge is a lookup of the id pair in an
 * open-addressing table that gives the merge's rank and the merged id.  The
 * merge loop is the one of tokenizers' `Word::merge_all`: a min-heap of
 * (rank, position) candidates, stale entries skipped when popped, so that
 * ties and stale-entry corner cases resolve exactly as there.
 */
#include "tokenizer.h"
#include "error.h"
#include "file-read.h"
#include "json-read.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* Far above any released vocabulary, low enough that a pair of ids packs in
 * 64 bits with room for an "empty" marker. */
#define MAX_TOKEN_ID (1 << 24)
/* The real Qwen2 merges.txt is 1.7 MB. */
#define MERGES_MAX_BYTES (64 << 20)
/* Pieces up to this many bytes go through the cache of recent pieces. */
#define CACHE_MAX_PIECE 128
/* The cache is emptied when it holds this many pieces (tokenizers: 10000). */
#define CACHE_MAX_ENTRIES 10000
#define MERGE_EMPTY G_MAXUINT64

/* The split regex of Qwen2 (tokenizer.json pre_tokenizer Split pattern),
 * used when the folder has vocab.json + merges.txt only. */
static const char qwen2_split_regex[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/* The GPT-2 regex that ByteLevel (use_regex = true) applies. */
static const char gpt2_split_regex[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+"
    "|\\s+(?!\\S)|\\s+";

/* docs/algorithm.md §4.2: model input data, byte for byte. */
static const char system_prompt[] =
    "Given a user prompt, generate an \"Enhanced prompt\" that provides "
    "detailed visual descriptions suitable for image generation.\n\n"
    "Examples:\n"
    "- User Prompt: A cat sleeping -> A small, fluffy white cat curled up in "
    "a round shape, sleeping peacefully on a warm sunny windowsill, "
    "surrounded by pots of blooming red flowers.\n"
    "- User Prompt: A busy city street -> A bustling city street scene at "
    "dusk, featuring glowing street lamps, a diverse crowd of people in "
    "colorful clothing, and a double-decker bus passing by towering glass "
    "skyscrapers.\n\n"
    "Please generate only the enhanced description for the prompt below and "
    "DO NOT include any additional sentences. Start your response with "
    "\"Enhanced Prompt:\".\n\n" "User Prompt:\n";

typedef enum
{
  TOKEN_ABSENT = 0,             /* an id no entry uses */
  TOKEN_REGULAR,                /* model.vocab */
  TOKEN_ADDED,                  /* added token, special = false */
  TOKEN_SPECIAL,                /* added token, special = true */
} TokenKind;

typedef struct
{
  char *content;                /* matched in the text, UTF-8 */
  gsize len;
  int32_t id;
  gboolean special;
} AddedToken;

typedef struct
{
  guint64 *keys;                /* (left id << 32) | right id, or MERGE_EMPTY */
  int32_t *ranks;
  int32_t *merged;              /* id of the merged symbol */
  guint64 mask;                 /* capacity - 1, capacity a power of two */
  guint count;
} MergeTable;

struct _HartTokenizer
{
  int n_vocab;                  /* largest id + 1 */
  guint8 *token_kind;           /* [n_vocab] TokenKind */
  guint32 *token_offset;        /* [n_vocab + 1] into token_bytes */
  guint8 *token_bytes;          /* decoded bytes of every token, end to end */
  int32_t byte_token[256];      /* id of the one-byte symbol of each byte */

  MergeTable merges;

  AddedToken *added;            /* [n_added] */
  guint n_added;
  guint8 added_first_byte[256]; /* 1 where some added token starts with it */

  gboolean nfc;
  GRegex *split_regex;

  int32_t pad_id;
  gint64 model_max_length;

  GMutex cache_lock;
  GHashTable *cache;            /* piece (NUL-terminated) -> int32 [1 + n] */
};

/* ---------------------------------------------------------------------- */
/* GPT-2 byte <-> unicode table (docs/algorithm.md §4.1 step 4)                            */

static gunichar
byte_to_unicode (guint8 b)
{
  guint n = 0;

  if ((b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae)
    return b;
  /* the other 68 bytes map to U+0100… in increasing byte order */
  for (guint c = 0; c < b; c++) {
    if (!((c >= 0x21 && c <= 0x7e) || (c >= 0xa1 && c <= 0xac) || c >= 0xae))
      n++;
  }
  return 0x100 + n;
}

/* Fills REVERSE[0x144] with the byte of each stand-in code point, or -1. */
static void
unicode_to_byte_table (gint16 reverse[0x144])
{
  for (guint c = 0; c < 0x144; c++)
    reverse[c] = -1;
  for (guint b = 0; b < 256; b++)
    reverse[byte_to_unicode ((guint8) b)] = (gint16) b;
}

/* The bytes of token string S (stand-in characters) appended to OUT; FALSE
 * (and OUT unchanged) if a character is not a stand-in, in which case
 * tokenizers' ByteLevel decoder takes the token's raw UTF-8. */
static gboolean
token_string_to_bytes (const char *s, const gint16 reverse[0x144],
    GByteArray * out)
{
  guint start = out->len;

  for (const char *p = s; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);
    guint8 b;

    if (c >= 0x144 || reverse[c] < 0) {
      g_byte_array_set_size (out, start);
      return FALSE;
    }
    b = (guint8) reverse[c];
    g_byte_array_append (out, &b, 1);
  }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* UTF-8 with U+FFFD substitution of maximal subparts                      */

/* Length of the well-formed UTF-8 sequence at P (Unicode Table 3-7), or
 * minus the length of the maximal ill-formed subpart there (≥ 1). */
static int
utf8_sequence_length (const guint8 * p, const guint8 * end)
{
  guint8 b0 = p[0];
  guint8 lo = 0x80, hi = 0xbf;
  int need;

  if (b0 < 0x80)
    return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf)
    need = 1;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    if (b0 == 0xe0)
      lo = 0xa0;
    else if (b0 == 0xed)
      hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    if (b0 == 0xf0)
      lo = 0x90;
    else if (b0 == 0xf4)
      hi = 0x8f;
  } else
    return -1;

  for (int k = 1; k <= need; k++) {
    if (p + k >= end || p[k] < lo || p[k] > hi)
      return -k;
    lo = 0x80;
    hi = 0xbf;
  }
  return need + 1;
}

/* NULL if TEXT[LEN] is well-formed UTF-8 (NUL bytes allowed), else a copy
 * with every maximal ill-formed subpart replaced by U+FFFD. */
static char *
utf8_make_valid (const char *text, gsize len, gsize * out_len)
{
  const guint8 *p = (const guint8 *) text, *end = p + len;
  GString *out = NULL;
  const guint8 *copied = p;

  while (p < end) {
    int n = utf8_sequence_length (p, end);

    if (n > 0) {
      p += n;
      continue;
    }
    if (out == NULL)
      out = g_string_sized_new (len + 16);
    g_string_append_len (out, (const char *) copied, p - copied);
    g_string_append (out, "\xef\xbf\xbd");
    p += -n;
    copied = p;
  }
  if (out == NULL)
    return NULL;
  g_string_append_len (out, (const char *) copied, p - copied);
  *out_len = out->len;
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------------- */
/* Merge table                                                             */

static inline guint64
merge_key (int32_t left, int32_t right)
{
  return ((guint64) (guint32) left << 32) | (guint32) right;
}

static inline guint64
merge_slot (const MergeTable * table, guint64 key)
{
  return (key * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15)) >> 20 & table->mask;
}

static void
merge_table_init (MergeTable * table, guint n_merges)
{
  guint64 capacity = 1024;

  while (capacity < 2 * (guint64) n_merges)
    capacity *= 2;
  table->mask = capacity - 1;
  table->count = 0;
  table->keys = g_new (guint64, capacity);
  table->ranks = g_new (int32_t, capacity);
  table->merged = g_new (int32_t, capacity);
  for (guint64 i = 0; i < capacity; i++)
    table->keys[i] = MERGE_EMPTY;
}

static void
merge_table_clear (MergeTable * table)
{
  g_free (table->keys);
  g_free (table->ranks);
  g_free (table->merged);
  memset (table, 0, sizeof *table);
}

/* A later duplicate of a pair replaces the earlier one, as the HashMap
 * that tokenizers builds from the merges does. */
static void
merge_table_insert (MergeTable * table, int32_t left, int32_t right,
    int32_t rank, int32_t merged)
{
  guint64 key = merge_key (left, right);
  guint64 i = merge_slot (table, key);

  while (table->keys[i] != MERGE_EMPTY && table->keys[i] != key)
    i = (i + 1) & table->mask;
  if (table->keys[i] == MERGE_EMPTY)
    table->count++;
  table->keys[i] = key;
  table->ranks[i] = rank;
  table->merged[i] = merged;
}

static inline gboolean
merge_table_lookup (const MergeTable * table, int32_t left, int32_t right,
    int32_t * rank, int32_t * merged)
{
  guint64 key = merge_key (left, right);
  guint64 i = merge_slot (table, key);

  while (table->keys[i] != MERGE_EMPTY) {
    if (table->keys[i] == key) {
      *rank = table->ranks[i];
      *merged = table->merged[i];
      return TRUE;
    }
    i = (i + 1) & table->mask;
  }
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* Byte-pair merging of one piece (docs/algorithm.md §4.1 step 5)                          */

typedef struct
{
  int32_t id;
  int32_t prev, next;           /* -1 at the ends */
  gboolean alive;
} Symbol;

typedef struct
{
  int32_t rank;
  int32_t pos;
  int32_t merged;
} MergeCandidate;

/* Scratch buffers reused across the pieces of one encode call. */
typedef struct
{
  Symbol *symbols;
  MergeCandidate *heap;
  gsize capacity;               /* in symbols; the heap holds at most 2× */
} BpeScratch;

static inline gboolean
candidate_before (const MergeCandidate * a, const MergeCandidate * b)
{
  return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void
heap_push (MergeCandidate * heap, gsize * n, MergeCandidate c)
{
  gsize i = (*n)++;

  while (i > 0) {
    gsize parent = (i - 1) / 2;
    if (!candidate_before (&c, &heap[parent]))
      break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = c;
}

static MergeCandidate
heap_pop (MergeCandidate * heap, gsize * n)
{
  MergeCandidate top = heap[0], last = heap[--(*n)];
  gsize i = 0;

  for (;;) {
    gsize child = 2 * i + 1;
    if (child >= *n)
      break;
    if (child + 1 < *n && candidate_before (&heap[child + 1], &heap[child]))
      child++;
    if (!candidate_before (&heap[child], &last))
      break;
    heap[i] = heap[child];
    i = child;
  }
  if (*n > 0)
    heap[i] = last;
  return top;
}

/* Appends the ids of PIECE[LEN] (LEN ≥ 1) to OUT. */
static void
bpe_merge_piece (const HartTokenizer * tok, const guint8 * piece, gsize len,
    BpeScratch * scratch, GArray * out)
{
  Symbol *sym;
  MergeCandidate *heap;
  gsize n_heap = 0;
  int32_t rank, merged;

  if (len > scratch->capacity) {
    scratch->capacity = MAX (len, 2 * scratch->capacity);
    scratch->symbols = g_renew (Symbol, scratch->symbols, scratch->capacity);
    /* each merge pushes at most 2 candidates and removes a symbol */
    scratch->heap = g_renew (MergeCandidate, scratch->heap,
        3 * scratch->capacity);
  }
  sym = scratch->symbols;
  heap = scratch->heap;

  for (gsize i = 0; i < len; i++) {
    sym[i].id = tok->byte_token[piece[i]];
    sym[i].prev = (int32_t) i - 1;
    sym[i].next = i + 1 < len ? (int32_t) i + 1 : -1;
    sym[i].alive = TRUE;
  }
  for (gsize i = 0; i + 1 < len; i++) {
    if (merge_table_lookup (&tok->merges, sym[i].id, sym[i + 1].id, &rank,
            &merged)) {
      MergeCandidate c = { rank, (int32_t) i, merged };
      heap_push (heap, &n_heap, c);
    }
  }

  while (n_heap > 0) {
    MergeCandidate top = heap_pop (heap, &n_heap);
    Symbol *cur = &sym[top.pos];
    int32_t next_pos;

    if (!cur->alive || cur->next < 0)
      continue;
    next_pos = cur->next;
    /* stale entry: the pair at this position changed since it was pushed */
    if (!merge_table_lookup (&tok->merges, cur->id, sym[next_pos].id, &rank,
            &merged) || merged != top.merged)
      continue;

    cur->id = top.merged;
    cur->next = sym[next_pos].next;
    sym[next_pos].alive = FALSE;
    if (cur->next >= 0)
      sym[cur->next].prev = top.pos;

    if (cur->prev >= 0 && merge_table_lookup (&tok->merges,
            sym[cur->prev].id, cur->id, &rank, &merged)) {
      MergeCandidate c = { rank, cur->prev, merged };
      heap_push (heap, &n_heap, c);
    }
    if (cur->next >= 0 && merge_table_lookup (&tok->merges, cur->id,
            sym[cur->next].id, &rank, &merged)) {
      MergeCandidate c = { rank, top.pos, merged };
      heap_push (heap, &n_heap, c);
    }
  }

  for (int32_t i = 0; i >= 0; i = sym[i].next)
    g_array_append_val (out, sym[i].id);
}

static void
encode_piece (HartTokenizer * tok, const char *piece, gsize len,
    BpeScratch * scratch, GArray * out)
{
  char key[CACHE_MAX_PIECE + 1];
  gboolean cacheable;
  guint start;
  int32_t *cached;

  if (len == 0)
    return;
  if (len == 1) {
    g_array_append_val (out, tok->byte_token[(guint8) piece[0]]);
    return;
  }
  cacheable = len <= CACHE_MAX_PIECE && memchr (piece, 0, len) == NULL;
  if (cacheable) {
    memcpy (key, piece, len);
    key[len] = '\0';
    g_mutex_lock (&tok->cache_lock);
    cached = g_hash_table_lookup (tok->cache, key);
    if (cached != NULL) {
      g_array_append_vals (out, cached + 1, cached[0]);
      g_mutex_unlock (&tok->cache_lock);
      return;
    }
    g_mutex_unlock (&tok->cache_lock);
  }

  start = out->len;
  bpe_merge_piece (tok, (const guint8 *) piece, len, scratch, out);

  if (cacheable) {
    guint n = out->len - start;
    int32_t *value = g_new (int32_t, n + 1);

    value[0] = (int32_t) n;
    memcpy (value + 1, &g_array_index (out, int32_t, start),
        n * sizeof (int32_t));
    g_mutex_lock (&tok->cache_lock);
    if (g_hash_table_size (tok->cache) >= CACHE_MAX_ENTRIES)
      g_hash_table_remove_all (tok->cache);
    g_hash_table_replace (tok->cache, g_strndup (piece, len), value);
    g_mutex_unlock (&tok->cache_lock);
  }
}

/* ---------------------------------------------------------------------- */
/* Encoding                                                                */

/* The starters that NFC may compose with a preceding character (the
 * starters among Unicode's NFC_Quick_Check = Maybe, BMP), by range. */
static const gunichar nfc_maybe_starters[][2] = {
  {0x09be, 0x09be}, {0x09d7, 0x09d7}, {0x0b3e, 0x0b3e}, {0x0b56, 0x0b57},
  {0x0bbe, 0x0bbe}, {0x0bd7, 0x0bd7}, {0x0cc2, 0x0cc2}, {0x0cd5, 0x0cd6},
  {0x0d3e, 0x0d3e}, {0x0d57, 0x0d57}, {0x0dcf, 0x0dcf}, {0x0ddf, 0x0ddf},
  {0x102e, 0x102e}, {0x1161, 0x1175}, {0x11a8, 0x11c2}, {0x1b35, 0x1b35},
};

static gboolean
nfc_maybe_starter (gunichar c)
{
  for (gsize i = 0; i < G_N_ELEMENTS (nfc_maybe_starters); i++) {
    if (c >= nfc_maybe_starters[i][0] && c <= nfc_maybe_starters[i][1])
      return TRUE;
  }
  return FALSE;
}

/* Whether NFC may be applied separately to the text before C and the text
 * from C on: C is a starter, its decomposition starts with a starter, and
 * neither composes with anything before it — then nothing before the cut
 * can combine with anything after it.  Outside the BMP only the CJK
 * ideograph planes are trusted (GLib's Unicode version may lag). */
static gboolean
nfc_boundary_before (gunichar c)
{
  gunichar decomposed[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
  gsize n;

  if (c < 0x80)
    return TRUE;
  if (c >= 0x10000)
    return c >= 0x20000 && c <= 0x3ffff;
  if (g_unichar_combining_class (c) != 0 || nfc_maybe_starter (c))
    return FALSE;
  n = g_unichar_fully_decompose (c, FALSE, decomposed, G_N_ELEMENTS
      (decomposed));
  return n > 0 && g_unichar_combining_class (decomposed[0]) == 0
      && !nfc_maybe_starter (decomposed[0]);
}

static void
append_nfc (GString * out, const char *text, gsize len)
{
  char *norm;

  if (len == 0)
    return;
  norm = g_utf8_normalize (text, len, G_NORMALIZE_NFC);
  /* cannot fail on valid UTF-8; keep the text if it ever does */
  if (norm != NULL)
    g_string_append (out, norm);
  else
    g_string_append_len (out, text, len);
  g_free (norm);
}

/* NFC of SEGMENT[LEN] (valid UTF-8), newly allocated.  g_utf8_normalize
 * stops at a NUL byte and its composition step is quadratic in the length
 * of its input, so the text is normalised in chunks of about NFC_CHUNK
 * bytes cut where NFC cannot act across the cut (NUL itself is a starter
 * that composes with nothing). */
#define NFC_CHUNK 256

static char *
nfc_segment (const char *segment, gsize len, gsize * out_len)
{
  GString *out = g_string_sized_new (len + 8);
  const char *p = segment, *end = segment + len, *chunk = segment;

  while (p < end) {
    gunichar c = g_utf8_get_char (p);

    if (c == 0) {
      append_nfc (out, chunk, p - chunk);
      g_string_append_c (out, '\0');
      chunk = p + 1;
    } else if (p - chunk >= NFC_CHUNK && nfc_boundary_before (c)) {
      append_nfc (out, chunk, p - chunk);
      chunk = p;
    }
    p = g_utf8_next_char (p);
  }
  append_nfc (out, chunk, end - chunk);
  *out_len = out->len;
  return g_string_free (out, FALSE);
}

static gboolean
is_ascii (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++) {
    if ((guint8) s[i] >= 0x80)
      return FALSE;
  }
  return TRUE;
}

/* Steps 2–6 on one segment without added tokens. */
static gboolean
encode_segment (HartTokenizer * tok, const char *segment, gsize len,
    BpeScratch * scratch, GArray * out, GError ** error)
{
  char *normalized = NULL;
  const char *text = segment;
  GMatchInfo *match = NULL;
  GError *local = NULL;
  gsize done = 0;

  if (len == 0)
    return TRUE;
  if (tok->nfc && !is_ascii (segment, len)) {
    normalized = nfc_segment (segment, len, &len);
    text = normalized;
  }

  g_regex_match_full (tok->split_regex, text, len, 0, 0, &match, &local);
  while (local == NULL && g_match_info_matches (match)) {
    int start, end;

    g_match_info_fetch_pos (match, 0, &start, &end);
    /* Split "isolated": the text between matches is a piece too */
    if ((gsize) start > done)
      encode_piece (tok, text + done, start - done, scratch, out);
    encode_piece (tok, text + start, end - start, scratch, out);
    done = end;
    g_match_info_next (match, &local);
  }
  g_match_info_free (match);
  if (local != NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "tokenizer: pre-tokeniser regex failed: %s", local->message);
    g_error_free (local);
    g_free (normalized);
    return FALSE;
  }
  if (done < len)
    encode_piece (tok, text + done, len - done, scratch, out);
  g_free (normalized);
  return TRUE;
}

/* The first of the tokens ADDED[LO..HI) (sorted, all longer than D bytes)
 * whose byte D is C or above (ABOVE false), or above C (ABOVE true). */
static guint
added_bound (const AddedToken * added, guint lo, guint hi, gsize d,
    guint8 c, gboolean above)
{
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    guint8 m = (guint8) added[mid].content[d];

    if (m < c || (above && m == c))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The longest added token starting at TEXT[0] (LEFT bytes there), or NULL.
 * TOK->added is in byte order, so the tokens that share the first D bytes
 * of TEXT are a run of it, the one of exactly D bytes (if any) first; the
 * run narrows by binary search one byte at a time, which costs O(log n)
 * per byte matched instead of a pass over every added token. */
static const AddedToken *
added_token_at (const HartTokenizer * tok, const char *text, gsize left)
{
  const AddedToken *best = NULL;
  guint lo = 0, hi = tok->n_added;

  if (!tok->added_first_byte[(guint8) text[0]])
    return NULL;
  for (gsize d = 0; lo < hi; d++) {
    if (tok->added[lo].len == d)
      best = &tok->added[lo++];
    if (d == left)
      break;
    lo = added_bound (tok->added, lo, hi, d, (guint8) text[d], FALSE);
    hi = added_bound (tok->added, lo, hi, d, (guint8) text[d], TRUE);
  }
  return best;
}

gboolean
hart_tokenizer_encode (HartTokenizer * tok, const char *text, gssize len,
    GArray * ids_out, GError ** error)
{
  char *valid;
  gsize n, seg_start = 0, i = 0;
  BpeScratch scratch = { NULL, NULL, 0 };
  gboolean ok = TRUE;

  g_return_val_if_fail (tok != NULL, FALSE);
  g_return_val_if_fail (ids_out != NULL, FALSE);
  g_return_val_if_fail (g_array_get_element_size (ids_out) ==
      sizeof (int32_t), FALSE);
  if (text == NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "tokenizer: no text to encode");
    return FALSE;
  }

  n = len < 0 ? strlen (text) : (gsize) len;
  valid = utf8_make_valid (text, n, &n);
  if (valid != NULL) {
    g_debug ("tokenizer: input is not valid UTF-8; ill-formed sequences "
        "replaced by U+FFFD");
    text = valid;
  }

  /* step 1: added tokens, leftmost-longest */
  while (ok && i < n) {
    const AddedToken *a = added_token_at (tok, text + i, n - i);

    if (a == NULL) {
      i++;
      continue;
    }
    ok = encode_segment (tok, text + seg_start, i - seg_start, &scratch,
        ids_out, error);
    g_array_append_val (ids_out, a->id);
    i += a->len;
    seg_start = i;
  }
  if (ok)
    ok = encode_segment (tok, text + seg_start, n - seg_start, &scratch,
        ids_out, error);

  g_free (scratch.symbols);
  g_free (scratch.heap);
  g_free (valid);
  return ok;
}

char *
hart_tokenizer_decode (HartTokenizer * tok, const int32_t * ids, gsize n,
    gboolean skip_special, GError ** error)
{
  GString *bytes;
  char *valid;
  gsize valid_len;

  g_return_val_if_fail (tok != NULL, NULL);
  g_return_val_if_fail (ids != NULL || n == 0, NULL);

  bytes = g_string_new (NULL);
  for (gsize i = 0; i < n; i++) {
    int32_t id = ids[i];

    if (id < 0 || id >= tok->n_vocab || tok->token_kind[id] == TOKEN_ABSENT) {
      g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
          "tokenizer: id %d (position %" G_GSIZE_FORMAT ") is not in the "
          "vocabulary (0..%d)", id, i, tok->n_vocab - 1);
      g_string_free (bytes, TRUE);
      return NULL;
    }
    if (skip_special && tok->token_kind[id] == TOKEN_SPECIAL)
      continue;
    g_string_append_len (bytes,
        (const char *) tok->token_bytes + tok->token_offset[id],
        tok->token_offset[id + 1] - tok->token_offset[id]);
  }
  valid = utf8_make_valid (bytes->str, bytes->len, &valid_len);
  if (valid == NULL)
    return g_string_free (bytes, FALSE);
  g_string_free (bytes, TRUE);
  return valid;
}

gboolean
hart_tokenizer_encode_prompt (HartTokenizer * tok, const char *prompt,
    int max_len, int32_t * ids, uint8_t * mask, int32_t * positions,
    int *n_real, GError ** error)
{
  GArray *all;
  guint n;
  int32_t position = -1;

  g_return_val_if_fail (tok != NULL, FALSE);
  g_return_val_if_fail (ids != NULL, FALSE);

  if (max_len <= 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "tokenizer: prompt length %d must be positive", max_len);
    return FALSE;
  }
  if (tok->pad_id < 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "tokenizer: tokenizer_config.json has no pad_token, which padding "
        "the prompt needs");
    return FALSE;
  }
  all = g_array_new (FALSE, FALSE, sizeof (int32_t));
  if (!hart_tokenizer_encode (tok, prompt, -1, all, error)) {
    g_array_free (all, TRUE);
    return FALSE;
  }
  n = all->len;
  if (n > (guint) max_len) {
    g_debug ("prompt truncated from %u to %d tokens", n, max_len);
    n = max_len;
  }
  for (int j = 0; j < max_len; j++) {
    ids[j] = (guint) j < n ? g_array_index (all, int32_t, j) : tok->pad_id;
    /* mask = ids != pad, positions = cumsum (mask) - 1 (docs/algorithm.md §4.1) */
    if (ids[j] != tok->pad_id)
      position++;
    if (mask != NULL)
      mask[j] = ids[j] != tok->pad_id;
    if (positions != NULL)
      positions[j] = position;
  }
  if (n_real != NULL)
    *n_real = (int) n;
  g_array_free (all, TRUE);
  return TRUE;
}

const char *
hart_tokenizer_system_prompt (void)
{
  return system_prompt;
}

int
hart_tokenizer_n_vocab (const HartTokenizer * tok)
{
  g_return_val_if_fail (tok != NULL, 0);
  return tok->n_vocab;
}

int32_t
hart_tokenizer_pad_id (const HartTokenizer * tok)
{
  g_return_val_if_fail (tok != NULL, -1);
  return tok->pad_id;
}

gint64
hart_tokenizer_model_max_length (const HartTokenizer * tok)
{
  g_return_val_if_fail (tok != NULL, -1);
  return tok->model_max_length;
}

void
hart_tokenizer_free (HartTokenizer * tok)
{
  if (tok == NULL)
    return;
  g_free (tok->token_kind);
  g_free (tok->token_offset);
  g_free (tok->token_bytes);
  merge_table_clear (&tok->merges);
  for (guint k = 0; k < tok->n_added; k++)
    g_free (tok->added[k].content);
  g_free (tok->added);
  if (tok->split_regex != NULL)
    g_regex_unref (tok->split_regex);
  if (tok->cache != NULL)
    g_hash_table_unref (tok->cache);
  g_mutex_clear (&tok->cache_lock);
  g_free (tok);
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */

/* What the files describe, before it is turned into a HartTokenizer. */
typedef struct
{
  /* model.vocab: token string (stand-in characters) -> id + 1; the strings
   * belong to the JSON parser that holds them */
  GHashTable *vocab;
  int32_t max_regular_id;
  /* [i] = the string of regular id i, or NULL */
  GPtrArray *regular_by_id;
  GArray *added;                /* AddedToken, content owned */
  /* id -> index in added + 1, and content -> the same, so that adding and
   * finding an added token does not scan the others */
  GHashTable *added_by_id;
  GHashTable *added_by_content;
  const char *regex;
  gboolean nfc;
} LoadState;

static void
load_state_clear (LoadState * st)
{
  if (st->vocab != NULL)
    g_hash_table_unref (st->vocab);
  if (st->regular_by_id != NULL)
    g_ptr_array_unref (st->regular_by_id);
  if (st->added != NULL) {
    for (guint k = 0; k < st->added->len; k++)
      g_free (g_array_index (st->added, AddedToken, k).content);
    g_array_free (st->added, TRUE);
  }
  if (st->added_by_id != NULL)
    g_hash_table_unref (st->added_by_id);
  if (st->added_by_content != NULL)
    g_hash_table_unref (st->added_by_content);
}

/* The added token of LOOKUP[KEY] (a table of LoadState), or NULL. */
static AddedToken *
find_added (LoadState * st, GHashTable * lookup, gconstpointer key)
{
  guint index = GPOINTER_TO_UINT (g_hash_table_lookup (lookup, key));

  return index > 0 ? &g_array_index (st->added, AddedToken, index - 1) : NULL;
}

/* Every JSON file of a tokenizer folder goes through the bounded reader
 * (hart/json-read.h): size, nesting and value count limited, duplicate
 * names and NUL escapes refused. */
static JsonParser *
parse_json_file (const char *path, const HartJsonLimits * limits,
    GError ** error)
{
  JsonNode *root;
  JsonParser *parser = hart_json_load_file (path, limits, &root, error);

  if (parser == NULL)
    return NULL;
  /* an empty or all-blank file parses to no root at all */
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: the top level is not a JSON object", path);
    g_object_unref (parser);
    return NULL;
  }
  return parser;
}

/* The string at MEMBER of OBJ, NULL when absent or null; FALSE (error set)
 * when it is something else. */
static gboolean
get_optional_string (JsonObject * obj, const char *member, const char **out,
    const char *path, const char *field, GError ** error)
{
  JsonNode *node = json_object_get_member (obj, member);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING) {
    *out = json_node_get_string (node);
    return TRUE;
  }
  g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
      "%s: %s: expected a string", path, field);
  return FALSE;
}

static gboolean
node_is_integer (JsonNode * node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_INT64;
}

static gboolean
get_optional_bool (JsonObject * obj, const char *member, gboolean * out,
    const char *path, const char *field, GError ** error)
{
  JsonNode *node = json_object_get_member (obj, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_BOOLEAN) {
    *out = json_node_get_boolean (node);
    return TRUE;
  }
  g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
      "%s: %s: expected true or false", path, field);
  return FALSE;
}

/* The object's "type" member, for naming what is refused. */
static const char *
type_name (JsonObject * obj)
{
  JsonNode *node = json_object_get_member (obj, "type");

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);
  return NULL;
}

static gboolean
read_vocab (JsonObject * vocab, LoadState * st, const char *path,
    const char *field, GError ** error)
{
  JsonObjectIter iter;
  const char *token;
  JsonNode *node;

  st->vocab = g_hash_table_new (g_str_hash, g_str_equal);
  st->regular_by_id = g_ptr_array_new ();
  st->max_regular_id = -1;
  json_object_iter_init (&iter, vocab);
  while (json_object_iter_next (&iter, &token, &node)) {
    gint64 id;

    if (!node_is_integer (node)) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: %s[\"%s\"]: expected an integer id", path, field, token);
      return FALSE;
    }
    id = json_node_get_int (node);
    if (id < 0 || id >= MAX_TOKEN_ID) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: %s[\"%s\"]: id %" G_GINT64_FORMAT " is out of range "
          "(0..%d)", path, field, token, id, MAX_TOKEN_ID - 1);
      return FALSE;
    }
    if ((guint) id >= st->regular_by_id->len)
      g_ptr_array_set_size (st->regular_by_id, (guint) id + 1);
    if (g_ptr_array_index (st->regular_by_id, id) != NULL) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: %s[\"%s\"]: id %" G_GINT64_FORMAT " is also the id of \"%s\"",
          path, field, token, id,
          (const char *) g_ptr_array_index (st->regular_by_id, id));
      return FALSE;
    }
    g_ptr_array_index (st->regular_by_id, id) = (gpointer) token;
    g_hash_table_insert (st->vocab, (gpointer) token,
        GINT_TO_POINTER ((int) id + 1));
    st->max_regular_id = MAX (st->max_regular_id, (int32_t) id);
  }
  if (st->max_regular_id < 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: %s: the vocabulary is empty", path, field);
    return FALSE;
  }
  return TRUE;
}

static int32_t
vocab_id (LoadState * st, const char *token)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (st->vocab, token)) - 1;
}

/* One merge "LEFT RIGHT" (rank RANK) into TOK's table. */
static gboolean
add_merge (HartTokenizer * tok, LoadState * st, const char *left,
    const char *right, int32_t rank, const char *path, const char *field,
    GError ** error)
{
  int32_t left_id = vocab_id (st, left), right_id = vocab_id (st, right);
  int32_t merged_id;
  char *merged;

  if (left_id < 0 || right_id < 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: %s[%d]: symbol \"%s\" is not in the vocabulary", path, field,
        rank, left_id < 0 ? left : right);
    return FALSE;
  }
  merged = g_strconcat (left, right, NULL);
  merged_id = vocab_id (st, merged);
  if (merged_id < 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: %s[%d]: the merged symbol \"%s\" is not in the vocabulary",
        path, field, rank, merged);
    g_free (merged);
    return FALSE;
  }
  g_free (merged);
  merge_table_insert (&tok->merges, left_id, right_id, rank, merged_id);
  return TRUE;
}

static gboolean
read_merges_json (HartTokenizer * tok, LoadState * st, JsonArray * merges,
    const char *path, GError ** error)
{
  guint n = json_array_get_length (merges);

  if (n >= MAX_TOKEN_ID) {
    g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
        "%s: model.merges: %u merges is beyond the limit of %d", path, n,
        MAX_TOKEN_ID);
    return FALSE;
  }
  merge_table_init (&tok->merges, n);
  for (guint i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (merges, i);
    const char *left = NULL, *right = NULL;
    char **parts = NULL;
    gboolean ok;

    if (JSON_NODE_HOLDS_VALUE (node)
        && json_node_get_value_type (node) == G_TYPE_STRING) {
      /* "a b": exactly one space, as tokenizers requires */
      parts = g_strsplit (json_node_get_string (node), " ", -1);
      if (g_strv_length (parts) == 2) {
        left = parts[0];
        right = parts[1];
      }
    } else if (JSON_NODE_HOLDS_ARRAY (node)
        && json_array_get_length (json_node_get_array (node)) == 2) {
      JsonArray *pair = json_node_get_array (node);
      JsonNode *a = json_array_get_element (pair, 0);
      JsonNode *b = json_array_get_element (pair, 1);
      if (JSON_NODE_HOLDS_VALUE (a)
          && json_node_get_value_type (a) == G_TYPE_STRING
          && JSON_NODE_HOLDS_VALUE (b)
          && json_node_get_value_type (b) == G_TYPE_STRING) {
        left = json_node_get_string (a);
        right = json_node_get_string (b);
      }
    }
    if (left == NULL) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: model.merges[%u]: expected \"left right\" or [left, right]",
          path, i);
      g_strfreev (parts);
      return FALSE;
    }
    ok = add_merge (tok, st, left, right, (int32_t) i, path, "model.merges",
        error);
    g_strfreev (parts);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

static gboolean
add_added_token (LoadState * st, const char *content, gint64 id,
    gboolean special, const char *path, const char *field, GError ** error)
{
  AddedToken a;
  const AddedToken *b;

  if (content == NULL || content[0] == '\0') {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: %s.content: expected a non-empty string", path, field);
    return FALSE;
  }
  if (id < 0 || id >= MAX_TOKEN_ID) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: %s.id: %" G_GINT64_FORMAT " is out of range (0..%d)", path,
        field, id, MAX_TOKEN_ID - 1);
    return FALSE;
  }
  if (id <= st->max_regular_id
      && g_ptr_array_index (st->regular_by_id, id) != NULL
      && strcmp (g_ptr_array_index (st->regular_by_id, id), content) != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: %s.id: %" G_GINT64_FORMAT " is the id of vocabulary token "
        "\"%s\", not of \"%s\"", path, field, id,
        (const char *) g_ptr_array_index (st->regular_by_id, id), content);
    return FALSE;
  }
  b = find_added (st, st->added_by_id, GINT_TO_POINTER ((int) id));
  if (b == NULL)
    b = find_added (st, st->added_by_content, content);
  if (b != NULL) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: %s: \"%s\" (id %" G_GINT64_FORMAT ") repeats added token "
        "\"%s\" (id %d)", path, field, content, id, b->content, b->id);
    return FALSE;
  }
  a.content = g_strdup (content);
  a.len = strlen (content);
  a.id = (int32_t) id;
  a.special = special;
  g_array_append_val (st->added, a);
  /* the content string stays put when the array grows (and when
   * build_tables moves it on) */
  g_hash_table_insert (st->added_by_id, GINT_TO_POINTER ((int) id),
      GUINT_TO_POINTER (st->added->len));
  g_hash_table_insert (st->added_by_content, a.content,
      GUINT_TO_POINTER (st->added->len));
  return TRUE;
}

/* Refuses the AddedToken options this tokenizer does not implement. */
static gboolean
check_added_token_options (JsonObject * obj, const char *path,
    const char *field, GError ** error)
{
  static const char *const refused[] = { "lstrip", "rstrip", "single_word" };

  for (guint k = 0; k < G_N_ELEMENTS (refused); k++) {
    gboolean value = FALSE;
    char *f = g_strdup_printf ("%s.%s", field, refused[k]);
    gboolean ok = get_optional_bool (obj, refused[k], &value, path, f, error);

    if (ok && value) {
      g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
          "%s: %s: true is not supported", path, f);
      ok = FALSE;
    }
    g_free (f);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

static gboolean
read_added_tokens (JsonArray * array, LoadState * st, const char *path,
    GError ** error)
{
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *node = json_array_get_element (array, i);
    char field[64];
    JsonObject *obj;
    const char *content;
    gboolean special = FALSE;

    g_snprintf (field, sizeof field, "added_tokens[%u]", i);
    if (!JSON_NODE_HOLDS_OBJECT (node)) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: %s: expected an object", path, field);
      return FALSE;
    }
    obj = json_node_get_object (node);
    if (!node_is_integer (json_object_get_member (obj, "id"))) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: %s.id: expected an integer", path, field);
      return FALSE;
    }
    if (!get_optional_string (obj, "content", &content, path, field, error)
        || !get_optional_bool (obj, "special", &special, path, field, error)
        || !check_added_token_options (obj, path, field, error)
        || !add_added_token (st, content,
            json_object_get_int_member (obj, "id"), special, path, field,
            error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
read_normalizer (JsonNode * node, LoadState * st, const char *path,
    GError ** error)
{
  JsonObject *obj;
  const char *type;

  st->nfc = FALSE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: normalizer: expected an object or null", path);
    return FALSE;
  }
  obj = json_node_get_object (node);
  type = type_name (obj);
  if (g_strcmp0 (type, "NFC") == 0) {
    st->nfc = TRUE;
    return TRUE;
  }
  if (g_strcmp0 (type, "Sequence") == 0
      && json_object_has_member (obj, "normalizers")
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "normalizers"))) {
    JsonArray *list = json_object_get_array_member (obj, "normalizers");
    for (guint i = 0; i < json_array_get_length (list); i++) {
      JsonNode *item = json_array_get_element (list, i);
      const char *t = JSON_NODE_HOLDS_OBJECT (item) ?
          type_name (json_node_get_object (item)) : NULL;
      if (g_strcmp0 (t, "NFC") != 0) {
        g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
            "%s: normalizer.normalizers[%u].type: \"%s\" is not supported "
            "(only NFC)", path, i, t ? t : "(none)");
        return FALSE;
      }
      st->nfc = TRUE;
    }
    return TRUE;
  }
  g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
      "%s: normalizer.type: \"%s\" is not supported (only NFC, or a "
      "Sequence of NFC)", path, type ? type : "(none)");
  return FALSE;
}

/* ByteLevel with add_prefix_space false: the byte mapping of step 4. */
static gboolean
check_byte_level (JsonObject * obj, gboolean * use_regex, const char *path,
    const char *field, GError ** error)
{
  gboolean prefix = FALSE;
  char *f = g_strdup_printf ("%s.add_prefix_space", field);
  gboolean ok = get_optional_bool (obj, "add_prefix_space", &prefix, path, f,
      error);

  if (ok && prefix) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: %s: true is not supported", path, f);
    ok = FALSE;
  }
  g_free (f);
  if (ok && use_regex != NULL) {
    *use_regex = TRUE;          /* the default of tokenizers' ByteLevel */
    f = g_strdup_printf ("%s.use_regex", field);
    ok = get_optional_bool (obj, "use_regex", use_regex, path, f, error);
    g_free (f);
  }
  return ok;
}

static gboolean
read_split (JsonObject * obj, LoadState * st, const char *path,
    const char *field, GError ** error)
{
  JsonNode *pattern = json_object_get_member (obj, "pattern");
  const char *behavior = NULL;
  gboolean invert = FALSE;
  char f[96];

  if (pattern == NULL || !JSON_NODE_HOLDS_OBJECT (pattern)
      || !json_object_has_member (json_node_get_object (pattern), "Regex")) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: %s.pattern: only {\"Regex\": …} is supported", path, field);
    return FALSE;
  }
  g_snprintf (f, sizeof f, "%s.pattern.Regex", field);
  if (!get_optional_string (json_node_get_object (pattern), "Regex",
          &st->regex, path, f, error))
    return FALSE;
  g_snprintf (f, sizeof f, "%s.behavior", field);
  if (!get_optional_string (obj, "behavior", &behavior, path, f, error))
    return FALSE;
  if (st->regex == NULL || g_strcmp0 (behavior, "Isolated") != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: %s: \"%s\" is not supported (only Isolated)", path,
        st->regex == NULL ? "pattern.Regex" : f,
        behavior ? behavior : "(none)");
    return FALSE;
  }
  g_snprintf (f, sizeof f, "%s.invert", field);
  if (!get_optional_bool (obj, "invert", &invert, path, f, error))
    return FALSE;
  if (invert) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: %s: true is not supported", path, f);
    return FALSE;
  }
  return TRUE;
}

/* Sequence [Split (Regex, Isolated), ByteLevel (use_regex false)] as Qwen2
 * has it, or ByteLevel (use_regex true) alone as GPT-2 has it. */
static gboolean
read_pre_tokenizer (JsonNode * node, LoadState * st, const char *path,
    GError ** error)
{
  JsonObject *obj;
  const char *type;
  gboolean use_regex = TRUE;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: pre_tokenizer: missing; a byte-level BPE needs ByteLevel", path);
    return FALSE;
  }
  obj = json_node_get_object (node);
  type = type_name (obj);
  if (g_strcmp0 (type, "ByteLevel") == 0) {
    if (!check_byte_level (obj, &use_regex, path, "pre_tokenizer", error))
      return FALSE;
    if (!use_regex) {
      g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
          "%s: pre_tokenizer.use_regex: false without a Split is not "
          "supported", path);
      return FALSE;
    }
    st->regex = gpt2_split_regex;
    return TRUE;
  }
  if (g_strcmp0 (type, "Sequence") == 0
      && json_object_has_member (obj, "pretokenizers")
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "pretokenizers"))) {
    JsonArray *list = json_object_get_array_member (obj, "pretokenizers");
    guint n = json_array_get_length (list);
    gboolean have_split = FALSE, have_byte_level = FALSE;

    for (guint i = 0; i < n; i++) {
      JsonNode *item = json_array_get_element (list, i);
      JsonObject *it = JSON_NODE_HOLDS_OBJECT (item) ?
          json_node_get_object (item) : NULL;
      const char *t = it ? type_name (it) : NULL;
      char field[64];

      g_snprintf (field, sizeof field, "pre_tokenizer.pretokenizers[%u]", i);
      if (g_strcmp0 (t, "Split") == 0 && !have_split && !have_byte_level) {
        if (!read_split (it, st, path, field, error))
          return FALSE;
        have_split = TRUE;
      } else if (g_strcmp0 (t, "ByteLevel") == 0 && !have_byte_level) {
        if (!check_byte_level (it, &use_regex, path, field, error))
          return FALSE;
        if (use_regex == have_split) {
          g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
              "%s: %s.use_regex: %s is not supported here", path, field,
              use_regex ? "true" : "false");
          return FALSE;
        }
        if (use_regex)
          st->regex = gpt2_split_regex;
        have_byte_level = TRUE;
      } else {
        g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
            "%s: %s.type: \"%s\" is not supported here (only Split then "
            "ByteLevel)", path, field, t ? t : "(none)");
        return FALSE;
      }
    }
    if (!have_byte_level) {
      g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
          "%s: pre_tokenizer.pretokenizers: no ByteLevel step", path);
      return FALSE;
    }
    return TRUE;
  }
  g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
      "%s: pre_tokenizer.type: \"%s\" is not supported (only ByteLevel, or "
      "a Sequence of Split and ByteLevel)", path, type ? type : "(none)");
  return FALSE;
}

/* decoder and post_processor: null or ByteLevel (neither adds tokens). */
static gboolean
check_byte_level_or_null (JsonObject * root, const char *member,
    const char *path, GError ** error)
{
  JsonNode *node = json_object_get_member (root, member);
  const char *type;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  type = JSON_NODE_HOLDS_OBJECT (node) ?
      type_name (json_node_get_object (node)) : NULL;
  if (g_strcmp0 (type, "ByteLevel") != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: %s.type: \"%s\" is not supported (only ByteLevel)", path,
        member, type ? type : "(none)");
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_model (JsonObject * root, HartTokenizer * tok, LoadState * st,
    const char *path, GError ** error)
{
  JsonNode *node = json_object_get_member (root, "model");
  JsonObject *model;
  const char *type, *s;
  gboolean flag;
  JsonNode *dropout;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: model: missing or not an object", path);
    return FALSE;
  }
  model = json_node_get_object (node);
  type = type_name (model);
  if (type != NULL && strcmp (type, "BPE") != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: model.type: \"%s\" is not supported (only BPE)", path, type);
    return FALSE;
  }
  dropout = json_object_get_member (model, "dropout");
  if (dropout != NULL && !JSON_NODE_HOLDS_NULL (dropout)
      && !(JSON_NODE_HOLDS_VALUE (dropout)
          && json_node_get_double (dropout) == 0.0)) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: model.dropout: only null is supported", path);
    return FALSE;
  }
  if (!get_optional_string (model, "continuing_subword_prefix", &s, path,
          "model.continuing_subword_prefix", error))
    return FALSE;
  if (s != NULL && s[0] != '\0') {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: model.continuing_subword_prefix: \"%s\" is not supported", path,
        s);
    return FALSE;
  }
  if (!get_optional_string (model, "end_of_word_suffix", &s, path,
          "model.end_of_word_suffix", error))
    return FALSE;
  if (s != NULL && s[0] != '\0') {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: model.end_of_word_suffix: \"%s\" is not supported", path, s);
    return FALSE;
  }
  flag = FALSE;
  if (!get_optional_bool (model, "byte_fallback", &flag, path,
          "model.byte_fallback", error))
    return FALSE;
  if (flag) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: model.byte_fallback: true is not supported", path);
    return FALSE;
  }
  if (!get_optional_bool (model, "ignore_merges", &flag, path,
          "model.ignore_merges", error))
    return FALSE;
  if (flag) {
    g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
        "%s: model.ignore_merges: true is not supported", path);
    return FALSE;
  }

  node = json_object_get_member (model, "vocab");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: model.vocab: missing or not an object", path);
    return FALSE;
  }
  if (!read_vocab (json_node_get_object (node), st, path, "model.vocab", error))
    return FALSE;
  node = json_object_get_member (model, "merges");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node)) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: model.merges: missing or not an array", path);
    return FALSE;
  }
  return read_merges_json (tok, st, json_node_get_array (node), path, error);
}

static gboolean
read_tokenizer_json (const char *path, HartTokenizer * tok, LoadState * st,
    JsonParser ** parser_out, GError ** error)
{
  JsonParser *parser = parse_json_file (path, &hart_json_limits_tokenizer,
      error);
  JsonObject *root;
  JsonNode *node;

  if (parser == NULL)
    return FALSE;
  *parser_out = parser;         /* the vocabulary strings live in it */
  root = json_node_get_object (json_parser_get_root (parser));

  if (!read_model (root, tok, st, path, error))
    return FALSE;
  node = json_object_get_member (root, "added_tokens");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node)) {
    if (!JSON_NODE_HOLDS_ARRAY (node)) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: added_tokens: expected an array", path);
      return FALSE;
    }
    if (!read_added_tokens (json_node_get_array (node), st, path, error))
      return FALSE;
  }
  return read_normalizer (json_object_get_member (root, "normalizer"), st,
      path, error)
      && read_pre_tokenizer (json_object_get_member (root, "pre_tokenizer"),
      st, path, error)
      && check_byte_level_or_null (root, "decoder", path, error)
      && check_byte_level_or_null (root, "post_processor", path, error);
}

/* vocab.json + merges.txt, as the slow Qwen2Tokenizer reads them (NFC and
 * the Qwen2 regex are built into that class). */
static gboolean
read_vocab_and_merges (const char *dir, HartTokenizer * tok, LoadState * st,
    JsonParser ** parser_out, GError ** error)
{
  char *vocab_path = g_build_filename (dir, "vocab.json", NULL);
  char *merges_path = g_build_filename (dir, "merges.txt", NULL);
  JsonParser *parser = NULL;
  char *contents = NULL;
  char **lines = NULL;
  const char *nul;
  gsize length = 0;
  gboolean ok = FALSE;
  guint n_lines, rank = 0;

  if (!g_file_test (vocab_path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, HART_ERROR, HART_ERROR_NOT_FOUND,
        "%s: neither tokenizer.json nor vocab.json + merges.txt found", dir);
    goto out;
  }
  parser = parse_json_file (vocab_path, &hart_json_limits_vocab, error);
  if (parser == NULL)
    goto out;
  *parser_out = parser;
  if (!read_vocab (json_node_get_object (json_parser_get_root (parser)), st,
          vocab_path, "vocabulary", error))
    goto out;

  if (!hart_file_read_bounded (merges_path, "a merges.txt", MERGES_MAX_BYTES,
          &contents, &length, error))
    goto out;
  /* the lines are C strings: a NUL byte would silently end the merges
   * there (or cut a symbol short), and no merge holds one */
  nul = memchr (contents, 0, length);
  if (nul != NULL) {
    guint line = 1;

    for (const char *p = contents; p < nul; p++)
      line += *p == '\n';
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: line %u contains a NUL byte, which is not supported",
        merges_path, line);
    goto out;
  }
  lines = g_strsplit (contents, "\n", -1);
  n_lines = g_strv_length (lines);
  merge_table_init (&tok->merges, n_lines);
  for (guint i = 0; i < n_lines; i++) {
    char *line = lines[i];
    char *space;
    char field[64];
    gsize len = strlen (line);

    if (len > 0 && line[len - 1] == '\r')
      line[--len] = '\0';
    if (len == 0 || (i == 0 && g_str_has_prefix (line, "#version")))
      continue;
    g_snprintf (field, sizeof field, "line %u", i + 1);
    space = strchr (line, ' ');
    if (space == NULL || strchr (space + 1, ' ') != NULL) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: %s: expected \"left right\"", merges_path, field);
      goto out;
    }
    *space = '\0';
    if (!add_merge (tok, st, line, space + 1, (int32_t) rank, merges_path,
            "merge", error))
      goto out;
    rank++;
  }
  st->nfc = TRUE;
  st->regex = qwen2_split_regex;
  ok = TRUE;
out:
  g_strfreev (lines);
  g_free (contents);
  g_free (vocab_path);
  g_free (merges_path);
  return ok;
}

/* The content of a pad_token given as a string or as {"content": …}. */
static gboolean
read_token_name (JsonObject * obj, const char *member, const char **out,
    const char *path, GError ** error)
{
  JsonNode *node = json_object_get_member (obj, member);

  *out = NULL;
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    return get_optional_string (json_node_get_object (node), "content", out,
        path, member, error);
  return get_optional_string (obj, member, out, path, member, error);
}

static gboolean
read_tokenizer_config (const char *path, gboolean have_tokenizer_json,
    HartTokenizer * tok, LoadState * st, GError ** error)
{
  JsonParser *parser = parse_json_file (path,
      &hart_json_limits_tokenizer_config, error);
  JsonObject *root;
  JsonNode *node;
  const char *side, *pad;
  static const char *const sides[] = { "padding_side", "truncation_side" };
  gboolean ok = FALSE;

  if (parser == NULL)
    return FALSE;
  root = json_node_get_object (json_parser_get_root (parser));

  for (guint k = 0; k < G_N_ELEMENTS (sides); k++) {
    if (!get_optional_string (root, sides[k], &side, path, sides[k], error))
      goto out;
    if (side != NULL && strcmp (side, "right") != 0) {
      g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
          "%s: %s: \"%s\" is not supported (only \"right\", which HART "
          "uses)", path, sides[k], side);
      goto out;
    }
  }

  node = json_object_get_member (root, "model_max_length");
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node)) {
    if (json_node_get_value_type (node) == G_TYPE_INT64)
      tok->model_max_length = json_node_get_int (node);
    else if (json_node_get_value_type (node) == G_TYPE_DOUBLE
        && json_node_get_double (node) < 9.0e18)
      tok->model_max_length = (gint64) json_node_get_double (node);
  }

  node = json_object_get_member (root, "added_tokens_decoder");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObjectIter iter;
    const char *key;
    JsonNode *value;

    json_object_iter_init (&iter, json_node_get_object (node));
    while (json_object_iter_next (&iter, &key, &value)) {
      char field[96], *end = NULL;
      gint64 id = g_ascii_strtoll (key, &end, 10);
      const char *content = NULL;
      gboolean special = FALSE;

      g_snprintf (field, sizeof field, "added_tokens_decoder[\"%s\"]", key);
      if (end == key || *end != '\0' || !JSON_NODE_HOLDS_OBJECT (value)) {
        g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
            "%s: %s: expected an integer key and an object", path, field);
        goto out;
      }
      if (!get_optional_string (json_node_get_object (value), "content",
              &content, path, field, error)
          || !get_optional_bool (json_node_get_object (value), "special",
              &special, path, field, error))
        goto out;
      if (have_tokenizer_json) {
        /* tokenizer.json's added_tokens are the ones used; they must agree */
        const AddedToken *a = id >= 0 && id < MAX_TOKEN_ID ?
            find_added (st, st->added_by_id, GINT_TO_POINTER ((int) id)) : NULL;

        if (a == NULL || g_strcmp0 (a->content, content) != 0) {
          g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
              "%s: %s: \"%s\" is not an added token of tokenizer.json with "
              "this id", path, field, content ? content : "(none)");
          goto out;
        }
      } else {
        if (!check_added_token_options (json_node_get_object (value), path,
                field, error)
            || !add_added_token (st, content, id, special, path, field, error))
          goto out;
      }
    }
  }

  if (!read_token_name (root, "pad_token", &pad, path, error))
    goto out;
  if (pad != NULL) {
    const AddedToken *a = find_added (st, st->added_by_content, pad);

    tok->pad_id = a != NULL ? a->id : vocab_id (st, pad);
    if (tok->pad_id < 0) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: pad_token: \"%s\" is not a token of the vocabulary", path, pad);
      goto out;
    }
  }
  ok = TRUE;
out:
  g_object_unref (parser);
  return ok;
}

static int
compare_added (const void *a, const void *b)
{
  /* strcmp compares bytes as unsigned char, as added_token_at does */
  return strcmp (((const AddedToken *) a)->content,
      ((const AddedToken *) b)->content);
}

/* Token tables, byte symbols and added-token lookup from ST. */
static gboolean
build_tables (HartTokenizer * tok, LoadState * st, const char *path,
    GError ** error)
{
  gint16 reverse[0x144];
  GByteArray *bytes = g_byte_array_new ();
  int32_t max_id = st->max_regular_id;

  unicode_to_byte_table (reverse);
  for (guint k = 0; k < st->added->len; k++)
    max_id = MAX (max_id, g_array_index (st->added, AddedToken, k).id);
  tok->n_vocab = max_id + 1;
  tok->token_kind = g_new0 (guint8, tok->n_vocab);
  tok->token_offset = g_new0 (guint32, tok->n_vocab + 1);

  for (int32_t id = 0; id <= st->max_regular_id; id++) {
    if (g_ptr_array_index (st->regular_by_id, id) != NULL)
      tok->token_kind[id] = TOKEN_REGULAR;
  }
  /* added tokens take precedence when an id is in both (same content) */
  for (guint k = 0; k < st->added->len; k++) {
    AddedToken *a = &g_array_index (st->added, AddedToken, k);
    tok->token_kind[a->id] = a->special ? TOKEN_SPECIAL : TOKEN_ADDED;
  }

  for (int32_t id = 0; id < tok->n_vocab; id++) {
    const char *s = NULL;

    if (tok->token_kind[id] == TOKEN_REGULAR)
      s = g_ptr_array_index (st->regular_by_id, id);
    else if (tok->token_kind[id] != TOKEN_ABSENT)
      s = find_added (st, st->added_by_id, GINT_TO_POINTER (id))->content;
    tok->token_offset[id] = bytes->len;
    /* tokenizers' ByteLevel decoder: the stand-in bytes if every character
     * is one, else the token's own UTF-8 */
    if (s != NULL && !token_string_to_bytes (s, reverse, bytes))
      g_byte_array_append (bytes, (const guint8 *) s, strlen (s));
  }
  tok->token_offset[tok->n_vocab] = bytes->len;
  tok->token_bytes = g_byte_array_free (bytes, FALSE);

  tok->added = g_new0 (AddedToken, st->added->len);
  tok->n_added = st->added->len;
  for (guint k = 0; k < st->added->len; k++) {
    AddedToken *a = &g_array_index (st->added, AddedToken, k);
    tok->added[k] = *a;
    a->content = NULL;          /* moved */
    tok->added_first_byte[(guint8) tok->added[k].content[0]] = 1;
  }
  /* in byte order for added_token_at (contents are distinct); no added
   * tokens leave tok->added NULL, which qsort may not be given */
  if (tok->n_added > 1)
    qsort (tok->added, tok->n_added, sizeof (AddedToken), compare_added);

  for (guint b = 0; b < 256; b++) {
    char s[8];
    int32_t id;

    s[g_unichar_to_utf8 (byte_to_unicode ((guint8) b), s)] = '\0';
    id = vocab_id (st, s);
    if (id < 0) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: model.vocab: no token for byte 0x%02x (\"%s\"), which a "
          "byte-level BPE needs", path, b, s);
      return FALSE;
    }
    tok->byte_token[b] = id;
  }
  return TRUE;
}

HartTokenizer *
hart_tokenizer_load (const char *dir, GError ** error)
{
  HartTokenizer *tok;
  LoadState st = { 0 };
  JsonParser *parser = NULL;
  char *json_path, *config_path;
  gboolean have_json, ok;
  GError *local = NULL;

  g_return_val_if_fail (dir != NULL, NULL);

  tok = g_new0 (HartTokenizer, 1);
  g_mutex_init (&tok->cache_lock);
  tok->pad_id = -1;
  tok->model_max_length = -1;
  st.added = g_array_new (FALSE, FALSE, sizeof (AddedToken));
  st.added_by_id = g_hash_table_new (NULL, NULL);
  st.added_by_content = g_hash_table_new (g_str_hash, g_str_equal);

  json_path = g_build_filename (dir, "tokenizer.json", NULL);
  config_path = g_build_filename (dir, "tokenizer_config.json", NULL);
  have_json = g_file_test (json_path, G_FILE_TEST_EXISTS);

  if (!hart_dir_check_readable (dir, error))
    ok = FALSE;
  else if (have_json)
    ok = read_tokenizer_json (json_path, tok, &st, &parser, error);
  else
    ok = read_vocab_and_merges (dir, tok, &st, &parser, error);

  if (ok && g_file_test (config_path, G_FILE_TEST_EXISTS))
    ok = read_tokenizer_config (config_path, have_json, tok, &st, error);
  if (ok)
    ok = build_tables (tok, &st, have_json ? json_path : dir, error);
  if (ok) {
    tok->nfc = st.nfc;
    /* GRegex compiles for UTF-8 with PCRE2_UCP: \p{L}, \p{N} and \s are the
     * Unicode classes tokenizers' regex uses */
    tok->split_regex = g_regex_new (st.regex, G_REGEX_OPTIMIZE, 0, &local);
    if (tok->split_regex == NULL) {
      g_set_error (error, HART_ERROR, HART_ERROR_UNSUPPORTED,
          "%s: pre_tokenizer: the split regex does not compile: %s",
          have_json ? json_path : dir, local->message);
      g_error_free (local);
      ok = FALSE;
    }
  }
  tok->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  load_state_clear (&st);
  if (parser != NULL)
    g_object_unref (parser);
  g_free (json_path);
  g_free (config_path);
  if (!ok) {
    hart_tokenizer_free (tok);
    return NULL;
  }
  return tok;
}
