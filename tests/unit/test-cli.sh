#!/bin/sh
# gst-hart — end-to-end tests of `hart inspect` on the fixtures.
# Usage: test-cli.sh PATH/TO/hart [--valgrind]
# Valid folders and files must print a config and/or a tensor table and
# exit 0; every file of the broken corpus must give exactly one error line
# naming the file, exit 1, and (with --valgrind) no memory error or leak.
set -u
HART=$1
MODE=${2:-}
: "${HART_FIXTURES:?HART_FIXTURES must point at tests/fixtures}"
TINY=$HART_FIXTURES/tiny
fail=0
n=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

run() {
  if [ "$MODE" = "--valgrind" ]; then
    valgrind -q --error-exitcode=99 --leak-check=full \
      --errors-for-leak-kinds=definite,indirect "$HART" "$@"
  else
    "$HART" "$@"
  fi
}

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$err" | head -5; }

expect_ok() { # PATH PATTERN...
  path=$1; shift
  run inspect "$path" >"$out" 2>"$err"
  status=$?
  if [ $status -ne 0 ]; then not_ok "inspect $path exits 0 (got $status)"; return; fi
  for pattern in "$@"; do
    if ! grep -q -- "$pattern" "$out"; then
      echo "# missing: $pattern" >"$err"; not_ok "inspect $path prints '$pattern'"; return
    fi
  done
  ok "inspect $path"
}

if [ "$MODE" != "--valgrind" ]; then
  expect_ok "$TINY/hart-0.7b-1024px" "HART transformer" "HART autoencoder" \
    "ema_model.bin" "model.safetensors" "blocks.0.attn.qkv_proj.weight" \
    "diffloss.net.res_blocks.0.adaLN_modulation.1.weight" \
    "vae.quantize.embedding.weight" "vae.decoder.conv_in.weight"
  expect_ok "$TINY/hart-0.7b-1024px/llm" "hart_transformer_t2i" "lvl_1L  *I64"
  expect_ok "$TINY/hart-0.7b-1024px/llm/ema_model.bin" "PyTorch zip" "head.weight"
  expect_ok "$TINY/hart-0.7b-1024px/tokenizer" "codebook"
  expect_ok "$TINY/Qwen2-VL-1.5B-Instruct" "Qwen2 text encoder" "sharded" \
    "model.embed_tokens.weight  *BF16" "model.norm.weight"
  expect_ok "$TINY/Qwen2-VL-1.5B-Instruct/config.json" "KV heads"
  expect_ok "$HART_FIXTURES/tiny2/hart-0.7b-1024px" "HART transformer"

  # hart tokenize / generate, end to end
  out_png=$(mktemp --suffix=.png)
  if [ "$(run tokenize -t "$HART_FIXTURES/tokenizer" "Hello world" 2>"$err")" = "9707 1879" ]; then
    ok "tokenize"; else not_ok "tokenize"; fi
  if [ "$(run tokenize -t "$HART_FIXTURES/tokenizer" --decode 9707 1879 2>"$err")" = "Hello world" ]; then
    ok "tokenize --decode"; else not_ok "tokenize --decode"; fi
  if run generate --model "$TINY/hart-0.7b-1024px" --prompt "a red circle" --seed 3 -q \
      -o "$out_png" 2>"$err" && [ "$(head -c 8 "$out_png" | od -An -tx1 | tr -d ' ')" = "89504e470d0a1a0a" ]; then
    ok "generate --prompt writes a PNG"; else not_ok "generate --prompt writes a PNG"; fi
  run generate --model /nonexistent --prompt x -o "$out_png" >"$out" 2>"$err"
  if [ $? -eq 1 ] && grep -q "^hart: error: /nonexistent: no such model folder" "$err"; then
    ok "generate: missing model"; else not_ok "generate: missing model"; fi
  run generate --model "$TINY/hart-0.7b-1024px" --context "$HART_FIXTURES/broken/st-bad-json.safetensors" \
      -o "$out_png" >"$out" 2>"$err"
  if [ $? -eq 1 ] && grep -q "st-bad-json.safetensors" "$err"; then
    ok "generate: broken context file"; else not_ok "generate: broken context file"; fi
  rm -f "$out_png"

  # hart generate --frames: the video rules of docs/video.md from the CLI
  vid=$(mktemp -d)
  gen() { run generate --model "$TINY/hart-0.7b-1024px" --seed 3 -q "$@" 2>"$err"; }
  if gen --prompt "a red circle" -o "$vid/one.png" \
      && gen --prompt "a red circle" --frames 3 -o "$vid/fixed.png" \
      && cmp -s "$vid/one.png" "$vid/fixed-0000.png" \
      && cmp -s "$vid/fixed-0000.png" "$vid/fixed-0002.png"; then
    ok "generate --frames: fixed seed, every frame the single image"
  else not_ok "generate --frames: fixed seed, every frame the single image"; fi
  if gen --prompt "a red circle" --frames 2 --seed-mode increment -o "$vid/inc.png" \
      && cmp -s "$vid/one.png" "$vid/inc-0000.png" \
      && ! cmp -s "$vid/inc-0000.png" "$vid/inc-0001.png"; then
    ok "generate --frames --seed-mode increment"
  else not_ok "generate --frames --seed-mode increment"; fi
  # a prompt change at frame 1 with keep-scales: frame 1 is the new
  # prompt's own frame 1, nothing kept of the old prompt
  if gen --prompt "a red circle" --frames 2 --seed-mode increment --keep-scales 3 \
        --prompt-at "1:a blue square" -o "$vid/change.png" \
      && gen --prompt "a blue square" --frames 2 --seed-mode increment -o "$vid/blue.png" \
      && cmp -s "$vid/change-0001.png" "$vid/blue-0001.png"; then
    ok "generate --prompt-at drops the kept scales"
  else not_ok "generate --prompt-at drops the kept scales"; fi
  # --batch (docs/video.md, "Batches of frames"): 3 frames as 2 + 1, each
  # the bytes of the one-frame run's, and each a new sample
  if gen --prompt "a red circle" --frames 3 --seed-mode increment -o "$vid/b1.png" \
      && gen --prompt "a red circle" --frames 3 --seed-mode increment --batch 2 \
        -o "$vid/b2.png" \
      && cmp -s "$vid/b1-0000.png" "$vid/b2-0000.png" \
      && cmp -s "$vid/b1-0001.png" "$vid/b2-0001.png" \
      && cmp -s "$vid/b1-0002.png" "$vid/b2-0002.png" \
      && ! cmp -s "$vid/b2-0000.png" "$vid/b2-0001.png"; then
    ok "generate --frames --batch"
  else not_ok "generate --frames --batch"; fi
  gen --prompt a --frames 2 --batch 0 -o "$vid/x.png"; [ $? -eq 2 ] && ok "--batch 0 is a usage error" || not_ok "--batch 0 is a usage error"
  gen --prompt a --frames 0 -o "$vid/x.png"; [ $? -eq 2 ] && ok "--frames 0 is a usage error" || not_ok "--frames 0 is a usage error"
  gen --prompt a --frames 2 --prompt-at "5:b" -o "$vid/x.png"
  if [ $? -eq 2 ] && grep -q "FRAME in 0 … 1" "$err"; then ok "--prompt-at beyond the frames"; else not_ok "--prompt-at beyond the frames"; fi
  gen --prompt a --frames 2 --record-draws "$vid/d.safetensors" -o "$vid/x.png"
  [ $? -eq 2 ] && ok "--frames with draw files is a usage error" || not_ok "--frames with draw files is a usage error"

  # --precision (docs/precision.md): bf16 is its own computation, the same
  # bytes twice; valgrind does not run the matrix units' instructions.
  # bf16 must run wherever the build has oneDNN (tests/hart-test-bf16.h):
  # on the bf16 units where the CPU's flags list them, else widened.
  bf16_expect=no
  bf16_kernels=widened
  if [ "${HART_EXPECT_BF16:-0}" = 1 ]; then
    bf16_expect=yes
    if [ "$(uname -m)" != x86_64 ]; then
      bf16_kernels=      # the flags tell only an x86-64 CPU's kernels
    elif grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo 2>/dev/null; then
      bf16_kernels=oneDNN
    fi
  fi
  if [ "$MODE" != "--valgrind" ] && [ $bf16_expect != no ] \
      && gen --prompt "a red circle" --precision bf16 -o "$vid/bf16.png"; then
    if gen --prompt "a red circle" --precision bf16 -o "$vid/bf16-again.png" \
        && cmp -s "$vid/bf16.png" "$vid/bf16-again.png" \
        && ! cmp -s "$vid/bf16.png" "$vid/one.png"; then
      ok "generate --precision bf16: deterministic, not the fp32 picture"
    else not_ok "generate --precision bf16: deterministic, not the fp32 picture"; fi
  elif [ "$MODE" != "--valgrind" ] && [ $bf16_expect = yes ]; then
    not_ok "generate --precision bf16 in a build with oneDNN"
  elif [ $bf16_expect = no ]; then
    gen --prompt a --precision bf16 -o "$vid/x.png"
    if [ $? -eq 1 ] && grep -q "precision bf16 is not available on device cpu" "$err"; then
      ok "--precision bf16 is refused by a build without oneDNN"
    else not_ok "--precision bf16 is refused by a build without oneDNN"; fi
    # hart bench: asked for, a missing precision fails before any run; by
    # default (fp32,bf16) it is left out and fp32 is timed alone
    bench() { run bench --model "$TINY/hart-0.7b-1024px" --prompt "a red circle" --repeat 1 "$@" >"$out" 2>"$err"; }
    bench --precision fp32,bf16
    if [ $? -eq 1 ] && grep -q "bf16: precision bf16 is not available" "$err" \
        && ! grep -q "fp32 …" "$err"; then
      ok "bench --precision fp32,bf16 fails before timing anything"
    else not_ok "bench --precision fp32,bf16 fails before timing anything"; fi
    if bench && grep -q "bf16 left out" "$err" && grep -q "^generation" "$out"; then
      ok "bench by default leaves bf16 out and times fp32"
    else not_ok "bench by default leaves bf16 out and times fp32"; fi
    # the fixture's text encoder is stored in bf16: fp32 converts it
    if grep -q "text encoder's matrices: converted to f32 layer by layer" "$out"; then
      ok "bench says where the text encoder's matrices are"
    else not_ok "bench says where the text encoder's matrices are"; fi
  fi
  if [ "$MODE" != "--valgrind" ] && [ $bf16_expect = yes ]; then
    if run bench --model "$TINY/hart-0.7b-1024px" --prompt "a red circle" --repeat 1 >"$out" 2>"$err" \
        && grep -q "^bf16  bf16 (.*$bf16_kernels" "$out" && grep -q "^generation" "$out" \
        && grep -q "text encoder's matrices: used in place in the mapped file" "$out"; then
      ok "bench times fp32 and bf16 ($bf16_kernels products; the text encoder's bf16 matrices in place)"
    else not_ok "bench times fp32 and bf16 ($bf16_kernels products; the text encoder's bf16 matrices in place)"; fi
  fi
  # hart bench --ops: each stage broken down by op, the products' rate
  if run bench --model "$TINY/hart-0.7b-1024px" --prompt "a red circle" --repeat 1 \
        --precision fp32 --ops >"$out" 2>"$err" \
      && grep -q "^where the time goes: fp32, generation 1 of 1" "$out" \
      && grep -q "^  linear  *[0-9][0-9]* calls .* GFLOP/s$" "$out" \
      && grep -q "^  (the rest) " "$out" && grep -q "^decoder " "$out" \
      && grep -q "^  (host) sampling  *[0-9][0-9]* calls " "$out" \
      && grep -q "^  (host) diffusion steps  *8 calls " "$out" \
      && grep -q "^all stages " "$out" \
      && grep -q "^model .*, cpu, [0-9]* thread(s)" "$out"; then
    ok "bench --ops breaks each stage down by op"
  else not_ok "bench --ops breaks each stage down by op"; fi
  # hart bench with a batch (two prompts): images per generation and per second
  if run bench --model "$TINY/hart-0.7b-1024px" --prompt "a red circle" \
        --prompt "a blue square" --repeat 1 --precision fp32 >"$out" 2>"$err" \
      && grep -q "^model .*, 2 image(s) a generation," "$out" \
      && grep -q "^images/s  *[0-9][0-9.]*$" "$out"; then
    ok "bench times a batch and gives images per second"
  else not_ok "bench times a batch and gives images per second"; fi
  if run bench --model "$TINY/hart-0.7b-1024px" --prompt "a red circle" --repeat 1 \
        --precision fp32 >"$out" 2>"$err" && grep -q ", 1 image(s) a generation," "$out" \
      && ! grep -q "^images/s" "$out"; then
    ok "bench of one image has no images/s row"
  else not_ok "bench of one image has no images/s row"; fi
  # hart bench --device: the engine's device, checked before any run
  run bench --model "$TINY/hart-0.7b-1024px" --prompt "a red circle" --repeat 1 \
      --device gpu >"$out" 2>"$err"
  if [ $? -eq 1 ] && grep -q 'unknown device "gpu"' "$err" && ! grep -q "done" "$err"; then
    ok "bench --device gpu is refused before timing anything"
  else not_ok "bench --device gpu is refused before timing anything"; fi
  # hart fidelity --device: both engines on the named device
  run fidelity --model "$TINY/hart-0.7b-1024px" --prompt "a red circle" --device gpu \
      >"$out" 2>"$err"
  if [ $? -eq 1 ] && grep -q 'unknown device "gpu"' "$err"; then
    ok "fidelity --device gpu is refused"
  else not_ok "fidelity --device gpu is refused"; fi
  if [ "$MODE" != "--valgrind" ] && [ $bf16_expect = yes ]; then
    if run fidelity --model "$TINY/hart-0.7b-1024px" --prompt "a red circle" --device cpu \
          >"$out" 2>"$err" && grep -q "^bf16 .* against fp32.*, device cpu, seed 1" "$out"; then
      ok "fidelity --device cpu names its device"
    else not_ok "fidelity --device cpu names its device"; fi
  fi
  gen --prompt a --precision fp16 -o "$vid/x.png"
  if [ $? -eq 1 ] && grep -q "precision fp16 is not available on device cpu" "$err"; then
    ok "--precision fp16 is refused on the CPU"; else not_ok "--precision fp16 is refused on the CPU"; fi
  gen --prompt a --precision fp8 -o "$vid/x.png"
  if [ $? -eq 1 ] && grep -q 'unknown precision "fp8"' "$err"; then
    ok "--precision fp8 is unknown"; else not_ok "--precision fp8 is unknown"; fi
  rm -rf "$vid"

  # usage errors
  run inspect >"$out" 2>"$err"; [ $? -eq 2 ] && ok "no PATH is a usage error" || not_ok "no PATH is a usage error"
  run frobnicate >"$out" 2>"$err"; [ $? -eq 2 ] && ok "unknown command" || not_ok "unknown command"
  run inspect /nonexistent/model >"$out" 2>"$err"
  if [ $? -eq 1 ] && grep -q "/nonexistent/model: no such file" "$err"; then ok "missing path"; else not_ok "missing path"; fi
fi

# Every broken file: exit 1, exactly one line on stderr, naming the file.
for f in "$HART_FIXTURES"/broken/*; do
  [ -e "$f" ] || continue
  base=$(basename "$f")
  run inspect "$f" >"$out" 2>"$err"
  status=$?
  lines=$(wc -l <"$err")
  if [ $status -ne 1 ]; then
    not_ok "broken/$base: exit 1 (got $status)"
  elif [ "$lines" -ne 1 ] || ! grep -q "^hart: error: " "$err"; then
    not_ok "broken/$base: one error line (got $lines)"
  elif ! grep -q -- "$base" "$err"; then
    not_ok "broken/$base: message names the file"
  else
    ok "broken/$base refused: $(cut -c1-150 "$err")"
  fi
done

echo "1..$n"
[ $fail -eq 0 ]
