#!/usr/bin/python3
# gst-hart — text encoder benchmark: the C encoder vs transformers' Qwen2Model
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Text encoder benchmark: one 300-token prompt through the C text encoder
(tests/bench/bench-text-encoder) and through Hugging Face transformers' Qwen2Model
(fp32, eager attention: Debian's torch 1.13 has no SDPA path in transformers 4.42.2),
same weights, same ids, same cores, one after the other in one run.  Prints both
times, the ratio, the peak memory of each and the largest difference between the two
contexts (a real-size correctness check the tiny goldens cannot give).

Usage (not a test; needs Debian's python3-torch and transformers 4.42.2):
  /usr/bin/python3 tests/reference/make_fixtures.py /tmp/qwen-real --config real
  /usr/bin/python3 tests/bench/bench_text_encoder.py \\
      --qwen /tmp/qwen-real/Qwen2-VL-1.5B-Instruct --tokenizer tests/fixtures/tokenizer \\
      --bench build/tests/bench/bench-text-encoder
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

# ~25 tokens a sentence: 14 sentences are well over 300 tokens, so the prompt is
# truncated to exactly 300 real tokens (no padding).
SENTENCE = ("A bustling city street scene at dusk, featuring glowing street lamps, a diverse "
            "crowd of people in colorful clothing, and a double-decker bus. ")
PROMPT = SENTENCE * 14


def load_avg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def run_c(bench, qwen, tokenizer, max_tokens, repeat, context_path):
    cmd = [bench, "--text-encoder", qwen, "--tokenizer", tokenizer, "--prompt", PROMPT,
           "--max-tokens", str(max_tokens), "--repeat", str(repeat),
           "--save-context", context_path]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_transformers(qwen, tokenizer_dir, max_tokens, repeat):
    import torch
    from transformers import Qwen2Model
    from make_qwen_goldens import encode, load_tokenizer

    # Debian's torch starts with one thread here; give it every core, as the C
    # backend takes (OpenMP + OpenBLAS, n_threads 0).
    torch.set_num_threads(os.cpu_count())
    tokenizer = load_tokenizer(tokenizer_dir)
    t0 = time.perf_counter()
    model = Qwen2Model.from_pretrained(qwen, torch_dtype=torch.float32,
                                       attn_implementation="eager")
    model.eval()
    load_s = time.perf_counter() - t0
    S, ids, mask, ctx_mask, positions = encode(tokenizer, [PROMPT], max_tokens)
    times = []
    with torch.no_grad():
        for r in range(repeat + 1):          # the first run warms up
            t0 = time.perf_counter()
            out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            context = out.hidden_states[-1][:, S:S + max_tokens]
            if r > 0:
                times.append(time.perf_counter() - t0)
    times.sort()
    return {
        "load_s": load_s, "encode_best_s": times[0], "encode_median_s": times[len(times) // 2],
        "rows": ids.shape[1], "system_tokens": S, "prompt_tokens": int(ctx_mask.sum()),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "threads": torch.get_num_threads(),
    }, context, ctx_mask, positions


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qwen", required=True, help="real-size Qwen2 folder")
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "..", "fixtures", "tokenizer"))
    ap.add_argument("--bench", required=True, help="path of bench-text-encoder")
    ap.add_argument("--max-tokens", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    print("load average before: %s (%d cores)" % (load_avg(), os.cpu_count()))
    with tempfile.TemporaryDirectory() as tmp:
        ctx_path = os.path.join(tmp, "context.safetensors")
        c = run_c(args.bench, args.qwen, args.tokenizer, args.max_tokens, args.repeat,
                  ctx_path)
        print("C  encoder  :", json.dumps(c))
        print("load average between: %s" % load_avg())
        t, context, ctx_mask, positions = run_transformers(args.qwen, args.tokenizer,
                                                          args.max_tokens, args.repeat)
        print("transformers:", json.dumps(t))
        print("load average after: %s" % load_avg())

        import torch
        from safetensors.torch import load_file
        ours = load_file(ctx_path)
        assert ours["context_tensor"].shape == context.shape, (ours["context_tensor"].shape,
                                                                context.shape)
        assert torch.equal(ours["context_mask"].bool(), ctx_mask)
        assert torch.equal(ours["context_position_ids"], positions)
        diff = (ours["context_tensor"] - context).abs()
        rel = diff / context.abs().clamp(min=1.0)
        print("context: max |diff| %.3g, max rel. diff %.3g, max |ref| %.3g"
              % (diff.max().item(), rel.max().item(), context.abs().max().item()))

    print("encode (best of %d, %d rows): C %.3f s, transformers %.3f s, ratio %.2f× "
          "(transformers / C)" % (args.repeat, c["rows"], c["encode_best_s"],
                                  t["encode_best_s"], t["encode_best_s"] / c["encode_best_s"]))
    print("load: C %.1f s, transformers %.1f s; peak RSS: C %.0f MiB (anonymous after "
          "load %.0f MiB, at the end %.0f MiB), transformers %.0f MiB"
          % (c["load_s"], t["load_s"], c["peak_rss_mib"], c["anon_rss_after_load_mib"],
             c["anon_rss_end_mib"], t["peak_rss_mib"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
