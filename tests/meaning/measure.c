/* gst-hart — measuring a picture of the "shapes" world
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The steps, for a W × H picture (s = min (W, H) / 64, the world's scale):
 *
 * 1. Ground.  Every pixel of the border ring (2 s px wide) votes for the
 *    nearest of the 16 ground tones (8 palette colours and their tints);
 *    the colour with most votes, base and tint together, is the background.
 *    The ring holds both tones of a striped or checkered ground about
 *    equally, so matching against both is what lets the base colour win; an
 *    object touching the border takes only a few votes.  The two tones are
 *    then measured (per-channel medians of their voters), so that a model's
 *    slightly-off colours still separate from the object.
 * 2. Object.  Pixels farther than OBJECT_DISTANCE from the ground (the
 *    RGB segment between its two tones: soft edges between stripes are
 *    blends of the two) form the coarse mask; its largest 8-connected
 *    region is the object (smaller ones are noise).
 * 3. Colour: per-channel median of the region's interior (pixels whose
 *    four neighbours are in it: the anti-aliased rim is a blend with the
 *    ground) → nearest palette colour.  The coarse mask takes in pixels the
 *    object covers only partly, which rounds corners and fills a star's
 *    notches (more so on soft edges); the outline is therefore taken
 *    again, around the coarse region, as the pixels nearer the object's
 *    colour than the ground (half coverage), and steps 4–6 read it.
 * 4. Place: the centroid's cell of the 3×3 grid.  Cell centres are at
 *    16/32/48 px, jittered by ≤ 3 px, so a centroid is ≥ 2.3 px from a cell
 *    boundary.
 * 5. Size: the bbox extent max (w, h) / s.  Small shapes span 10.8 (square:
 *    2 · 0.9 · 6) to 13.2 px (triangle base, star), large ones 21.6 to
 *    26.4 px; the threshold is midway.
 * 6. Shape from simple moments of the region: a convex region (solidity =
 *    area / convex hull area ≈ 1) that fills its bbox is a square (fill
 *    ratio 1), one that fills π/4 of it a circle; the rest is pointed: a
 *    star (solidity ≈ 0.7: its hull fills five notches; fill ≈ 0.5) or an
 *    apex-up triangle (fill ½), told apart by where the centroid sits in
 *    the bbox (the triangle's is 1/6 of its height below the middle, the
 *    star's ~1/20).
 * 7. Pattern: ground pixels (away from the object) nearer the tint than the
 *    base; few → plain; else horizontal stripes change tone only between
 *    rows, checks between rows and columns alike.
 */
#include "measure.h"

#include <math.h>
#include <string.h>

/* *INDENT-OFF* */
/* GNU indent would space out the dashes, which G_DEFINE_QUARK turns into
 * the quark's string */
G_DEFINE_QUARK (hart-scene-error-quark, hart_scene_error);
/* *INDENT-ON* */

/* Mirrors tools/train/shapes.py: COLOURS and tint (c, 0.45)
 * (round (c + (255 − c) · 0.45)); keep the two in step. */
static const struct
{
  const char *name;
  guint8 rgb[3];
  guint8 tint[3];
} palette[HART_SCENE_N_COLOURS] = {
  [HART_SCENE_RED] = {"red", {220, 30, 30}, {236, 131, 131}},
  [HART_SCENE_GREEN] = {"green", {30, 170, 50}, {131, 208, 142}},
  [HART_SCENE_BLUE] = {"blue", {30, 70, 220}, {131, 153, 236}},
  [HART_SCENE_YELLOW] = {"yellow", {245, 215, 30}, {250, 233, 131}},
  [HART_SCENE_PURPLE] = {"purple", {150, 50, 190}, {197, 142, 219}},
  [HART_SCENE_ORANGE] = {"orange", {245, 130, 20}, {250, 186, 126}},
  [HART_SCENE_WHITE] = {"white", {245, 245, 245}, {250, 250, 250}},
  [HART_SCENE_BLACK] = {"black", {15, 15, 15}, {123, 123, 123}},
};

/* shapes.SHAPES, SIZES, PATTERNS, PLACES */
static const char *const shape_names[HART_SCENE_N_SHAPES] = {
  "circle", "square", "triangle", "star"
};

static const char *const size_names[HART_SCENE_N_SIZES] = { "small", "large" };

static const char *const pattern_names[HART_SCENE_N_PATTERNS] = {
  "plain", "striped", "checkered"
};

static const char *const place_phrases[3][3] = {
  {"at the top left", "at the top", "at the top right"},
  {"on the left", "in the center", "on the right"},
  {"at the bottom left", "at the bottom", "at the bottom right"},
};

/* The nearest palette colour to another's ground (the segment from its
 * base to its tint) is yellow to orange's, 70.5 away (orange to red's:
 * 79.8): a pixel well over half that from the ground is something else. */
#define OBJECT_DISTANCE 45.0
/* Below this distance between the two ground tones the pattern is invisible
 * (white: 245 vs 250) and is reported as NONE. */
#define PATTERN_MIN_CONTRAST 30.0
/* A plain ground has no tint pixels but for noise and blends at the
 * object's rim; patterned grounds have about half. */
#define PATTERN_MIN_TINT 0.12
/* Striped: horizontal tone changes ≪ vertical ones (checks: equal). */
#define STRIPES_MAX_RATIO 0.35
/* In 64-px units: smaller regions are not an object (a small triangle or
 * star covers ~75 px). */
#define OBJECT_MIN_AREA 20.0
/* Between the largest small (13.2) and the smallest large (21.6) extent. */
#define SIZE_THRESHOLD 17.4
/* Shape thresholds, calibrated on tests/meaning/samples, sharp, blurred
 * and noisy (test-meaning-calibration prints the ranges): solidity: star
 * 0.63–0.73 (blurred small ones up to 0.86), others ≥ 0.80; fill: square
 * ≥ 0.88, circle 0.74–0.83, triangle 0.50–0.69; centroid drop: triangle
 * 0.10–0.17, star 0.01–0.07. */
#define STAR_MAX_SOLIDITY 0.80
#define SQUARE_MIN_FILL 0.85
#define CIRCLE_MIN_FILL 0.72
#define TRIANGLE_MIN_DROP 0.09

static inline double
rgb_distance2 (const guint8 * a, const guint8 * b)
{
  double dr = (double) a[0] - b[0], dg = (double) a[1] - b[1],
      db = (double) a[2] - b[2];
  return dr * dr + dg * dg + db * db;
}

/* Squared distance from P to the segment BASE–TINT; *T: where the nearest
 * point lies (0 at the base, 1 at the tint). */
static double
ground_distance2 (const guint8 * p, const guint8 * base, const guint8 * tint,
    double *t)
{
  double d[3], v[3], dd = 0, dv = 0, along, e = 0;

  for (int ch = 0; ch < 3; ch++) {
    d[ch] = (double) tint[ch] - base[ch];
    v[ch] = (double) p[ch] - base[ch];
    dd += d[ch] * d[ch];
    dv += d[ch] * v[ch];
  }
  along = dd > 0 ? CLAMP (dv / dd, 0.0, 1.0) : 0.0;
  for (int ch = 0; ch < 3; ch++) {
    double r = v[ch] - along * d[ch];
    e += r * r;
  }
  if (t)
    *t = along;
  return e;
}

static HartSceneColour
nearest_palette_colour (const guint8 * rgb)
{
  HartSceneColour best = HART_SCENE_RED;
  double best_d = G_MAXDOUBLE;

  for (int c = 0; c < HART_SCENE_N_COLOURS; c++) {
    double d = rgb_distance2 (rgb, palette[c].rgb);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

/* Median of a 256-bin histogram of N ≥ 1 samples. */
static guint8
histogram_median (const guint32 * hist, guint32 n)
{
  guint32 seen = 0;

  for (int v = 0; v < 256; v++) {
    seen += hist[v];
    if (2 * seen > n)
      return (guint8) v;
  }
  return 255;
}

/* Per-channel histograms of a set of pixels. */
typedef struct
{
  guint32 n;
  guint32 hist[3][256];
} ColourStats;

static void
colour_stats_add (ColourStats * s, const guint8 * rgb)
{
  s->n++;
  s->hist[0][rgb[0]]++;
  s->hist[1][rgb[1]]++;
  s->hist[2][rgb[2]]++;
}

static void
colour_stats_median (const ColourStats * s, guint8 * rgb)
{
  for (int ch = 0; ch < 3; ch++)
    rgb[ch] = histogram_median (s->hist[ch], s->n);
}

typedef struct
{
  double x, y;
} Point;

static double
cross (Point o, Point a, Point b)
{
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

static int
compare_points (const void *pa, const void *pb)
{
  const Point *a = pa, *b = pb;

  if (a->x != b->x)
    return a->x < b->x ? -1 : 1;
  if (a->y != b->y)
    return a->y < b->y ? -1 : 1;
  return 0;
}

/* Area of the convex hull of POINTS [N] (Andrew's monotone chain; sorts
 * POINTS in place). */
static double
convex_hull_area (Point * points, int n)
{
  Point *hull;
  int k = 0;
  double area = 0;

  if (n < 3)
    return 0;
  qsort (points, n, sizeof *points, compare_points);
  hull = g_new (Point, 2 * n);
  for (int i = 0; i < n; i++) {
    while (k >= 2 && cross (hull[k - 2], hull[k - 1], points[i]) <= 0)
      k--;
    hull[k++] = points[i];
  }
  for (int i = n - 2, lower = k + 1; i >= 0; i--) {
    while (k >= lower && cross (hull[k - 2], hull[k - 1], points[i]) <= 0)
      k--;
    hull[k++] = points[i];
  }
  /* hull[k − 1] == hull[0] */
  for (int i = 0; i + 1 < k; i++)
    area += hull[i].x * hull[i + 1].y - hull[i + 1].x * hull[i].y;
  g_free (hull);
  return fabs (area) / 2;
}

/* Labels the 8-connected regions of MASK [H, W] and returns the pixel
 * indices of the largest one (NULL when the mask is empty). */
static GArray *
largest_region (const guint8 * mask, int width, int height)
{
  gsize n = (gsize) width * height;
  guint8 *visited = g_malloc0 (n);
  GArray *best = NULL, *region = g_array_new (FALSE, FALSE, sizeof (guint));

  for (gsize start = 0; start < n; start++) {
    if (!mask[start] || visited[start])
      continue;
    /* breadth-first: REGION doubles as the queue */
    g_array_set_size (region, 0);
    visited[start] = 1;
    g_array_append_val (region, start);
    for (guint head = 0; head < region->len; head++) {
      guint p = g_array_index (region, guint, head);
      int x = p % width, y = p / width;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int nx = x + dx, ny = y + dy;
          guint q;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height)
            continue;
          q = (guint) ny *width + nx;
          if (mask[q] && !visited[q]) {
            visited[q] = 1;
            g_array_append_val (region, q);
          }
        }
    }
    if (best == NULL || region->len > best->len) {
      GArray *swap = best ? best : g_array_new (FALSE, FALSE, sizeof (guint));
      best = region;
      region = swap;
    }
  }
  g_array_unref (region);
  g_free (visited);
  return best;
}

static void
measure_ground_pattern (const guint8 * rgb, int width, int height,
    int stride, const guint8 * mask, const guint8 * base,
    const guint8 * tint, HartSceneMeasure * m)
{
  gsize n = (gsize) width * height;
  /* 0: object or next to it, 1: base, 2: tint */
  guint8 *tone = g_malloc0 (n);
  guint64 ground = 0, tinted = 0, h_pairs = 0, h_changes = 0, v_pairs = 0,
      v_changes = 0;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      const guint8 *p = rgb + (gsize) y * stride + 3 * x;
      gboolean near_object = FALSE;
      double along;
      for (int dy = -1; dy <= 1 && !near_object; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int nx = x + dx, ny = y + dy;
          if (nx >= 0 && ny >= 0 && nx < width && ny < height
              && mask[(gsize) ny * width + nx]) {
            near_object = TRUE;
            break;
          }
        }
      if (near_object)
        continue;
      ground_distance2 (p, base, tint, &along);
      tone[(gsize) y * width + x] = along > 0.5 ? 2 : 1;
      ground++;
      tinted += tone[(gsize) y * width + x] == 2;
    }
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      guint8 t = tone[(gsize) y * width + x];
      if (t == 0)
        continue;
      if (x + 1 < width && tone[(gsize) y * width + x + 1]) {
        h_pairs++;
        h_changes += tone[(gsize) y * width + x + 1] != t;
      }
      if (y + 1 < height && tone[(gsize) (y + 1) * width + x]) {
        v_pairs++;
        v_changes += tone[(gsize) (y + 1) * width + x] != t;
      }
    }
  g_free (tone);

  m->tint_fraction = ground ? (double) tinted / ground : 0;
  if (sqrt (rgb_distance2 (base, tint)) < PATTERN_MIN_CONTRAST)
    m->pattern = HART_SCENE_PATTERN_NONE;
  else if (m->tint_fraction < PATTERN_MIN_TINT)
    m->pattern = HART_SCENE_PLAIN;
  else {
    double h_rate = h_pairs ? (double) h_changes / h_pairs : 0;
    double v_rate = v_pairs ? (double) v_changes / v_pairs : 0;
    m->pattern = h_rate < STRIPES_MAX_RATIO * v_rate ? HART_SCENE_STRIPED :
        HART_SCENE_CHECKERED;
  }
}

/* Colour of REGION: the median of its interior → MEDIAN, and the nearest
 * palette colour. */
static HartSceneColour
measure_object_colour (const guint8 * rgb, int width, int height,
    int stride, const GArray * region, guint8 * median)
{
  guint8 *in_region = g_malloc0 ((gsize) width * height);
  ColourStats *all = g_new0 (ColourStats, 1), *interior =
      g_new0 (ColourStats, 1);

  for (guint i = 0; i < region->len; i++)
    in_region[g_array_index (region, guint, i)] = 1;
  for (guint i = 0; i < region->len; i++) {
    guint p = g_array_index (region, guint, i);
    int x = p % width, y = p / width;
    const guint8 *px = rgb + (gsize) y * stride + 3 * x;
    colour_stats_add (all, px);
    if (x > 0 && y > 0 && x + 1 < width && y + 1 < height
        && in_region[p - 1] && in_region[p + 1] && in_region[p - width]
        && in_region[p + width])
      colour_stats_add (interior, px);
  }
  /* small regions may have (almost) no interior */
  colour_stats_median (interior->n >= 8 ? interior : all, median);
  g_free (all);
  g_free (interior);
  g_free (in_region);
  return nearest_palette_colour (median);
}

/* Half-coverage outline: within the bbox of COARSE grown by MARGIN px, the
 * pixels nearer OBJECT than the ground; its largest region (NULL if
 * empty). */
static GArray *
half_coverage_region (const guint8 * rgb, int width, int height, int stride,
    const GArray * coarse, int margin, const guint8 * object,
    const guint8 * base, const guint8 * tint)
{
  int x0 = width, x1 = -1, y0 = height, y1 = -1;
  guint8 *mask = g_malloc0 ((gsize) width * height);
  GArray *region;

  for (guint i = 0; i < coarse->len; i++) {
    guint p = g_array_index (coarse, guint, i);
    x0 = MIN (x0, (int) (p % width));
    x1 = MAX (x1, (int) (p % width));
    y0 = MIN (y0, (int) (p / width));
    y1 = MAX (y1, (int) (p / width));
  }
  x0 = MAX (0, x0 - margin);
  y0 = MAX (0, y0 - margin);
  x1 = MIN (width - 1, x1 + margin);
  y1 = MIN (height - 1, y1 + margin);
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      const guint8 *p = rgb + (gsize) y * stride + 3 * x;
      mask[(gsize) y * width + x] = rgb_distance2 (p, object)
          < ground_distance2 (p, base, tint, NULL);
    }
  region = largest_region (mask, width, height);
  g_free (mask);
  return region;
}

/* Place, size and shape of REGION. */
static void
measure_object_geometry (int width, int height, const GArray * region,
    double scale, HartSceneMeasure * m)
{
  int x0 = width, x1 = -1, y0 = height, y1 = -1;
  double sx = 0, sy = 0;
  int *row_min = g_new (int, height), *row_max = g_new (int, height);
  Point *corners;
  int n_corners = 0;
  double bbox_w, bbox_h;

  for (int y = 0; y < height; y++) {
    row_min[y] = width;
    row_max[y] = -1;
  }
  for (guint i = 0; i < region->len; i++) {
    guint p = g_array_index (region, guint, i);
    int x = p % width, y = p / width;
    x0 = MIN (x0, x);
    x1 = MAX (x1, x);
    y0 = MIN (y0, y);
    y1 = MAX (y1, y);
    row_min[y] = MIN (row_min[y], x);
    row_max[y] = MAX (row_max[y], x);
    sx += x + 0.5;
    sy += y + 0.5;
  }

  m->area = region->len;
  m->centroid_x = sx / region->len;
  m->centroid_y = sy / region->len;
  m->column = CLAMP ((int) (3 * m->centroid_x / width), 0, 2);
  m->row = CLAMP ((int) (3 * m->centroid_y / height), 0, 2);

  bbox_w = x1 - x0 + 1;
  bbox_h = y1 - y0 + 1;
  m->extent = MAX (bbox_w, bbox_h) / scale;
  m->size = m->extent > SIZE_THRESHOLD ? HART_SCENE_LARGE : HART_SCENE_SMALL;

  /* hull of the pixel squares: the corners of each row's outer pixels */
  corners = g_new (Point, 4 * (y1 - y0 + 1));
  for (int y = y0; y <= y1; y++) {
    if (row_max[y] < 0)
      continue;
    corners[n_corners++] = (Point) {
    row_min[y], y};
    corners[n_corners++] = (Point) {
    row_min[y], y + 1};
    corners[n_corners++] = (Point) {
    row_max[y] + 1, y};
    corners[n_corners++] = (Point) {
    row_max[y] + 1, y + 1};
  }
  m->fill_ratio = m->area / (bbox_w * bbox_h);
  m->solidity = m->area / MAX (convex_hull_area (corners, n_corners), 1.0);
  m->centroid_drop = (m->centroid_y - (y0 + bbox_h / 2)) / bbox_h;
  if (m->solidity >= STAR_MAX_SOLIDITY && m->fill_ratio >= SQUARE_MIN_FILL)
    m->shape = HART_SCENE_SQUARE;
  else if (m->solidity >= STAR_MAX_SOLIDITY && m->fill_ratio >= CIRCLE_MIN_FILL)
    m->shape = HART_SCENE_CIRCLE;
  else                          /* notched or sparse: pointed */
    m->shape = m->centroid_drop >= TRIANGLE_MIN_DROP ? HART_SCENE_TRIANGLE :
        HART_SCENE_STAR;

  g_free (corners);
  g_free (row_min);
  g_free (row_max);
}

gboolean
hart_scene_measure (const guint8 * rgb, int width, int height, int stride,
    HartSceneMeasure * m, GError ** error)
{
  ColourStats *tone_stats;      /* [2 · N_COLOURS]: base, tint of each */
  guint32 votes[HART_SCENE_N_COLOURS] = { 0 };
  guint8 base[3], tint[3];
  guint8 *mask;
  GArray *region;
  gsize n;
  double scale;
  int ring, best = 0;

  if (rgb == NULL || width < 8 || height < 8 || width > 8192
      || height > 8192 || stride < 3 * width) {
    g_set_error (error, HART_SCENE_ERROR, HART_SCENE_ERROR_INVALID_IMAGE,
        "cannot measure a %dx%d image with stride %d%s", width, height,
        stride, rgb == NULL ? " and no data" : "");
    return FALSE;
  }
  memset (m, 0, sizeof *m);
  m->colour = HART_SCENE_COLOUR_NONE;
  m->shape = HART_SCENE_SHAPE_NONE;
  m->size = HART_SCENE_SIZE_NONE;
  m->row = m->column = -1;
  n = (gsize) width *height;
  scale = MIN (width, height) / 64.0;
  ring = MAX (1, (int) lround (2 * scale));

  /* 1. ground: votes of the border ring over the 16 tones */
  tone_stats = g_new0 (ColourStats, 2 * HART_SCENE_N_COLOURS);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      const guint8 *p = rgb + (gsize) y * stride + 3 * x;
      int best_tone = 0;
      double best_d = G_MAXDOUBLE;
      if (x >= ring && y >= ring && x < width - ring && y < height - ring)
        continue;
      for (int t = 0; t < 2 * HART_SCENE_N_COLOURS; t++) {
        const guint8 *ref = t % 2 ? palette[t / 2].tint : palette[t / 2].rgb;
        double d = rgb_distance2 (p, ref);
        if (d < best_d) {
          best_d = d;
          best_tone = t;
        }
      }
      votes[best_tone / 2]++;
      colour_stats_add (&tone_stats[best_tone], p);
    }
  for (int c = 1; c < HART_SCENE_N_COLOURS; c++)
    if (votes[c] > votes[best])
      best = c;
  m->background = best;
  /* a few voters (noise, on a plain ground) are not a measurement: keep
   * the palette's tone */
  if (tone_stats[2 * best].n >= votes[best] / 10 + 1)
    colour_stats_median (&tone_stats[2 * best], base);
  else
    memcpy (base, palette[best].rgb, 3);
  if (tone_stats[2 * best + 1].n >= votes[best] / 10 + 1)
    colour_stats_median (&tone_stats[2 * best + 1], tint);
  else
    memcpy (tint, palette[best].tint, 3);
  g_free (tone_stats);

  /* 2. object mask: far from both ground tones */
  mask = g_malloc0 (n);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      const guint8 *p = rgb + (gsize) y * stride + 3 * x;
      mask[(gsize) y * width + x] = ground_distance2 (p, base, tint, NULL)
          > OBJECT_DISTANCE * OBJECT_DISTANCE;
    }
  region = largest_region (mask, width, height);

  /* 7. pattern, on the ground away from every mask pixel */
  measure_ground_pattern (rgb, width, height, stride, mask, base, tint, m);

  /* 3–6. the object */
  if (region && region->len >= OBJECT_MIN_AREA * scale * scale) {
    guint8 object[3];
    GArray *outline;

    m->found = TRUE;
    m->colour = measure_object_colour (rgb, width, height, stride, region,
        object);
    outline = half_coverage_region (rgb, width, height, stride, region,
        ring, object, base, tint);
    measure_object_geometry (width, height, outline ? outline : region,
        scale, m);
    if (outline)
      g_array_unref (outline);
  }
  if (region)
    g_array_unref (region);
  g_free (mask);
  return TRUE;
}

const char *
hart_scene_colour_name (HartSceneColour colour)
{
  return colour >= 0 && colour < HART_SCENE_N_COLOURS ?
      palette[colour].name : "none";
}

const char *
hart_scene_shape_name (HartSceneShape shape)
{
  return shape >= 0 && shape < HART_SCENE_N_SHAPES ? shape_names[shape] :
      "none";
}

const char *
hart_scene_size_name (HartSceneSize size)
{
  return size >= 0 && size < HART_SCENE_N_SIZES ? size_names[size] : "none";
}

const char *
hart_scene_pattern_name (HartScenePattern pattern)
{
  return pattern >= 0 && pattern < HART_SCENE_N_PATTERNS ?
      pattern_names[pattern] : "none";
}

const char *
hart_scene_place_phrase (int row, int column)
{
  if (row < 0 || row > 2 || column < 0 || column > 2)
    return NULL;
  return place_phrases[row][column];
}

const guint8 *
hart_scene_colour_rgb (HartSceneColour colour)
{
  static const guint8 grey[3] = { 128, 128, 128 };
  return colour >= 0 && colour < HART_SCENE_N_COLOURS ?
      palette[colour].rgb : grey;
}

static int
index_of (const char *name, const char *const *names, int n)
{
  for (int i = 0; name && i < n; i++)
    if (strcmp (name, names[i]) == 0)
      return i;
  return -1;
}

HartSceneColour
hart_scene_colour_from_name (const char *name)
{
  for (int c = 0; name && c < HART_SCENE_N_COLOURS; c++)
    if (strcmp (name, palette[c].name) == 0)
      return c;
  return HART_SCENE_COLOUR_NONE;
}

HartSceneShape
hart_scene_shape_from_name (const char *name)
{
  return index_of (name, shape_names, HART_SCENE_N_SHAPES);
}

HartSceneSize
hart_scene_size_from_name (const char *name)
{
  return index_of (name, size_names, HART_SCENE_N_SIZES);
}

HartScenePattern
hart_scene_pattern_from_name (const char *name)
{
  return index_of (name, pattern_names, HART_SCENE_N_PATTERNS);
}

void
hart_scene_parse_caption (const char *text, HartSceneWant * want)
{
  char **words = g_strsplit_set (text, " ,", -1);
  gsize best_phrase = 0;

  want->background = want->colour = HART_SCENE_COLOUR_NONE;
  want->pattern = HART_SCENE_PATTERN_NONE;
  want->shape = HART_SCENE_SHAPE_NONE;
  want->size = HART_SCENE_SIZE_NONE;
  want->row = want->column = -1;
  for (int i = 0; words[i]; i++) {
    const char *w = words[i];
    int next = i + 1;
    HartSceneColour colour;

    if (*w == '\0')
      continue;
    /* the next word, skipping the empty strings of repeated separators
     * (Python's split () has none) */
    while (words[next] && *words[next] == '\0')
      next++;
    if (hart_scene_size_from_name (w) >= 0) {
      if (want->size < 0)
        want->size = hart_scene_size_from_name (w);
    } else if (hart_scene_shape_from_name (w) >= 0) {
      if (want->shape < 0)
        want->shape = hart_scene_shape_from_name (w);
    } else if ((colour = hart_scene_colour_from_name (w)) >= 0) {
      if (words[next] && strcmp (words[next], "background") == 0)
        want->background = colour;
      else if (want->colour < 0)
        want->colour = colour;
    } else if (strcmp (w, "striped") == 0 || strcmp (w, "checkered") == 0) {
      want->pattern = hart_scene_pattern_from_name (w);
    }
  }
  g_strfreev (words);
  /* the longest place phrase found anywhere in the text ("at the top left"
   * over "at the top") */
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      if (strstr (text, place_phrases[r][c])
          && strlen (place_phrases[r][c]) > best_phrase) {
        best_phrase = strlen (place_phrases[r][c]);
        want->row = r;
        want->column = c;
      }
}
