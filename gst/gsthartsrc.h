/* gst-hart — hartsrc: images and video generated from a prompt
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_HART_SRC_H
#define GST_HART_SRC_H

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>
#include <gst/video/video.h>

#include "gsthartenums.h"
#include "gsthartmessages.h"
#include "hart/hart.h"
#include "hart/generator.h"
#include "hart/text-encoder.h"

G_BEGIN_DECLS

/* Live: the latency is the slowest of the last frames' generation times. */
#define LIVE_LATENCY_WINDOW_SIZE 8

#define GST_TYPE_HART_SRC (gst_hart_src_get_type ())
G_DECLARE_FINAL_TYPE (GstHartSrc, gst_hart_src, GST, HART_SRC, GstPushSrc)

struct _GstHartSrc
{
  GstPushSrc parent;

  /* properties, under the object lock */
  gchar *prompt;
  guint64 seed;
  GstHartSeedMode seed_mode;
  gdouble cfg_scale;
  gint top_k;
  gdouble top_p;
  gboolean smooth;
  gchar *model_path;
  gchar *text_encoder_path;
  GstHartDevice device;
  gint device_id;
  gint n_threads;               /* threads property: 0 every core */
  GstHartPrecision precision;
  gint keep_scales;
  gint transition_frames;
  guint64 memory_budget;        /* MiB, 0: none */
  gint64 timestamp_offset;      /* ns, added to every PTS */
  /* is-live as set; NULL/READY-only like timestamp-offset: a change while
   * running is kept for the next start (gst_hart_src_change_state) */
  gboolean is_live;
  guint batch_size;             /* frames generated together */

  /* loaded in start (), from the shared cache */
  HartEngine *engine;
  HartModel *model;
  HartTextEncoder *encoder;
  gchar *model_name;            /* folder name, or the bundled model's */
  gchar *model_comment;         /* tag: "HART model NAME, fingerprint HEX,
                                 * precision P" */

  /* negotiated format */
  gboolean tokens_out;
  GstVideoInfo info;
  gint fps_n, fps_d;

  /* streaming state: streaming thread only (and do_seek, which runs with
   * the streaming thread stopped) */
  guint64 n_frames;             /* index of the next frame */
  gint64 running_offset;        /* timestamp-offset when this run started */
  /* not live: frame n's PTS is time_base + (n − frame_base) periods.  0
   * and 0 from the start and after a seek; a new framerate mid-stream
   * moves them to the next frame, so timestamps go on from where the old
   * rate left them (as videotestsrc does) */
  GstClockTime time_base;
  guint64 frame_base;
  /* the frames of the last batch not pushed yet (GstBuffer *, in frame
   * order); the generator's state is that after the last of them */
  GQueue pending;
  GstClockTime frame_pts;       /* its timestamp (progress messages) */
  guint frames_in_making;       /* frames of that generation (1 or a batch) */
  /* live: the running time of frame 0's slot (frame n's is anchor +
   * n · period), set by the first frame; GST_CLOCK_TIME_NONE before */
  GstClockTime live_anchor;
  guint64 live_anchor_frame;    /* the frame whose slot live_anchor is */
  GstClockTime gen_times[LIVE_LATENCY_WINDOW_SIZE];     /* last frames' */
  guint n_gen_times;
  guint64 frames_dropped, frames_processed;     /* live skips, for QoS */
  /* under the object lock: the latency the LATENCY query reports */
  GstClockTime latency;
  /* waits for a live frame's slot; unscheduled by unlock () (both under
   * the object lock) */
  GstClockID slot_wait;
  gboolean flushing;
  /* the prompt's context, transitions, held scales and the buffers of a
   * generation (hart/generator.h), created in start () */
  HartGenerator *generator;

  /* cancels the generation in flight (unlock) */
  GCancellable *cancel;

  /* one ERROR message per failure (gsthartmessages.h) */
  GstHartErrorOnce error_once;
};

GST_ELEMENT_REGISTER_DECLARE (hartsrc);

G_END_DECLS
#endif /* GST_HART_SRC_H */
