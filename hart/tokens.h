/* gst-hart — token frames: the output of the autoregressive stage
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A token frame carries what the residual diffusion and the decoder need
 * (docs/token-frames.md): the discrete latent f_hat (every stage's tokens, the last
 * stage's included) and the last-stage condition z of both CFG branches,
 * plus the per-stage token maps so a later frame can reuse its first scales
 * (video).  The serialised form (docs/token-frames.md) is versioned and
 * every length is validated before it is read.
 */
#ifndef HART_TOKENS_H
#define HART_TOKENS_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define HART_TOKENS_MAGIC "HARTTOKF"
#define HART_TOKENS_VERSION 1

typedef struct
{
  char fingerprint[65];         /* model fingerprint (hex SHA-256) */
  int batch;                    /* B */
  int latent_channels;          /* Cv */
  int side;                     /* P: f_hat is P × P */
  int embed_dim;                /* C: width of z */
  int n_scales;                 /* SN */
  int stage_tokens;             /* Σ_{s < SN−1} pn_s²: rows of stage_h */
  float cfg_scale;              /* guidance of the residual diffusion */
  guint64 seed;
  guint32 frame;
  float *f_hat;                 /* [B, Cv, P, P]: stages 0 … SN−2 */
  float *last_h;                /* [B, P², Cv]: last-stage tokens, token-major
                                 * (the diffusion residual is added to these
                                 * before they join f_hat, docs/algorithm.md §6.4 step 6) */
  float *z;                     /* [2B, P², C], conditional rows first */
  float *stage_h;               /* [B, stage_tokens, Cv]: token maps of
                                 * stages 0 … SN−2, token-major */
} HartTokens;

HartTokens *hart_tokens_new (int batch, int latent_channels, int side,
    int embed_dim, int n_scales, int stage_tokens);
HartTokens *hart_tokens_copy (const HartTokens * tokens);
/* A token frame of N images (1 … HART_MAX_BATCH): image i is image
 * ITEMS[i] of SRCS[i] (all of one model and shape).  Splits a batch into
 * frames, stacks frames into a batch, repeats one image; header fields
 * (seed, frame, cfg, fingerprint) from SRCS[0]. */
HartTokens *hart_tokens_gather (const HartTokens * const *srcs,
    const int *items, int n);
void hart_tokens_free (HartTokens * tokens);

/* Serialised size in bytes. */
gsize hart_tokens_serialized_size (const HartTokens * tokens);
/* Writes the serialised form into dst (hart_tokens_serialized_size bytes). */
void hart_tokens_serialize (const HartTokens * tokens, guint8 * dst);
/* Parses and validates a serialised token frame. */
HartTokens *hart_tokens_parse (const guint8 * data, gsize size,
    GError ** error);

/* The bytes of a token frame's header. */
#define HART_TOKENS_HEADER_SIZE 128

/* What the header of a token frame says, read without its payload. */
typedef struct
{
  char fingerprint[65];         /* hex, NUL-terminated */
  int batch, latent_channels, side, embed_dim, n_scales, stage_tokens;
  float cfg_scale;
  guint64 seed;
  guint32 frame;
  guint64 frame_size;           /* bytes of the whole frame, header included */
} HartTokensHeader;

/* Reads the HART_TOKENS_HEADER_SIZE bytes at DATA (SIZE may be more) with
 * every check that needs only the header: magic, version, header size,
 * dtype, the dimensions' bounds, the fingerprint's characters.  The one
 * reader of headers: hart_tokens_parse, the hartparse element and the
 * typefinder.  FALSE with ERROR (HART_ERROR_FORMAT, or UNSUPPORTED for
 * another version) naming what failed. */
gboolean hart_tokens_read_header (const guint8 * data, gsize size,
    HartTokensHeader * header, GError ** error);

G_END_DECLS
#endif
