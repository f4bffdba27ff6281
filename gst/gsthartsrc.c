/* gst-hart — hartsrc: images and video generated from a prompt
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-hartsrc
 * @title: hartsrc
 *
 * Generates images from a text prompt with HART (Hybrid Autoregressive
 * Transformer): the prompt is encoded by the Qwen2 text encoder, the
 * autoregressive transformer samples the token maps scale by scale, the
 * residual diffusion head and the decoder turn them into a picture.  All
 * the computing happens in libhart (hart/); this element is the glue.
 *
 * Output is raw video at the model's resolution, or token frames
 * (video/x-hart-tokens) when downstream asks for them (hartrefine).  Each
 * frame is a new generation: `seed-mode`, `keep-scales` and
 * `transition-frames` decide how successive frames relate; `prompt`, `seed`
 * and `cfg-scale` may change while playing and take effect at the next
 * frame.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 hartsrc model-path=hart-0.7b-1024px prompt="a red fox in snow" \
 *     num-buffers=1 ! videoconvert ! pngenc ! filesink location=fox.png
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthartsrc.h"
#include "gsthartcache.h"
#include "hart/bundled-model.h"
#include "gsthartcaps.h"
#include "gsthartmessages.h"
#include "gsthartmeta.h"

#include <glib/gi18n-lib.h>
#include <gst/video/video.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_hart_src_debug);
#define GST_CAT_DEFAULT gst_hart_src_debug

#define DEFAULT_PROMPT "a large red circle in the center on a blue background"
#define DEFAULT_SEED 1
#define DEFAULT_SEED_MODE GST_HART_SEED_MODE_FIXED
#define DEFAULT_CFG_SCALE HART_DEFAULT_CFG
#define DEFAULT_TOP_K 0
#define DEFAULT_TOP_P 0.0
#define DEFAULT_SMOOTH TRUE
#define DEFAULT_MODEL_PATH NULL
#define DEFAULT_TEXT_ENCODER_PATH NULL
#define DEFAULT_DEVICE GST_HART_DEVICE_AUTO
#define DEFAULT_DEVICE_ID 0
#define DEFAULT_THREADS 0
#define DEFAULT_PRECISION GST_HART_PRECISION_FP32
#define DEFAULT_IS_LIVE FALSE
#define DEFAULT_KEEP_SCALES 0
#define DEFAULT_TRANSITION_FRAMES 0
#define DEFAULT_MEMORY_BUDGET 0
#define DEFAULT_TIMESTAMP_OFFSET 0
#define DEFAULT_BATCH_SIZE 1
/* frames of one batch: enough for a GPU's throughput, little enough that
 * the frames waiting in a batch stay a few seconds of video */
#define MAX_BATCH_SIZE 16


enum
{
  PROP_0,
  PROP_PROMPT,
  PROP_SEED,
  PROP_SEED_MODE,
  PROP_CFG_SCALE,
  PROP_TOP_K,
  PROP_TOP_P,
  PROP_SMOOTH,
  PROP_MODEL_PATH,
  PROP_TEXT_ENCODER_PATH,
  PROP_DEVICE,
  PROP_DEVICE_ID,
  PROP_THREADS,
  PROP_PRECISION,
  PROP_IS_LIVE,
  PROP_KEEP_SCALES,
  PROP_TRANSITION_FRAMES,
  PROP_MEMORY_BUDGET,
  PROP_TIMESTAMP_OFFSET,
  PROP_BATCH_SIZE,
};

static GstStaticPadTemplate gst_hart_src_template =
    GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_HART_RAW_CAPS "; " GST_HART_TOKENS_CAPS));

#define gst_hart_src_parent_class parent_class
static void gst_hart_src_uri_handler_init (gpointer g_iface,
    gpointer iface_data);

static void gst_hart_src_preset_init (gpointer g_iface, gpointer iface_data);

G_DEFINE_TYPE_WITH_CODE (GstHartSrc, gst_hart_src, GST_TYPE_PUSH_SRC,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_hart_src_uri_handler_init);
    G_IMPLEMENT_INTERFACE (GST_TYPE_PRESET, gst_hart_src_preset_init));
GST_ELEMENT_REGISTER_DEFINE (hartsrc, "hartsrc", GST_RANK_NONE,
    GST_TYPE_HART_SRC);

static void gst_hart_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_hart_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_hart_src_finalize (GObject * object);

static GstStateChangeReturn gst_hart_src_change_state (GstElement * element,
    GstStateChange transition);
static gboolean gst_hart_src_post_message (GstElement * element,
    GstMessage * message);
static gboolean gst_hart_src_start (GstBaseSrc * basesrc);
static gboolean gst_hart_src_stop (GstBaseSrc * basesrc);
static GstCaps *gst_hart_src_get_caps (GstBaseSrc * basesrc, GstCaps * filter);
static GstCaps *gst_hart_src_fixate (GstBaseSrc * basesrc, GstCaps * caps);
static gboolean gst_hart_src_set_caps (GstBaseSrc * basesrc, GstCaps * caps);
static gboolean gst_hart_src_negotiate (GstBaseSrc * basesrc);
static void gst_hart_src_get_times (GstBaseSrc * basesrc, GstBuffer * buffer,
    GstClockTime * start, GstClockTime * end);
static gboolean gst_hart_src_query (GstBaseSrc * basesrc, GstQuery * query);
static gboolean gst_hart_src_is_seekable (GstBaseSrc * basesrc);
static gboolean gst_hart_src_event (GstBaseSrc * basesrc, GstEvent * event);
static gboolean gst_hart_src_do_seek (GstBaseSrc * basesrc,
    GstSegment * segment);
static gboolean gst_hart_src_unlock (GstBaseSrc * basesrc);
static gboolean gst_hart_src_unlock_stop (GstBaseSrc * basesrc);
static GstFlowReturn gst_hart_src_create (GstPushSrc * pushsrc,
    GstBuffer ** buffer);

static void
gst_hart_src_class_init (GstHartSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_hart_src_debug, "hartsrc", 0,
      "HART image generation source");

  gobject_class->set_property = gst_hart_src_set_property;
  gobject_class->get_property = gst_hart_src_get_property;
  gobject_class->finalize = gst_hart_src_finalize;

  g_object_class_install_property (gobject_class, PROP_PROMPT,
      g_param_spec_string ("prompt", "Prompt",
          "Text describing the image; a change applies from the next frame",
          DEFAULT_PROMPT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed",
          "Seed of the random draws: the same seed, prompt and settings give "
          "the same image", 0, G_MAXUINT64, DEFAULT_SEED,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SEED_MODE,
      g_param_spec_enum ("seed-mode", "Seed mode",
          "How successive frames key their random draws: fixed (every frame "
          "draws as frame 0) or increment (frame n draws as frame n)",
          GST_TYPE_HART_SEED_MODE, DEFAULT_SEED_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_CFG_SCALE,
      g_param_spec_double ("cfg-scale", "CFG scale",
          "Classifier-free guidance scale: how closely the image follows the "
          "prompt", 0.0, HART_MAX_CFG, DEFAULT_CFG_SCALE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TOP_K,
      g_param_spec_int ("top-k", "Top-k",
          "Sample among the K most likely tokens (0: the official schedule, "
          "600 then 300 from stage 7)", 0, G_MAXINT, DEFAULT_TOP_K,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TOP_P,
      g_param_spec_double ("top-p", "Top-p",
          "Nucleus sampling threshold (0: off)", 0.0, 1.0, DEFAULT_TOP_P,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SMOOTH,
      g_param_spec_boolean ("smooth", "Smooth",
          "Gumbel-smoothed sampling, the official default", DEFAULT_SMOOTH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MODEL_PATH,
      g_param_spec_string ("model-path", "Model path",
          "HART release folder (hart-0.7b-1024px, holding llm/ and "
          "tokenizer/); NULL: the bundled " HART_BUNDLED_MODEL_NAME
          " model (64x64 pictures of shapes, trained by the project)",
          DEFAULT_MODEL_PATH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TEXT_ENCODER_PATH,
      g_param_spec_string ("text-encoder-path", "Text encoder path",
          "Qwen2-VL-1.5B-Instruct folder (NULL: the folder of that name "
          "beside model-path); without tokenizer.json in it the tokenizer "
          "comes from $" HART_TOKENIZER_PATH_ENV, DEFAULT_TEXT_ENCODER_PATH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_enum ("device", "Device", "Compute device",
          GST_TYPE_HART_DEVICE, DEFAULT_DEVICE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_DEVICE_ID,
      g_param_spec_int ("device-id", "Device ID",
          "GPU number for device=cuda (or auto)", 0, G_MAXINT,
          DEFAULT_DEVICE_ID, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "CPU threads of the engine (0: every core, or HART_NUM_THREADS); "
          "they sleep between jobs", 0, HART_MAX_THREADS, DEFAULT_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PRECISION,
      g_param_spec_enum ("precision", "Precision",
          "Precision of the model's matrix products: fp32 (the reference), "
          "bf16 (on the CPU's matrix units through oneDNN, widened to fp32 on "
          "CPUs without them; on NVIDIA tensor cores with device=cuda), fp16 "
          "(no backend has it yet: refused), or auto (bf16 where the "
          "hardware computes in it); docs/precision.md",
          GST_TYPE_HART_PRECISION, DEFAULT_PRECISION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_IS_LIVE,
      g_param_spec_boolean ("is-live", "Is live",
          "Act as a live source: frames are timestamped and synchronised "
          "to the clock", DEFAULT_IS_LIVE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_KEEP_SCALES,
      g_param_spec_int ("keep-scales", "Keep scales",
          "Video: every frame after the first reuses the token maps of the "
          "first K scales of the previous frame, so the composition holds "
          "while detail varies (0: independent frames; at most the number "
          "of scales - 1)", 0, G_MAXINT, DEFAULT_KEEP_SCALES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TRANSITION_FRAMES,
      g_param_spec_int ("transition-frames", "Transition frames",
          "Video: after a prompt change the text context moves linearly "
          "from the old prompt to the new one over N frames (0: at once)",
          0, G_MAXINT, DEFAULT_TRANSITION_FRAMES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MEMORY_BUDGET,
      g_param_spec_uint64 ("memory-budget", "Memory budget",
          "Refuse to start when the model and the text encoder would need "
          "more than this many MiB (estimated before loading; 0: no budget, "
          "or $" HART_MEMORY_BUDGET_ENV " for the model)", 0, G_MAXUINT64 >> 20,
          DEFAULT_MEMORY_BUDGET, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  g_object_class_install_property (gobject_class, PROP_TIMESTAMP_OFFSET,
      g_param_spec_int64 ("timestamp-offset", "Timestamp offset",
          "An offset added to the timestamps of the buffers (ns); a "
          "negative offset that would take a timestamp below 0 makes it 0",
          G_MININT64, G_MAXINT64, DEFAULT_TIMESTAMP_OFFSET,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "Video: generate up to N successive frames in one engine call and "
          "push them in order (throughput, at N frames of latency); in fp32 "
          "the frames are the bytes of those made one at a time (in bf16 up "
          "to rounding); a changed setting applies from the next batch; "
          "num-buffers and a seek's stop bound a batch; with keep-scales a "
          "frame that lays out the prompt ends a batch", 1, MAX_BATCH_SIZE,
          DEFAULT_BATCH_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  element_class->post_message = GST_DEBUG_FUNCPTR (gst_hart_src_post_message);
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_hart_src_change_state);

  gst_element_class_set_static_metadata (element_class,
      "HART image generator", "Source/Video",
      "Generates images and video from a text prompt with HART",
      "gst-hart developers");
  gst_element_class_add_static_pad_template (element_class,
      &gst_hart_src_template);

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_hart_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_hart_src_stop);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_hart_src_get_caps);
  basesrc_class->fixate = GST_DEBUG_FUNCPTR (gst_hart_src_fixate);
  basesrc_class->set_caps = GST_DEBUG_FUNCPTR (gst_hart_src_set_caps);
  basesrc_class->negotiate = GST_DEBUG_FUNCPTR (gst_hart_src_negotiate);
  basesrc_class->get_times = GST_DEBUG_FUNCPTR (gst_hart_src_get_times);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_hart_src_query);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR (gst_hart_src_is_seekable);
  basesrc_class->event = GST_DEBUG_FUNCPTR (gst_hart_src_event);
  basesrc_class->do_seek = GST_DEBUG_FUNCPTR (gst_hart_src_do_seek);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_hart_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_hart_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_hart_src_create);

  gst_type_mark_as_plugin_api (GST_TYPE_HART_SEED_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HART_DEVICE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HART_PRECISION, 0);
}

static void
gst_hart_src_init (GstHartSrc * self)
{
  self->prompt = g_strdup (DEFAULT_PROMPT);
  self->batch_size = DEFAULT_BATCH_SIZE;
  g_queue_init (&self->pending);
  self->seed = DEFAULT_SEED;
  self->seed_mode = DEFAULT_SEED_MODE;
  self->cfg_scale = DEFAULT_CFG_SCALE;
  self->top_k = DEFAULT_TOP_K;
  self->top_p = DEFAULT_TOP_P;
  self->smooth = DEFAULT_SMOOTH;
  self->model_path = g_strdup (DEFAULT_MODEL_PATH);
  self->text_encoder_path = g_strdup (DEFAULT_TEXT_ENCODER_PATH);
  self->device = DEFAULT_DEVICE;
  self->device_id = DEFAULT_DEVICE_ID;
  self->n_threads = DEFAULT_THREADS;
  self->precision = DEFAULT_PRECISION;
  self->keep_scales = DEFAULT_KEEP_SCALES;
  self->transition_frames = DEFAULT_TRANSITION_FRAMES;
  self->memory_budget = DEFAULT_MEMORY_BUDGET;
  self->timestamp_offset = DEFAULT_TIMESTAMP_OFFSET;
  self->live_anchor = GST_CLOCK_TIME_NONE;
  self->latency = GST_CLOCK_TIME_NONE;
  self->cancel = g_cancellable_new ();

  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  self->is_live = DEFAULT_IS_LIVE;
  gst_base_src_set_live (GST_BASE_SRC (self), DEFAULT_IS_LIVE);
}

static void
gst_hart_src_finalize (GObject * object)
{
  GstHartSrc *self = GST_HART_SRC (object);

  g_free (self->prompt);
  g_free (self->model_path);
  g_free (self->text_encoder_path);
  g_object_unref (self->cancel);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hart_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHartSrc *self = GST_HART_SRC (object);
  gboolean apply_live = FALSE;

  GST_OBJECT_LOCK (self);
  /* NULL/READY-only settings changed while running: kept for the next
   * start (applied now, basesrc's live mode would stop a running stream) */
  if ((prop_id == PROP_IS_LIVE || prop_id == PROP_TIMESTAMP_OFFSET)
      && GST_STATE (self) > GST_STATE_READY)
    GST_WARNING_OBJECT (self, "%s changed while %s: it takes effect at the "
        "next start", pspec->name, gst_element_state_get_name (GST_STATE
            (self)));
  else
    apply_live = prop_id == PROP_IS_LIVE;
  switch (prop_id) {
    case PROP_IS_LIVE:
      self->is_live = g_value_get_boolean (value);
      break;
    case PROP_PROMPT:
      g_free (self->prompt);
      /* NULL reads as the empty prompt */
      self->prompt = g_value_dup_string (value);
      if (self->prompt == NULL)
        self->prompt = g_strdup ("");
      break;
    case PROP_SEED:
      self->seed = g_value_get_uint64 (value);
      break;
    case PROP_SEED_MODE:
      self->seed_mode = g_value_get_enum (value);
      break;
    case PROP_CFG_SCALE:
      self->cfg_scale = g_value_get_double (value);
      break;
    case PROP_TOP_K:
      self->top_k = g_value_get_int (value);
      break;
    case PROP_TOP_P:
      self->top_p = g_value_get_double (value);
      break;
    case PROP_SMOOTH:
      self->smooth = g_value_get_boolean (value);
      break;
    case PROP_MODEL_PATH:
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
      break;
    case PROP_TEXT_ENCODER_PATH:
      g_free (self->text_encoder_path);
      self->text_encoder_path = g_value_dup_string (value);
      break;
    case PROP_DEVICE:
      self->device = g_value_get_enum (value);
      break;
    case PROP_DEVICE_ID:
      self->device_id = g_value_get_int (value);
      break;
    case PROP_THREADS:
      self->n_threads = g_value_get_int (value);
      break;
    case PROP_PRECISION:
      self->precision = g_value_get_enum (value);
      break;
    case PROP_KEEP_SCALES:
      self->keep_scales = g_value_get_int (value);
      break;
    case PROP_TRANSITION_FRAMES:
      self->transition_frames = g_value_get_int (value);
      break;
    case PROP_TIMESTAMP_OFFSET:
      self->timestamp_offset = g_value_get_int64 (value);
      break;
    case PROP_MEMORY_BUDGET:
      self->memory_budget = g_value_get_uint64 (value);
      break;
    case PROP_BATCH_SIZE:
      self->batch_size = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
  /* it takes the object lock */
  if (apply_live)
    gst_base_src_set_live (GST_BASE_SRC (self), g_value_get_boolean (value));
}

static void
gst_hart_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstHartSrc *self = GST_HART_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_IS_LIVE:
      g_value_set_boolean (value, self->is_live);
      break;
    case PROP_PROMPT:
      g_value_set_string (value, self->prompt);
      break;
    case PROP_SEED:
      g_value_set_uint64 (value, self->seed);
      break;
    case PROP_SEED_MODE:
      g_value_set_enum (value, self->seed_mode);
      break;
    case PROP_CFG_SCALE:
      g_value_set_double (value, self->cfg_scale);
      break;
    case PROP_TOP_K:
      g_value_set_int (value, self->top_k);
      break;
    case PROP_TOP_P:
      g_value_set_double (value, self->top_p);
      break;
    case PROP_SMOOTH:
      g_value_set_boolean (value, self->smooth);
      break;
    case PROP_MODEL_PATH:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_TEXT_ENCODER_PATH:
      g_value_set_string (value, self->text_encoder_path);
      break;
    case PROP_DEVICE:
      g_value_set_enum (value, self->device);
      break;
    case PROP_DEVICE_ID:
      g_value_set_int (value, self->device_id);
      break;
    case PROP_THREADS:
      g_value_set_int (value, self->n_threads);
      break;
    case PROP_PRECISION:
      g_value_set_enum (value, self->precision);
      break;
    case PROP_KEEP_SCALES:
      g_value_set_int (value, self->keep_scales);
      break;
    case PROP_TRANSITION_FRAMES:
      g_value_set_int (value, self->transition_frames);
      break;
    case PROP_TIMESTAMP_OFFSET:
      g_value_set_int64 (value, self->timestamp_offset);
      break;
    case PROP_MEMORY_BUDGET:
      g_value_set_uint64 (value, self->memory_budget);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint (value, self->batch_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- loading ---- */

/* is-live as set, before GstBaseSrc reads it for READY → PAUSED (a live
 * source does not preroll); a change made while running lands here */
static GstStateChangeReturn
gst_hart_src_change_state (GstElement * element, GstStateChange transition)
{
  GstHartSrc *self = GST_HART_SRC (element);

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    gboolean live;

    GST_OBJECT_LOCK (self);
    live = self->is_live;
    GST_OBJECT_UNLOCK (self);
    gst_base_src_set_live (GST_BASE_SRC (self), live);
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static gboolean
gst_hart_src_post_message (GstElement * element, GstMessage * message)
{
  return gst_hart_error_once_post_message (element,
      &GST_HART_SRC (element)->error_once, message,
      GST_ELEMENT_CLASS (parent_class)->post_message);
}

static gboolean
gst_hart_src_start (GstBaseSrc * basesrc)
{
  GstHartSrc *self = GST_HART_SRC (basesrc);
  gchar *model_path, *model_name, *qwen_dir = NULL, *tokenizer_dir = NULL;
  GstHartDevice device;
  GstHartPrecision precision;
  gint device_id;
  guint64 memory_budget;
  gint budget_images;
  GError *error = NULL;

  gst_hart_error_once_reset (GST_ELEMENT (self), &self->error_once);
  GST_OBJECT_LOCK (self);
  model_path = g_strdup (self->model_path);
  if (self->text_encoder_path)
    qwen_dir = g_strdup (self->text_encoder_path);
  device = self->device;
  precision = self->precision;
  device_id = self->device_id;
  memory_budget = self->memory_budget;
  self->running_offset = self->timestamp_offset;
  /* a batch has buffers of its own beside the one-frame set: the budget
   * counts both, for the batch-size set now */
  budget_images = self->batch_size > 1 ? 1 + (gint) self->batch_size : 1;
  GST_OBJECT_UNLOCK (self);
  /* before the bundled model's folder replaces an empty model-path: its
   * folder is ".../shapes-64px/hart" */
  model_name = gst_hart_model_name (model_path);

  if (model_path == NULL || model_path[0] == '\0') {
    g_free (model_path);
    model_path = hart_bundled_model_path (&error);
    if (G_UNLIKELY (model_path == NULL))
      goto no_model_path;
    GST_INFO_OBJECT (self, "no model-path set: using the bundled model %s",
        model_path);
  }

  self->engine = gst_hart_cache_acquire_engine (gst_hart_device_to_string
      (device), device_id, g_atomic_int_get (&self->n_threads),
      (HartPrecision) precision, &error);
  if (G_UNLIKELY (self->engine == NULL))
    goto no_engine;
  GST_INFO_OBJECT (self, "precision %s: %s",
      hart_precision_to_string (hart_engine_get_precision (self->engine)),
      hart_engine_get_precision_impl (self->engine));
  GST_INFO_OBJECT (self, "device %s", hart_engine_get_device (self->engine));

  /* in the precision the engine resolved (auto: what this device runs) */
  if (G_UNLIKELY (!hart_model_check_memory_budget (model_path, TRUE,
              budget_images, hart_engine_get_precision (self->engine),
              memory_budget << 20, "memory-budget", &error)))
    goto over_budget;
  self->model = gst_hart_cache_acquire_model (self->engine, model_path, &error);
  if (G_UNLIKELY (self->model == NULL))
    goto no_model;

  if (qwen_dir == NULL)
    qwen_dir = hart_text_encoder_default_dir (model_path);
  tokenizer_dir = hart_text_encoder_tokenizer_dir (qwen_dir);
  GST_DEBUG_OBJECT (self, "text encoder %s, tokenizer %s", qwen_dir,
      tokenizer_dir);
  if (G_UNLIKELY (!hart_check_memory_budget_with_text_encoder (model_path,
              qwen_dir, hart_engine_get_precision (self->engine),
              hart_engine_has_host_memory (self->engine), memory_budget << 20,
              "memory-budget", &error)))
    goto over_budget;
  self->encoder = gst_hart_cache_acquire_text_encoder (self->engine,
      qwen_dir, tokenizer_dir, &error);
  if (G_UNLIKELY (self->encoder == NULL))
    goto no_encoder;
  /* where its matrices are decides what it holds between prompts
   * (docs/precision.md, "The text encoder's matrices") */
  GST_INFO_OBJECT (self, "text encoder %s: layer matrices %s", qwen_dir,
      hart_text_encoder_matrices_name (hart_text_encoder_get_matrices
          (self->encoder)));
  self->generator = hart_generator_new (self->model, 1, &error);
  if (G_UNLIKELY (self->generator == NULL))
    goto no_model;

  self->model_comment = g_strdup_printf ("HART model %s, fingerprint %s, "
      "precision %s", model_name, hart_model_get_fingerprint (self->model),
      hart_precision_to_string (hart_engine_get_precision (self->engine)));
  g_free (self->model_name);
  self->model_name = model_name;
  self->n_frames = 0;
  self->time_base = 0;
  self->frame_base = 0;
  g_free (model_path);
  g_free (qwen_dir);
  g_free (tokenizer_dir);
  return TRUE;

no_model_path:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        (_("No model-path set and the bundled model is not installed.")),
        ("%s", error->message));
    g_clear_error (&error);
    g_free (model_path);
    g_free (model_name);
    g_free (qwen_dir);
    return FALSE;
  }
no_engine:
  {
    gst_hart_post_engine_error (GST_ELEMENT (self),
        gst_hart_device_to_string (device),
        hart_precision_to_string ((HartPrecision) precision), error);
    goto fail;
  }
no_model:
  {
    gst_hart_post_load_error (GST_ELEMENT (self), _("HART model"),
        model_path, error);
    goto fail;
  }
no_encoder:
  {
    gst_hart_post_load_error (GST_ELEMENT (self), _("text encoder"),
        qwen_dir, error);
    goto fail;
  }
over_budget:
  {
    /* the number is formatted apart: a G_GUINT64_FORMAT inside a
     * translatable string would cut it short for xgettext */
    gchar *budget = g_strdup_printf ("%" G_GUINT64_FORMAT, memory_budget);

    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        (_("The HART model does not fit in the memory budget of %s MiB."),
            budget), ("%s", error->message));
    g_free (budget);
    goto fail;
  }
fail:
  g_clear_error (&error);
  g_clear_pointer (&self->generator, hart_generator_free);
  g_clear_pointer (&self->encoder, gst_hart_cache_release);
  g_clear_pointer (&self->model, gst_hart_cache_release);
  g_clear_pointer (&self->engine, gst_hart_cache_release);
  g_free (model_path);
  g_free (model_name);
  g_free (qwen_dir);
  g_free (tokenizer_dir);
  return FALSE;
}

/* Frames of a batch that will not be pushed (a seek, a stop). */
static void
drop_pending (GstHartSrc * self)
{
  if (!g_queue_is_empty (&self->pending))
    GST_DEBUG_OBJECT (self, "dropping %u frames generated ahead",
        g_queue_get_length (&self->pending));
  g_queue_clear_full (&self->pending, (GDestroyNotify) gst_buffer_unref);
}

static gboolean
gst_hart_src_stop (GstBaseSrc * basesrc)
{
  GstHartSrc *self = GST_HART_SRC (basesrc);

  drop_pending (self);
  g_clear_pointer (&self->model_comment, g_free);
  g_clear_pointer (&self->model_name, g_free);
  g_clear_pointer (&self->generator, hart_generator_free);
  g_clear_pointer (&self->encoder, gst_hart_cache_release);
  g_clear_pointer (&self->model, gst_hart_cache_release);
  g_clear_pointer (&self->engine, gst_hart_cache_release);
  self->n_frames = 0;
  self->time_base = 0;
  self->frame_base = 0;
  self->live_anchor = GST_CLOCK_TIME_NONE;
  self->n_gen_times = 0;
  self->frames_dropped = self->frames_processed = 0;
  GST_OBJECT_LOCK (self);
  self->latency = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (self);
  self->tokens_out = FALSE;
  self->fps_n = 0;
  self->fps_d = 1;
  return TRUE;
}

/* ---- negotiation ---- */

static GstCaps *
gst_hart_src_get_caps (GstBaseSrc * basesrc, GstCaps * filter)
{
  GstHartSrc *self = GST_HART_SRC (basesrc);
  GstCaps *caps, *result;

  /* the size is the model's once it is loaded */
  if (self->model != NULL)
    caps = gst_hart_caps_for_model (self->model);
  else
    caps = gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (basesrc));

  if (filter == NULL)
    return caps;
  result = gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
  gst_caps_unref (caps);
  return result;
}

static GstCaps *
gst_hart_src_fixate (GstBaseSrc * basesrc, GstCaps * caps)
{
  GstStructure *s;

  caps = gst_caps_make_writable (caps);
  /* one structure: raw video unless downstream only takes token frames */
  caps = gst_caps_truncate (caps);
  s = gst_caps_get_structure (caps, 0);
  gst_structure_fixate_field_nearest_fraction (s, "framerate", 30, 1);
  return GST_BASE_SRC_CLASS (parent_class)->fixate (basesrc, caps);
}

/* A model draws one size.  When downstream takes our formats at some other
 * size only (a capsfilter asking for 512x512), GstBaseSrc would stop with a
 * bare "not-negotiated": say which size the model gives, and how to get
 * another. */
static gboolean
gst_hart_src_negotiate (GstBaseSrc * basesrc)
{
  GstHartSrc *self = GST_HART_SRC (basesrc);
  GstPad *pad = GST_BASE_SRC_PAD (basesrc);
  GstCaps *peer, *ours, *raw, *tokens;
  gboolean size_refused, tokens_size_refused;

  if (GST_BASE_SRC_CLASS (parent_class)->negotiate (basesrc))
    return TRUE;
  if (self->model == NULL)
    return FALSE;

  peer = gst_pad_peer_query_caps (pad, NULL);
  ours = gst_hart_caps_for_model (self->model);
  /* raw video at any size: token caps of another model are not a size
   * problem */
  raw = gst_caps_from_string (GST_HART_RAW_CAPS);
  size_refused = peer != NULL && !gst_caps_can_intersect (peer, ours)
      && gst_caps_can_intersect (peer, raw);
  /* token frames of this model at any size: hartrefine answers the size
   * the elements after it ask for */
  tokens = gst_caps_copy (ours);
  gst_caps_remove_structure (tokens, 0);
  gst_structure_remove_fields (gst_caps_get_structure (tokens, 0), "width",
      "height", NULL);
  tokens_size_refused = !size_refused && peer != NULL
      && !gst_caps_can_intersect (peer, ours)
      && gst_caps_can_intersect (peer, tokens);
  gst_caps_unref (tokens);
  if (size_refused || tokens_size_refused) {
    /* E87, E94: the same facts, and where videoscale goes */
    gchar *peer_text = gst_caps_to_string (peer);
    gchar *text = size_refused ?
        g_strdup_printf (_("The model \"%s\" makes pictures of %dx%d pixels "
            "only, a size downstream does not accept; put videoscale after "
            "hartsrc to get another size."), self->model_name,
        hart_model_get_width (self->model), hart_model_get_height (self->model))
        : g_strdup_printf (_("The model \"%s\" makes pictures of %dx%d pixels "
            "only, a size the elements after hartrefine do not accept; put "
            "videoscale after hartrefine to get another size."),
        self->model_name, hart_model_get_width (self->model),
        hart_model_get_height (self->model));

    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("%s", text),
        ("downstream accepts %s", peer_text));
    g_free (text);
    g_free (peer_text);
  }
  gst_caps_unref (raw);
  gst_caps_unref (ours);
  gst_clear_caps (&peer);
  return FALSE;
}

static GstClockTime live_slot (GstHartSrc * self, guint64 n);
static GstClockTime frame_timestamp (GstHartSrc * self, guint64 n,
    gint64 offset, GstClockTime * next);

/* Frames made ahead (a batch) keep their pictures across a new framerate:
 * their timestamps are made again at it. */
static void
restamp_pending (GstHartSrc * self)
{
  if (self->fps_n <= 0)
    return;
  for (GList * l = self->pending.head; l != NULL; l = l->next) {
    GstBuffer *b = l->data;
    GstClockTime t, next;

    t = frame_timestamp (self, GST_BUFFER_OFFSET (b), self->running_offset,
        &next);
    GST_BUFFER_PTS (b) = GST_BUFFER_DTS (b) = t;
    GST_BUFFER_DURATION (b) = next - t;
  }
}

static gboolean
gst_hart_src_set_caps (GstBaseSrc * basesrc, GstCaps * caps)
{
  GstHartSrc *self = GST_HART_SRC (basesrc);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gint fps_n = 0, fps_d = 1;
  GstVideoInfo info;
  gboolean tokens_out, same_pictures, rate_changed;

  gst_video_info_init (&info);
  if (gst_hart_caps_is_tokens (caps)) {
    if (!gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d))
      goto bad_caps;
    tokens_out = TRUE;
  } else {
    if (!gst_video_info_from_caps (&info, caps))
      goto bad_caps;
    fps_n = GST_VIDEO_INFO_FPS_N (&info);
    fps_d = GST_VIDEO_INFO_FPS_D (&info);
    tokens_out = FALSE;
  }
  /* frames made ahead at other caps than these are made again (as after a
   * seek: the video's held state goes with them) */
  same_pictures = tokens_out == self->tokens_out && (tokens_out
      || (self->info.finfo != NULL
          && GST_VIDEO_INFO_FORMAT (&info) ==
          GST_VIDEO_INFO_FORMAT (&self->info)
          && GST_VIDEO_INFO_WIDTH (&info) == GST_VIDEO_INFO_WIDTH (&self->info)
          && GST_VIDEO_INFO_HEIGHT (&info) ==
          GST_VIDEO_INFO_HEIGHT (&self->info)));
  if (!same_pictures && !g_queue_is_empty (&self->pending)) {
    drop_pending (self);
    if (self->generator != NULL)
      hart_generator_reset (self->generator);
  }
  self->tokens_out = tokens_out;
  if (!tokens_out)
    self->info = info;
  /* A new rate mid-stream: the next frame starts where the old rate put
   * it, and the frames after it follow at the new rate, so timestamps
   * keep increasing (a live source's slots likewise).  Frames made ahead
   * at the old caps are made again at the new ones. */
  rate_changed = self->fps_n > 0 && (gint64) fps_n *self->fps_d
      != (gint64) self->fps_n * fps_d;
  if (rate_changed) {
    GstClockTime next_pts;

    if (GST_CLOCK_TIME_IS_VALID (self->live_anchor)) {
      self->live_anchor = live_slot (self, self->n_frames);
      self->live_anchor_frame = self->n_frames;
    } else if (self->n_frames > self->frame_base) {
      frame_timestamp (self, self->n_frames - 1, 0, &next_pts);
      self->time_base = next_pts;
      self->frame_base = self->n_frames;
    }
    GST_DEBUG_OBJECT (self, "framerate %d/%d → %d/%d from frame %"
        G_GUINT64_FORMAT, self->fps_n, self->fps_d, fps_n, fps_d,
        self->n_frames);
  }
  self->fps_n = fps_n;
  self->fps_d = fps_d;
  if (rate_changed)
    restamp_pending (self);
  GST_DEBUG_OBJECT (self, "negotiated %" GST_PTR_FORMAT, caps);
  return TRUE;

bad_caps:
  GST_ERROR_OBJECT (self, "unusable caps %" GST_PTR_FORMAT, caps);
  return FALSE;
}

/* No sync by GstBaseSrc: a live hartsrc waits for each frame's slot itself
 * before generating it (wait_for_slot), so the frame is "captured" at its
 * timestamp, and GstBaseSrc adds no offset of its own to the timestamps
 * (it would for a source that let it sync). */
static void
gst_hart_src_get_times (GstBaseSrc * basesrc, GstBuffer * buffer,
    GstClockTime * start, GstClockTime * end)
{
  *start = GST_CLOCK_TIME_NONE;
  *end = GST_CLOCK_TIME_NONE;
}

/* frames ↔ time at the negotiated rate (FALSE without one) */
static gboolean
convert_frames (GstHartSrc * self, GstFormat src_format, gint64 src_value,
    GstFormat dest_format, gint64 * dest_value)
{
  if (src_format == dest_format) {
    *dest_value = src_value;
    return TRUE;
  }
  if (src_value == -1) {
    *dest_value = -1;
    return TRUE;
  }
  if (self->fps_n <= 0 || src_value < 0)
    return FALSE;
  if (src_format == GST_FORMAT_DEFAULT && dest_format == GST_FORMAT_TIME) {
    *dest_value = gst_util_uint64_scale (src_value, self->fps_d * GST_SECOND,
        self->fps_n);
    return TRUE;
  }
  if (src_format == GST_FORMAT_TIME && dest_format == GST_FORMAT_DEFAULT) {
    *dest_value = gst_util_uint64_scale (src_value, self->fps_n,
        self->fps_d * GST_SECOND);
    return TRUE;
  }
  return FALSE;
}

/* LATENCY (live): the generation time of a frame, measured (the slowest of
 * the last frames; one frame period before the first).  CONVERT: frames ↔
 * time.  SEEKING: in TIME and DEFAULT (frames) when not live. */
static gboolean
gst_hart_src_query (GstBaseSrc * basesrc, GstQuery * query)
{
  GstHartSrc *self = GST_HART_SRC (basesrc);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:
    {
      GstClockTime latency;

      if (!gst_base_src_is_live (basesrc))
        break;
      GST_OBJECT_LOCK (self);
      latency = self->latency;
      GST_OBJECT_UNLOCK (self);
      if (!GST_CLOCK_TIME_IS_VALID (latency))
        latency = self->fps_n > 0 ? gst_util_uint64_scale (GST_SECOND,
            self->fps_d, self->fps_n) : 0;
      GST_DEBUG_OBJECT (self, "latency %" GST_TIME_FORMAT,
          GST_TIME_ARGS (latency));
      /* no maximum: a frame that is late is not lost (the next slot is
       * generated instead), so downstream may buffer as much as it wants */
      gst_query_set_latency (query, TRUE, latency, GST_CLOCK_TIME_NONE);
      return TRUE;
    }
    case GST_QUERY_CONVERT:
    {
      GstFormat src_format, dest_format;
      gint64 src_value, dest_value;

      gst_query_parse_convert (query, &src_format, &src_value, &dest_format,
          &dest_value);
      if (!convert_frames (self, src_format, src_value, dest_format,
              &dest_value))
        return FALSE;
      gst_query_set_convert (query, src_format, src_value, dest_format,
          dest_value);
      return TRUE;
    }
    case GST_QUERY_SEEKING:
    {
      GstFormat format;

      gst_query_parse_seeking (query, &format, NULL, NULL, NULL);
      if (format != GST_FORMAT_TIME && format != GST_FORMAT_DEFAULT)
        break;
      gst_query_set_seeking (query, format,
          gst_hart_src_is_seekable (basesrc), 0, -1);
      return TRUE;
    }
    default:
      break;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (basesrc, query);
}

/* ---- seeking ---- */

/* Frame n depends only on (seed, n, settings) with seed-mode=increment, so
 * any frame can be made first; a live source follows the clock instead. */
static gboolean
gst_hart_src_is_seekable (GstBaseSrc * basesrc)
{
  return !gst_base_src_is_live (basesrc);
}

/* A seek this source cannot do is refused here, before GstBaseSrc flushes
 * the pipeline for it (a refusal in do_seek comes after the flush, and
 * leaves the stream without a segment): reverse playback, and a position
 * in frames past what a time can hold. */
static gboolean
gst_hart_src_event (GstBaseSrc * basesrc, GstEvent * event)
{
  GstHartSrc *self = GST_HART_SRC (basesrc);

  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK) {
    gdouble rate;
    GstFormat format;
    GstSeekType start_type, stop_type;
    gint64 start, stop;

    gst_event_parse_seek (event, &rate, &format, NULL, &start_type, &start,
        &stop_type, &stop);
    if (rate < 0) {
      GST_WARNING_OBJECT (self, "reverse playback (rate %g) is not "
          "supported", rate);
      return FALSE;
    }
    if (format == GST_FORMAT_DEFAULT && self->fps_n > 0) {
      /* the last frame whose time fits a GstClockTime */
      const guint64 max_frames = gst_util_uint64_scale (G_MAXINT64,
          self->fps_n, (guint64) self->fps_d * GST_SECOND);

      if ((start_type != GST_SEEK_TYPE_NONE && start > 0
              && (guint64) start > max_frames)
          || (stop_type != GST_SEEK_TYPE_NONE && stop > 0
              && (guint64) stop > max_frames)) {
        GST_WARNING_OBJECT (self, "seek to frame %" G_GINT64_FORMAT " (stop %"
            G_GINT64_FORMAT "): past frame %" G_GUINT64_FORMAT ", the last "
            "whose time a timestamp holds at %d/%d", start, stop, max_frames,
            self->fps_n, self->fps_d);
        return FALSE;
      }
    }
  }
  return GST_BASE_SRC_CLASS (parent_class)->event (basesrc, event);
}

/* SEGMENT (TIME; a DEFAULT seek is converted by GstBaseSrc through the
 * CONVERT query) → the frame whose interval holds its position.  Held
 * scales and a transition in progress are dropped: the first frame after a
 * seek is made from the prompt alone (docs/video.md). */
static gboolean
gst_hart_src_do_seek (GstBaseSrc * basesrc, GstSegment * segment)
{
  GstHartSrc *self = GST_HART_SRC (basesrc);

  if (segment->rate < 0) {
    GST_WARNING_OBJECT (self, "reverse playback is not supported");
    return FALSE;
  }
  segment->time = segment->start;
  if (self->fps_n > 0)
    self->n_frames = gst_util_uint64_scale (segment->position, self->fps_n,
        self->fps_d * GST_SECOND);
  else
    self->n_frames = 0;
  /* a seek's position is frames from 0 at the rate now (as the CONVERT
   * query says) */
  self->time_base = 0;
  self->frame_base = 0;
  if (self->generator != NULL)
    hart_generator_reset (self->generator);
  drop_pending (self);
  self->live_anchor = GST_CLOCK_TIME_NONE;
  GST_DEBUG_OBJECT (self, "seek to %" GST_TIME_FORMAT ": frame %"
      G_GUINT64_FORMAT, GST_TIME_ARGS (segment->position), self->n_frames);
  return TRUE;
}

/* ---- generation ---- */

static gboolean
gst_hart_src_unlock (GstBaseSrc * basesrc)
{
  GstHartSrc *self = GST_HART_SRC (basesrc);

  GST_DEBUG_OBJECT (self, "cancelling the generation in flight");
  g_cancellable_cancel (self->cancel);
  GST_OBJECT_LOCK (self);
  self->flushing = TRUE;
  if (self->slot_wait != NULL)
    gst_clock_id_unschedule (self->slot_wait);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_hart_src_unlock_stop (GstBaseSrc * basesrc)
{
  GstHartSrc *self = GST_HART_SRC (basesrc);

  g_cancellable_reset (self->cancel);
  GST_OBJECT_LOCK (self);
  self->flushing = FALSE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* Called in the streaming thread during create (), before the frame's
 * buffer exists: the frame is number n_frames, and its PTS the one create ()
 * gives it (same formula; keep the two together). */
static void
on_progress (int stage, int n_stages, const char *what, gpointer user_data)
{
  GstHartSrc *self = GST_HART_SRC (user_data);

  /* the frame in the making: create () set its timestamp before starting */
  gst_hart_post_progress (GST_ELEMENT (self), self->n_frames, self->frame_pts,
      self->frames_in_making, stage, n_stages, what);
}

/* A tag event on every prompt change: the prompt as title and description,
 * the model (folder name and fingerprint) as comment. */
static void
push_tags (GstHartSrc * self, const gchar * prompt)
{
  GstTagList *tags = gst_tag_list_new (GST_TAG_TITLE, prompt,
      GST_TAG_DESCRIPTION, prompt,
      GST_TAG_ENCODER, "HART",
      GST_TAG_COMMENT, self->model_comment, NULL);

  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
  gst_pad_push_event (GST_BASE_SRC_PAD (self), gst_event_new_tag (tags));
}

/* ---- live timing (docs/elements.md, "Live") ---- */

/* The running time now, and the element's clock (a reference) and base
 * time; NULL without a clock. */
static GstClock *
running_time_now (GstHartSrc * self, GstClockTime * base_time,
    GstClockTime * running_time)
{
  GstClock *clock;
  GstClockTime now;

  GST_OBJECT_LOCK (self);
  clock = GST_ELEMENT_CLOCK (self);
  if (clock != NULL)
    gst_object_ref (clock);
  *base_time = GST_ELEMENT_CAST (self)->base_time;
  GST_OBJECT_UNLOCK (self);
  if (clock == NULL)
    return NULL;
  now = gst_clock_get_time (clock);
  *running_time = now > *base_time ? now - *base_time : 0;
  return clock;
}

/* N frame periods, and the whole frames in time T (exact: no drift at
 * rates such as 30000/1001). */
static GstClockTime
frames_to_time (GstHartSrc * self, guint64 n)
{
  return gst_util_uint64_scale (n, self->fps_d * GST_SECOND, self->fps_n);
}

static guint64
time_to_frames (GstHartSrc * self, GstClockTime t)
{
  return gst_util_uint64_scale (t, self->fps_n, self->fps_d * GST_SECOND);
}

/* The slot of frame N: it is generated from that running time on. */
static GstClockTime
live_slot (GstHartSrc * self, guint64 n)
{
  return self->live_anchor + frames_to_time (self, n - self->live_anchor_frame);
}

/* A QoS message for the frames skipped to reach the slot of the next one
 * (as a live source that cannot keep up does).  It is about the first
 * skipped frame: its running time, stream time and timestamp are the PTS
 * it would have had (a live PTS is a running time, in a segment from 0),
 * the duration is that of the frames skipped, the jitter how late now
 * (RUNNING_TIME) is past its slot. */
static void
post_skipped (GstHartSrc * self, guint64 first, guint64 skipped,
    GstClockTime running_time)
{
  const GstClockTime slot = live_slot (self, first);
  GstClockTime pts, next;
  GstMessage *msg;

  pts = frame_timestamp (self, first, self->running_offset, &next);
  msg = gst_message_new_qos (GST_OBJECT_CAST (self), TRUE, pts, pts, pts,
      live_slot (self, first + skipped) - slot);

  gst_message_set_qos_values (msg, GST_CLOCK_DIFF (slot, running_time), 1.0,
      1000000);
  gst_message_set_qos_stats (msg, GST_FORMAT_BUFFERS, self->frames_processed,
      self->frames_dropped);
  gst_element_post_message (GST_ELEMENT_CAST (self), msg);
}

/* Live, before a frame: the first frame's slot starts now; a later frame
 * waits for its slot, or, when the slot passed while the frame before was
 * made, the frames whose slots passed are skipped (frame indices too: with
 * seed-mode=increment frame n stays a function of n) and the next frame is
 * the one whose slot holds now.  GST_FLOW_FLUSHING when unlocked. */
static GstFlowReturn
live_wait_for_slot (GstHartSrc * self, gboolean may_skip)
{
  GstClockTime base_time, rt, slot;
  GstClock *clock = running_time_now (self, &base_time, &rt);
  GstClockReturn ret;
  GstClockID id;

  if (clock == NULL)
    return GST_FLOW_OK;         /* no clock yet: nothing to follow */
  if (!GST_CLOCK_TIME_IS_VALID (self->live_anchor) || self->fps_n <= 0) {
    self->live_anchor = rt;
    self->live_anchor_frame = self->n_frames;
    gst_object_unref (clock);
    return GST_FLOW_OK;
  }
  slot = live_slot (self, self->n_frames);
  /* a frame already made (the rest of a batch) is pushed late rather than
   * skipped: the latency reported covers the batch's time */
  if (may_skip && rt >= live_slot (self, self->n_frames + 1)) {
    guint64 now_frame = self->live_anchor_frame +
        time_to_frames (self, rt - self->live_anchor);
    guint64 skipped = now_frame - self->n_frames;

    self->frames_dropped += skipped;
    GST_DEBUG_OBJECT (self, "late by %" GST_TIME_FORMAT ": skipping frames %"
        G_GUINT64_FORMAT " … %" G_GUINT64_FORMAT, GST_TIME_ARGS (rt - slot),
        self->n_frames, now_frame - 1);
    post_skipped (self, self->n_frames, skipped, rt);
    self->n_frames = now_frame;
  } else if (rt < slot) {
    id = gst_clock_new_single_shot_id (clock, base_time + slot);
    GST_OBJECT_LOCK (self);
    if (self->flushing) {
      GST_OBJECT_UNLOCK (self);
      gst_clock_id_unref (id);
      gst_object_unref (clock);
      return GST_FLOW_FLUSHING;
    }
    self->slot_wait = id;
    GST_OBJECT_UNLOCK (self);
    ret = gst_clock_id_wait (id, NULL);
    GST_OBJECT_LOCK (self);
    self->slot_wait = NULL;
    GST_OBJECT_UNLOCK (self);
    gst_clock_id_unref (id);
    if (ret == GST_CLOCK_UNSCHEDULED) {
      gst_object_unref (clock);
      return GST_FLOW_FLUSHING;
    }
  }
  gst_object_unref (clock);
  return GST_FLOW_OK;
}

/* Live, after a frame that took GEN_TIME: the latency becomes the slowest
 * of the last frames; the pipeline is told when it grows (or halves). */
static void
live_update_latency (GstHartSrc * self, GstClockTime gen_time)
{
  GstClockTime latency = 0, old;

  self->gen_times[self->n_gen_times++ % LIVE_LATENCY_WINDOW_SIZE] = gen_time;
  for (guint i = 0; i < MIN (self->n_gen_times, LIVE_LATENCY_WINDOW_SIZE); i++)
    latency = MAX (latency, self->gen_times[i]);
  GST_OBJECT_LOCK (self);
  old = self->latency;
  self->latency = latency;
  GST_OBJECT_UNLOCK (self);
  if (!GST_CLOCK_TIME_IS_VALID (old) || latency > old || latency < old / 2) {
    GST_DEBUG_OBJECT (self, "latency %" GST_TIME_FORMAT " (was %"
        GST_TIME_FORMAT ")", GST_TIME_ARGS (latency), GST_TIME_ARGS (old));
    gst_element_post_message (GST_ELEMENT_CAST (self),
        gst_message_new_latency (GST_OBJECT_CAST (self)));
  }
}

/* The PTS of frame N (its slot when live), timestamp-offset added (and
 * clamped at 0); the time of the frame after it is *NEXT. */
static GstClockTime
frame_timestamp (GstHartSrc * self, guint64 n, gint64 offset,
    GstClockTime * next)
{
  GstClockTime t, t_next;

  if (GST_CLOCK_TIME_IS_VALID (self->live_anchor)) {
    t = live_slot (self, n);
    t_next = live_slot (self, n + 1);
  } else if (n >= self->frame_base) {
    t = self->time_base + frames_to_time (self, n - self->frame_base);
    t_next = self->time_base + frames_to_time (self, n + 1 - self->frame_base);
  } else {
    t = frames_to_time (self, n);
    t_next = frames_to_time (self, n + 1);
  }
  if (offset < 0) {
    t = (GstClockTime) (-offset) > t ? 0 : t + offset;
    t_next = (GstClockTime) (-offset) > t_next ? 0 : t_next + offset;
  } else {
    t += offset;
    t_next += offset;
  }
  *next = t_next;
  return t;
}

/* Frame N's buffer, from its token frame TOKENS (one image) or its
 * picture IMAGE: contents, timestamps, offsets, meta.  NULL when the
 * picture does not fit the negotiated frame (an error is posted). */
static GstBuffer *
frame_buffer (GstHartSrc * self, guint64 n, const HartTokens * tokens,
    const HartImage * image, const HartGenerateParams * params,
    guint32 draws_frame, const gchar * prompt, gint64 timestamp_offset)
{
  GstBuffer *buffer;
  GstClockTime timestamp, next;

  if (self->tokens_out) {
    const gsize size = hart_tokens_serialized_size (tokens);
    GstMapInfo map;

    buffer = gst_buffer_new_allocate (NULL, size, NULL);
    gst_buffer_map (buffer, &map, GST_MAP_WRITE);
    hart_tokens_serialize (tokens, map.data);
    gst_buffer_unmap (buffer, &map);
  } else {
    GstVideoFrame frame;
    gboolean ok;

    buffer = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&self->info),
        NULL);
    ok = gst_video_frame_map (&frame, &self->info, buffer, GST_MAP_WRITE);
    if (ok) {
      ok = gst_hart_image_to_frame (image, &frame);
      gst_video_frame_unmap (&frame);
    }
    if (!ok) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          (_("Could not write the generated frame.")),
          ("frame of %dx%d, negotiated %dx%d", image->width, image->height,
              GST_VIDEO_INFO_WIDTH (&self->info),
              GST_VIDEO_INFO_HEIGHT (&self->info)));
      gst_buffer_unref (buffer);
      return NULL;
    }
  }

  if (self->fps_n > 0) {
    timestamp = frame_timestamp (self, n, timestamp_offset, &next);
    GST_BUFFER_DURATION (buffer) = next - timestamp;
  } else {
    timestamp = timestamp_offset > 0 ? (GstClockTime) timestamp_offset : 0;
    GST_BUFFER_DURATION (buffer) = GST_CLOCK_TIME_NONE;
  }
  GST_BUFFER_PTS (buffer) = timestamp;
  GST_BUFFER_DTS (buffer) = timestamp;
  GST_BUFFER_OFFSET (buffer) = n;
  GST_BUFFER_OFFSET_END (buffer) = n + 1;
  gst_buffer_set_hart_meta (buffer, prompt, params->seed, draws_frame,
      params->cfg, self->model_name, hart_model_get_fingerprint (self->model),
      hart_precision_to_string (hart_engine_get_precision (self->engine)));
  return buffer;
}

/* The next frame generated ahead, when it is frame n_frames (frames
 * before it are dropped); NULL when there is none. */
static GstBuffer *
pop_pending (GstHartSrc * self)
{
  GstBuffer *head;

  while ((head = g_queue_peek_head (&self->pending)) != NULL
      && GST_BUFFER_OFFSET (head) < self->n_frames)
    gst_buffer_unref (g_queue_pop_head (&self->pending));
  if (head == NULL)
    return NULL;
  if (GST_BUFFER_OFFSET (head) != self->n_frames) {
    drop_pending (self);
    return NULL;
  }
  return g_queue_pop_head (&self->pending);
}

/* How many frames the next generation makes: batch-size, but one for a
 * still image, no more than num-buffers leaves, and none past the
 * segment's stop (a seek to one frame makes one frame: GstBaseSrc ends the
 * stream after the frame that reaches the stop).  Called with the object
 * lock held. */
static guint
frames_to_generate (GstHartSrc * self, guint batch_size,
    gint64 timestamp_offset)
{
  GstBaseSrc *basesrc = GST_BASE_SRC (self);
  gint left = basesrc->num_buffers_left;
  const guint64 stop = basesrc->segment.stop;

  if (self->fps_n == 0)
    return 1;
  /* basesrc counts this frame before create () */
  if (left >= 0)
    batch_size = MIN (batch_size, (guint) left + 1);
  if (stop != (guint64) - 1 && !GST_CLOCK_TIME_IS_VALID (self->live_anchor)) {
    guint n = 1;
    GstClockTime end;

    /* frame n_frames + n − 1 ends at `end`: the last one while end < stop */
    frame_timestamp (self, self->n_frames, timestamp_offset, &end);
    while (n < batch_size && end < stop) {
      frame_timestamp (self, self->n_frames + n, timestamp_offset, &end);
      n++;
    }
    batch_size = n;
  }
  return MAX (batch_size, 1);
}

static GstFlowReturn
gst_hart_src_create (GstPushSrc * pushsrc, GstBuffer ** outbuf)
{
  GstHartSrc *self = GST_HART_SRC (pushsrc);
  HartGenerateParams params;
  HartTokens *tokens = NULL;
  HartImage **images = NULL;
  GstBuffer *buffer = NULL;
  GError *error = NULL;
  gchar *prompt;
  gint keep_scales, transition_frames;
  gboolean changed, live = gst_base_src_is_live (GST_BASE_SRC (self));
  gboolean increment;
  GstClockTime next;
  gint64 started, timestamp_offset;
  guint32 frames[MAX_BATCH_SIZE];
  guint n_wanted, n_made;

  /* framerate 0/1: one still image */
  if (self->fps_n == 0 && self->n_frames >= 1)
    return GST_FLOW_EOS;

  if (live) {
    GstFlowReturn ret = live_wait_for_slot (self,
        g_queue_is_empty (&self->pending));

    if (ret != GST_FLOW_OK)
      return ret;
  }

  /* a frame of the last batch */
  if ((buffer = pop_pending (self)) != NULL) {
    self->n_frames++;
    self->frames_processed++;
    *outbuf = buffer;
    return GST_FLOW_OK;
  }
  started = g_get_monotonic_time ();

  hart_generate_params_init (&params);
  GST_OBJECT_LOCK (self);
  timestamp_offset = self->running_offset;
  prompt = g_strdup (self->prompt);
  params.seed = self->seed;
  increment = self->seed_mode == GST_HART_SEED_MODE_INCREMENT;
  params.cfg = self->cfg_scale;
  params.top_k = self->top_k;
  params.top_p = self->top_p;
  params.smooth = self->smooth;
  keep_scales = self->keep_scales;
  transition_frames = self->transition_frames;
  n_wanted = frames_to_generate (self, self->batch_size, timestamp_offset);
  GST_OBJECT_UNLOCK (self);
  for (guint i = 0; i < n_wanted; i++)
    frames[i] = increment ? (guint32) (self->n_frames + i) : 0;
  params.frame = frames[0];
  params.progress = on_progress;
  params.progress_data = self;
  if (self->fps_n > 0)
    self->frame_pts = frame_timestamp (self, self->n_frames, timestamp_offset,
        &next);
  else
    self->frame_pts = timestamp_offset > 0 ? (GstClockTime) timestamp_offset
        : 0;

  /* the generator holds the first keep-scales maps of the prompt's frames
   * (no more than the model's scales − 1) and drops them at a prompt change
   * (docs/video.md) */
  params.keep_scales = keep_scales;

  /* An empty prompt is valid, as in the official code: every context
   * position is then a pad (mask 0, positions −1). */
  if (G_UNLIKELY (!hart_generator_set_prompt (self->generator, self->encoder,
              prompt, transition_frames, self->cancel, &changed, &error)))
    goto failed;
  if (changed) {
    GST_DEBUG_OBJECT (self, "encoded prompt \"%s\"", prompt);
    push_tags (self, prompt);
  }

  self->frames_in_making = (guint)
      hart_generator_next_batch_length (self->generator, &params,
      (int) n_wanted);
  GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT " (up to %u): seed %"
      G_GUINT64_FORMAT ", draws of frame %u, cfg %g, keep %d",
      self->n_frames, n_wanted, params.seed, params.frame, params.cfg,
      params.keep_scales);
  /* one frame: the one-frame calls, byte for byte hart_model_generate */
  if (n_wanted == 1)
    tokens = hart_generator_next_tokens (self->generator, &params,
        self->cancel, &error);
  else
    tokens = hart_generator_next_token_batch (self->generator, &params,
        frames, (int) n_wanted, self->cancel, &error);
  if (G_UNLIKELY (tokens == NULL))
    goto failed;
  n_made = (guint) tokens->batch;

  if (!self->tokens_out) {
    if (n_wanted == 1)
      images = hart_generator_refine (self->generator, tokens, &params,
          self->cancel, &error);
    else
      images = hart_generator_refine_batch (self->generator, tokens, &params,
          frames, self->cancel, &error);
    if (G_UNLIKELY (images == NULL))
      goto failed;
  }

  /* the batch's frames in order: the first is pushed now, the others
   * wait in pending for their create () */
  for (guint i = 0; i < n_made; i++) {
    HartTokens *item = NULL;
    GstBuffer *frame;

    if (self->tokens_out && n_made > 1) {
      const HartTokens *src = tokens;
      const int index = (int) i;

      item = hart_tokens_gather (&src, &index, 1);
      item->frame = frames[i];
    }
    frame = frame_buffer (self, self->n_frames + i, item ? item : tokens,
        images ? images[i] : NULL, &params, frames[i], prompt,
        timestamp_offset);
    hart_tokens_free (item);
    if (G_UNLIKELY (frame == NULL)) {
      drop_pending (self);
      gst_clear_buffer (&buffer);
      hart_tokens_free (tokens);
      hart_images_free (images);
      g_free (prompt);
      return GST_FLOW_ERROR;
    }
    if (i == 0)
      buffer = frame;
    else
      g_queue_push_tail (&self->pending, frame);
  }
  if (n_made > 1)
    GST_DEBUG_OBJECT (self, "batch of %u frames in %.3f s", n_made,
        (g_get_monotonic_time () - started) / 1e6);

  self->n_frames++;
  self->frames_processed++;
  if (live)
    live_update_latency (self, (g_get_monotonic_time () - started) *
        GST_USECOND);

  hart_images_free (images);
  hart_tokens_free (tokens);
  g_free (prompt);
  /* a later failure is a new one, with an error of its own */
  gst_hart_error_once_reset (GST_ELEMENT (self), &self->error_once);
  *outbuf = buffer;
  return GST_FLOW_OK;

failed:
  {
    GstFlowReturn ret = GST_FLOW_ERROR;

    if (g_error_matches (error, HART_ERROR, HART_ERROR_CANCELLED)
        || g_cancellable_is_cancelled (self->cancel)) {
      GST_DEBUG_OBJECT (self, "generation cancelled");
      ret = GST_FLOW_FLUSHING;
    } else {
      gst_hart_post_generate_error (GST_ELEMENT (self), error);
    }
    g_clear_error (&error);
    hart_tokens_free (tokens);
    hart_images_free (images);
    g_free (prompt);
    return ret;
  }
}

/* ---- URI handler: hart:///PROMPT?property=value&… ---- */

#define HART_URI_SCHEME "hart"

static GstURIType
gst_hart_src_uri_get_type (GType type)
{
  return GST_URI_SRC;
}

static const gchar *const *
gst_hart_src_uri_get_protocols (GType type)
{
  static const gchar *protocols[] = { HART_URI_SCHEME, NULL };

  return protocols;
}

/* hart:///PROMPT?seed=N (the prompt and the seed: what identifies the
 * picture; the other properties keep their values). */
static gchar *
gst_hart_src_uri_get_uri (GstURIHandler * handler)
{
  GstHartSrc *self = GST_HART_SRC (handler);
  gchar *path, *uri;

  GST_OBJECT_LOCK (self);
  path = g_uri_escape_string (self->prompt ? self->prompt : "", NULL, TRUE);
  uri = g_strdup_printf (HART_URI_SCHEME ":///%s?seed=%" G_GUINT64_FORMAT,
      path, self->seed);
  GST_OBJECT_UNLOCK (self);
  g_free (path);
  return uri;
}

/* The path (percent-decoded, without its leading '/') is the prompt, the
 * empty one included (get_uri's hart:///?seed=N of an empty prompt comes
 * back); written hart://PROMPT, the prompt stands where a host goes and is
 * taken from there (the host, then the path).  Each query parameter
 * NAME=VALUE sets the property NAME, its value read as gst-launch-1.0
 * reads one.  A parameter that is not a writable property, or a value it
 * does not take, refuses the whole URI and sets nothing. */
static gboolean
gst_hart_src_uri_set_uri (GstURIHandler * handler, const gchar * uri,
    GError ** error)
{
  GstHartSrc *self = GST_HART_SRC (handler);
  GUri *parsed;
  GHashTable *params = NULL;
  GHashTableIter iter;
  const gchar *path, *query, *name, *value;
  gchar *prompt = NULL;
  GArray *values = NULL;
  GPtrArray *specs = NULL;
  gboolean ok = FALSE;

  /* NON_DNS: a prompt in the host's place is text, percent-decoded */
  parsed = g_uri_parse (uri, G_URI_FLAGS_ENCODED_QUERY | G_URI_FLAGS_NON_DNS,
      NULL);
  if (parsed == NULL || g_strcmp0 (g_uri_get_scheme (parsed),
          HART_URI_SCHEME) != 0) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
        "not a %s:///PROMPT?property=value URI: %s", HART_URI_SCHEME, uri);
    goto out;
  }
  query = g_uri_get_query (parsed);
  if (query != NULL && !(params = g_uri_parse_params (query, -1, "&",
              G_URI_PARAMS_NONE, NULL))) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
        "malformed query in %s", uri);
    goto out;
  }
  /* every parameter is checked (name and value) before any is set */
  values = g_array_new (FALSE, TRUE, sizeof (GValue));
  g_array_set_clear_func (values, (GDestroyNotify) g_value_unset);
  specs = g_ptr_array_new ();
  if (params != NULL) {
    g_hash_table_iter_init (&iter, params);
    while (g_hash_table_iter_next (&iter, (gpointer *) & name,
            (gpointer *) & value)) {
      GParamSpec *pspec =
          g_object_class_find_property (G_OBJECT_GET_CLASS (self), name);
      GValue v = G_VALUE_INIT;

      if (pspec == NULL || !(pspec->flags & G_PARAM_WRITABLE)
          || g_str_equal (name, "name") || g_str_equal (name, "parent")) {
        g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_REFERENCE,
            "%s: hartsrc has no property \"%s\" to set", uri, name);
        goto out;
      }
      g_value_init (&v, G_PARAM_SPEC_VALUE_TYPE (pspec));
      if (!gst_value_deserialize_with_pspec (&v, value, pspec)
          || g_param_value_validate (pspec, &v)) {
        g_value_unset (&v);
        g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_REFERENCE,
            "%s: \"%s\" is not a value of the property \"%s\"", uri, value,
            name);
        goto out;
      }
      g_array_append_val (values, v);
      g_ptr_array_add (specs, pspec);
    }
  }
  /* g_uri_parse decoded both */
  path = g_uri_get_path (parsed);
  if (g_uri_get_host (parsed) != NULL && g_uri_get_host (parsed)[0] != '\0') {
    prompt = g_strconcat (g_uri_get_host (parsed), path, NULL);
  } else {
    if (path != NULL && path[0] == '/')
      path++;
    prompt = g_strdup (path ? path : "");
  }
  g_object_set (self, "prompt", prompt, NULL);
  for (guint i = 0; i < specs->len; i++)
    g_object_set_property (G_OBJECT (self),
        ((GParamSpec *) g_ptr_array_index (specs, i))->name,
        &g_array_index (values, GValue, i));
  GST_DEBUG_OBJECT (self, "URI %s", uri);
  ok = TRUE;

out:
  g_free (prompt);
  if (values != NULL)
    g_array_unref (values);
  if (specs != NULL)
    g_ptr_array_unref (specs);
  if (params != NULL)
    g_hash_table_unref (params);
  if (parsed != NULL)
    g_uri_unref (parsed);
  return ok;
}

static void
gst_hart_src_uri_handler_init (gpointer g_iface, gpointer iface_data)
{
  GstURIHandlerInterface *iface = (GstURIHandlerInterface *) g_iface;

  iface->get_type = gst_hart_src_uri_get_type;
  iface->get_protocols = gst_hart_src_uri_get_protocols;
  iface->get_uri = gst_hart_src_uri_get_uri;
  iface->set_uri = gst_hart_src_uri_set_uri;
}

/* ---- presets (GstPreset's key files, docs/elements.md "Presets") ---- */

/* What a preset holds: how frames are made.  Not the prompt or the
 * folders: what is made and where the files are, not settings (and
 * GStreamer 1.22's key files do not give back a string with a space or a
 * backslash as it was saved); not the element's name, the pipeline's
 * timing (num-buffers, is-live, timestamp-offset) or memory policy. */
static gchar **
gst_hart_src_preset_get_property_names (GstPreset * preset)
{
  static const gchar *const names[] = { "device", "device-id", "threads",
    "precision", "seed", "seed-mode", "cfg-scale", "top-k", "top-p",
    "smooth", "keep-scales", "transition-frames", "batch-size", NULL
  };

  return g_strdupv ((gchar **) names);
}

static void
gst_hart_src_preset_init (gpointer g_iface, gpointer iface_data)
{
  GstPresetInterface *iface = g_iface;

  iface->get_property_names = gst_hart_src_preset_get_property_names;
}
