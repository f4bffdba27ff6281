/* gst-hart — hartrefine: token frames to pictures
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_HART_REFINE_H
#define GST_HART_REFINE_H

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>

#include "gsthartenums.h"
#include "gsthartmessages.h"
#include "hart/hart.h"
#include "hart/generator.h"

G_BEGIN_DECLS

#define GST_TYPE_HART_REFINE (gst_hart_refine_get_type ())
G_DECLARE_FINAL_TYPE (GstHartRefine, gst_hart_refine, GST, HART_REFINE,
    GstBaseTransform)

struct _GstHartRefine
{
  GstBaseTransform parent;

  /* properties, under the object lock */
  gchar *model_path;
  GstHartDevice device;
  gint device_id;
  gint n_threads;               /* threads property: 0 every core */
  GstHartPrecision precision;
  guint64 seed;                 /* GST_HART_REFINE_SEED_FROM_FRAME: the frame's */
  gboolean temporal_noise;
  guint64 memory_budget;        /* MiB, 0: none */
  guint batch_size;             /* token frames refined together */

  /* loaded in start (), from the shared cache */
  HartEngine *engine;
  HartModel *model;
  /* the token caps of the model (size, fingerprint), under the object lock:
   * the sink pad's caps query answers them (any thread) */
  GstCaps *model_caps;
  gchar *model_name;            /* for messages: folder name, or the bundled
                                 * model's name */
  /* the refinement's buffers, reused frame after frame (streaming thread;
   * remade when a frame's batch changes) */
  HartGenerator *generator;

  GstVideoInfo out_info;

  /* batch-size > 1 (streaming thread): token frames waiting for a batch
   * (GstBuffer *) */
  GQueue batch_in;
  /* Since the stream's first batch (until a flush or a stop), hartrefine
   * pushes its pictures itself: GstBaseTransform holds an input's DISCONT
   * until it pushes a buffer, so it would mark a later picture than the
   * frame's own (docs/elements.md, "Batches"). */
  gboolean own_push;
  /* the end (PTS + duration) of the last picture pushed that way, for the
   * POSITION query (GstBaseTransform keeps it for its own pushes);
   * GST_CLOCK_TIME_NONE when none.  Object lock. */
  GstClockTime own_position;
  /* a frame was dropped (QoS) since the last one queued: the next picture
   * is a discontinuity */
  gboolean batch_discont;

  /* cancels the refinement in flight (flush, PAUSED → READY) */
  GCancellable *cancel;

  /* one ERROR message per failure (gsthartmessages.h) */
  GstHartErrorOnce error_once;
};

/* The seed property's default: take each token frame's own seed. */
#define GST_HART_REFINE_SEED_FROM_FRAME G_MAXUINT64

GST_ELEMENT_REGISTER_DECLARE (hartrefine);

G_END_DECLS
#endif /* GST_HART_REFINE_H */
