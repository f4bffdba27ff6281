#!/usr/bin/env python3
# gst-hart — golden ids for the Qwen2 byte-level BPE tokenizer
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes tests/fixtures/tokenizer/goldens.json from the Hugging Face
`tokenizers` library (the implementation transformers' Qwen2TokenizerFast
wraps), run on the tokenizer files in tests/fixtures/tokenizer/.

    pip install tokenizers transformers
    python3 tests/reference/make_tokenizer_goldens.py

Test-data generator only: CI never runs it.  The output holds

  cases          {"text" or "hex", "ids"}: plain encode, no BOS/EOS (checked
                 below); texts holding U+0000 are given as UTF-8 hex
  invalid_utf8   {"hex", "ids"}: raw bytes; ids are those of the text that
                 Python's bytes.decode("utf-8", errors="replace") gives
  decode         {"ids", "skip_special", "text"}: tokenizer.decode
  prompts        {"text", "ids", "mask"}: the 300-long padded/truncated ids
                 exactly as HART's encode_prompts asks for them
                 (max_length=300, truncation=True, padding="max_length")
  system_prompt  {"text", "ids"}: the docs/algorithm.md §4.2 string, unpadded
"""

import json
import os
import random
import sys
import unicodedata

from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE_DIR = os.path.join(HERE, "..", "fixtures", "tokenizer")
OUT = os.path.join(FIXTURE_DIR, "goldens.json")
MAX_LEN = 300
PAD_ID = 151643

SYSTEM_PROMPT = (
    'Given a user prompt, generate an "Enhanced prompt" that provides detailed '
    "visual descriptions suitable for image generation.\n\nExamples:\n"
    "- User Prompt: A cat sleeping -> A small, fluffy white cat curled up in a "
    "round shape, sleeping peacefully on a warm sunny windowsill, surrounded by "
    "pots of blooming red flowers.\n"
    "- User Prompt: A busy city street -> A bustling city street scene at dusk, "
    "featuring glowing street lamps, a diverse crowd of people in colorful "
    "clothing, and a double-decker bus passing by towering glass skyscrapers."
    "\n\nPlease generate only the enhanced description for the prompt below and "
    "DO NOT include any additional sentences. Start your response with "
    '"Enhanced Prompt:".\n\nUser Prompt:\n'
)
assert len(SYSTEM_PROMPT) == 705

FIXED = [
    "", " ", "  ", "\n", "\t", "\r\n", "a", "A", "Hello world", "Hello, world!",
    "hello   world", "trailing spaces   ", "   leading spaces", "  \n  ",
    "a\n\nb", "line1\r\nline2\r\n", "tab\tseparated\tvalues", "\t\t\tx",
    " \t \n \r ", "end with newline\n", "x \n", "x  \n\n  y", "\n\n\n",
    "space before punct !", "multiple   spaces   inside", "\u00a0nbsp\u00a0",
    "ideographic\u3000space", "em\u2003space", "nel\u0085char", "ls\u2028ps\u2029",
    "vt\x0bff\x0cx", "nul\x00byte", "\x00", "a\x00\x00b",
    # contractions in any case
    "it's", "It'S", "I'M here", "they'Ve", "THEY'VE", "we'll", "WE'LL", "she'd",
    "don't", "DON'T", "you're", "YOU'RE", "'s", "'S", "''s", "'sss", "x's's",
    "rock'n'roll", "the dogs' bones", "'ll 'LL 'Ll 'lL", "can'ſ", "it'ſ",
    "\u2019s curly", "K'K", "a'b",
    # digits
    "0", "12", "123456789", "3.14159", "1,000,000", "2024-01-31",
    "x1y22z333", "\uff11\uff12\uff13", "\u0661\u0662\u0663", "\u00b2\u00b3\u00bd",
    "Ⅻ roman", "①②③", "𝟘𝟙𝟚", "0x1F600",
    # punctuation
    "!!!", "?!?!", "...", "a...b", "---", "--> <--", "(((x)))", "[1, 2, 3]",
    "{'a': 1}", "#$%^&*()", "~`@", "«quoted»", "“smart quotes”", "—dash—",
    "!!!\n\n", "?\r\n", "; \n", " !!\n",
    # URLs, code
    "https://github.com/mit-han-lab/hart?tab=readme#usage",
    "user@example.com", "C:\\Program Files\\x.exe",
    "def f(x):\n    return x ** 2\n",
    "int main (void)\n{\n\treturn 0;\n}\n",
    "for (i = 0; i < n; i++) { a[i] += b[i] * 2; }",
    "<html><body class=\"x\">Hi</body></html>",
    "SELECT * FROM t WHERE id = 42;",
    "$ ls -la | grep foo && echo ok",
    # accented Latin, NFC cases
    "café", "cafe\u0301", "e\u0301", "E\u0301", "o\u0308", "a\u030a",
    "\u00c5ngstr\u00f6m", "A\u030angstro\u0308m", "\u212b", "\u2126",
    "n\u0303o", "Crème brûlée", "Ærøskøbing", "Łódź", "İstanbul", "straße",
    "ﬁ ligature", "x\u0301\u0302\u0303", "\u0301leading combining",
    "\u1e9b\u0323", "q\u0307\u0323", "\u0344", "\u0958",
    # special tokens inside text
    "<|endoftext|>", "a<|endoftext|>b", "<|im_start|>user\nhi<|im_end|>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n",
    "<|endoftext|><|endoftext|>", " <|endoftext|> ", "<|ENDOFTEXT|>",
    "<|endoftext|", "<|endoftext", "|endoftext|>", "<<|im_end|>>",
    "<|vision_start|><|image_pad|><|vision_end|>", "x<|box_start|>(1,2)<|box_end|>",
    "<|object_ref_start|>cat<|object_ref_end|>", "<|video_pad|><|quad_start|>",
    "<|im_start|><|im_end|>", "<|im_start|", "<|im_", "e\u0301<|endoftext|>\u0301",
    # CJK, other scripts
    "你好，世界", "我爱北京天安门。", "日本語のテキストです", "カタカナ ひらがな",
    "한국어 텍스트", "中文English混合mixed", "Привет, мир!", "Γειά σου Κόσμε",
    "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "ሰላም ልዑል",
    "ქართული", "Հայերեն", "ᏣᎳᎩ", "𠜎𠜱𠝹𠱓", "⺀⺁", "ㄅㄆㄇ",
    # emoji, ZWJ
    "😀", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "❤️", "🇫🇷🇩🇪",
    "a😀b", "emoji 😀 in text 🎉!", "1️⃣", "\u200b zero width", "\ufeffbom",
    "🧑🏿\u200d🚀", "☃", "\U0001f9d1\u200d\U0001f4bb code",
    # HART-like prompts
    "A cat sleeping", "A busy city street",
    "An astronaut riding a horse on the moon, oil painting, 4k, highly detailed",
    "a photo of a corgi wearing sunglasses, studio lighting",
    "A small, fluffy white cat curled up in a round shape, sleeping peacefully.",
    SYSTEM_PROMPT,
    SYSTEM_PROMPT + "A cat sleeping",
]


def long_cases (rng):
    out = []
    out.append ("a" * 2000)
    out.append ("supercalifragilistic" * 100)
    out.append ("".join (rng.choice ("abcdefghijklmnopqrstuvwxyz") for _ in range (2000)))
    out.append ("é" * 1000)
    out.append ("語" * 700)
    out.append (" " * 500)
    out.append ("!" * 1000)
    out.append ("1" * 600)
    # NFC across the C code's normalisation chunks (~256 bytes)
    out.append ("e\u0301" * 300)
    out.append ("\u1100\u1161\u11a8" * 150 + "\uac00\u11a8" * 100)
    out.append ("a" * 255 + "\u0301" + "\u0f73" * 3 + "\u0301" * 200 + "b")
    out.append ("".join (rng.choice (["e", "\u0301", "\u0323", "\u1100",
        "\u1161", "\u11a8", "\uac00", "\u0f73", "\u0f71", "\u00c5", "o",
        "\u0308", " ", "\u212b", "\u0958"]) for _ in range (3000)))
    out.append ("\n" * 300 + "x")
    words = ("the quick brown fox jumps over lazy dog photo of a red car in the rain "
             "cinematic lighting portrait detailed texture").split ()
    for n in (150, 280, 299, 300, 301, 350, 600):
        out.append (" ".join (rng.choice (words) for _ in range (n)))
    return out


RANGES = [
    (0x20, 0x7e), (0xa0, 0x24f), (0x300, 0x36f), (0x370, 0x3ff), (0x400, 0x4ff),
    (0x590, 0x5ff), (0x600, 0x6ff), (0x900, 0x97f), (0xe00, 0xe7f),
    (0x1100, 0x11ff), (0x1e00, 0x1eff), (0x2000, 0x206f), (0x2070, 0x209f),
    (0x20a0, 0x20bf), (0x2100, 0x214f), (0x2190, 0x21ff), (0x2460, 0x24ff),
    (0x3000, 0x303f), (0x3040, 0x30ff), (0x4e00, 0x9fff), (0xac00, 0xd7a3),
    (0xff00, 0xffef), (0x1f300, 0x1f64f), (0x1f900, 0x1f9ff), (0x20000, 0x2a6df),
    (0x1d400, 0x1d7ff),
]


def random_text (rng, n):
    chars = []
    for _ in range (n):
        r = rng.random ()
        if r < 0.35:
            chars.append (rng.choice ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        elif r < 0.5:
            chars.append (rng.choice (" \t\n\r  '0123456789.,!?-'"))
        elif r < 0.9:
            lo, hi = rng.choice (RANGES)
            chars.append (chr (rng.randint (lo, hi)))
        else:
            # any scalar value, surrogates excluded
            while True:
                cp = rng.randint (0, 0x10ffff)
                if not 0xd800 <= cp <= 0xdfff:
                    break
            chars.append (chr (cp))
    return "".join (chars)


def random_bytes_cases (rng):
    """Byte strings with invalid UTF-8 (encoded as hex)."""
    fixed = [
        b"\xff", b"\xfe\xff", b"abc\x80def", b"\xc3", b"\xc3(", b"\xe2\x82",
        b"\xe2\x82(", b"\xf0\x9f\x98", b"\xf0\x9f\x98 end", b"\xc0\xaf",
        b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80",
        b"caf\xe9", b"\xef\xbf\xbd", b"e\xcc", b"e\xcc\x81\xcc",
        b"<|endoftext|>\xff", b"\xff<|endoftext|>", b"\x80\x80\x80",
        b"a\xf0\x9f\x98\x80\xf0\x9f", b"\xe4\xbd\xa0\xe5\xa5",
    ]
    out = list (fixed)
    for _ in range (40):
        b = bytearray (random_text (rng, rng.randint (1, 20)).encode ("utf-8"))
        for _ in range (rng.randint (1, 3)):
            pos = rng.randrange (len (b) + 1)
            b[pos:pos] = bytes ([rng.randint (0x80, 0xff)])
        out.append (bytes (b))
    return out


def main ():
    rng = random.Random (20260611)
    tok = Tokenizer.from_file (os.path.join (FIXTURE_DIR, "tokenizer.json"))
    tok.no_padding ()
    tok.no_truncation ()

    texts = list (FIXED) + long_cases (rng)
    for _ in range (420):
        texts.append (random_text (rng, rng.randint (1, 60)))
    # mix special tokens into random text
    specials = [t.content for t in tok.get_added_tokens_decoder ().values ()]
    for _ in range (40):
        parts = [random_text (rng, rng.randint (0, 10)) for _ in range (3)]
        texts.append (parts[0] + rng.choice (specials) + parts[1] + rng.choice (specials) + parts[2])

    cases = []
    for t in texts:
        enc = tok.encode (t, add_special_tokens=True)
        plain = tok.encode (t, add_special_tokens=False)
        assert enc.ids == plain.ids, "Qwen2 adds no BOS/EOS"
        if "\0" in t:
            # json-glib hands strings out NUL-terminated: give these as hex
            cases.append ({"hex": t.encode ("utf-8").hex (), "ids": enc.ids})
        else:
            cases.append ({"text": t, "ids": enc.ids})

    invalid = []
    for b in random_bytes_cases (rng):
        text = b.decode ("utf-8", errors="replace")
        invalid.append ({"hex": b.hex (), "ids": tok.encode (text).ids})

    decode = []
    byte_ids = [tok.token_to_id (c) for c in ("Ã", "©", "ä½", "ł")]
    id_lists = [
        tok.encode ("hello <|im_start|>world<|endoftext|>").ids,
        tok.encode ("你好😀").ids[:-1],
        [x for x in byte_ids if x is not None],
        tok.encode ("e\u0301 café").ids,
        [151643, 151644, 151645],
        [],
    ]
    for ids in id_lists:
        for skip in (False, True):
            decode.append ({"ids": ids, "skip_special": skip,
                            "text": tok.decode (ids, skip_special_tokens=skip)})

    prompt_texts = [
        "A cat sleeping",
        "An astronaut riding a horse on the moon <|endoftext|> oil painting",
        "",
        texts[FIXED.index (SYSTEM_PROMPT)],
    ] + [t for t in long_cases (random.Random (7)) if len (tok.encode (t).ids) > 290][:4]
    prompts = []
    try:
        from transformers import AutoTokenizer
        hf = AutoTokenizer.from_pretrained (FIXTURE_DIR)
        for t in prompt_texts:
            r = hf (t, max_length=MAX_LEN, truncation=True, padding="max_length")
            prompts.append ({"text": t, "ids": list (r["input_ids"]),
                             "mask": [int (m) for m in r["attention_mask"]]})
        source = "transformers AutoTokenizer"
    except ImportError:
        padded = Tokenizer.from_file (os.path.join (FIXTURE_DIR, "tokenizer.json"))
        padded.enable_truncation (MAX_LEN)
        padded.enable_padding (pad_id=PAD_ID, pad_token="<|endoftext|>",
                               length=MAX_LEN, direction="right")
        for t in prompt_texts:
            e = padded.encode (t)
            prompts.append ({"text": t, "ids": e.ids, "mask": e.attention_mask})
        source = "tokenizers enable_truncation/enable_padding"
    for p in prompts:
        assert len (p["ids"]) == MAX_LEN

    sys_ids = tok.encode (SYSTEM_PROMPT).ids
    out = {
        "generator": "tests/reference/make_tokenizer_goldens.py",
        "tokenizers_version": __import__ ("tokenizers").__version__,
        "prompts_source": source,
        "system_prompt": {"text": SYSTEM_PROMPT, "ids": sys_ids},
        "cases": cases,
        "invalid_utf8": invalid,
        "decode": decode,
        "prompts": prompts,
    }
    with open (OUT, "w", encoding="utf-8") as f:
        json.dump (out, f, ensure_ascii=False, separators=(",", ":"))
        f.write ("\n")
    print ("%d cases, %d invalid, %d decode, %d prompts (%s), system prompt S=%d, %d bytes"
           % (len (cases), len (invalid), len (decode), len (prompts), source,
              len (sys_ids), os.path.getsize (OUT)), file=sys.stderr)


if __name__ == "__main__":
    main ()
