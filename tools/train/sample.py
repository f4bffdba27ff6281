#!/usr/bin/python3
# gst-hart — sample the shapes model with the PyTorch reference
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Generate pictures from a training work folder (vae.pt + ar.pt, EMA weights) or from an
exported model folder, with hart_reference.generate and the project's Philox draws, and
write them as a labelled grid.

  sample.py (--work DIR | --model DIR) [--prompt TEXT]... [--seeds 1,2,3] [--cfg 4.5]
            [-o grid.png] [--save-dir DIR]

Without --prompt a fixed list covering the world is used.  With --model the output of a
seed is the same picture `hart generate --model DIR/hart --seed S` writes (up to ±1 in a
few pixel values; see docs/reference-validation.md).
"""

import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "reference"))
import train  # noqa: E402
import hart_reference as ref  # noqa: E402

DEFAULT_PROMPTS = [
    "a large red circle in the center on a blue background",
    "a small yellow star at the top left on a black background",
    "a large green square at the bottom right on a white background",
    "a small purple triangle at the top on an orange background",
    "a large white circle on the left on a striped green background",
    "a small blue square at the bottom on a yellow background",
    "a large orange star on the right on a purple background",
    "a black triangle in the center on a checkered red background",
    "a red circle and a blue square on a white background",
]


def load_work(work):
    train.set_text_vocab(work)
    vsd = torch.load(train.vae_weights_path(work))
    ar = torch.load(os.path.join(work, "ar.pt"))
    v = train.View(llm=ar["ema_llm"], vae=vsd)
    qwen = train.make_qwen()
    qwen.load_state_dict(ar["ema_qwen"])
    qwen.eval()
    return v, qwen, train.PromptEncoder(os.path.join(work, "tokenizer.json"))


def load_model(folder):
    from transformers import Qwen2Model
    ck = ref.Checkpoint(os.path.join(folder, "hart"))
    qdir = os.path.join(folder, "Qwen2-VL-1.5B-Instruct")
    qwen = Qwen2Model.from_pretrained(qdir, torch_dtype=torch.float32,
                                      attn_implementation="eager")
    qwen.eval()

    return ck, qwen, train.PromptEncoder(os.path.join(qdir, "tokenizer.json"), ck.T)


def generate(v, qwen, penc, prompt, seed, cfg):
    with torch.no_grad():
        ids, mask, pos = penc([prompt])
        ctx = train.text_features(qwen, penc, ids, mask)
        img = ref.generate(v, ctx, pos, ref.Draws(seed=seed), cfg=cfg)
    return ref.to_uint8(img[0]).permute(1, 2, 0).numpy()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--work")
    g.add_argument("--model")
    ap.add_argument("--prompt", action="append")
    ap.add_argument("--seeds", default="1,2,3,4")
    ap.add_argument("--cfg", type=float, default=4.5)
    ap.add_argument("-o", "--output", default="grid.png")
    ap.add_argument("--save-dir")
    ap.add_argument("--scale", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    from PIL import Image, ImageDraw
    v, qwen, penc = load_work(args.work) if args.work else load_model(args.model)
    prompts = args.prompt or DEFAULT_PROMPTS
    seeds = [int(s) for s in args.seeds.split(",")]
    size = v.patch_nums[-1] * 8 * args.scale
    label_w = 330
    grid = Image.new("RGB", (label_w + size * len(seeds), size * len(prompts)), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    for r, prompt in enumerate(prompts):
        words, lines, line = prompt.split(), [], ""
        for w in words:
            if len(line) + len(w) > 44:
                lines.append(line)
                line = ""
            line += (" " if line else "") + w
        lines.append(line)
        draw.multiline_text((6, r * size + 6), "\n".join(lines), fill=(0, 0, 0))
        for c, seed in enumerate(seeds):
            img = generate(v, qwen, penc, prompt, seed, args.cfg)
            if args.save_dir:
                os.makedirs(args.save_dir, exist_ok=True)
                Image.fromarray(img).save(os.path.join(args.save_dir, f"p{r:02d}-s{seed}.png"))
            im = Image.fromarray(img).resize((size, size), Image.NEAREST)
            grid.paste(im, (label_w + c * size, r * size))
    grid.save(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
