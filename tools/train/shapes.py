#!/usr/bin/python3
# gst-hart — procedural captioned images: the small visual world of the bundled model
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The "shapes" world: 64x64 RGB pictures of one to three flat-coloured objects on a plain or
patterned background, each with a caption from a small grammar.

  shapes.py OUT_DIR [--count N] [--seed S]     writes N PNGs + captions.jsonl (for looking)

Used by train.py (in memory, no files) and by the meaning tests' calibration.  Everything is a
pure function of the seed (numpy Generator PCG64), so the data set is reproducible.

World (docs/bundled-model.md lists the same table):
  colours  red green blue yellow purple orange white black (RGB below)
  shapes   circle square triangle star
  sizes    small (half-extent 6 px), large (12 px)
  places   3x3 grid: cell centres 16/32/48 px, jittered by up to 3 px
  ground   a plain colour, or stripes / checks of that colour and a lighter tint
"""

import argparse
import json
import math
import os

import numpy as np

SIZE = 64
SUPERSAMPLE = 4

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 170, 50),
    "blue": (30, 70, 220),
    "yellow": (245, 215, 30),
    "purple": (150, 50, 190),
    "orange": (245, 130, 20),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
SHAPES = ["circle", "square", "triangle", "star"]
SIZES = {"small": 6.0, "large": 12.0}
# (row, column) -> phrase; row 0 = top, column 0 = left
PLACES = {
    (0, 0): "at the top left", (0, 1): "at the top", (0, 2): "at the top right",
    (1, 0): "on the left", (1, 1): "in the center", (1, 2): "on the right",
    (2, 0): "at the bottom left", (2, 1): "at the bottom", (2, 2): "at the bottom right",
}
CELL_CENTRES = (16.0, 32.0, 48.0)
PATTERNS = ["plain", "striped", "checkered"]


def tint(rgb, amount=0.45):
    return tuple(int(round(c + (255 - c) * amount)) for c in rgb)


def shape_mask(shape, cx, cy, r, n):
    """Coverage [n, n] in {0, 1} of a shape centred (cx, cy), half-extent r, on an n x n grid
    whose cell centres are at (i + 0.5) * 64 / n."""
    s = SIZE / n
    y, x = np.mgrid[0:n, 0:n].astype(np.float64)
    x = (x + 0.5) * s - cx
    y = (y + 0.5) * s - cy
    if shape == "circle":
        return (x * x + y * y) <= r * r
    if shape == "square":
        return (np.abs(x) <= r * 0.9) & (np.abs(y) <= r * 0.9)
    if shape == "triangle":  # apex up, base at +r, apex at -r
        t = (y + r) / (2 * r)  # 0 at apex, 1 at base
        return (t >= 0) & (t <= 1) & (np.abs(x) <= t * r * 1.1)
    if shape == "star":  # five points, inner radius 0.45 r
        ang = np.arctan2(x, -y)  # 0 at the top, clockwise
        rad = np.hypot(x, y)
        sector = (ang % (2 * math.pi / 5)) / (2 * math.pi / 5)  # 0..1 between two points
        d = np.abs(sector - 0.5) * 2  # 1 at a point, 0 between
        inner, outer = 0.45 * r, 1.1 * r
        # boundary interpolates linearly in angle between inner and outer radius
        return rad <= inner + (outer - inner) * d
    raise ValueError(shape)


def background(colour, pattern, n):
    base = np.array(COLOURS[colour], dtype=np.float64)
    light = np.array(tint(COLOURS[colour]), dtype=np.float64)
    img = np.empty((n, n, 3), dtype=np.float64)
    img[:] = base
    if pattern == "plain":
        return img
    y, x = np.mgrid[0:n, 0:n]
    period = 8 * n // SIZE
    if pattern == "striped":
        light_cells = (y // (period // 2)) % 2 == 1
    else:
        light_cells = ((y // period) + (x // period)) % 2 == 1
    img[light_cells] = light
    return img


def sample_scene(rng):
    """A random scene: dict(background, pattern, objects=[dict(colour, shape, size, place, cx,
    cy)]), objects in distinct cells, object colours different from the background."""
    bg = str(rng.choice(list(COLOURS)))
    pattern = "plain" if rng.random() < 0.7 else str(rng.choice(PATTERNS[1:]))
    n_obj = int(rng.choice([1, 2, 3], p=[0.6, 0.25, 0.15]))
    cells = rng.permutation(9)[:n_obj]
    objs = []
    for cell in cells:
        row, col = divmod(int(cell), 3)
        colour = str(rng.choice([c for c in COLOURS if c != bg]))
        size = str(rng.choice(list(SIZES)))
        if n_obj > 1:
            size = "small" if rng.random() < 0.7 else size
        objs.append(dict(colour=colour, shape=str(rng.choice(SHAPES)), size=size,
                         place=(row, col),
                         cx=CELL_CENTRES[col] + rng.uniform(-3, 3),
                         cy=CELL_CENTRES[row] + rng.uniform(-3, 3)))
    return dict(background=bg, pattern=pattern, objects=objs)


def render(scene):
    """uint8 [64, 64, 3]: drawn at 4x and box-filtered, so edges are anti-aliased."""
    n = SIZE * SUPERSAMPLE
    img = background(scene["background"], scene["pattern"], n)
    for o in scene["objects"]:
        m = shape_mask(o["shape"], o["cx"], o["cy"], SIZES[o["size"]], n)
        img[m] = COLOURS[o["colour"]]
    img = img.reshape(SIZE, SUPERSAMPLE, SIZE, SUPERSAMPLE, 3).mean(axis=(1, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def object_phrase(o, rng, omit):
    words = ["a"]
    if not (omit and rng.random() < 0.25):
        words.append(o["size"])
    words += [o["colour"], o["shape"]]
    if not (omit and rng.random() < 0.25):
        words.append(PLACES[tuple(o["place"])])
    if words[1][0] in "aeiou":
        words[0] = "an"
    return " ".join(words)


def caption(scene, rng=None):
    """Caption from the grammar.  With rng, attributes are sometimes left out (size, place,
    background) so that the model also learns shorter prompts; without, the full caption."""
    omit = rng is not None
    parts = [object_phrase(o, rng, omit) for o in scene["objects"]]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    if not (omit and rng.random() < 0.15):
        ground = scene["background"]
        if scene["pattern"] != "plain":
            ground = scene["pattern"] + " " + ground
        text += (" on an " if ground[0] in "aeiou" else " on a ") + ground + " background"
    return text


def parse_caption(text):
    """Inverse of caption() for single-object captions: the attributes a prompt asks for
    (None where the prompt leaves one out).  Used by the meaning tests."""
    words = text.replace(",", " ").split()
    want = dict(size=None, colour=None, shape=None, place=None, background=None, pattern=None)
    for i, w in enumerate(words):
        if w in SIZES and want["size"] is None:
            want["size"] = w
        elif w in SHAPES and want["shape"] is None:
            want["shape"] = w
        elif w in COLOURS:
            if i + 1 < len(words) and words[i + 1] == "background":
                want["background"] = w
            elif want["colour"] is None:
                want["colour"] = w
        elif w in ("striped", "checkered"):
            want["pattern"] = w
    for place, phrase in PLACES.items():
        if phrase in text and (want["place"] is None or len(phrase) > len(PLACES[want["place"]])):
            want["place"] = place
    return want


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from PIL import Image
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    with open(os.path.join(args.out, "captions.jsonl"), "w") as f:
        for i in range(args.count):
            scene = sample_scene(rng)
            img = render(scene)
            name = f"{i:04d}.png"
            Image.fromarray(img).save(os.path.join(args.out, name))
            f.write(json.dumps(dict(file=name, caption=caption(scene),
                                    scene=scene)) + "\n")


if __name__ == "__main__":
    main()
