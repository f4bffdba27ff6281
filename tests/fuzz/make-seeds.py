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
        # tokenizer.json (a link to the real 5 MB one) is no config
        if not path.endswith(('index.json', 'tokenizer.json')):
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


# --- JSON at and past its limits (issue #14) --------------------------------
# Every JSON text goes through hart/json-read.c, whose pre-scan refuses deep
# nesting, too many values, integers outside 64 bits, numbers that overflow a
# double, \u0000, raw NUL bytes and duplicate names before json-glib (which
# recurses without limit: ~100,000 "[" overflow its stack) sees them.  The
# seeds below sit just under and just over each limit, so one mutation
# crosses it, plus one very deep text per target (the crash class the short
# fuzz inputs never reached).  Keep these figures in step with json-read.c;
# run-fuzz.sh gives the JSON-facing targets a -max_len that holds them.
DEPTH_CONFIG = 32          # config.json (tokenizer.json: the same)
DEPTH_TOKENIZER = 32
DEPTH_HEADER = 8           # safetensors header (index: the same)
DEPTH_INDEX = 8
VALUES_CONFIG = 65536      # the others' (1 M, 8 M) would need MBs of seed
VERY_DEEP = 100000         # 100 kB of "[": json-glib's stack overflow

# integers around the 64-bit range and numbers around the double range
BIG_NUMBERS = ['9223372036854775807', '-9223372036854775808',   # fit
               '9223372036854775808', '-9223372036854775809',   # do not
               '123456789012345678901234', '1e999', '-1e999',
               '1.7976931348623157e308', '1.8e308',
               '1' * 65]                                         # too long


def nest(depth, inner='0', kind='['):
    """DEPTH levels of arrays (or of objects {"a": …}) around INNER."""
    if kind == '[':
        return '[' * depth + inner + ']' * depth
    return '{"a": ' * depth + inner + '}' * depth


def json_values(v):
    """How many values and member names json-read.c counts in V."""
    if isinstance(v, dict):
        return 1 + sum(1 + json_values(x) for x in v.values())
    if isinstance(v, list):
        return 1 + sum(json_values(x) for x in v)
    return 1


def with_member(obj_text, name, raw):
    """OBJ_TEXT (a JSON object) with one more member, RAW JSON text."""
    return obj_text.rstrip()[:-1] + ', "%s": %s}' % (name, raw)


def safetensors_raw(header, data=b''):
    """A .safetensors file around a header given as JSON text."""
    text = header.encode('utf-8') if isinstance(header, str) else header
    text += b' ' * (-len(text) % 8)
    return struct.pack('<Q', len(text)) + text + data


def json_limit_seeds(target, base, depth, wrap=lambda text: text):
    """The seeds every JSON text gets: BASE (a JSON object the target
    accepts) made deeper, given NULs, duplicate names and json-glib's
    extensions.  WRAP turns JSON text into the target's input."""
    # nesting: the whole text, and inside an accepted object (the object
    # itself is level 1), each just at and just past the limit
    for d in (depth, depth + 1):
        add(target, wrap(nest(d)))
        add(target, wrap(nest(d, kind='{')))
        add(target, wrap(with_member(base, 'deep', nest(d - 1))))
        add(target, wrap(with_member(base, 'deep', nest(d - 2, '{}', '{'))))
    add(target, wrap('[' * VERY_DEEP))      # no need to close them
    # \u0000 in a name and in a value; a raw NUL; an escaped backslash
    # before "u0000", which is no NUL and is accepted
    add(target, wrap(with_member(base, 'a\\u0000b', '1')))
    add(target, wrap(with_member(base, 'nul', '"x\\u0000y"')))
    add(target, wrap(with_member(base, 'nul', '"x\x00y"')))
    add(target, wrap(with_member(base, 'nul', '"x\\\\u0000y"')))
    # duplicate names: at level 1 and deeper
    add(target, wrap(with_member(with_member(base, 'dup', '1'), 'dup', '2')))
    add(target, wrap(with_member(base, 'dup', '{"a": {"b": 1, "b": 1}}')))
    # json-glib extensions (comments, single quotes, hex integers), which
    # the pre-scan refuses: a '"' inside them once hid the brackets after
    # it from the depth count, so they come shallow and very deep
    add(target, wrap(with_member(base, 'ext', "/* \" */ ['\"', 0x10]")))
    add(target, wrap(with_member(base, 'hex', '0xFFFFFFFFFFFFFFFFFFFF')))
    add(target, wrap('/* " */ ' + '[' * VERY_DEEP))
    add(target, wrap("['\"', " + '[' * VERY_DEEP))


def json_seeds_config():
    cfg = json.loads(read(fixture('tiny', 'hart-0.7b-1024px', 'llm',
                                  'config.json')))
    base = json.dumps(cfg)
    json_limit_seeds('config', base, DEPTH_CONFIG)
    # numbers where the loader reads one (and as the model_type)
    for number in BIG_NUMBERS:
        add('config', json.dumps(dict(cfg, depth=0)).replace(
            '"depth": 0', '"depth": ' + number))
    add('config', with_member(json.dumps(dict(cfg, model_type=None)),
                              'model_type', '"hart\\u0000x"'))
    # values: exactly at the limit, and one more (an array member of
    # zeros; the object's own values counted as json-read.c counts them)
    n = VALUES_CONFIG - json_values(cfg) - 2
    for extra in (0, 1):
        add('config', with_member(base, 'wide',
                                  '[' + ','.join('0' * (n + extra)) + ']'))
    # wide objects: many distinct names
    add('config', with_member(base, 'wide', json.dumps(
        {'k%04d' % i: i for i in range(3000)})))


def json_seeds_tokenizer():
    tok = small_tokenizer(n_merges=8)
    base = json.dumps(tok)
    json_limit_seeds('tokenizer-json', base, DEPTH_TOKENIZER)
    first = tok['added_tokens'][0]['id']
    vocab = tok['model']['vocab']
    for number in BIG_NUMBERS[2:7]:
        add('tokenizer-json', base.replace('"id": %d' % first,
                                           '"id": ' + number, 1))
    a_token = next(iter(vocab))
    for name in ('\\u0000', a_token + '\\u0000'):
        model = json.dumps(tok['model'])
        add('tokenizer-json', base.replace(
            model, with_member(model, 'x', '0').replace(
                '"vocab": {', '"vocab": {"%s": 0, ' % name)))
    # a vocabulary name twice, deep inside (model → vocab)
    add('tokenizer-json', base.replace(
        '"vocab": {', '"vocab": {%s: 1, ' % json.dumps(a_token), 1))
    # a wide added_tokens list (loaded in linear time since 54730e6)
    many = [dict(tok['added_tokens'][-1], id=len(vocab) + 100 + i,
                 content='<|x%04d|>' % i) for i in range(600)]
    add('tokenizer-json', json.dumps(dict(tok, added_tokens=many)))


def st_header(tensors, extra=''):
    """Header text of tensors (name → (dtype, shape, begin, end)) plus
    EXTRA raw members."""
    parts = ['%s: {"dtype": "%s", "shape": %s, "data_offsets": [%d, %d]}'
             % (json.dumps(n), d, json.dumps(s), b, e)
             for n, (d, s, b, e) in tensors.items()]
    return '{' + ', '.join(parts + ([extra] if extra else [])) + '}'


def json_seeds_safetensors(target, prefix):
    """safetensors and draws: the same header reader."""
    data = struct.pack('<4f', 0.5, -1.0, 2.0, 0.25)
    name = prefix + 'a'
    base = st_header({name: ('F32', [2, 2], 0, 16)},
                     '"__metadata__": {"format": "pt"}')
    json_limit_seeds(target, base, DEPTH_HEADER,
                     lambda text: safetensors_raw(text, data))
    # a tensor entry (level 2) nested to the limit and past it
    for d in (DEPTH_HEADER, DEPTH_HEADER + 1):
        add(target, safetensors_raw(base.replace(
            '"data_offsets"', '"x": %s, "data_offsets"' % nest(d - 2)), data))
    # numbers in shapes and offsets
    for number in BIG_NUMBERS[2:9]:
        add(target, safetensors_raw(base.replace('[2, 2]', '[%s, 2]' % number),
                                    data))
        add(target, safetensors_raw(base.replace('[0, 16]', '[0, %s]' % number),
                                    data))
    # a tensor name with \u0000 that would collide with another when cut
    add(target, safetensors_raw(st_header({
        name: ('F32', [2], 0, 8), name + '\\u0000b': ('F32', [2], 8, 16)}),
        data))
    # the same tensor twice; a field twice inside one tensor
    add(target, safetensors_raw('{%s: {"dtype": "F32", "shape": [2], '
                                '"data_offsets": [0, 8]}, %s: {"dtype": '
                                '"F32", "shape": [2], "data_offsets": '
                                '[8, 16]}}' % ((json.dumps(name),) * 2), data))
    add(target, safetensors_raw(base.replace('"dtype": "F32"',
                                             '"dtype": "F32", "dtype": "F16"'),
                                data))


def json_seeds_huge_header():
    """A header over 1 MiB (libFuzzer's largest default -max_len, so
    without run-fuzz.sh's -max_len it would be cut short) of 12,000 valid
    tensors, and header lengths that promise megabytes the file lacks."""
    n = 12000
    tensors = {'layers.%05d.weight' % i: ('F32', [1], 4 * i, 4 * i + 4)
               for i in range(n)}
    data = struct.pack('<%df' % n, *[(i % 7) * 0.5 for i in range(n)])
    add('safetensors', safetensors_raw(st_header(tensors), data))
    small = b'{"a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}'
    for length in (5 << 20, 100 * 1000 * 1000, 100 * 1000 * 1000 + 1,
                   2 ** 64 - 1):
        add('safetensors', struct.pack('<Q', length) + small)


def json_seeds_index():
    index = json.loads(read(fixture('formats', 'sharded',
                                    'model.safetensors.index.json')))
    renames = {'s1.safetensors': 'model-00001-of-00002.safetensors',
               's2.safetensors': 'model-00002-of-00002.safetensors'}
    for key, shard in index['weight_map'].items():
        index['weight_map'][key] = renames.get(shard, shard)
    base = json.dumps(index)
    shard = next(iter(index['weight_map'].values()))
    json_limit_seeds('safetensors-index', base, DEPTH_INDEX)
    for number in BIG_NUMBERS[2:9]:
        add('safetensors-index', base.replace(
            '"total_size": %d' % index['metadata']['total_size'],
            '"total_size": ' + number))
    # \u0000 in a tensor name and in a shard file name
    add('safetensors-index', base.replace(
        '"weight_map": {', '"weight_map": {"a.weight\\u0000x": "%s", ' % shard))
    add('safetensors-index', base.replace(
        '"weight_map": {', '"weight_map": {"z": "%s\\u0000/../x", ' % shard))
    # one tensor in two shards (a duplicate name at level 2)
    first = next(iter(index['weight_map']))
    add('safetensors-index', base.replace(
        '"weight_map": {', '"weight_map": {"%s": "%s", ' % (
            first, 'model-00002-of-00002.safetensors')))
    # a wide weight map (names absent from the shards)
    wide = dict(index['weight_map'])
    wide.update({'w.%04d' % i: shard for i in range(2000)})
    add('safetensors-index', json.dumps(dict(index, weight_map=wide)))


def seeds_json_limits():
    json_seeds_config()
    json_seeds_tokenizer()
    json_seeds_safetensors('safetensors', '')
    json_seeds_safetensors('draws', 'draw_000_randn')
    json_seeds_huge_header()
    json_seeds_index()


def main():
    seeds_safetensors()
    seeds_index()
    seeds_torch()
    seeds_config()
    seeds_tokenizer()
    seeds_prompt()
    seeds_tokens()
    seeds_draws()
    seeds_json_limits()
    for target in sorted(os.listdir(CORPUS)):
        n = len(os.listdir(os.path.join(CORPUS, target)))
        print('%-18s %d seeds' % (target, n))


if __name__ == '__main__':
    main()
