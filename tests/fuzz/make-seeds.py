#!/usr/bin/env python3
# gst-hart — writes the seed corpora of the fuzz targets
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Builds tests/fuzz/corpus/<target>/ from tests/fixtures (standard library
only).  Each seed is named by the SHA-1 of its bytes, as libFuzzer names
what it adds, so rerunning is idempotent.  Run from anywhere:

    python3 tests/fuzz/make-seeds.py
"""
import glob
import hashlib
import io
import json
import os
import struct
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'fixtures')
CORPUS = os.path.join(HERE, 'corpus')


def fixture(*parts):
    return os.path.join(FIXTURES, *parts)


def add(target, data):
    if isinstance(data, str):
        data = data.encode('utf-8')
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(folder, name), 'wb') as f:
        f.write(data)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def safetensors(tensors, metadata=None):
    """tensors: name → (dtype, shape, raw bytes)."""
    header, offset, blobs = {}, 0, []
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {'dtype': dtype, 'shape': shape,
                        'data_offsets': [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(blobs)


def seeds_safetensors():
    for path in sorted(glob.glob(fixture('broken', 'st-*.safetensors'))
                       + glob.glob(fixture('formats', '*.safetensors'))
                       + glob.glob(fixture('formats', 'sharded',
                                           '*.safetensors'))
                       + [fixture('goldens', 'tiny-context.safetensors')]):
        add('safetensors', read(path))


def seeds_index():
    renames = {'s1.safetensors': 'model-00001-of-00002.safetensors',
               's2.safetensors': 'model-00002-of-00002.safetensors'}
    paths = sorted(glob.glob(fixture('broken', 'index-*.json'))
                   + glob.glob(fixture('broken', 'sharded-*', '*.json'))
                   + [fixture('formats', 'sharded',
                              'model.safetensors.index.json')])
    for path in paths:
        text = read(path).decode('utf-8', 'replace')
        # the fuzz target's folder holds the two shards of formats/sharded
        for old, new in renames.items():
            text = text.replace(old, new)
        add('safetensors-index', text)


def seeds_torch():
    for path in sorted(glob.glob(fixture('formats', '*.bin'))
                       + glob.glob(fixture('broken', 'bin-*.bin'))):
        data = read(path)
        add('torchzip', data)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for name in z.namelist():
                    if name.endswith('data.pkl'):
                        add('pickle', z.read(name))
        except (zipfile.BadZipFile, EOFError, KeyError, ValueError):
            pass


def seeds_config():
    for path in sorted(glob.glob(fixture('tiny*', '**', '*.json'),
                                 recursive=True)):
        if not path.endswith('index.json'):
            add('config', read(path))


def small_tokenizer(n_merges=120):
    """The real tokenizer.json cut down to its 256 byte tokens, the first
    merges that only use kept tokens, and its added tokens, renumbered
    densely: same structure, a few kB instead of 5 MB."""
    real = json.loads(read(fixture('tokenizer', 'tokenizer.json')))
    model = real['model']
    by_id = sorted(model['vocab'].items(), key=lambda kv: kv[1])
    vocab = {tok: i for i, (tok, _) in enumerate(by_id[:256])}
    merges = []
    for pair in model['merges']:
        a, b = pair if isinstance(pair, list) else pair.split(' ', 1)
        if a in vocab and b in vocab and a + b not in vocab:
            vocab[a + b] = len(vocab)
            merges.append([a, b])
            if len(merges) == n_merges:
                break
    added = []
    for i, token in enumerate(real['added_tokens'][:4]):
        token = dict(token)
        token['id'] = len(vocab) + i
        added.append(token)
    small = dict(real)
    small['added_tokens'] = added
    small['model'] = dict(model, vocab=vocab, merges=merges)
    return small


def seeds_tokenizer():
    small = small_tokenizer()
    add('tokenizer-json', json.dumps(small, ensure_ascii=False))
    # merges as "a b" strings, the older serialisation
    legacy = dict(small)
    legacy['model'] = dict(small['model'],
                           merges=[' '.join(m) for m in
                                   small['model']['merges']])
    add('tokenizer-json', json.dumps(legacy, ensure_ascii=False, indent=1))
    tiny = small_tokenizer(n_merges=8)
    tiny['normalizer'] = None
    add('tokenizer-json', json.dumps(tiny))


def seeds_prompt():
    goldens = json.loads(read(fixture('tokenizer', 'goldens.json')))
    add('prompt', goldens['system_prompt']['text'])
    # every 8th of the 662 cases keeps the corpus small but varied (the
    # fuzzer finds the rest from there)
    for case in (goldens['cases'][::8] + goldens['prompts']
                 + goldens['decode']):
        if 'text' in case:
            add('prompt', case['text'])
    for case in goldens['invalid_utf8'][::2]:
        add('prompt', bytes.fromhex(case['hex']))


def token_frame(batch, cv, side, embed, n_scales, stage_tokens, seed=7,
                frame=3, cfg=4.5):
    """Serialised token frame (docs: token-frame format, hart/tokens.c)."""
    header = bytearray(128)
    header[0:8] = b'HARTTOKF'
    struct.pack_into('<II', header, 8, 1, 128)
    fingerprint = hashlib.sha256(b'fuzz seed').hexdigest().encode()
    header[16:80] = fingerprint
    struct.pack_into('<6I', header, 80, batch, cv, side, embed, n_scales,
                     stage_tokens)
    struct.pack_into('<fI', header, 104, cfg, frame)
    struct.pack_into('<QI', header, 112, seed, 0)
    n = (batch * cv * side * side          # f_hat
         + batch * side * side * cv        # last_h
         + 2 * batch * side * side * embed  # z
         + batch * stage_tokens * cv)      # stage_h
    payload = struct.pack('<%df' % n, *[(i % 17) * 0.25 - 2 for i in range(n)])
    return bytes(header) + payload


def seeds_tokens():
    add('tokens', token_frame(1, 1, 1, 1, 2, 1))
    add('tokens', token_frame(1, 2, 2, 3, 2, 1))
    add('tokens', token_frame(2, 4, 3, 2, 3, 5, seed=2 ** 40))


def seeds_draws():
    add('draws', read(fixture('goldens', 'diffusion-tiny-replay.safetensors')))
    exp = struct.pack('<6f', 0.5, 1.0, 2.0, 0.1, 3.0, 1.5)
    randn = struct.pack('<4f', -1.0, 0.0, 0.5, 2.0)
    perm = struct.pack('<4q', 2, 0, 3, 1)
    add('draws', safetensors({
        'draw_000_exp': ('F32', [2, 3], exp),
        'draw_001_perm': ('I64', [4], perm),
        'draw_002_randn': ('F32', [2, 2], randn),
        'draw_003_randn': ('F16', [2], struct.pack('<2e', 0.5, -0.25)),
    }, metadata={'format': 'pt'}))


def main():
    seeds_safetensors()
    seeds_index()
    seeds_torch()
    seeds_config()
    seeds_tokenizer()
    seeds_prompt()
    seeds_tokens()
    seeds_draws()
    for target in sorted(os.listdir(CORPUS)):
        n = len(os.listdir(os.path.join(CORPUS, target)))
        print('%-18s %d seeds' % (target, n))


if __name__ == '__main__':
    main()
