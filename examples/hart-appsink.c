/* gst-hart — example: embed hartsrc in an application and change the prompt
 * while the pipeline plays
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Two modes:
 *
 * Frames (default): pulls N frames from
 *
 *   hartsrc ! videoconvert ! video/x-raw,format=RGB ! appsink
 *
 * and hands each one to a second pipeline
 *
 *   appsrc ! videoconvert ! pngenc ! multifilesink location=DIR/frame-%05d.png
 *
 * After N/2 frames the application thread sets the `prompt` property; the
 * change applies from the next frame hartsrc starts (frames already queued or
 * in flight keep the old prompt), which the GstHartMeta of each frame shows.
 *
 * Video (--video FILE): runs
 *
 *   hartsrc num-buffers=N ! videoconvert ! ENCODER ! MUXER ! filesink
 *
 * and sets the prompt from a buffer probe on hartsrc's source pad after
 * K = N/2 frames: the probe runs in the streaming thread before hartsrc starts
 * frame K, so frames 0 … K−1 show the first prompt and K … N−1 the second
 * (moving over --transition-frames frames).  The encoder follows the file
 * name: .mp4 → x264enc ! mp4mux, .webm → vp8enc ! webmmux, otherwise
 * jpegenc ! avimux.
 *
 * Run from a build tree:
 *
 *   GST_PLUGIN_PATH=build/gst build/examples/hart-appsink \
 *       --frames 8 --output-dir out hart-0.7b-1024px "a red fox" "a snowy owl"
 *   GST_PLUGIN_PATH=build/gst build/examples/hart-appsink --video out.webm \
 *       "a large red circle in the center on a blue background" \
 *       "a large yellow star in the center on a blue background"
 *
 * The model folder is the first argument when it is a folder, else --model,
 * else $HART_MODEL_PATH, else hartsrc's default: the bundled shapes model.
 * A first argument that looks like a path (it starts with '/', '.' or '~',
 * or has a '/' and no space) but is not a folder is an error (exit status
 * 2): a mistyped model folder must not become the prompt.
 */

#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <string.h>

/* The plugin's public header: GstHartMeta's name and fields and inline
 * readers over GStreamer's custom meta API, so the example does not link
 * against the plugin. */
#include "gst/gst-hart-meta.h"

#define DEFAULT_FRAMES 8
#define DEFAULT_FIRST_PROMPT "a large red circle in the center on a blue background"
#define DEFAULT_SECOND_PROMPT "a large yellow star in the center on a blue background"

typedef struct
{
  GstElement *source;           /* hartsrc */
  const gchar *second_prompt;
  guint64 change_after;         /* frames before the prompt changes */
  guint64 frames_pushed;
} PromptChange;

/* Waits for EOS or an error on @pipeline's bus.  Returns TRUE on EOS. */
static gboolean
wait_for_eos (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *message;
  gboolean reached_eos = FALSE;

  message = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    GError *error = NULL;
    gchar *detail = NULL;

    gst_message_parse_error (message, &error, &detail);
    g_printerr ("error from %s: %s\n  %s\n", GST_OBJECT_NAME (message->src),
        error->message, detail ? detail : "");
    g_clear_error (&error);
    g_free (detail);
  } else {
    reached_eos = TRUE;
  }
  gst_message_unref (message);
  gst_object_unref (bus);
  return reached_eos;
}

/* An error posted while waiting for a sample (appsink returns NULL then). */
static void
print_pending_error (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  if (message != NULL) {
    GError *error = NULL;
    gchar *detail = NULL;

    gst_message_parse_error (message, &error, &detail);
    g_printerr ("error from %s: %s\n  %s\n", GST_OBJECT_NAME (message->src),
        error->message, detail ? detail : "");
    g_clear_error (&error);
    g_free (detail);
    gst_message_unref (message);
  }
  gst_object_unref (bus);
}

/* One line per frame: what the frame's GstHartMeta says about its origin.
 * The prompt last: a prompt may hold any character. */
static void
print_frame (guint index, GstBuffer * buffer)
{
  GstHartMetaFields meta;

  if (!gst_hart_meta_read (buffer, &meta)) {
    g_print ("frame %u pts %" GST_TIME_FORMAT " (no GstHartMeta)\n", index,
        GST_TIME_ARGS (GST_BUFFER_PTS (buffer)));
    return;
  }
  g_print ("frame %u pts %" GST_TIME_FORMAT " seed %" G_GUINT64_FORMAT
      " draws of frame %u cfg %g model %s prompt \"%s\"\n", index,
      GST_TIME_ARGS (GST_BUFFER_PTS (buffer)), meta.seed, meta.frame,
      meta.cfg_scale, meta.model, meta.prompt ? meta.prompt : "(unknown)");
}

static GstElement *
make_source (const gchar * model_path, const gchar * prompt,
    gboolean increment, gint keep_scales, gint transition_frames)
{
  GstElement *source = gst_element_factory_make ("hartsrc", "source");

  if (source == NULL) {
    g_printerr ("no element hartsrc: set GST_PLUGIN_PATH to the folder "
        "holding libgsthart.so\n");
    return NULL;
  }
  g_object_set (source, "model-path", model_path, "prompt", prompt,
      "keep-scales", keep_scales, "transition-frames", transition_frames, NULL);
  gst_util_set_object_arg (G_OBJECT (source), "seed-mode",
      increment ? "increment" : "fixed");
  /* main () keeps its own reference; the pipeline adds another. */
  return gst_object_ref_sink (source);
}

/* Frames mode: appsink → application → appsrc ! pngenc ! multifilesink. */
static gboolean
write_frames (GstElement * source, guint n_frames, const gchar * output_dir,
    const gchar * second_prompt)
{
  GstElement *pipeline, *writer, *sink, *writer_source;
  gchar *location, *writer_description;
  GError *error = NULL;
  gboolean ok = TRUE;
  guint i;

  pipeline = gst_parse_launch ("videoconvert name=convert ! "
      "video/x-raw,format=RGB ! appsink name=sink sync=false", &error);
  /* A missing element can leave a partial pipeline and an error. */
  if (error != NULL) {
    gst_clear_object (&pipeline);
    g_printerr ("pipeline: %s\n", error->message);
    g_clear_error (&error);
    return FALSE;
  }
  gst_bin_add (GST_BIN (pipeline), source);
  {
    GstElement *convert = gst_bin_get_by_name (GST_BIN (pipeline), "convert");
    gst_element_link (source, convert);
    gst_object_unref (convert);
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  /* One queued frame at most: hartsrc then runs at most two frames ahead of
   * the application, so the prompt change shows within a few frames. */
  g_object_set (sink, "max-buffers", 1, "drop", FALSE, NULL);

  location = g_build_filename (output_dir, "frame-%05d.png", NULL);
  writer_description = g_strdup_printf ("appsrc name=frames format=time ! "
      "videoconvert ! pngenc ! multifilesink location=\"%s\"", location);
  writer = gst_parse_launch (writer_description, &error);
  g_free (writer_description);
  g_free (location);
  if (error != NULL) {
    gst_clear_object (&writer);
    g_printerr ("writer pipeline: %s\n", error->message);
    g_clear_error (&error);
    gst_object_unref (sink);
    gst_object_unref (pipeline);
    return FALSE;
  }
  writer_source = gst_bin_get_by_name (GST_BIN (writer), "frames");

  gst_element_set_state (writer, GST_STATE_PLAYING);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    print_pending_error (pipeline);
    ok = FALSE;
  }

  for (i = 0; ok && i < n_frames; i++) {
    GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    GstBuffer *buffer;

    if (sample == NULL) {
      print_pending_error (pipeline);
      g_printerr ("the stream ended after %u frames\n", i);
      ok = FALSE;
      break;
    }
    buffer = gst_sample_get_buffer (sample);
    print_frame (i, buffer);
    /* The writer takes its own reference to the sample and its caps. */
    if (gst_app_src_push_sample (GST_APP_SRC (writer_source), sample) !=
        GST_FLOW_OK) {
      g_printerr ("the PNG writer refused frame %u\n", i);
      ok = FALSE;
    }
    gst_sample_unref (sample);

    if (i + 1 == n_frames / 2) {
      g_print ("changing the prompt to \"%s\"\n", second_prompt);
      g_object_set (source, "prompt", second_prompt, NULL);
    }
  }

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_app_src_end_of_stream (GST_APP_SRC (writer_source));
  if (!wait_for_eos (writer))
    ok = FALSE;
  gst_element_set_state (writer, GST_STATE_NULL);

  gst_object_unref (writer_source);
  gst_object_unref (writer);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return ok;
}

/* Runs in hartsrc's streaming thread before it starts the next frame. */
static GstPadProbeReturn
change_prompt_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  PromptChange *change = user_data;

  change->frames_pushed++;
  if (change->frames_pushed == change->change_after) {
    g_print ("frame %" G_GUINT64_FORMAT ": changing the prompt to \"%s\"\n",
        change->frames_pushed, change->second_prompt);
    g_object_set (change->source, "prompt", change->second_prompt, NULL);
    return GST_PAD_PROBE_REMOVE;
  }
  return GST_PAD_PROBE_OK;
}

static const gchar *
encoder_for_file (const gchar * file_name)
{
  /* 4:2:0 before x264enc: left free, videoconvert hands it Y444 and x264enc
   * writes High 4:4:4, which most players cannot decode. */
  if (g_str_has_suffix (file_name, ".mp4"))
    return "video/x-raw,format=I420 ! x264enc ! mp4mux";
  if (g_str_has_suffix (file_name, ".webm"))
    return "vp8enc ! webmmux";
  return "jpegenc ! avimux";
}

/* Video mode: hartsrc num-buffers=N ! videoconvert ! encoder ! filesink. */
/* A prompt has spaces and no slashes; a path starts with '/', '.' or '~', or
 * has a '/' and no space ("models/hart-0.7b-1024px"). */
static gboolean
looks_like_path (const gchar * argument)
{
  return argument[0] == '/' || argument[0] == '.' || argument[0] == '~' ||
      (strchr (argument, '/') != NULL && strchr (argument, ' ') == NULL);
}

static gboolean
write_video (GstElement * source, guint n_frames, const gchar * file_name,
    const gchar * second_prompt)
{
  GstElement *pipeline, *convert;
  gchar *description;
  GError *error = NULL;
  GstPad *source_pad;
  PromptChange change = { source, second_prompt, MAX (n_frames / 2, 1), 0 };
  gboolean ok;

  description = g_strdup_printf ("videoconvert name=convert ! %s ! "
      "filesink location=\"%s\"", encoder_for_file (file_name), file_name);
  pipeline = gst_parse_launch (description, &error);
  g_free (description);
  /* A missing element can leave a partial pipeline and an error. */
  if (error != NULL) {
    gst_clear_object (&pipeline);
    g_printerr ("pipeline: %s\n", error->message);
    if (g_str_has_suffix (file_name, ".mp4"))
      g_printerr ("x264enc comes with gstreamer1.0-plugins-ugly; "
          "or write a .avi file\n");
    g_clear_error (&error);
    return FALSE;
  }
  g_object_set (source, "num-buffers", (gint) n_frames, NULL);
  gst_bin_add (GST_BIN (pipeline), source);
  convert = gst_bin_get_by_name (GST_BIN (pipeline), "convert");
  gst_element_link (source, convert);
  gst_object_unref (convert);

  source_pad = gst_element_get_static_pad (source, "src");
  gst_pad_add_probe (source_pad, GST_PAD_PROBE_TYPE_BUFFER,
      change_prompt_probe, &change, NULL);
  gst_object_unref (source_pad);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  ok = wait_for_eos (pipeline);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  if (ok)
    g_print ("wrote %u frames to %s\n", n_frames, file_name);
  return ok;
}

int
main (int argc, char *argv[])
{
  gint n_frames = DEFAULT_FRAMES;
  gint keep_scales = 0;
  gint transition_frames = 0;
  gboolean increment = FALSE;
  gchar *output_dir = NULL;
  gchar *video_file = NULL;
  gchar *model_option = NULL;
  const GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model_option,
        "HART release folder (default: $HART_MODEL_PATH, else the bundled "
          "model)", "DIR"},
    {"frames", 'n', 0, G_OPTION_ARG_INT, &n_frames,
        "Number of frames (default 8)", "N"},
    {"output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &output_dir,
        "Write the frames as DIR/frame-NNNNN.png (default .)", "DIR"},
    {"video", 'v', 0, G_OPTION_ARG_FILENAME, &video_file,
        "Write a video file instead (.mp4: x264enc, .webm: vp8enc, "
          "else jpegenc ! avimux)", "FILE"},
    {"increment", 'i', 0, G_OPTION_ARG_NONE, &increment,
        "seed-mode=increment: a new sample every frame", NULL},
    {"keep-scales", 'k', 0, G_OPTION_ARG_INT, &keep_scales,
        "Reuse the first K scales of the previous frame", "K"},
    {"transition-frames", 't', 0, G_OPTION_ARG_INT, &transition_frames,
        "Move to the new prompt over T frames", "T"},
    {NULL}
  };
  GOptionContext *context;
  GError *error = NULL;
  const gchar *model_path;
  const gchar *first_prompt, *second_prompt;
  GstElement *source;
  gboolean ok;
  gint first_arg = 1, status;

  context = g_option_context_new ("[MODEL-FOLDER] [PROMPT [SECOND-PROMPT]] "
      "- generate frames with hartsrc and change the prompt half way");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    g_clear_error (&error);
    g_option_context_free (context);
    return 2;
  }
  g_option_context_free (context);

  /* A first argument that is a folder is the model (the original form);
   * otherwise the arguments are the prompts, and the model comes from
   * --model, $HART_MODEL_PATH or, when neither is set, hartsrc's default:
   * the bundled model. */
  if (argc > 1 && g_file_test (argv[1], G_FILE_TEST_IS_DIR)) {
    model_path = argv[1];
    first_arg = 2;
  } else if (argc > 1 && looks_like_path (argv[1])) {
    g_printerr ("%s: no such model folder (a prompt has spaces and no "
        "'/'; give the model with --model DIR)\n", argv[1]);
    g_free (output_dir);
    g_free (video_file);
    g_free (model_option);
    return 2;
  } else if (model_option != NULL) {
    model_path = model_option;
  } else {
    model_path = g_getenv ("HART_MODEL_PATH");
    if (model_path != NULL && *model_path == '\0')
      model_path = NULL;
  }
  first_prompt = argc > first_arg ? argv[first_arg] : DEFAULT_FIRST_PROMPT;
  second_prompt = argc > first_arg + 1 ? argv[first_arg + 1] :
      DEFAULT_SECOND_PROMPT;
  if (n_frames < 1 || keep_scales < 0 || transition_frames < 0) {
    g_printerr ("--frames must be ≥ 1, --keep-scales and "
        "--transition-frames ≥ 0\n");
    status = 2;
    goto out;
  }

  source = make_source (model_path, first_prompt, increment, keep_scales,
      transition_frames);
  if (source == NULL) {
    status = 1;
    goto out;
  }
  if (video_file != NULL)
    ok = write_video (source, n_frames, video_file, second_prompt);
  else
    ok = write_frames (source, n_frames, output_dir ? output_dir : ".",
        second_prompt);
  gst_object_unref (source);
  status = ok ? 0 : 1;

out:
  g_free (output_dir);
  g_free (video_file);
  g_free (model_option);
  gst_deinit ();
  return status;
}
