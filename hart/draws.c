/* gst-hart — the source of every random draw of a generation
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "draws.h"
#include "hart/hart.h"
#include "checkpoint.h"
#include "error.h"
#include "safetensors-write.h"

#include <string.h>

struct _HartDraws
{
  guint64 seed;
  guint32 frame;
  int n_items;                  /* > 1: image b draws as item_frames[b] */
  guint32 *item_frames;

  /* replay */
  HartCheckpoint *replay;
  GPtrArray *replay_order;      /* const HartTensorInfo*, in draw order */
  guint next;

  /* record */
  char *record_path;
  HartSafetensorsWriter *recorder;
  guint n_recorded;
};

HartDraws *
hart_draws_new (guint64 seed, guint32 frame)
{
  HartDraws *d = g_new0 (HartDraws, 1);
  d->seed = seed;
  d->frame = frame;
  return d;
}

void
hart_draws_set_item_frames (HartDraws * d, int n_items, const guint32 * frames)
{
  g_return_if_fail (n_items >= 1 && n_items <= HART_MAX_BATCH);
  g_clear_pointer (&d->item_frames, g_free);
  d->n_items = 0;
  if (n_items == 1)
    d->frame = frames[0];
  else {
    d->item_frames = g_memdup2 (frames, n_items * sizeof (guint32));
    d->n_items = n_items;
  }
}

/* "draw_012_exp" → 12, "exp"; FALSE if the name is not a draw. */
static gboolean
parse_draw_name (const char *name, guint * number, const char **kind)
{
  char *end = NULL;
  guint64 n;

  if (!g_str_has_prefix (name, "draw_"))
    return FALSE;
  n = g_ascii_strtoull (name + 5, &end, 10);
  if (end == name + 5 || *end != '_' || n > 100000)
    return FALSE;
  *number = (guint) n;
  *kind = end + 1;
  return TRUE;
}

static gint
compare_draw_number (gconstpointer a, gconstpointer b)
{
  const HartTensorInfo *ta = *(const HartTensorInfo * const *) a;
  const HartTensorInfo *tb = *(const HartTensorInfo * const *) b;
  guint na = 0, nb = 0;
  const char *k;
  parse_draw_name (ta->name, &na, &k);
  parse_draw_name (tb->name, &nb, &k);
  return (na > nb) - (na < nb);
}

HartDraws *
hart_draws_new_replay (const char *path, GError ** error)
{
  HartCheckpoint *ckpt = hart_checkpoint_open (path, error);
  HartDraws *d;
  guint n;

  if (ckpt == NULL)
    return NULL;
  d = hart_draws_new (0, 0);
  d->replay = ckpt;
  d->replay_order = g_ptr_array_new ();
  n = hart_checkpoint_n_tensors (ckpt);
  for (guint i = 0; i < n; i++) {
    const HartTensorInfo *t = hart_checkpoint_tensor (ckpt, i);
    guint number;
    const char *kind;
    if (!parse_draw_name (t->name, &number, &kind))
      continue;                 /* other tensors may ride along */
    if (strcmp (kind, "exp") != 0 && strcmp (kind, "randn") != 0
        && strcmp (kind, "perm") != 0) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: draw \"%s\" has kind \"%s\"; expected exp, randn or perm",
          path, t->name, kind);
      hart_draws_free (d);
      return NULL;
    }
    g_ptr_array_add (d->replay_order, (gpointer) t);
  }
  g_ptr_array_sort (d->replay_order, compare_draw_number);
  for (guint i = 0; i < d->replay_order->len; i++) {
    const HartTensorInfo *t = g_ptr_array_index (d->replay_order, i);
    guint number;
    const char *kind;
    parse_draw_name (t->name, &number, &kind);
    if (number != i) {
      g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
          "%s: draws must be numbered 0, 1, 2, … without gaps; draw %u is "
          "\"%s\"", path, i, t->name);
      hart_draws_free (d);
      return NULL;
    }
  }
  if (d->replay_order->len == 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_FORMAT,
        "%s: no draw_NNN_<kind> tensors in this file", path);
    hart_draws_free (d);
    return NULL;
  }
  return d;
}

void
hart_draws_set_record_path (HartDraws * d, const char *path)
{
  g_free (d->record_path);
  d->record_path = g_strdup (path);
  if (d->recorder == NULL)
    d->recorder = hart_safetensors_writer_new ();
}

void
hart_draws_free (HartDraws * d)
{
  if (d == NULL)
    return;
  if (d->replay_order)
    g_ptr_array_free (d->replay_order, TRUE);
  hart_checkpoint_free (d->replay);
  hart_safetensors_writer_free (d->recorder);
  g_free (d->record_path);
  g_free (d->item_frames);
  g_free (d);
}

static void
record (HartDraws * d, const char *kind, HartDType dtype, int ndim,
    const int64_t * shape, const void *data)
{
  char name[64];
  if (d->recorder == NULL)
    return;
  g_snprintf (name, sizeof name, "draw_%03u_%s", d->n_recorded++, kind);
  hart_safetensors_writer_add (d->recorder, name, dtype, ndim, shape, data);
}

/* Next replayed draw, checked against kind and shape. */
static const HartTensorInfo *
replay_next (HartDraws * d, const char *kind, int ndim, const int64_t * shape,
    GError ** error)
{
  const HartTensorInfo *t;
  guint number;
  const char *found_kind;
  char want[128], got[128];

  if (d->next >= d->replay_order->len) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "%s: the generation needs draw %u (%s %s) but the file holds only "
        "%u draws", hart_checkpoint_get_path (d->replay), d->next, kind,
        hart_shape_to_string (ndim, shape, want, sizeof want),
        d->replay_order->len);
    return NULL;
  }
  t = g_ptr_array_index (d->replay_order, d->next);
  parse_draw_name (t->name, &number, &found_kind);
  gboolean same_shape = t->ndim == ndim;
  for (int i = 0; same_shape && i < ndim; i++)
    same_shape = t->shape[i] == shape[i];
  if (strcmp (found_kind, kind) != 0 || !same_shape) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "%s: draw %u: expected %s %s, found \"%s\" %s",
        hart_checkpoint_get_path (d->replay), d->next, kind,
        hart_shape_to_string (ndim, shape, want, sizeof want), t->name,
        hart_shape_to_string (t->ndim, t->shape, got, sizeof got));
    return NULL;
  }
  d->next++;
  return t;
}

static guint64
n_elements (int ndim, const int64_t * shape)
{
  guint64 n = 1;
  for (int i = 0; i < ndim; i++)
    n *= (guint64) shape[i];
  return n;
}

/* Elements [FIRST, FIRST + N) of the stream of (seed, PURPOSE, INDEX,
 * FRAME) into OUT. */
static void
draw_stream (const HartDraws * d, HartDrawPurpose purpose, guint32 index,
    guint32 frame, guint64 first, float *out, guint64 n)
{
  HartPhiloxStream s;

  hart_philox_stream_init (&s, d->seed, purpose, index, frame);
  if (purpose == HART_DRAW_E1 || purpose == HART_DRAW_E2)
    hart_philox_exponential (&s, first, out, n);
  else
    hart_philox_normal (&s, first, out, n);
}

/* A tensor of N values must split into HALVES × n_items equal parts, one
 * per image and half (hart_draws_exponential) */
static gboolean
split_ok (const HartDraws * d, const char *kind, int halves, guint64 n,
    GError ** error)
{
  const guint64 parts = (guint64) halves * MAX (d->n_items, 1);

  if (halves < 1 || halves > 2 || n % parts != 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "%s draw of %" G_GUINT64_FORMAT " values does not split into %d "
        "images × %d halves", kind, n, MAX (d->n_items, 1), halves);
    return FALSE;
  }
  return TRUE;
}

gboolean
hart_draws_streamed (const HartDraws * d)
{
  return d->replay == NULL && d->recorder == NULL;
}

gboolean
hart_draws_rows_check (const HartDraws * d, int halves, int ndim,
    const int64_t * shape, GError ** error)
{
  g_return_val_if_fail (hart_draws_streamed (d), FALSE);
  return split_ok (d, "row-wise", halves, n_elements (ndim, shape), error);
}

void
hart_draws_rows (const HartDraws * d, HartDrawPurpose purpose,
    guint32 index, int halves, int ndim, const int64_t * shape, gsize r0,
    gsize r1, float *out)
{
  const guint64 row = (guint64) shape[ndim - 1];
  const guint64 end = (guint64) r1 * row;
  guint64 e = (guint64) r0 * row;

  if (d->n_items <= 1) {
    draw_stream (d, purpose, index, d->frame, e, out, end - e);
    return;
  }
  /* as draw_floats: part s = h · n_items + b of the tensor is elements
   * [h·part, (h + 1)·part) of image b's stream */
  {
    const guint64 part = n_elements (ndim, shape) / ((guint64) halves *
        d->n_items);
    while (e < end) {
      const guint64 seg = e / part, off = e - seg * part;
      const guint64 take = MIN (part - off, end - e);
      draw_stream (d, purpose, index, d->item_frames[seg % d->n_items],
          (seg / d->n_items) * part + off, out, take);
      out += take;
      e += take;
    }
  }
}

void
hart_draws_row_entries (const HartDraws * d, HartDrawPurpose purpose,
    guint32 index, int halves, int ndim, const int64_t * shape, gsize r,
    const int *cols, gsize n, float *out)
{
  const guint64 row = (guint64) shape[ndim - 1];
  guint64 first = (guint64) r * row;
  guint32 frame = d->frame;
  HartPhiloxStream s;

  g_assert (purpose == HART_DRAW_E1 || purpose == HART_DRAW_E2);
  if (d->n_items > 1) {
    /* the row's place in its image's stream, as hart_draws_rows */
    const guint64 part = n_elements (ndim, shape) / ((guint64) halves *
        d->n_items);
    const guint64 seg = first / part, off = first - seg * part;

    if (off + row > part) {
      /* a row across two images' parts (not a shape the engine draws):
       * the whole row, then its entries */
      float *whole = g_new (float, row);
      hart_draws_rows (d, purpose, index, halves, ndim, shape, r, r + 1, whole);
      for (gsize i = 0; i < n; i++)
        out[i] = whole[cols[i]];
      g_free (whole);
      return;
    }
    frame = d->item_frames[seg % d->n_items];
    first = (seg / d->n_items) * part + off;
  }
  hart_philox_stream_init (&s, d->seed, purpose, index, frame);
  hart_philox_exponential_at (&s, first, cols, n, out);
}

static gboolean
draw_floats (HartDraws * d, const char *kind, HartDrawPurpose purpose,
    guint32 index, int halves, int ndim, const int64_t * shape, float *out,
    GError ** error)
{
  guint64 n = n_elements (ndim, shape);

  if (d->replay) {
    const HartTensorInfo *t = replay_next (d, kind, ndim, shape, error);
    /* A NaN or Inf draw would flow through sampling and the diffusion into
     * the image; refuse it here, where the file and tensor can be named. */
    if (t == NULL
        || !hart_checkpoint_read_f32 (d->replay, t->name, ndim, shape, out,
            error)
        || !hart_check_finite (out, n, error, HART_ERROR_FORMAT,
            "%s: tensor \"%s\"", hart_checkpoint_get_path (d->replay), t->name))
      return FALSE;
  } else if (d->n_items > 1) {
    /* image b of half h: elements [h·part, (h + 1)·part) of frame b's
     * stream, where a one-image generation of that frame puts them */
    const guint64 parts = (guint64) halves * d->n_items;
    const guint64 part = n / parts;

    if (!split_ok (d, kind, halves, n, error))
      return FALSE;
    for (int h = 0; h < halves; h++)
      for (int b = 0; b < d->n_items; b++)
        draw_stream (d, purpose, index, d->item_frames[b], h * part,
            out + (h * d->n_items + b) * part, part);
  } else {
    draw_stream (d, purpose, index, d->frame, 0, out, n);
  }
  record (d, kind, HART_DTYPE_F32, ndim, shape, out);
  return TRUE;
}

gboolean
hart_draws_exponential (HartDraws * d, HartDrawPurpose purpose,
    guint32 index, int halves, int ndim, const int64_t * shape, float *out,
    GError ** error)
{
  return draw_floats (d, "exp", purpose, index, halves, ndim, shape, out,
      error);
}

gboolean
hart_draws_normal (HartDraws * d, HartDrawPurpose purpose, guint32 index,
    int halves, int ndim, const int64_t * shape, float *out, GError ** error)
{
  return draw_floats (d, "randn", purpose, index, halves, ndim, shape, out,
      error);
}

gboolean
hart_draws_permutation (HartDraws * d, int n, GError ** error)
{
  const int64_t shape[1] = { n };

  if (d->replay && replay_next (d, "perm", 1, shape, error) == NULL)
    return FALSE;
  if (d->recorder) {
    int64_t *identity = g_new (int64_t, n);
    for (int i = 0; i < n; i++)
      identity[i] = i;
    record (d, "perm", HART_DTYPE_I64, 1, shape, identity);
    g_free (identity);
  }
  return TRUE;
}

gboolean
hart_draws_finish (HartDraws * d, GError ** error)
{
  if (d->replay && d->next != d->replay_order->len) {
    g_set_error (error, HART_ERROR, HART_ERROR_SHAPE,
        "%s: the generation used %u draws but the file holds %u",
        hart_checkpoint_get_path (d->replay), d->next, d->replay_order->len);
    return FALSE;
  }
  if (d->recorder && d->record_path) {
    hart_safetensors_writer_set_metadata (d->recorder, "format",
        "gst-hart draws");
    if (!hart_safetensors_writer_save (d->recorder, d->record_path, error))
      return FALSE;
  }
  return TRUE;
}
