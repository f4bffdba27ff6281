# gst-hart — golden tensors for the Qwen2 text encoder
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Golden tensors for hart/text-encoder.c, made by Hugging Face transformers' own
`Qwen2Model` (not by our reference) on the committed tiny Qwen2 fixture.

    /usr/bin/python3 tests/reference/make_qwen_goldens.py [--out tests/fixtures/goldens]

Needs torch and transformers 4.42.2 (the version HART pins); with Debian's torch 1.13 the
SDPA path is unavailable, so attention runs on transformers' "eager" path — the same
math (softmax of masked, scaled scores in fp32).

The prompt encoding follows HART's `encode_prompts` (docs/algorithm.md §4): the system
prompt is tokenised without padding (S ids), each prompt with max_length=T, truncation,
padding="max_length"; the model sees [system ‖ prompt] with attention mask [1]·S ‖ mask
and the default positions 0 … S+T−1; the context is rows S … S+T−1 of the post-final-norm
hidden state.  The weights are bf16 on disk and loaded as fp32 (the official sampler
loads without torch_dtype, i.e. upcasts).

Writes, per case, `qwen2-<case>.safetensors` holding
    input_ids        i64 [B, S+T]   system ids ‖ padded prompt ids
    attention_mask   u8  [B, S+T]
    hidden_final     f32 [B, S+T, H] post-final-norm hidden states, every row
    hidden_layer0    f32 [B, S+T, H] residual stream after decoder layer 0
                                     (hidden_states[1] of transformers)
    context_tensor   f32 [B, T, H]  rows S … S+T−1 of hidden_final
    context_mask     u8  [B, T]
    context_position_ids i64 [B, T] cumsum(mask) − 1
and the prompts (JSON list) and S, T in the metadata.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

import torch
from safetensors.torch import save_file
from transformers import AutoTokenizer, Qwen2Model

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")

SYSTEM_PROMPT = (
    'Given a user prompt, generate an "Enhanced prompt" that provides detailed visual '
    'descriptions suitable for image generation.\n\nExamples:\n- User Prompt: A cat '
    'sleeping -> A small, fluffy white cat curled up in a round shape, sleeping '
    'peacefully on a warm sunny windowsill, surrounded by pots of blooming red '
    'flowers.\n- User Prompt: A busy city street -> A bustling city street scene at '
    'dusk, featuring glowing street lamps, a diverse crowd of people in colorful '
    'clothing, and a double-decker bus passing by towering glass skyscrapers.\n\n'
    'Please generate only the enhanced description for the prompt below and DO NOT '
    'include any additional sentences. Start your response with "Enhanced Prompt:".'
    '\n\nUser Prompt:\n')

# (case name, max_tokens T, prompts): T = 12 is the tiny HART model's context_token,
# 300 the real one.  Batch 4 with a short, a unicode, an empty and a too-long prompt.
CASES = [
    ("batch4-t12", 12, [
        "a red circle",
        "Ein Bär läuft über die Straße — 東京の夜景 🌃",
        "",
        "A bustling city street scene at dusk, featuring glowing street lamps, "
        "a diverse crowd of people in colorful clothing",
    ]),
    ("t300", 300, ["A cat sleeping on a warm sunny windowsill ☀️"]),
]


def encode(tokenizer, prompts, T):
    """HART's encode_prompts: (ids [B, S+T], mask [B, S+T], context_mask, positions)."""
    assert len(SYSTEM_PROMPT) == 705
    sys_ids = tokenizer([SYSTEM_PROMPT], padding="longest",
                        return_tensors="pt").input_ids            # [1, S]
    tok = tokenizer(prompts, max_length=T, truncation=True, padding="max_length",
                    return_tensors="pt")
    ids = tok.input_ids                                            # [B, T]
    ctx_mask = ids != tokenizer.pad_token_id                       # [B, T]
    positions = torch.cumsum(ctx_mask.long(), dim=1) - 1
    B = ids.shape[0]
    full_ids = torch.cat([sys_ids.expand(B, -1), ids], dim=1)
    full_mask = torch.cat([torch.ones_like(sys_ids.expand(B, -1)), ctx_mask.long()],
                          dim=1)
    return sys_ids.shape[1], full_ids, full_mask, ctx_mask, positions


def load_tokenizer(folder):
    """AutoTokenizer over FOLDER.  The committed tokenizer.json stores merges as pairs
    (the format of tokenizers >= 0.20); tokenizers 0.19, which transformers 4.42.2
    requires, reads only "a b" strings, so convert into a temporary copy (the same
    merges, the same order)."""
    with open(os.path.join(folder, "tokenizer.json"), encoding="utf-8") as f:
        spec = json.load(f)
    merges = spec["model"]["merges"]
    if merges and isinstance(merges[0], list):
        assert not any(" " in a or " " in b for a, b in merges)
        spec["model"]["merges"] = ["%s %s" % (a, b) for a, b in merges]
    tmp = tempfile.mkdtemp(prefix="qwen-tok-")
    try:
        with open(os.path.join(tmp, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(spec, f, ensure_ascii=False)
        shutil.copy(os.path.join(folder, "tokenizer_config.json"), tmp)
        return AutoTokenizer.from_pretrained(tmp)
    finally:
        shutil.rmtree(tmp)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(FIXTURES, "goldens"))
    ap.add_argument("--qwen", default=os.path.join(FIXTURES, "tiny",
                                                   "Qwen2-VL-1.5B-Instruct"))
    ap.add_argument("--tokenizer", default=os.path.join(FIXTURES, "tokenizer"))
    args = ap.parse_args(argv)

    tokenizer = load_tokenizer(args.tokenizer)
    assert tokenizer.padding_side == "right"
    model = Qwen2Model.from_pretrained(args.qwen, torch_dtype=torch.float32,
                                       attn_implementation="eager")
    model.eval()

    for name, T, prompts in CASES:
        S, ids, mask, ctx_mask, positions = encode(tokenizer, prompts, T)
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        final = out.hidden_states[-1].float().contiguous()
        assert torch.equal(final, out.last_hidden_state)
        tensors = {
            "input_ids": ids.long().contiguous(),
            "attention_mask": mask.to(torch.uint8).contiguous(),
            "hidden_final": final,
            "hidden_layer0": out.hidden_states[1].float().contiguous(),
            "context_tensor": final[:, S:S + T].clone(),
            "context_mask": ctx_mask.to(torch.uint8).contiguous(),
            "context_position_ids": positions.long().contiguous(),
        }
        meta = {
            "generator": "tests/reference/make_qwen_goldens.py",
            "prompts": json.dumps(prompts, ensure_ascii=False),
            "system_tokens": str(S),
            "max_tokens": str(T),
            "transformers": __import__("transformers").__version__,
            "torch": torch.__version__,
            "attn_implementation": "eager",
        }
        path = os.path.join(args.out, "qwen2-%s.safetensors" % name)
        save_file(tensors, path, metadata=meta)
        print("wrote %s: S=%d T=%d B=%d (%d bytes)" % (path, S, T, len(prompts),
                                                        os.path.getsize(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
