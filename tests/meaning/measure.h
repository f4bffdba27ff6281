/* gst-hart — measuring a picture of the "shapes" world
 * Copyright (C) 2026 gst-hart developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The meaning tests ask of a generated picture what its caption asks for:
 * the background's colour and pattern, and the colour, shape, size and
 * place (3×3 cell) of the one object on it.  The world is defined by
 * tools/train/shapes.py: eight flat colours, four shapes, two
 * sizes (half-extent 6 or 12 px in a 64-px picture), a 3×3 grid of places,
 * and plain, striped or checkered grounds of a colour and its tint (45 %
 * towards white).  Measures are scale-aware: a W-px picture is read as the
 * 64-px world scaled by W / 64.
 */
#ifndef HART_MEANING_MEASURE_H
#define HART_MEANING_MEASURE_H

#include <glib.h>

G_BEGIN_DECLS

/* In the order of shapes.COLOURS / SHAPES / SIZES / PATTERNS. */
typedef enum
{
  HART_SCENE_COLOUR_NONE = -1,
  HART_SCENE_RED,
  HART_SCENE_GREEN,
  HART_SCENE_BLUE,
  HART_SCENE_YELLOW,
  HART_SCENE_PURPLE,
  HART_SCENE_ORANGE,
  HART_SCENE_WHITE,
  HART_SCENE_BLACK,
  HART_SCENE_N_COLOURS
} HartSceneColour;

typedef enum
{
  HART_SCENE_SHAPE_NONE = -1,
  HART_SCENE_CIRCLE,
  HART_SCENE_SQUARE,
  HART_SCENE_TRIANGLE,
  HART_SCENE_STAR,
  HART_SCENE_N_SHAPES
} HartSceneShape;

typedef enum
{
  HART_SCENE_SIZE_NONE = -1,
  HART_SCENE_SMALL,
  HART_SCENE_LARGE,
  HART_SCENE_N_SIZES
} HartSceneSize;

typedef enum
{
  /* unknown: the ground's two tones are too close to tell apart (white) */
  HART_SCENE_PATTERN_NONE = -1,
  HART_SCENE_PLAIN,
  HART_SCENE_STRIPED,
  HART_SCENE_CHECKERED,
  HART_SCENE_N_PATTERNS
} HartScenePattern;

/* What one picture shows.  The derived features are kept for diagnostics
 * and for calibrating the thresholds. */
typedef struct
{
  HartSceneColour background;
  HartScenePattern pattern;
  gboolean found;               /* an object stands out from the ground */
  HartSceneColour colour;       /* NONE when !found, likewise below */
  HartSceneShape shape;
  HartSceneSize size;
  int row, column;              /* 3×3 cell of the centroid, row 0 = top; -1 */

  /* features */
  double tint_fraction;         /* ground pixels nearer the tint */
  int area;                     /* object pixels (its outline's region) */
  double centroid_x, centroid_y;        /* px, from the top left corner */
  double extent;                /* max (bbox width, height) in 64-px units */
  double fill_ratio;            /* area / bbox area */
  double solidity;              /* area / convex hull area (pixel corners) */
  double centroid_drop;         /* (centroid − bbox centre) y / bbox height */
} HartSceneMeasure;

#define HART_SCENE_ERROR (hart_scene_error_quark ())
GQuark hart_scene_error_quark (void);

typedef enum
{
  HART_SCENE_ERROR_INVALID_IMAGE,
} HartSceneError;

/* Measures RGB (packed RGB8, HEIGHT rows of STRIDE bytes).  Fails
 * (HART_SCENE_ERROR_INVALID_IMAGE) only on an unusable image: NULL data, a
 * side under 8 px or over 8192 px, or STRIDE < 3 × WIDTH; a picture
 * without an object is a result (found = FALSE), not an error. */
gboolean hart_scene_measure (const guint8 * rgb, int width, int height,
    int stride, HartSceneMeasure * measure, GError ** error);

const char *hart_scene_colour_name (HartSceneColour colour);
const char *hart_scene_shape_name (HartSceneShape shape);
const char *hart_scene_size_name (HartSceneSize size);
const char *hart_scene_pattern_name (HartScenePattern pattern);
/* "at the top left", …, "in the center"; NULL outside the grid */
const char *hart_scene_place_phrase (int row, int column);
/* Palette RGB of COLOUR (3 bytes). */
const guint8 *hart_scene_colour_rgb (HartSceneColour colour);

/* Names back to values: NONE for an unknown name. */
HartSceneColour hart_scene_colour_from_name (const char *name);
HartSceneShape hart_scene_shape_from_name (const char *name);
HartSceneSize hart_scene_size_from_name (const char *name);
HartScenePattern hart_scene_pattern_from_name (const char *name);

/* What a single-object caption asks for; NONE / -1 where it says nothing. */
typedef struct
{
  HartSceneColour background;
  HartScenePattern pattern;     /* NONE also for a plain ground */
  HartSceneColour colour;
  HartSceneShape shape;
  HartSceneSize size;
  int row, column;
} HartSceneWant;

/* The C twin of shapes.parse_caption(). */
void hart_scene_parse_caption (const char *text, HartSceneWant * want);

G_END_DECLS
#endif /* HART_MEANING_MEASURE_H */
