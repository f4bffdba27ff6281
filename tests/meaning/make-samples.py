#!/usr/bin/python3
# gst-hart — ground-truth renders for the meaning tests' calibration
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes tests/meaning/samples/: single-object scenes of the "shapes" world drawn by
tools/train/shapes.py, and captions.jsonl (one line per PNG: file, full caption,
scene), on which test-meaning-calibration checks measure.c.

  make-samples.py [OUT_DIR] [--count N] [--seed S]

Attributes are dealt out in balanced, shuffled decks (every shape, size, colour, place and
pattern about equally often, so that each is covered), the background is drawn among the
colours other than the object's, the position is jittered like shapes.sample_scene().
Run with /usr/bin/python3 (numpy + PIL).
"""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "train"))
import shapes  # noqa: E402


def deck(items, count, rng):
    """count items, each of `items` equally often (±1), in random order."""
    reps = -(-count // len(items))
    out = [items[i % len(items)] for i in range(reps * len(items))]
    return [out[i] for i in rng.permutation(len(out))[:count]]


def make_scenes(count, rng):
    colours = list(shapes.COLOURS)
    shape_deck = deck(shapes.SHAPES, count, rng)
    size_deck = deck(list(shapes.SIZES), count, rng)
    colour_deck = deck(colours, count, rng)
    place_deck = deck(sorted(shapes.PLACES), count, rng)
    pattern_deck = deck(shapes.PATTERNS, count, rng)
    # backgrounds: a deck too, re-dealt where it collides with the object colour
    ground_deck = deck(colours, count, rng)
    scenes = []
    for i in range(count):
        colour = colour_deck[i]
        ground = ground_deck[i]
        if ground == colour:
            ground = str(rng.choice([c for c in colours if c != colour]))
        row, col = place_deck[i]
        obj = dict(colour=colour, shape=shape_deck[i], size=size_deck[i], place=(row, col),
                   cx=shapes.CELL_CENTRES[col] + rng.uniform(-3, 3),
                   cy=shapes.CELL_CENTRES[row] + rng.uniform(-3, 3))
        scenes.append(dict(background=ground, pattern=pattern_deck[i], objects=[obj]))
    return scenes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", nargs="?", default=os.path.join(HERE, "samples"))
    ap.add_argument("--count", type=int, default=48)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)
    from PIL import Image
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    scenes = make_scenes(args.count, rng)
    with open(os.path.join(args.out, "captions.jsonl"), "w") as f:
        for i, scene in enumerate(scenes):
            name = f"{i:04d}.png"
            Image.fromarray(shapes.render(scene)).save(os.path.join(args.out, name),
                                                       optimize=True)
            f.write(json.dumps(dict(file=name, caption=shapes.caption(scene),
                                    scene=scene)) + "\n")


if __name__ == "__main__":
    main()
