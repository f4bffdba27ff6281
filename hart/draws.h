/* gst-hart — the source of every random draw of a generation
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Draws come from our Philox streams (hart/philox.h) or, for
 * cross-implementation checks, are replayed from a draw file; either way
 * they can also be recorded to a draw file.  Draw files are the interchange
 * format of docs/random-draws.md, "Draw files": a safetensors file with one
 * tensor per draw, in the order the official code draws them, named
 * draw_NNN_<kind> with kind "exp", "perm" or "randn".
 *
 * Draws are requested in that same order: per stage E1 then (smooth path)
 * E2; before the last stage B permutations; then N0 and Z7 … Z0.  A replay
 * fails clearly on any count, kind or shape mismatch.
 */
#ifndef HART_DRAWS_H
#define HART_DRAWS_H

#include <glib.h>
#include "hart/philox.h"

G_BEGIN_DECLS

typedef struct _HartDraws HartDraws;

/* Philox draws for `seed`, frame `frame`. */
HartDraws *hart_draws_new (guint64 seed, guint32 frame);
/* Batches of video frames: image b of every tensor draws as frame
 * FRAMES[b] (N_ITEMS images, 1 … HART_MAX_BATCH; copied), so that each
 * image gets exactly the draws a one-image generation of that frame gets
 * and a batch gives the bytes of the frames made one by one
 * (docs/random-draws.md, "Batches of frames").  Philox draws only: a
 * replayed file holds whole tensors. */
void hart_draws_set_item_frames (HartDraws * d, int n_items,
    const guint32 * frames);
/* Replays the draws of a file. */
HartDraws *hart_draws_new_replay (const char *path, GError ** error);
/* Also record every draw handed out; written by hart_draws_finish(). */
void hart_draws_set_record_path (HartDraws * d, const char *path);
void hart_draws_free (HartDraws * d);

/* Exp(1) draws into host memory out[n]; the tensor shape is recorded and,
 * when replaying, checked.  purpose HART_DRAW_E1 / HART_DRAW_E2, index = stage.
 * HALVES (1 or 2) says how the tensor splits into images for
 * hart_draws_set_item_frames: 1, image-major ([B·rows, …] or [B, …]); 2, a
 * conditional and an unconditional half drawn together ([2·B·rows, …]),
 * each image-major, image b's second half continuing its stream where its
 * first half ends, as a one-image tensor [2·rows, …] does. */
gboolean hart_draws_exponential (HartDraws * d, HartDrawPurpose purpose,
    guint32 index, int halves, int ndim, const int64_t * shape, float *out,
    GError ** error);
/* TRUE when the draws are computed, neither replayed from a file nor
 * recorded: a caller may then draw a large tensor row by row where it uses
 * it (hart_draws_rows) instead of whole. */
gboolean hart_draws_streamed (const HartDraws * d);
/* Whether a tensor of SHAPE splits into the images and HALVES, as the
 * whole-tensor calls check; once, before hart_draws_rows. */
gboolean hart_draws_rows_check (const HartDraws * d, int halves, int ndim,
    const int64_t * shape, GError ** error);
/* Rows [R0, R1) (a row: the last dimension of SHAPE) of the draw that
 * hart_draws_exponential (purpose E1, E2) or hart_draws_normal (N0, ZN)
 * would give whole, bit for bit; streamed draws only, any thread. */
void hart_draws_rows (const HartDraws * d, HartDrawPurpose purpose,
    guint32 index, int halves, int ndim, const int64_t * shape, gsize r0,
    gsize r1, float *out);
/* Entries cols[0..n) (ascending) of row R of the Exp(1) draw that
 * hart_draws_exponential (purpose E1, E2) would give whole, bit for bit,
 * into out[0..n); streamed draws only, any thread.  For a caller that
 * reads a few entries of each row (the sampler: the codes top-k keeps). */
void hart_draws_row_entries (const HartDraws * d, HartDrawPurpose purpose,
    guint32 index, int halves, int ndim, const int64_t * shape, gsize r,
    const int *cols, gsize n, float *out);
/* N(0, 1) draws: purpose HART_DRAW_N0 (index 0) or HART_DRAW_ZN (index = step). */
gboolean hart_draws_normal (HartDraws * d, HartDrawPurpose purpose,
    guint32 index, int halves, int ndim, const int64_t * shape, float *out,
    GError ** error);
/* A MaskGIT order over n tokens.  It has no effect with one MaskGIT
 * iteration (docs/algorithm.md §6.4 step 1) but occupies a slot in the draw order: replay
 * consumes it, record writes the identity. */
gboolean hart_draws_permutation (HartDraws * d, int n, GError ** error);

/* Replay: checks every recorded draw was consumed.  Record: writes the file. */
gboolean hart_draws_finish (HartDraws * d, GError ** error);

G_END_DECLS
#endif /* HART_DRAWS_H */
