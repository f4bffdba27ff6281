/* gst-hart — hartrefine: token frames to pictures
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-hartrefine
 * @title: hartrefine
 *
 * Runs the second half of HART on token frames (video/x-hart-tokens) from
 * hartsrc: the residual diffusion head and the decoder.  With the same
 * seed the pictures are byte for byte those hartsrc gives alone; a `queue`
 * between the two overlaps the autoregressive stage of frame n + 1 with the
 * refinement of frame n.  Token frames of another model are refused at caps
 * negotiation (fingerprint), malformed ones with a stream error.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 hartsrc model-path=hart-0.7b-1024px num-buffers=1 ! queue ! \
 *     hartrefine model-path=hart-0.7b-1024px ! videoconvert ! pngenc ! \
 *     filesink location=out.png
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthartrefine.h"
#include "gsthartcache.h"
#include "hart/bundled-model.h"
#include "gsthartcaps.h"
#include "gsthartmessages.h"
#include "gsthartmeta.h"

#include <glib/gi18n-lib.h>

GST_DEBUG_CATEGORY_STATIC (gst_hart_refine_debug);
#define GST_CAT_DEFAULT gst_hart_refine_debug

#define DEFAULT_MODEL_PATH NULL
#define DEFAULT_DEVICE GST_HART_DEVICE_AUTO
#define DEFAULT_DEVICE_ID 0
#define DEFAULT_THREADS 0
#define DEFAULT_PRECISION GST_HART_PRECISION_FP32
#define DEFAULT_SEED GST_HART_REFINE_SEED_FROM_FRAME
#define DEFAULT_TEMPORAL_NOISE FALSE
#define DEFAULT_MEMORY_BUDGET 0
#define DEFAULT_BATCH_SIZE 1
#define MAX_BATCH_SIZE 16

enum
{
  PROP_0,
  PROP_MODEL_PATH,
  PROP_DEVICE,
  PROP_DEVICE_ID,
  PROP_THREADS,
  PROP_PRECISION,
  PROP_SEED,
  PROP_TEMPORAL_NOISE,
  PROP_MEMORY_BUDGET,
  PROP_BATCH_SIZE,
};

static GstStaticPadTemplate gst_hart_refine_sink_template =
GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    /* no size or rate fields: decodebin plugs a decoder only for caps
     * that are a subset of its template, and hartparse's caps in
     * decodebin have no size (set_caps takes the model's) */
    GST_STATIC_CAPS (GST_HART_TOKENS_MEDIA_TYPE));

static GstStaticPadTemplate gst_hart_refine_src_template =
GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_HART_RAW_CAPS));

#define gst_hart_refine_parent_class parent_class
static void gst_hart_refine_preset_init (gpointer g_iface, gpointer iface_data);

G_DEFINE_TYPE_WITH_CODE (GstHartRefine, gst_hart_refine,
    GST_TYPE_BASE_TRANSFORM, G_IMPLEMENT_INTERFACE (GST_TYPE_PRESET,
        gst_hart_refine_preset_init));
/* A decoder of token frames to raw video, ranked so that decodebin (and
 * playbin, uridecodebin) plug it after hartparse: a .tok file plays. */
GST_ELEMENT_REGISTER_DEFINE (hartrefine, "hartrefine", GST_RANK_MARGINAL,
    GST_TYPE_HART_REFINE);

static void gst_hart_refine_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_hart_refine_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_hart_refine_finalize (GObject * object);

static GstStateChangeReturn gst_hart_refine_change_state (GstElement *
    element, GstStateChange transition);

static gboolean gst_hart_refine_post_message (GstElement * element,
    GstMessage * message);
static gboolean gst_hart_refine_start (GstBaseTransform * trans);
static gboolean gst_hart_refine_stop (GstBaseTransform * trans);
static GstCaps *gst_hart_refine_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter);
static gboolean gst_hart_refine_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean gst_hart_refine_transform_size (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, gsize size,
    GstCaps * othercaps, gsize * othersize);
static gboolean gst_hart_refine_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_hart_refine_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static GstFlowReturn gst_hart_refine_transform (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer * outbuf);
static GstFlowReturn drain_batch (GstHartRefine * self);
static guint batch_size (GstHartRefine * self);
static void clear_batch (GstHartRefine * self);
static GstFlowReturn gst_hart_refine_submit_input_buffer (GstBaseTransform *
    trans, gboolean is_discont, GstBuffer * input);
static GstFlowReturn gst_hart_refine_generate_output (GstBaseTransform *
    trans, GstBuffer ** outbuf);

static void
gst_hart_refine_class_init (GstHartRefineClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_hart_refine_debug, "hartrefine", 0,
      "HART token frame refinement");

  gobject_class->set_property = gst_hart_refine_set_property;
  gobject_class->get_property = gst_hart_refine_get_property;
  gobject_class->finalize = gst_hart_refine_finalize;

  g_object_class_install_property (gobject_class, PROP_MODEL_PATH,
      g_param_spec_string ("model-path", "Model path",
          "HART release folder (hart-0.7b-1024px), the model the token "
          "frames come from; NULL: the bundled " HART_BUNDLED_MODEL_NAME
          " model", DEFAULT_MODEL_PATH,
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
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed",
          "Seed of the residual diffusion noise (18446744073709551615: the "
          "seed stored in each token frame, which reproduces hartsrc alone)",
          0, G_MAXUINT64, DEFAULT_SEED,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TEMPORAL_NOISE,
      g_param_spec_boolean ("temporal-noise", "Temporal noise",
          "Reuse the residual diffusion noise of frame 0 for every frame, so "
          "fine detail does not flicker in video", DEFAULT_TEMPORAL_NOISE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MEMORY_BUDGET,
      g_param_spec_uint64 ("memory-budget", "Memory budget",
          "Refuse to start when the model would need more than this many "
          "MiB (estimated before loading; 0: no budget, or $"
          HART_MEMORY_BUDGET_ENV ")", 0, G_MAXUINT64 >> 20,
          DEFAULT_MEMORY_BUDGET, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "Refine up to N successive token frames in one engine call "
          "(throughput, at N frames of latency); in fp32 pictures are the "
          "bytes of those refined one at a time (in bf16 up to rounding); "
          "frames with "
          "other seeds or guidance, and events, end a batch", 1,
          MAX_BATCH_SIZE, DEFAULT_BATCH_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_set_static_metadata (element_class,
      "HART token frame refiner", "Codec/Decoder/Video",
      "Turns HART token frames into pictures (residual diffusion and "
      "decoder)", "gst-hart developers");
  gst_element_class_add_static_pad_template (element_class,
      &gst_hart_refine_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &gst_hart_refine_src_template);

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_hart_refine_change_state);
  element_class->post_message =
      GST_DEBUG_FUNCPTR (gst_hart_refine_post_message);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_hart_refine_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_hart_refine_stop);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_hart_refine_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_hart_refine_set_caps);
  trans_class->transform_size =
      GST_DEBUG_FUNCPTR (gst_hart_refine_transform_size);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_hart_refine_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_hart_refine_query);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_hart_refine_transform);
  trans_class->submit_input_buffer =
      GST_DEBUG_FUNCPTR (gst_hart_refine_submit_input_buffer);
  trans_class->generate_output =
      GST_DEBUG_FUNCPTR (gst_hart_refine_generate_output);
  trans_class->passthrough_on_same_caps = FALSE;

  gst_type_mark_as_plugin_api (GST_TYPE_HART_DEVICE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HART_PRECISION, 0);
}

static void
gst_hart_refine_init (GstHartRefine * self)
{
  self->model_path = g_strdup (DEFAULT_MODEL_PATH);
  self->device = DEFAULT_DEVICE;
  self->device_id = DEFAULT_DEVICE_ID;
  self->n_threads = DEFAULT_THREADS;
  self->precision = DEFAULT_PRECISION;
  self->seed = DEFAULT_SEED;
  self->temporal_noise = DEFAULT_TEMPORAL_NOISE;
  self->memory_budget = DEFAULT_MEMORY_BUDGET;
  self->batch_size = DEFAULT_BATCH_SIZE;
  g_queue_init (&self->batch_in);
  self->own_position = GST_CLOCK_TIME_NONE;
  self->cancel = g_cancellable_new ();
}

static void
gst_hart_refine_finalize (GObject * object)
{
  GstHartRefine *self = GST_HART_REFINE (object);

  g_free (self->model_path);
  g_free (self->model_name);
  gst_clear_caps (&self->model_caps);
  g_object_unref (self->cancel);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hart_refine_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHartRefine *self = GST_HART_REFINE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_PATH:
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
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
    case PROP_SEED:
      self->seed = g_value_get_uint64 (value);
      break;
    case PROP_TEMPORAL_NOISE:
      self->temporal_noise = g_value_get_boolean (value);
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
}

static void
gst_hart_refine_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstHartRefine *self = GST_HART_REFINE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL_PATH:
      g_value_set_string (value, self->model_path);
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
    case PROP_SEED:
      g_value_set_uint64 (value, self->seed);
      break;
    case PROP_TEMPORAL_NOISE:
      g_value_set_boolean (value, self->temporal_noise);
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

static GstStateChangeReturn
gst_hart_refine_change_state (GstElement * element, GstStateChange transition)
{
  GstHartRefine *self = GST_HART_REFINE (element);
  GstStateChangeReturn ret;

  /* the streaming thread holds the stream lock while it refines: cancel
   * before the base class deactivates the pads and waits for it */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    g_cancellable_cancel (self->cancel);

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY
      || transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    g_cancellable_reset (self->cancel);
  return ret;
}

static gboolean
gst_hart_refine_post_message (GstElement * element, GstMessage * message)
{
  return gst_hart_error_once_post_message (element,
      &GST_HART_REFINE (element)->error_once, message,
      GST_ELEMENT_CLASS (parent_class)->post_message);
}

static gboolean
gst_hart_refine_start (GstBaseTransform * trans)
{
  GstHartRefine *self = GST_HART_REFINE (trans);
  gchar *model_path;
  GstHartDevice device;
  GstHartPrecision precision;
  gint device_id;
  guint64 memory_budget;
  gint budget_images;
  GError *error = NULL;

  gst_hart_error_once_reset (GST_ELEMENT (self), &self->error_once);
  GST_OBJECT_LOCK (self);
  model_path = g_strdup (self->model_path);
  device = self->device;
  precision = self->precision;
  device_id = self->device_id;
  memory_budget = self->memory_budget;
  /* a batch has buffers of its own beside the one-frame set: the budget
   * counts both, for the batch-size set now */
  budget_images = self->batch_size > 1 ? 1 + (gint) self->batch_size : 1;
  GST_OBJECT_UNLOCK (self);
  /* before the bundled model's folder (".../shapes-64px/hart") replaces an
   * empty model-path; set_caps names the model without reading model-path,
   * which the application may set meanwhile */
  g_free (self->model_name);
  self->model_name = gst_hart_model_name (model_path);

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
  /* in the precision the engine resolved (auto: what this device runs) */
  if (G_UNLIKELY (!hart_model_check_memory_budget (model_path, TRUE,
              budget_images, hart_engine_get_precision (self->engine),
              memory_budget << 20, "memory-budget", &error)))
    goto over_budget;
  self->model = gst_hart_cache_acquire_model (self->engine, model_path, &error);
  if (G_UNLIKELY (self->model == NULL))
    goto no_model;

  GST_INFO_OBJECT (self, "model %s on %s, fingerprint %s", model_path,
      hart_engine_get_device (self->engine),
      hart_model_get_fingerprint (self->model));
  g_free (model_path);
  {
    /* gst_hart_caps_for_model: raw video, then token frames */
    GstCaps *caps = gst_hart_caps_for_model (self->model);

    GST_OBJECT_LOCK (self);
    gst_caps_take (&self->model_caps, gst_caps_copy_nth (caps, 1));
    GST_OBJECT_UNLOCK (self);
    gst_caps_unref (caps);
  }
  return TRUE;

no_model_path:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        (_("No model-path set and the bundled model is not installed.")),
        ("%s", error->message));
    g_clear_error (&error);
    g_free (model_path);
    return FALSE;
  }
no_engine:
  {
    gst_hart_post_engine_error (GST_ELEMENT (self),
        gst_hart_device_to_string (device),
        hart_precision_to_string ((HartPrecision) precision), error);
    g_clear_error (&error);
    g_free (model_path);
    return FALSE;
  }
no_model:
  {
    gst_hart_post_load_error (GST_ELEMENT (self), _("HART model"),
        model_path, error);
    g_clear_error (&error);
    g_clear_pointer (&self->engine, gst_hart_cache_release);
    g_free (model_path);
    return FALSE;
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
    g_clear_error (&error);
    g_clear_pointer (&self->engine, gst_hart_cache_release);
    g_free (model_path);
    return FALSE;
  }
}

/* Drops the token frames waiting for a batch and the batch state (a
 * flush, a stop). */
static void
clear_batch (GstHartRefine * self)
{
  g_queue_clear_full (&self->batch_in, (GDestroyNotify) gst_buffer_unref);
  self->own_push = FALSE;
  self->batch_discont = FALSE;
  GST_OBJECT_LOCK (self);
  self->own_position = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_hart_refine_stop (GstBaseTransform * trans)
{
  GstHartRefine *self = GST_HART_REFINE (trans);

  GST_OBJECT_LOCK (self);
  gst_clear_caps (&self->model_caps);
  GST_OBJECT_UNLOCK (self);
  clear_batch (self);
  g_clear_pointer (&self->generator, hart_generator_free);
  g_clear_pointer (&self->model, gst_hart_cache_release);
  g_clear_pointer (&self->engine, gst_hart_cache_release);
  g_clear_pointer (&self->model_name, g_free);
  return TRUE;
}

/* Token caps ↔ raw caps: the size and framerate carry over; the format is
 * any of ours.  The fingerprint is not filtered here but checked in
 * set_caps, so a frame of another model fails with an error that says so. */
static GstCaps *
gst_hart_refine_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstCaps *result = gst_caps_new_empty ();
  GstCaps *templ = gst_static_caps_get (direction == GST_PAD_SINK ?
      &gst_hart_refine_src_template.static_caps :
      &gst_hart_refine_sink_template.static_caps);
  const gchar *const fields[] = { "width", "height", "framerate" };
  GstHartRefine *self = GST_HART_REFINE (trans);
  GstCaps *model_caps = NULL;

  GST_OBJECT_LOCK (self);
  if (self->model_caps != NULL)
    model_caps = gst_caps_ref (self->model_caps);
  GST_OBJECT_UNLOCK (self);

  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *in = gst_caps_get_structure (caps, i);
    GstCaps *one = gst_caps_copy (templ);
    GstStructure *out = gst_caps_get_structure (one, 0);

    for (guint f = 0; f < G_N_ELEMENTS (fields); f++) {
      const GValue *v = gst_structure_get_value (in, fields[f]);
      /* token caps without a size (hartparse's, made before it was
       * linked, as in decodebin) have the loaded model's */
      if (v == NULL && direction == GST_PAD_SINK && model_caps != NULL && f < 2)
        v = gst_structure_get_value (gst_caps_get_structure (model_caps, 0),
            fields[f]);
      if (v)
        gst_structure_set_value (out, fields[f], v);
    }
    result = gst_caps_merge (result, one);
  }
  gst_caps_unref (templ);
  gst_clear_caps (&model_caps);

  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, result,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (result);
    result = tmp;
  }
  GST_DEBUG_OBJECT (trans, "%s %" GST_PTR_FORMAT " → %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, result);
  return result;
}

static gboolean
gst_hart_refine_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstHartRefine *self = GST_HART_REFINE (trans);
  const GstStructure *s = gst_caps_get_structure (incaps, 0);
  const gchar *fingerprint = gst_structure_get_string (s, "fingerprint");
  const gchar *ours = hart_model_get_fingerprint (self->model);
  gint width = 0, height = 0;

  /* no size: the frames are the model's (the fingerprint says so), so
   * the size is the model's too */
  if (!gst_structure_get_int (s, "width", &width))
    width = hart_model_get_width (self->model);
  if (!gst_structure_get_int (s, "height", &height))
    height = hart_model_get_height (self->model);
  if (G_UNLIKELY (fingerprint == NULL || g_strcmp0 (fingerprint, ours) != 0))
    goto wrong_model;
  if (G_UNLIKELY (width != hart_model_get_width (self->model)
          || height != hart_model_get_height (self->model)))
    goto wrong_model;
  if (!gst_video_info_from_caps (&self->out_info, outcaps))
    return FALSE;
  return TRUE;

wrong_model:
  {
    /* the caps' string may hold any bytes: the messages must be UTF-8 */
    gchar *theirs = gst_hart_debug_text (fingerprint ? fingerprint : "(none)");
    /* the message names both models by the start of their fingerprints (a
     * token frame carries no model name); the debug text has them whole */
    gchar *theirs_short = fingerprint ?
        g_utf8_substring (theirs, 0, MIN (g_utf8_strlen (theirs, -1), 12)) :
        g_strdup (_("none"));
    gchar *ours_short = g_strndup (ours, 12);

    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("The token frames come from another model (fingerprint %s) than "
                "the loaded model \"%s\" (fingerprint %s); give hartsrc and "
                "hartrefine the same model-path."), theirs_short,
            self->model_name, ours_short),
        ("token caps fingerprint %s, %dx%d; the loaded model's fingerprint "
            "%s, %dx%d", theirs, width, height,
            ours, hart_model_get_width (self->model),
            hart_model_get_height (self->model)));
    g_free (theirs);
    g_free (theirs_short);
    g_free (ours_short);
    return FALSE;
  }
}

static gboolean
gst_hart_refine_transform_size (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, gsize size,
    GstCaps * othercaps, gsize * othersize)
{
  GstVideoInfo info;

  /* token frame → picture; the other way has no fixed answer */
  if (direction != GST_PAD_SINK || !gst_video_info_from_caps (&info, othercaps))
    return FALSE;
  *othersize = GST_VIDEO_INFO_SIZE (&info);
  return TRUE;
}

static gboolean
gst_hart_refine_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstHartRefine *self = GST_HART_REFINE (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      g_cancellable_cancel (self->cancel);
      break;
    case GST_EVENT_FLUSH_STOP:
      clear_batch (self);
      g_cancellable_reset (self->cancel);
      gst_hart_error_once_reset (GST_ELEMENT (self), &self->error_once);
      break;
    default:
      /* frames waiting in a batch come before any event that follows them
       * in the stream (EOS, segment, caps, tags, gap) */
      if (GST_EVENT_IS_SERIALIZED (event)
          && !g_queue_is_empty (&self->batch_in)) {
        GstFlowReturn ret = drain_batch (self);

        if (ret != GST_FLOW_OK)
          GST_DEBUG_OBJECT (self, "draining the batch before %s: %s",
              GST_EVENT_TYPE_NAME (event), gst_flow_get_name (ret));
      }
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* batch-size N holds the first frame of a batch until N − 1 more have
 * come: N − 1 frame periods (of the sink caps' framerate) more latency. */
static void
add_batch_latency (GstHartRefine * self, GstQuery * query)
{
  const guint n = batch_size (self);
  GstCaps *caps;
  gint fps_n = 0, fps_d = 1;
  gboolean live;
  GstClockTime min, max, extra;

  if (n <= 1)
    return;
  caps = gst_pad_get_current_caps (GST_BASE_TRANSFORM_SINK_PAD (self));
  if (caps != NULL)
    gst_structure_get_fraction (gst_caps_get_structure (caps, 0),
        "framerate", &fps_n, &fps_d);
  gst_clear_caps (&caps);
  if (fps_n <= 0 || fps_d <= 0)
    return;
  extra = gst_util_uint64_scale (n - 1, fps_d * GST_SECOND, fps_n);
  gst_query_parse_latency (query, &live, &min, &max);
  min += extra;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += extra;
  GST_DEBUG_OBJECT (self, "batch of %u: %" GST_TIME_FORMAT " more latency",
      n, GST_TIME_ARGS (extra));
  gst_query_set_latency (query, live, min, max);
}

/* With a model the sink pad's caps query answers its token caps (size and
 * fingerprint), so upstream (hartparse, hartsrc) negotiates them.  When
 * they cannot meet upstream's offer (frames of another model), the answer
 * stays the template's: negotiation goes on and set_caps refuses the caps
 * with an error naming both models (E63), not a bare not-negotiated. */
static gboolean
gst_hart_refine_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstHartRefine *self = GST_HART_REFINE (trans);
  GstCaps *model_caps = NULL, *result, *narrowed;

  /* pictures hartrefine pushed itself (batches): GstBaseTransform's answer
   * would be the last one it pushed, or the segment's start */
  if (direction == GST_PAD_SRC && GST_QUERY_TYPE (query) == GST_QUERY_POSITION) {
    GstFormat format;
    gint64 position = -1;

    gst_query_parse_position (query, &format, NULL);
    GST_OBJECT_LOCK (self);
    if (format == GST_FORMAT_TIME && trans->segment.format == GST_FORMAT_TIME
        && GST_CLOCK_TIME_IS_VALID (self->own_position))
      position = gst_segment_to_stream_time (&trans->segment,
          GST_FORMAT_TIME, self->own_position);
    GST_OBJECT_UNLOCK (self);
    if (position != -1) {
      gst_query_set_position (query, format, position);
      return TRUE;
    }
  }
  if (!GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction, query))
    return FALSE;
  if (direction == GST_PAD_SRC && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY)
    add_batch_latency (self, query);
  if (direction != GST_PAD_SINK || GST_QUERY_TYPE (query) != GST_QUERY_CAPS)
    return TRUE;

  GST_OBJECT_LOCK (self);
  if (self->model_caps != NULL)
    model_caps = gst_caps_ref (self->model_caps);
  GST_OBJECT_UNLOCK (self);
  if (model_caps == NULL)
    return TRUE;

  gst_query_parse_caps_result (query, &result);
  narrowed = gst_caps_intersect_full (result, model_caps,
      GST_CAPS_INTERSECT_FIRST);
  if (!gst_caps_is_empty (narrowed))
    gst_query_set_caps_result (query, narrowed);
  GST_DEBUG_OBJECT (self, "caps query: %" GST_PTR_FORMAT, narrowed);
  gst_caps_unref (narrowed);
  gst_caps_unref (model_caps);
  return TRUE;
}

/* The frame a refinement's progress messages are about: the input
 * buffer's offset and PTS (hartsrc numbers its token frames; GDP and
 * queues keep both). */
typedef struct
{
  GstElement *element;
  guint64 frame;
  GstClockTime pts;
  guint frames;                 /* the call's frames, FRAME first */
} RefineProgress;

static void
on_progress (int stage, int n_stages, const char *what, gpointer user_data)
{
  const RefineProgress *progress = user_data;

  gst_hart_post_progress (progress->element, progress->frame, progress->pts,
      progress->frames, stage, n_stages, what);
}

/* The cfg-scale hartsrc was given, from a token frame's header, which
 * stores the guidance of the residual diffusion instead: cfg × (SN − 2) /
 * (SN − 1) in single precision (the ratio of the last stage,
 * hart/generate.c).  Of the values that give the stored one, the shortest
 * decimal: the one a user types.  FALSE with two scales (ratio 0: the
 * header keeps nothing of the cfg). */
static gboolean
cfg_from_header (const HartTokens * tokens, gdouble * cfg)
{
  const gdouble ratio = (gdouble) (tokens->n_scales - 2) /
      (gdouble) (tokens->n_scales - 1);
  gdouble exact;

  if (!(ratio > 0.0))
    return FALSE;
  exact = (gdouble) tokens->cfg_scale / ratio;
  for (gint digits = 1; digits <= 17; digits++) {
    gchar format[8], text[G_ASCII_DTOSTR_BUF_SIZE];
    gdouble candidate;

    g_snprintf (format, sizeof format, "%%.%dg", digits);
    candidate = g_ascii_strtod (g_ascii_formatd (text, sizeof text, format,
            exact), NULL);
    if ((gfloat) (candidate * ratio) == tokens->cfg_scale) {
      *cfg = candidate;
      return TRUE;
    }
  }
  *cfg = exact;
  return TRUE;
}

/* The picture's GstHartMeta.  GstBaseTransform has copied the input's
 * meta, if any: when it is this token frame's (seed, frame and fingerprint
 * agree with the header) it stays, prompt and exact cfg-scale included.
 * Without one (gdppay ! gdpdepay, files and the network drop metas) it is
 * rebuilt from the header, which has no prompt.  The seed and frame are
 * those the token maps were drawn with, even when the seed or
 * temporal-noise properties change the residual noise; the model is the
 * loaded one (its fingerprint is the frame's: set_caps checks it). */
static void
set_meta (GstHartRefine * self, GstBuffer * outbuf, const HartTokens * tokens)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (outbuf,
      GST_HART_META_NAME);
  const gchar *ours =
      hart_precision_to_string (hart_engine_get_precision (self->engine));
  gdouble cfg = -1.0;

  if (meta != NULL) {
    GstStructure *s = gst_custom_meta_get_structure (meta);
    guint64 seed;
    guint frame;

    if (gst_structure_get_uint64 (s, GST_HART_META_SEED, &seed)
        && gst_structure_get_uint (s, GST_HART_META_FRAME, &frame)
        && seed == tokens->seed && frame == tokens->frame
        && g_strcmp0 (gst_structure_get_string (s, GST_HART_META_FINGERPRINT),
            tokens->fingerprint) == 0) {
      const gchar *theirs = gst_structure_get_string (s,
          GST_HART_META_PRECISION);

      if (theirs != NULL && strcmp (theirs, ours) != 0)
        gst_structure_set (s, GST_HART_META_TOKENS_PRECISION, G_TYPE_STRING,
            theirs, NULL);
      gst_structure_set (s, GST_HART_META_MODEL, G_TYPE_STRING,
          self->model_name, GST_HART_META_PRECISION, G_TYPE_STRING, ours, NULL);
      return;
    }
    GST_DEBUG_OBJECT (self, "the input's meta %" GST_PTR_FORMAT " is not the "
        "token frame's (seed %" G_GUINT64_FORMAT ", frame %u): replaced", s,
        tokens->seed, tokens->frame);
    gst_buffer_remove_meta (outbuf, (GstMeta *) meta);
  }
  if (!cfg_from_header (tokens, &cfg))
    GST_DEBUG_OBJECT (self, "two scales: no cfg-scale in the token frame");
  gst_buffer_set_hart_meta (outbuf, NULL, tokens->seed, tokens->frame, cfg,
      self->model_name, tokens->fingerprint, ours);
}

/* INBUF's token frame, or NULL with a STREAM DECODE error posted. */
static HartTokens *
parse_token_frame (GstHartRefine * self, GstBuffer * inbuf)
{
  HartTokens *tokens = NULL;
  GError *error = NULL;
  GstMapInfo map;

  if (!gst_buffer_map (inbuf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        (_("Could not read the token frame.")), ("buffer mapping failed"));
    return NULL;
  }
  tokens = hart_tokens_parse (map.data, map.size, &error);
  gst_buffer_unmap (inbuf, &map);
  if (G_UNLIKELY (tokens == NULL)) {
    gchar *debug = gst_hart_debug_text (error->message);

    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        (_("Malformed token frame.")), ("%s", debug));
    g_free (debug);
    g_clear_error (&error);
  }
  return tokens;
}

/* The refinement settings of TOKENS: the seed property or the frame's, the
 * frame's draws (frame 0 with temporal-noise), its guidance. */
static void
refine_params (const HartTokens * tokens, guint64 seed,
    gboolean temporal_noise, HartGenerateParams * params)
{
  hart_generate_params_init (params);
  params->seed = seed == GST_HART_REFINE_SEED_FROM_FRAME ? tokens->seed : seed;
  params->frame = temporal_noise ? 0 : tokens->frame;
  params->cfg = tokens->cfg_scale;
}

/* The generator for refinements of BATCH images a frame. */
static gboolean
ensure_generator (GstHartRefine * self, int batch, GError ** error)
{
  if (self->generator == NULL
      || hart_generator_get_batch (self->generator) != batch) {
    g_clear_pointer (&self->generator, hart_generator_free);
    self->generator = hart_generator_new (self->model, batch, error);
  }
  return self->generator != NULL;
}

/* A failed refinement: FLUSHING when cancelled, else an error posted. */
static GstFlowReturn
refine_failed (GstHartRefine * self, GError * error)
{
  if (g_error_matches (error, HART_ERROR, HART_ERROR_CANCELLED)) {
    GST_DEBUG_OBJECT (self, "refinement cancelled");
    g_clear_error (&error);
    return GST_FLOW_FLUSHING;
  }
  gst_hart_post_generate_error (GST_ELEMENT (self), error);
  g_clear_error (&error);
  return GST_FLOW_ERROR;
}

/* IMAGE into OUTBUF, with the meta of TOKENS. */
static GstFlowReturn
write_picture (GstHartRefine * self, GstBuffer * outbuf,
    const HartTokens * tokens, const HartImage * image)
{
  GstVideoFrame frame;
  gboolean written;

  set_meta (self, outbuf, tokens);
  if (!gst_video_frame_map (&frame, &self->out_info, outbuf, GST_MAP_WRITE))
    goto map_failed;
  written = gst_hart_image_to_frame (image, &frame);
  gst_video_frame_unmap (&frame);
  if (G_UNLIKELY (!written))
    goto map_failed;
  /* a later failure is a new one, with an error of its own */
  gst_hart_error_once_reset (GST_ELEMENT (self), &self->error_once);
  return GST_FLOW_OK;

map_failed:
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      (_("Could not write the refined frame.")),
      ("buffer mapping or size mismatch"));
  return GST_FLOW_ERROR;
}

static GstFlowReturn
gst_hart_refine_transform (GstBaseTransform * trans, GstBuffer * inbuf,
    GstBuffer * outbuf)
{
  GstHartRefine *self = GST_HART_REFINE (trans);
  HartGenerateParams params;
  HartTokens *tokens;
  HartImage **images;
  GError *error = NULL;
  RefineProgress progress = { GST_ELEMENT (trans), GST_BUFFER_OFFSET (inbuf),
    GST_BUFFER_PTS (inbuf), 1
  };
  guint64 seed;
  gboolean temporal_noise;
  GstFlowReturn ret;

  GST_OBJECT_LOCK (self);
  seed = self->seed;
  temporal_noise = self->temporal_noise;
  GST_OBJECT_UNLOCK (self);

  if (G_UNLIKELY ((tokens = parse_token_frame (self, inbuf)) == NULL))
    return GST_FLOW_ERROR;
  refine_params (tokens, seed, temporal_noise, &params);
  params.progress = on_progress;
  params.progress_data = &progress;
  GST_DEBUG_OBJECT (self, "refining: seed %" G_GUINT64_FORMAT ", frame %u",
      params.seed, params.frame);
  images = ensure_generator (self, tokens->batch, &error) ?
      hart_generator_refine (self->generator, tokens, &params, self->cancel,
      &error) : NULL;
  if (G_UNLIKELY (images == NULL)) {
    hart_tokens_free (tokens);
    return refine_failed (self, error);
  }
  ret = write_picture (self, outbuf, tokens, images[0]);
  hart_tokens_free (tokens);
  hart_images_free (images);
  return ret;
}

/* ---- batch-size ---- */

static guint
batch_size (GstHartRefine * self)
{
  guint n;

  GST_OBJECT_LOCK (self);
  n = self->batch_size;
  GST_OBJECT_UNLOCK (self);
  return n;
}

/* Whether token frame B can join a batch that starts with A: one image
 * each, the same refinement seed and guidance (a batch has one of each). */
static gboolean
same_batch (const HartTokens * a, const HartTokens * b, guint64 seed)
{
  /* the shapes too: frames that claim one model but do not have its shape
   * are refused by the refinement, one by one, with an error */
  return a->batch == 1 && b->batch == 1 && a->cfg_scale == b->cfg_scale
      && (seed != GST_HART_REFINE_SEED_FROM_FRAME || a->seed == b->seed)
      && strcmp (a->fingerprint, b->fingerprint) == 0
      && a->latent_channels == b->latent_channels && a->side == b->side
      && a->embed_dim == b->embed_dim && a->n_scales == b->n_scales
      && a->stage_tokens == b->stage_tokens;
}

/* Refines every token frame of batch_in, in as few calls as their seeds
 * and guidance allow, into pictures appended to OUT (input timestamps,
 * flags and metas, then the picture's meta). */
static GstFlowReturn
refine_queued (GstHartRefine * self, GQueue * out_pictures)
{
  const guint n = g_queue_get_length (&self->batch_in);
  GstBuffer **in = g_new0 (GstBuffer *, MAX (n, 1));
  HartTokens **tokens = g_new0 (HartTokens *, MAX (n, 1));
  GstFlowReturn ret = GST_FLOW_OK;
  guint64 seed;
  gboolean temporal_noise;
  GError *error = NULL;

  GST_OBJECT_LOCK (self);
  seed = self->seed;
  temporal_noise = self->temporal_noise;
  GST_OBJECT_UNLOCK (self);

  for (guint i = 0; i < n; i++)
    in[i] = g_queue_pop_head (&self->batch_in);
  for (guint i = 0; i < n && ret == GST_FLOW_OK; i++)
    if ((tokens[i] = parse_token_frame (self, in[i])) == NULL)
      ret = GST_FLOW_ERROR;

  for (guint first = 0; first < n && ret == GST_FLOW_OK;) {
    RefineProgress progress = { GST_ELEMENT (self),
      GST_BUFFER_OFFSET (in[first]), GST_BUFFER_PTS (in[first])
    };
    guint32 frames[MAX_BATCH_SIZE];
    HartGenerateParams params;
    HartTokens *batch;
    HartImage **images;
    guint len = 1;

    while (first + len < n && len < MAX_BATCH_SIZE
        && same_batch (tokens[first], tokens[first + len], seed))
      len++;
    progress.frames = len;
    refine_params (tokens[first], seed, temporal_noise, &params);
    params.progress = on_progress;
    params.progress_data = &progress;
    for (guint i = 0; i < len; i++) {
      HartGenerateParams item;

      refine_params (tokens[first + i], seed, temporal_noise, &item);
      frames[i] = item.frame;
    }
    GST_DEBUG_OBJECT (self, "refining %u frames from frame %u: seed %"
        G_GUINT64_FORMAT, len, frames[0], params.seed);
    if (len == 1) {
      batch = NULL;
      images = ensure_generator (self, tokens[first]->batch, &error) ?
          hart_generator_refine (self->generator, tokens[first], &params,
          self->cancel, &error) : NULL;
    } else {
      int items[MAX_BATCH_SIZE] = { 0 };

      batch = hart_tokens_gather ((const HartTokens * const *) tokens + first,
          items, (int) len);
      g_assert (batch != NULL); /* same_batch: one model and shape */
      images = ensure_generator (self, 1, &error) ?
          hart_generator_refine_batch (self->generator, batch, &params,
          frames, self->cancel, &error) : NULL;
    }
    hart_tokens_free (batch);
    if (G_UNLIKELY (images == NULL)) {
      ret = refine_failed (self, error);
      break;
    }
    for (guint i = 0; i < len && ret == GST_FLOW_OK; i++) {
      GstBaseTransformClass *klass = GST_BASE_TRANSFORM_GET_CLASS (self);
      GstBuffer *out = NULL;

      /* from the negotiated pool, with the input's timestamps, flags and
       * metas, as GstBaseTransform makes its output buffers */
      ret = klass->prepare_output_buffer (GST_BASE_TRANSFORM (self),
          in[first + i], &out);
      if (ret == GST_FLOW_OK)
        ret = write_picture (self, out, tokens[first + i], images[i]);
      if (ret == GST_FLOW_OK)
        g_queue_push_tail (out_pictures, out);
      else
        gst_clear_buffer (&out);
    }
    hart_images_free (images);
    first += len;
  }

  for (guint i = 0; i < n; i++) {
    hart_tokens_free (tokens[i]);
    gst_buffer_unref (in[i]);
  }
  g_free (tokens);
  g_free (in);
  return ret;
}

/* Refines what waits in a batch and pushes it downstream: a complete
 * batch, or before an event that must follow it (EOS, a segment, new
 * caps…). */
static GstFlowReturn
drain_batch (GstHartRefine * self)
{
  GQueue pictures = G_QUEUE_INIT;
  GstFlowReturn ret = GST_FLOW_OK;
  GstBuffer *out;

  if (!g_queue_is_empty (&self->batch_in))
    ret = refine_queued (self, &pictures);
  while ((out = g_queue_pop_head (&pictures)) != NULL) {
    if (ret != GST_FLOW_OK) {
      gst_buffer_unref (out);
      continue;
    }
    /* what GstBaseTransform keeps of the buffers it pushes itself, for
     * the POSITION query (gst_hart_refine_query) */
    if (GST_BUFFER_PTS_IS_VALID (out)) {
      GST_OBJECT_LOCK (self);
      self->own_position = GST_BUFFER_PTS (out)
          + (GST_BUFFER_DURATION_IS_VALID (out) ? GST_BUFFER_DURATION (out)
          : 0);
      GST_OBJECT_UNLOCK (self);
    }
    ret = gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), out);
  }
  return ret;
}

/* batch-size > 1: token frames wait in batch_in, and a complete batch is
 * refined and pushed here (own_push); before the stream's first batch,
 * GstBaseTransform's own path.  A picture carries its frame's flags
 * (prepare_output_buffer copies them), DISCONT included; a frame that
 * GstBaseTransform's QoS drops makes the next picture DISCONT. */
static GstFlowReturn
gst_hart_refine_submit_input_buffer (GstBaseTransform * trans,
    gboolean is_discont, GstBuffer * input)
{
  GstHartRefine *self = GST_HART_REFINE (trans);
  GstFlowReturn ret;

  /* (frames wait in batch_in only once own_push is set) */
  if (!self->own_push && batch_size (self) > 1) {
    /* a DISCONT GstBaseTransform still holds (this frame's, or a dropped
     * one's) goes on this frame's picture */
    self->own_push = TRUE;
    self->batch_discont = is_discont;
  }
  /* GstBaseTransform's checks first (caps negotiated, reconfiguration,
   * QoS), which leave the buffer in queued_buf unless they drop it */
  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->submit_input_buffer (trans,
      is_discont, input);
  if (!self->own_push)
    return ret;
  if (ret == GST_BASE_TRANSFORM_FLOW_DROPPED) {
    self->batch_discont = TRUE;
    return ret;
  }
  if (ret != GST_FLOW_OK || trans->queued_buf == NULL)
    return ret;
  if (self->batch_discont) {
    trans->queued_buf = gst_buffer_make_writable (trans->queued_buf);
    GST_BUFFER_FLAG_SET (trans->queued_buf, GST_BUFFER_FLAG_DISCONT);
    self->batch_discont = FALSE;
  }
  g_queue_push_tail (&self->batch_in, trans->queued_buf);
  trans->queued_buf = NULL;
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_hart_refine_generate_output (GstBaseTransform * trans, GstBuffer ** outbuf)
{
  GstHartRefine *self = GST_HART_REFINE (trans);

  if (!self->own_push)
    return GST_BASE_TRANSFORM_CLASS (parent_class)->generate_output (trans,
        outbuf);
  /* pushed here, not returned: GstBaseTransform would add its pending
   * DISCONT to whichever picture it pushes next */
  *outbuf = NULL;
  if (g_queue_get_length (&self->batch_in) < batch_size (self))
    return GST_FLOW_OK;
  return drain_batch (self);
}

/* ---- presets (GstPreset's key files, docs/elements.md "Presets") ---- */

/* What a preset holds: how frames are refined (not the model folder, the
 * element's name, QoS or memory policy; gsthartsrc.c says why no
 * strings). */
static gchar **
gst_hart_refine_preset_get_property_names (GstPreset * preset)
{
  static const gchar *const names[] = { "device", "device-id", "threads",
    "precision", "seed", "temporal-noise", "batch-size", NULL
  };

  return g_strdupv ((gchar **) names);
}

static void
gst_hart_refine_preset_init (gpointer g_iface, gpointer iface_data)
{
  GstPresetInterface *iface = g_iface;

  iface->get_property_names = gst_hart_refine_preset_get_property_names;
}
