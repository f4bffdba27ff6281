/* gst-hart — the picture measure against ground-truth renders
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tests/meaning/samples/ holds single-object scenes drawn by the world's own
 * renderer (tools/train/shapes.py, via make-samples.py) with their
 * scene descriptions in captions.jsonl.  measure.c must read back every
 * attribute of ≥ 95 % of them (MIN_ACCURACY), at 64 px and upscaled to
 * 128 px (the measure is scale-aware; the tiny fixture makes 128-px
 * pictures), and degraded as a model may draw them: box-blurred (soft
 * edges) and with ±20 levels of noise.  The feature ranges per true shape
 * and size are printed: they are what measure.c's thresholds rest on.
 * The pattern of a white ground (tones 245 vs 250) is not measurable
 * (reported as NONE) and is left out of its tally.  The caption parser is
 * checked against the scenes too: a full caption names every attribute.
 */
#include "measure.h"

#include <json-glib/json-glib.h>
#include <png.h>
#include <string.h>

/* Ground truth is exact: anything below this is a measuring bug. */
#define MIN_ACCURACY 0.95

enum
{
  ATTR_BACKGROUND, ATTR_PATTERN, ATTR_OBJECT, ATTR_COLOUR, ATTR_SHAPE,
  ATTR_SIZE, ATTR_PLACE, N_ATTRS
};

static const char *const attr_names[N_ATTRS] = {
  "background", "pattern", "object", "colour", "shape", "size", "place"
};

typedef struct
{
  char *file;
  char *caption;
  HartSceneWant truth;          /* from the scene JSON */
  guint8 *rgb;                  /* [64, 64, 3] */
  int width, height;
} Sample;

static const char *
samples_dir (void)
{
  const char *dir = g_getenv ("HART_MEANING_SAMPLES");
  return dir ? dir : HART_MEANING_SAMPLES_DIR;
}

static guint8 *
read_png_rgb (const char *path, int *width, int *height, GError ** error)
{
  png_image png;
  guint8 *rgb;

  memset (&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file (&png, path)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
        "%s: cannot read PNG: %s", path, png.message);
    png_image_free (&png);
    return NULL;
  }
  png.format = PNG_FORMAT_RGB;
  rgb = g_malloc (PNG_IMAGE_SIZE (png));
  if (!png_image_finish_read (&png, NULL, rgb, 0, NULL)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
        "%s: cannot decode PNG: %s", path, png.message);
    png_image_free (&png);
    g_free (rgb);
    return NULL;
  }
  *width = png.width;
  *height = png.height;
  return rgb;
}

static void
sample_free (gpointer data)
{
  Sample *s = data;
  g_free (s->file);
  g_free (s->caption);
  g_free (s->rgb);
  g_free (s);
}

/* The scene {"background", "pattern", "objects": [{"colour", "shape",
 * "size", "place": [row, column]}]} as the attributes a caption asks for. */
static gboolean
scene_truth (JsonObject * scene, HartSceneWant * truth)
{
  JsonArray *objects, *place;
  JsonObject *object;

  if (!json_object_has_member (scene, "objects"))
    return FALSE;
  objects = json_object_get_array_member (scene, "objects");
  if (objects == NULL || json_array_get_length (objects) != 1)
    return FALSE;
  object = json_array_get_object_element (objects, 0);
  place = json_object_get_array_member (object, "place");
  if (place == NULL || json_array_get_length (place) != 2)
    return FALSE;
  truth->background = hart_scene_colour_from_name
      (json_object_get_string_member (scene, "background"));
  truth->pattern = hart_scene_pattern_from_name
      (json_object_get_string_member (scene, "pattern"));
  truth->colour = hart_scene_colour_from_name
      (json_object_get_string_member (object, "colour"));
  truth->shape = hart_scene_shape_from_name
      (json_object_get_string_member (object, "shape"));
  truth->size = hart_scene_size_from_name
      (json_object_get_string_member (object, "size"));
  truth->row = json_array_get_int_element (place, 0);
  truth->column = json_array_get_int_element (place, 1);
  return truth->background >= 0 && truth->pattern >= 0 && truth->colour >= 0
      && truth->shape >= 0 && truth->size >= 0;
}

static GPtrArray *
load_samples (void)
{
  char *list = g_build_filename (samples_dir (), "captions.jsonl", NULL);
  char *text = NULL, **lines;
  GError *error = NULL;
  GPtrArray *samples = g_ptr_array_new_with_free_func (sample_free);
  JsonParser *parser = json_parser_new ();

  if (!g_file_get_contents (list, &text, NULL, &error))
    g_error ("%s", error->message);
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i]; i++) {
    Sample *s;
    JsonObject *o;
    char *path;

    if (*g_strstrip (lines[i]) == '\0')
      continue;
    if (!json_parser_load_from_data (parser, lines[i], -1, &error))
      g_error ("%s line %d: %s", list, i + 1, error->message);
    o = json_node_get_object (json_parser_get_root (parser));
    s = g_new0 (Sample, 1);
    s->file = g_strdup (json_object_get_string_member (o, "file"));
    s->caption = g_strdup (json_object_get_string_member (o, "caption"));
    if (s->file == NULL || s->caption == NULL
        || !scene_truth (json_object_get_object_member (o, "scene"), &s->truth))
      g_error ("%s line %d: not a single-object sample", list, i + 1);
    path = g_build_filename (samples_dir (), s->file, NULL);
    s->rgb = read_png_rgb (path, &s->width, &s->height, &error);
    if (s->rgb == NULL)
      g_error ("%s", error->message);
    g_free (path);
    g_ptr_array_add (samples, s);
  }
  g_strfreev (lines);
  g_free (text);
  g_free (list);
  g_object_unref (parser);
  g_assert_cmpuint (samples->len, >=, 32);
  return samples;
}

/* Nearest-neighbour upscale of RGB [H, W, 3] by FACTOR, with STRIDE padded
 * by 5 bytes to exercise the stride; then, for a model's imperfections,
 * an optional 3×3 box blur (soft edges) and uniform noise of ±NOISE levels
 * per channel (a fixed LCG: the test is deterministic). */
static guint8 *
degrade (const guint8 * rgb, int width, int height, int factor,
    gboolean blur, int noise, int *stride)
{
  int w = width * factor, h = height * factor;
  guint8 *out, *blurred;
  guint32 state = 12345;

  *stride = 3 * w + 5;
  out = g_malloc0 ((gsize) * stride * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      memcpy (out + (gsize) y * *stride + 3 * x,
          rgb + ((gsize) (y / factor) * width + x / factor) * 3, 3);
  if (blur) {
    blurred = g_malloc0 ((gsize) * stride * h);
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        for (int ch = 0; ch < 3; ch++) {
          int sum = 0, n = 0;
          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
              int nx = x + dx, ny = y + dy;
              if (nx < 0 || ny < 0 || nx >= w || ny >= h)
                continue;
              sum += out[(gsize) ny * *stride + 3 * nx + ch];
              n++;
            }
          blurred[(gsize) y * *stride + 3 * x + ch] = (sum + n / 2) / n;
        }
    g_free (out);
    out = blurred;
  }
  for (int y = 0; noise > 0 && y < h; y++)
    for (int x = 0; x < 3 * w; x++) {
      guint8 *v = out + (gsize) y * *stride + x;
      int delta;
      state = state * 1664525u + 1013904223u;
      delta = (int) (state >> 16) % (2 * noise + 1) - noise;
      *v = CLAMP (*v + delta, 0, 255);
    }
  return out;
}

/* Scores one measure against the truth: hit[a] / counted[a] per attribute;
 * TRUE when every counted attribute is right. */
static gboolean
score (const HartSceneWant * truth, const HartSceneMeasure * m,
    int *hits, int *counted)
{
  gboolean all = TRUE;
  gboolean ok[N_ATTRS] = {
    [ATTR_BACKGROUND] = m->background == truth->background,
    [ATTR_PATTERN] = m->pattern == truth->pattern,
    [ATTR_OBJECT] = m->found,
    [ATTR_COLOUR] = m->found && m->colour == truth->colour,
    [ATTR_SHAPE] = m->found && m->shape == truth->shape,
    [ATTR_SIZE] = m->found && m->size == truth->size,
    [ATTR_PLACE] = m->found && m->row == truth->row
        && m->column == truth->column,
  };

  for (int a = 0; a < N_ATTRS; a++) {
    if (a == ATTR_PATTERN && truth->background == HART_SCENE_WHITE)
      continue;                 /* 245 vs 250: not measurable */
    counted[a]++;
    hits[a] += ok[a];
    all = all && ok[a];
  }
  return all;
}

static void
run_calibration (int factor, gboolean blur, int noise)
{
  GPtrArray *samples = load_samples ();
  int hits[N_ATTRS] = { 0 }, counted[N_ATTRS] = { 0 };
  /* feature ranges per true shape and size (for tuning) */
  double fill_min[HART_SCENE_N_SHAPES], fill_max[HART_SCENE_N_SHAPES];
  double solid_min[HART_SCENE_N_SHAPES], solid_max[HART_SCENE_N_SHAPES];
  double drop_min[HART_SCENE_N_SHAPES], drop_max[HART_SCENE_N_SHAPES];
  double extent_min[HART_SCENE_N_SIZES], extent_max[HART_SCENE_N_SIZES];

  for (int i = 0; i < HART_SCENE_N_SHAPES; i++) {
    fill_min[i] = solid_min[i] = drop_min[i] = G_MAXDOUBLE;
    fill_max[i] = solid_max[i] = drop_max[i] = -G_MAXDOUBLE;
  }
  for (int i = 0; i < HART_SCENE_N_SIZES; i++) {
    extent_min[i] = G_MAXDOUBLE;
    extent_max[i] = -G_MAXDOUBLE;
  }

  for (guint i = 0; i < samples->len; i++) {
    Sample *s = samples->pdata[i];
    HartSceneMeasure m;
    GError *error = NULL;
    int stride;
    gboolean all_right;
    guint8 *rgb = degrade (s->rgb, s->width, s->height, factor, blur, noise,
        &stride);

    g_assert_true (hart_scene_measure (rgb, s->width * factor,
            s->height * factor, stride, &m, &error));
    g_assert_no_error (error);
    g_free (rgb);
    all_right = score (&s->truth, &m, hits, counted);
    if (m.found) {
      fill_min[s->truth.shape] = MIN (fill_min[s->truth.shape], m.fill_ratio);
      fill_max[s->truth.shape] = MAX (fill_max[s->truth.shape], m.fill_ratio);
      solid_min[s->truth.shape] = MIN (solid_min[s->truth.shape], m.solidity);
      solid_max[s->truth.shape] = MAX (solid_max[s->truth.shape], m.solidity);
      drop_min[s->truth.shape] = MIN (drop_min[s->truth.shape],
          m.centroid_drop);
      drop_max[s->truth.shape] = MAX (drop_max[s->truth.shape],
          m.centroid_drop);
      extent_min[s->truth.size] = MIN (extent_min[s->truth.size], m.extent);
      extent_max[s->truth.size] = MAX (extent_max[s->truth.size], m.extent);
    }
    /* the misses (and everything with --verbose) */
    if (!all_right || g_test_verbose ())
      g_test_message ("%s \"%s\": %s %s ground, %s %s %s %s (%s), "
          "fill %.3f solidity %.3f drop %.3f extent %.1f tint %.2f", s->file,
          s->caption, hart_scene_pattern_name (m.pattern),
          hart_scene_colour_name (m.background),
          hart_scene_size_name (m.size), hart_scene_colour_name (m.colour),
          hart_scene_shape_name (m.shape),
          m.found ? hart_scene_place_phrase (m.row, m.column) : "-",
          m.found ? "found" : "no object", m.fill_ratio, m.solidity,
          m.centroid_drop, m.extent, m.tint_fraction);
  }

  g_test_message ("calibration at %d px%s, noise +-%d, %u samples:",
      64 * factor, blur ? ", blurred" : "", noise, samples->len);
  for (int a = 0; a < N_ATTRS; a++)
    g_test_message ("  %-10s %3d / %3d = %.3f", attr_names[a], hits[a],
        counted[a], counted[a] ? (double) hits[a] / counted[a] : 0);
  for (int i = 0; i < HART_SCENE_N_SHAPES; i++)
    g_test_message ("  %-8s fill %.3f .. %.3f, solidity %.3f .. %.3f, "
        "centroid drop %.3f .. %.3f", hart_scene_shape_name (i), fill_min[i],
        fill_max[i], solid_min[i], solid_max[i], drop_min[i], drop_max[i]);
  for (int i = 0; i < HART_SCENE_N_SIZES; i++)
    g_test_message ("  %-8s extent %.1f .. %.1f px (64-px units)",
        hart_scene_size_name (i), extent_min[i], extent_max[i]);
  for (int a = 0; a < N_ATTRS; a++) {
    g_assert_cmpint (counted[a], >, 0);
    if ((double) hits[a] / counted[a] < MIN_ACCURACY)
      g_test_fail_printf ("%d px%s, noise +-%d: %s %d / %d below %.2f",
          64 * factor, blur ? " blurred" : "", noise, attr_names[a], hits[a],
          counted[a], MIN_ACCURACY);
  }
  g_ptr_array_unref (samples);
}

static void
test_calibration_64 (void)
{
  run_calibration (1, FALSE, 0);
}

static void
test_calibration_128 (void)
{
  run_calibration (2, FALSE, 0);
}

/* A model draws softer edges and noisier flats than the renderer. */
static void
test_calibration_degraded (void)
{
  run_calibration (1, TRUE, 0);
  run_calibration (1, FALSE, 20);
  run_calibration (2, TRUE, 20);
}

/* Every full caption names every attribute: the parser must give the
 * scene back. */
static void
test_parse_caption (void)
{
  GPtrArray *samples = load_samples ();
  HartSceneWant want;

  for (guint i = 0; i < samples->len; i++) {
    Sample *s = samples->pdata[i];
    HartScenePattern pattern;

    hart_scene_parse_caption (s->caption, &want);
    /* the grammar says nothing for a plain ground */
    pattern = want.pattern < 0 ? HART_SCENE_PLAIN : want.pattern;
    g_assert_cmpint (want.background, ==, s->truth.background);
    g_assert_cmpint (pattern, ==, s->truth.pattern);
    g_assert_cmpint (want.colour, ==, s->truth.colour);
    g_assert_cmpint (want.shape, ==, s->truth.shape);
    g_assert_cmpint (want.size, ==, s->truth.size);
    g_assert_cmpint (want.row, ==, s->truth.row);
    g_assert_cmpint (want.column, ==, s->truth.column);
  }
  g_ptr_array_unref (samples);

  /* left-out attributes, "an", the longest place phrase, commas */
  hart_scene_parse_caption ("an orange star at the top left", &want);
  g_assert_cmpint (want.colour, ==, HART_SCENE_ORANGE);
  g_assert_cmpint (want.shape, ==, HART_SCENE_STAR);
  g_assert_cmpint (want.size, ==, HART_SCENE_SIZE_NONE);
  g_assert_cmpint (want.background, ==, HART_SCENE_COLOUR_NONE);
  g_assert_cmpint (want.pattern, ==, HART_SCENE_PATTERN_NONE);
  g_assert_cmpint (want.row, ==, 0);
  g_assert_cmpint (want.column, ==, 0);
  hart_scene_parse_caption ("a large red circle,  on a checkered black "
      "background", &want);
  g_assert_cmpint (want.size, ==, HART_SCENE_LARGE);
  g_assert_cmpint (want.colour, ==, HART_SCENE_RED);
  g_assert_cmpint (want.background, ==, HART_SCENE_BLACK);
  g_assert_cmpint (want.pattern, ==, HART_SCENE_CHECKERED);
  g_assert_cmpint (want.row, ==, -1);
  hart_scene_parse_caption ("", &want);
  g_assert_cmpint (want.colour, ==, HART_SCENE_COLOUR_NONE);
}

/* Unusable images are errors, empty grounds are results. */
static void
test_edge_cases (void)
{
  guint8 *rgb = g_malloc (64 * 64 * 3);
  HartSceneMeasure m;
  GError *error = NULL;

  g_assert_false (hart_scene_measure (NULL, 64, 64, 192, &m, &error));
  g_assert_error (error, HART_SCENE_ERROR, HART_SCENE_ERROR_INVALID_IMAGE);
  g_clear_error (&error);
  g_assert_false (hart_scene_measure (rgb, 4, 4, 12, &m, &error));
  g_assert_error (error, HART_SCENE_ERROR, HART_SCENE_ERROR_INVALID_IMAGE);
  g_clear_error (&error);
  g_assert_false (hart_scene_measure (rgb, 64, 64, 100, &m, &error));
  g_assert_error (error, HART_SCENE_ERROR, HART_SCENE_ERROR_INVALID_IMAGE);
  g_clear_error (&error);
  g_assert_false (hart_scene_measure (rgb, -64, 64, 192, &m, &error));
  g_clear_error (&error);

  /* a plain blue ground and nothing on it */
  for (int i = 0; i < 64 * 64; i++)
    memcpy (rgb + 3 * i, hart_scene_colour_rgb (HART_SCENE_BLUE), 3);
  g_assert_true (hart_scene_measure (rgb, 64, 64, 192, &m, &error));
  g_assert_cmpint (m.background, ==, HART_SCENE_BLUE);
  g_assert_cmpint (m.pattern, ==, HART_SCENE_PLAIN);
  g_assert_false (m.found);
  g_assert_cmpint (m.shape, ==, HART_SCENE_SHAPE_NONE);
  g_assert_cmpint (m.row, ==, -1);

  /* noise: any answer, no crash */
  for (int i = 0; i < 64 * 64 * 3; i++)
    rgb[i] = (guint8) (i * 2654435761u >> 13);
  g_assert_true (hart_scene_measure (rgb, 64, 64, 192, &m, &error));
  g_free (rgb);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/meaning/calibration/64px", test_calibration_64);
  g_test_add_func ("/meaning/calibration/128px", test_calibration_128);
  g_test_add_func ("/meaning/calibration/degraded", test_calibration_degraded);
  g_test_add_func ("/meaning/parse-caption", test_parse_caption);
  g_test_add_func ("/meaning/edge-cases", test_edge_cases);
  return g_test_run ();
}
