/* gst-hart — token sampling of one stage (docs/algorithm.md §6.3 steps 2–6)
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Same forms as the official code, so recorded draws replay exactly:
 * CFG as three fp32 operations; top-k in place keeping ties at the
 * threshold; a categorical draw as the exponential race argmax p/E1; the
 * smooth embedding as softmax((ℓ·(1+ratio) − log E2) · fl(1/τ)) · E.
 */
#include "sampler.h"
#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* k-th largest value of row[0..n) (1 ≤ k ≤ n), by quickselect on a copy:
 * O(n) per row instead of a full sort (this runs for every token of every
 * stage, 4096 rows × 4096 codes at the last stage). */
static float
kth_largest (const float *row, int n, int k, float *scratch)
{
  int lo = 0, hi = n - 1, target = k - 1;

  memcpy (scratch, row, n * sizeof (float));
  while (lo < hi) {
    /* partition scratch[lo..hi] in descending order around a middle pivot */
    float pivot = scratch[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (scratch[i] > pivot)
        i++;
      while (scratch[j] < pivot)
        j--;
      if (i <= j) {
        float t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j)
      hi = j;
    else if (target >= i)
      lo = i;
    else
      break;                    /* scratch[j+1 .. i-1] all equal the pivot */
  }
  return scratch[target];
}

static int
compare_float_asc_index (const void *a, const void *b, void *data)
{
  const float *v = data;
  float x = v[*(const int *) a], y = v[*(const int *) b];
  if (x != y)
    return (x > y) - (x < y);
  return (*(const int *) a > *(const int *) b) - (*(const int *) a <
      *(const int *) b);
}

/* In-place softmax of n floats; -inf entries become 0. */
static void
softmax_row (float *x, int n)
{
  float mx = -INFINITY, sum = 0.0f;
  for (int v = 0; v < n; v++)
    mx = MAX (mx, x[v]);
  for (int v = 0; v < n; v++) {
    x[v] = expf (x[v] - mx);
    sum += x[v];
  }
  for (int v = 0; v < n; v++)
    x[v] /= sum;
}

/* Top-p as the official code: sort ascending, drop the entries whose
 * cumulative probability is ≤ 1 − p, always keep the largest.  p = 1 is
 * valid there too and drops only tokens of probability 0 (which still
 * changes the Gumbel-smoothed embedding a little, so it is not skipped). */
static void
apply_top_p (float *row, int n, double top_p, int *order, float *probs)
{
  for (int v = 0; v < n; v++)
    order[v] = v;
  g_qsort_with_data (order, n, sizeof (int), compare_float_asc_index, row);
  for (int v = 0; v < n; v++)
    probs[v] = row[order[v]];
  softmax_row (probs, n);
  float cum = 0.0f;
  for (int v = 0; v < n - 1; v++) {
    cum += probs[v];
    if (cum <= (float) (1.0 - top_p))
      row[order[v]] = -INFINITY;
  }
}

/* What every row of a stage's sampling reads (steps 2–4). */
typedef struct
{
  float *logits;
  const float *e1, *e2, *codebook;
  const HartStageSampling *s;
  int vocab, Cv;
  float logit_scale, inv_tau;
  int32_t *idx;
  float *h;
  int bad_row;                  /* atomic: smallest bad row, or G_MAXINT */
  /* streamed draws (e1, e2 NULL): each row's are drawn where it is
   * sampled, from these tensors' shapes */
  const HartDraws *draws;
  int64_t e1_shape[2], e2_shape[3];
  /* the logits hold positions [p0, p0 + pc) of the stage's l: local row
   * b·pc + p is the stage's row b·l + p0 + p (idx, h, the draws) */
  int l, p0, pc;
} RowsArgs;

static inline gsize
stage_row (const RowsArgs * A, gsize r)
{
  return (r / A->pc) * A->l + A->p0 + r % A->pc;
}

/* Stage row RS's draws of PURPOSE at the codes cand[0..n): drawn into BUF
 * when streamed (those entries alone: Philox is counter-based), else read
 * from the row of the whole tensor WHOLE. */
static const float *
row_draws (const RowsArgs * A, HartDrawPurpose purpose, const float *whole,
    gsize rs, const int *cand, int n, float *buf)
{
  if (A->draws == NULL) {
    const float *row = whole + rs * A->vocab;
    for (int i = 0; i < n; i++)
      buf[i] = row[cand[i]];
  } else if (purpose == HART_DRAW_E1) {
    hart_draws_row_entries (A->draws, purpose, A->s->stage, 1, 2,
        A->e1_shape, rs, cand, n, buf);
  } else {
    hart_draws_row_entries (A->draws, purpose, A->s->stage, 1, 3,
        A->e2_shape, rs, cand, n, buf);
  }
  return buf;
}

/* Rows [r0, r1): each row reads and writes only its own logits, draws, idx
 * and h, so the rows may run on any thread in any order.  After top-k and
 * top-p only the codes left (cand: 300 or 600 of 4096 at HART's stages)
 * take part: a filtered code's probability is 0 in the race and in the
 * smooth embedding, so its draws, exponentials and logarithms are never
 * computed.  The softmaxes run over those codes alone, in code order: the
 * others' exp is 0, which adds nothing to a sum, so every probability is
 * the whole row's bit for bit. */
static void
sample_rows (gsize r0, gsize r1, gpointer data)
{
  RowsArgs *A = data;
  const HartStageSampling *s = A->s;
  const int vocab = A->vocab, Cv = A->Cv;
  const float logit_scale = A->logit_scale, inv_tau = A->inv_tau;
  const float *codebook = A->codebook;
  float *logits = A->logits, *h = A->h;
  int32_t *idx = A->idx;
  float *scratch = g_new (float, vocab);
  float *p = g_new (float, vocab);
  float *draw = g_new (float, vocab);
  int *order = g_new (int, vocab);
  int *cand = g_new (int, vocab);

  for (gsize r = r0; r < r1; r++) {
    const gsize rs = stage_row (A, r);
    float *row = logits + r * vocab;
    int n = 0;

    /* 2. top-k in place: entries below the k-th largest become -inf */
    if (s->top_k > 0 && s->top_k < vocab) {
      float thr = kth_largest (row, vocab, s->top_k, scratch);
      for (int v = 0; v < vocab; v++)
        if (row[v] < thr)
          row[v] = -INFINITY;
    }
    if (s->top_p > 0.0)
      apply_top_p (row, vocab, s->top_p, order, scratch);
    for (int v = 0; v < vocab; v++)
      if (row[v] != -INFINITY)
        cand[n++] = v;

    /* 3. exponential race: argmax p / E1, first index on ties (a filtered
     * code's p / E1 is 0, below the largest code's, whose p is > 0) */
    {
      const float *er1 = row_draws (A, HART_DRAW_E1, A->e1, rs, cand, n,
          draw);
      int best = 0;
      float best_v = -1.0f;

      for (int i = 0; i < n; i++)
        p[i] = row[cand[i]];
      softmax_row (p, n);
      for (int i = 0; i < n; i++) {
        float q = p[i] / er1[i];
        if (q > best_v) {
          best_v = q;
          best = cand[i];
        }
      }
      idx[rs] = best;
      if (!(best_v >= 0.0f)) {
        /* report the first bad row, whatever the schedule */
        int old = g_atomic_int_get (&A->bad_row);
        while ((int) rs < old
            && !g_atomic_int_compare_and_exchange_full (&A->bad_row, old,
                (int) rs, &old));
      }
    }

    /* 4. the code embedding of this token */
    float *hr = h + rs * Cv;
    if (s->smooth) {
      const float *er2 = row_draws (A, HART_DRAW_E2, A->e2, rs, cand, n,
          draw);
      for (int i = 0; i < n; i++)
        p[i] = (row[cand[i]] * logit_scale + (-logf (er2[i]))) * inv_tau;
      softmax_row (p, n);
      for (int c = 0; c < Cv; c++)
        hr[c] = 0.0f;
      for (int i = 0; i < n; i++) {
        if (p[i] == 0.0f)
          continue;
        const float *ev = codebook + (gsize) cand[i] * Cv;
        for (int c = 0; c < Cv; c++)
          hr[c] += p[i] * ev[c];
      }
    } else {
      memcpy (hr, codebook + (gsize) idx[rs] * Cv, Cv * sizeof (float));
    }
  }
  g_free (scratch);
  g_free (p);
  g_free (draw);
  g_free (order);
  g_free (cand);
}

/* Step 1 over [i0, i1): the guided logit a·lc − bt·lu in place of lc;
 * the first non-finite input is left as it is and its index kept (the
 * smallest over all ranges, whatever the schedule), for the error. */
typedef struct
{
  float *logits;
  gsize half;
  float a, bt;
  guint64 first_bad;            /* under lock; G_MAXUINT64: none */
  GMutex lock;
} GuidanceArgs;

static void
guide_range (gsize i0, gsize i1, gpointer data)
{
  GuidanceArgs *G = data;
  float *lc = G->logits, *lu = G->logits + G->half;
  const float a = G->a, bt = G->bt;

  for (gsize i = i0; i < i1; i++) {
    if (!isfinite (lc[i]) || !isfinite (lu[i])) {
      g_mutex_lock (&G->lock);
      G->first_bad = MIN (G->first_bad, (guint64) i);
      g_mutex_unlock (&G->lock);
      return;
    }
    lc[i] = a * lc[i] - bt * lu[i];
  }
}

gboolean
hart_sample_stage (HartBackend * be, float *logits, int batch, int l,
    int vocab, const HartStageSampling * s, HartDraws * draws,
    const float *codebook, int Cv, int32_t * idx, float *h, GError ** error)
{
  return hart_sample_stage_part (be, logits, batch, l, 0, l, vocab, s, draws,
      codebook, Cv, idx, h, error);
}

gboolean
hart_sample_stage_part (HartBackend * be, float *logits, int batch, int l,
    int p0, int pc, int vocab, const HartStageSampling * s, HartDraws * draws,
    const float *codebook, int Cv, int32_t * idx, float *h, GError ** error)
{
  /* Checked before anything is read or written (a caller's bug otherwise,
   * reported as an error its caller can print; the logits stay as they
   * were): the sizes, and a part of the stage needs draws it can take by
   * rows. */
  if (!(batch > 0 && vocab > 0 && l > 0 && p0 >= 0 && pc > 0 && pc <= l - p0
          && (hart_draws_streamed (draws) || pc == l))) {
    /* the end in 64 bits: p0 + pc may be past G_MAXINT */
    const gint64 end = (gint64) p0 + pc;

    g_critical ("hart_sample_stage_part: batch %d, vocab %d, positions "
        "[%d, %" G_GINT64_FORMAT ") of %d%s", batch, vocab, p0, end, l,
        hart_draws_streamed (draws) ? "" : " with draws replayed or recorded");
    g_set_error (error, HART_ERROR, HART_ERROR_INVALID_ARGUMENT,
        "stage %d: positions [%d, %" G_GINT64_FORMAT ") of %d (batch %d, "
        "vocab %d) cannot be sampled%s", s->stage, p0, end, l, batch, vocab,
        pc < l && pc > 0 ? " apart" : "");
    return FALSE;
  }

  const gsize n_rows = (gsize) batch * pc;
  const gsize half = n_rows * vocab;
  const float a = (float) (1.0 + s->cfg_t), bt = (float) s->cfg_t;
  const float logit_scale = (float) (1.0 + s->ratio);
  const double tau = MAX (0.27 * (1.0 - s->ratio * 0.95), 0.005);
  /* the official GPU run divides by a scalar as a multiplication by its
   * fp32 reciprocal (docs/algorithm.md §5.5, §6.3 step 6) */
  const float inv_tau = 1.0f / (float) tau;
  const int64_t e1_shape[2] = { (int64_t) batch * l, vocab };
  const int64_t e2_shape[3] = { batch, l, vocab };
  float *e1 = NULL, *e2 = NULL;
  gboolean ok = FALSE;
  int bad_row = -1;

  /* 1. guidance, into the first half, on the host threads */
  {
    GuidanceArgs G = {.logits = logits,.half = half,.a = a,.bt = bt,
      .first_bad = G_MAXUINT64
    };
    g_mutex_init (&G.lock);
    const gsize n_threads = be ? (gsize) be->n_threads : 1;

    hart_backend_parallel_for (be, half, MAX (half / (4 * n_threads),
            (gsize) 65536), guide_range, &G);
    g_mutex_clear (&G.lock);
    if (G.first_bad != G_MAXUINT64) {
      const gsize i = G.first_bad, r = i / vocab;
      const float lc = logits[i], lu = logits[half + i];
      g_set_error (error, HART_ERROR, HART_ERROR_NUMERIC,
          "stage %d: the transformer produced %s logits (row %" G_GSIZE_FORMAT
          ", code %" G_GSIZE_FORMAT ")", s->stage, isnan (lc)
          || isnan (lu) ? "NaN" : "infinite",
          (r / pc) * l + p0 + r % pc, i % vocab);
      return FALSE;
    }
  }

  /* The draws E1 [B·l, V] and E2 [B, l, V]: drawn row by row where they
   * are used when they are computed (the last stage's would take 2 × 67 MB
   * per image at 1024², at the run's peak of memory), whole when a file
   * replays or records them.  The same values either way. */
  if (hart_draws_streamed (draws)) {
    if (!hart_draws_rows_check (draws, 1, 2, e1_shape, error)
        || (s->smooth && !hart_draws_rows_check (draws, 1, 3, e2_shape, error)))
      goto out;
  } else {
    e1 = g_try_new (float, half);
    if (e1 == NULL)
      goto oom;
    if (!hart_draws_exponential (draws, HART_DRAW_E1, s->stage, 1, 2,
            e1_shape, e1, error))
      goto out;
    if (s->smooth) {
      e2 = g_try_new (float, half);
      if (e2 == NULL)
        goto oom;
      if (!hart_draws_exponential (draws, HART_DRAW_E2, s->stage, 1, 3,
              e2_shape, e2, error))
        goto out;
    }
  }
  {
    RowsArgs A = {.logits = logits,.e1 = e1,.e2 = e2,.codebook = codebook,
      .s = s,.vocab = vocab,.Cv = Cv,.logit_scale = logit_scale,
      .inv_tau = inv_tau,.idx = idx,.h = h,.bad_row = G_MAXINT,
      .draws = e1 == NULL ? draws : NULL,
      .e1_shape = {e1_shape[0], e1_shape[1]},
      .e2_shape = {e2_shape[0], e2_shape[1], e2_shape[2]},
      .l = l,.p0 = p0,.pc = pc
    };
    /* about 4 chunks per host thread, each of at least ~32 K logits */
    const gsize n_threads = be ? (gsize) be->n_threads : 1;
    gsize grain = (n_rows + 4 * n_threads - 1) / (4 * n_threads);

    grain = MAX (grain, (gsize) (32768 / MAX (vocab, 1)) + 1);
    hart_backend_parallel_for (be, n_rows, grain, sample_rows, &A);
    bad_row = A.bad_row == G_MAXINT ? -1 : A.bad_row;
  }
  if (bad_row >= 0) {
    g_set_error (error, HART_ERROR, HART_ERROR_NUMERIC,
        "stage %d: no valid probability in row %d after filtering",
        s->stage, bad_row);
    goto out;
  }
  ok = TRUE;
  goto out;

oom:
  g_set_error (error, HART_ERROR, HART_ERROR_LIMIT,
      "stage %d: out of memory for %" G_GSIZE_FORMAT " sampling draws",
      s->stage, half);
out:
  g_free (e1);
  g_free (e2);
  return ok;
}
