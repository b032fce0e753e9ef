#!/usr/bin/env python3
"""Writes the expected outputs of the Rust `tokenizers` library (PyPI) for the
tokenizer tests of llmbatch. Run through tools/make-tokenizer-fixtures.sh,
which installs `tokenizers` into a throwaway venv.

Outputs, under tests/fixtures/tokenizers/expected/:
  <name>.json        per real tokenizer: encode cases (ids with and without
                     special tokens, with special-token parsing off) and
                     decode results, plus decodes of random id sequences.
  components.json    single normalizers, pre-tokenizers and decoders built
                     from their JSON configs, with inputs and outputs.
  synthetic.json     small trained BPE tokenizers with configurations the
                     real files do not use (Metaspace, added-token flags, ...).

Everything is deterministic (fixed seeds), so a rerun gives the same files.
"""
import json
import os
import random
import sys

from tokenizers import Tokenizer, models, trainers, pre_tokenizers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIX = os.path.join(ROOT, "tests", "fixtures", "tokenizers")
OUT = os.path.join(FIX, "expected")
REAL = ["gpt2", "llama3_1", "qwen2_5", "mistral"]


def english_sentences():
    return [
        "Hello world", "Hello, world!", "The quick brown fox jumps over the lazy dog.",
        "It's a beautiful day, isn't it?", "I'm sure they'll say we'd've done it.",
        "She said: \"don't\" and he said 'won't'.", "YOU'RE SHOUTING, AREN'T YOU?",
        "He'S wEiRd'LL", "rock'n'roll", "o'clock", "'s 't 're 've 'm 'll 'd",
        "The year 2024 had 366 days; 1,234,567.89 dollars were spent.",
        "Call 555-0199 or +1 (800) 123-4567.", "3.14159265358979323846", "0x1F 0b1010 1e-9 -42",
        "12345678901234567890", "v1.2.3-rc.4", "100%", "$5.00 + €3,50 = ?",
        "Visit https://example.com/path?query=1&b=2#frag now.", "mailto:someone@example.org",
        "ftp://files.example.net/pub/file-1.0.tar.gz", "www.example.co.uk/~user/index.html",
        "!!!", "?!?!", "...", "—", "-- -- --", "***bold***", "(((nested)))", "[a](b){c}<d>",
        "#hashtag @mention", "a_b_c", "snake_case_name CamelCaseName kebab-case-name",
        "Mr. Smith went to Washington D.C. on Jan. 5th.", "e.g. i.e. etc.",
    ]


def code_snippets():
    return [
        "def f(x):\n    return x * 2\n",
        "int main(int argc, char** argv) {\n\treturn 0;\n}\n",
        "for (int i = 0; i < n; ++i) { sum += a[i]; }",
        "if x == 1:\n\tprint('one')\nelif x == 2:\n\tprint(\"two\")\n",
        "#include <vector>\n#include \"core/error.h\"\n",
        "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
        "const f = (a, b) => a ?? b || c && d;",
        "x <<= 2; y >>= 3; z != w; a **= b;",
        "<html><body><div class=\"x\">Hi</div></body></html>",
        "{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
        "    indented with four spaces", "        eight spaces", "\t\ttwo tabs",
        "fn main() {\r\n    println!(\"hi\");\r\n}\r\n",
        "// comment\n/* block */\n# python comment",
        "lambda x: x**2 if x>0 else -x",
        "```python\nprint(1)\n```",
    ]


def whitespace_cases():
    return [
        "", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", "\n\n\n", " \n ", "\t\t\t",
        " " * 10, " " * 11, " " * 16, " " * 33, "a" + " " * 10 + "b", "a\tb", "a\t\tb",
        "trailing space ", "trailing spaces   ", " leading space", "   leading spaces",
        "line1\r\nline2\r\n", "line1\rline2", "mixed \t \n \r\n end", "a \n b",
        "word\n", "\nword", "x\n\n\ny", "  \t  \n  ", "a  b   c    d",
        "\u00a0nbsp\u00a0", "em\u2003space", "ideographic\u3000space", "zero\u200bwidth",
        "line\u2028sep", "para\u2029sep", "nel\u0085x", "\u180emongolian", "\ufeffbom",
        "thin\u2009space and\u202fnarrow", "\u000bvt\u000cff", "a\u1680ogham",
    ]


def unicode_cases():
    return [
        # emoji, ZWJ sequences, skin tones, flags, keycaps
        "😀", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵🇺🇸", "1️⃣", "❤️", "I ❤️ 🍕!",
        "🧑🏿‍🤝‍🧑🏻", "emoji😀in😀words", "🤷‍♀️ 🤷🏻‍♂️",
        # CJK
        "你好，世界！", "日本語のテキストです。", "한국어 텍스트입니다.", "中文和English混合",
        "漢字かなカナ", "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ１２３", "㈱㍿", "〒100-0001 東京都千代田区",
        # Arabic, Hebrew (RTL)
        "مرحبا بالعالم", "السَّلَامُ عَلَيْكُمْ", "العربية 123 ١٢٣", "שלום עולם", "עִבְרִית",
        # Indic with combining marks
        "नमस्ते दुनिया", "हिन्दी भाषा", "क्षत्रिय", "ஸ்ரீ தமிழ்", "বাংলা ভাষা",
        # Thai, other scripts
        "สวัสดีครับ", "ภาษาไทยไม่มีช่องว่าง", "Привет, мир!", "Ελληνικά κείμενα", "Ẓ̌ẓ̌ Ǆǅǆ",
        "ქართული", "Հայերեն", "ሰላም", "ᏣᎳᎩ",
        # NFC / NFD pairs and combining sequences
        "caf\u00e9", "cafe\u0301", "\u00c5ngstr\u00f6m", "A\u030angstro\u0308m", "\u212b",
        "n\u0303", "\u00f1", "e\u0301\u0301\u0301", "\u1e9b\u0323", "\u0390", "\u03b9\u0308\u0301",
        "\ufb01 \ufb03", "\u2460\u2461", "x\u00b2 \u00bd", "\u2126 \u03a9", "Stra\u00dfe STRASSE",
        "\u0130stanbul \u0131", "\uac00 \u1100\u1161", "a\u0308\u0323 a\u0323\u0308",
        # astral plane, private use, specials
        "\U0001d400\U0001d401 math", "\U00020000\U0002a6d6", "𐍈 gothic", "\U0001f9ea\U0001fae0",
        "\ue000\uf8ff", "\U000f0000\U0010fffd", "\ufffd", "a\ufffdb", "\ufffd\ufffd",
        "\ufff9\ufffa\ufffb", "\u0000nul", "\u0001\u0002\u001f", "\u007f del", "\u200d\u200c",
        "\u00ad soft-hyphen", "\u2060 word joiner", "\u0300 leading combining",
        "\U000e0041 tag", "\ufe0f", "a\u034fb",
        # case folding curiosities for (?i) in the split regexes
        "'S 'T 'RE 'VE 'M 'LL 'D", "\u017f'\u017f '\u017f", "'\u212a",
    ]


def words_pool():
    return (english_sentences() + code_snippets() + whitespace_cases() + unicode_cases())


def generated_cases(rng, count):
    """Random concatenations of fragments, to reach edges between categories."""
    pool = [p for p in words_pool() if p]
    seps = ["", " ", "  ", "\n", "\t", " \n", "\r\n", ", ", "   "]
    out = []
    for _ in range(count):
        n = rng.randint(2, 6)
        out.append("".join(rng.choice(pool) + rng.choice(seps) for _ in range(n)))
    return out


def long_documents(rng):
    pool = [p for p in words_pool() if p]
    docs = []
    for size in (2000, 6000, 15000):
        parts = []
        total = 0
        while total < size:
            s = rng.choice(pool) + rng.choice([" ", "\n", "\n\n", " ", "  "])
            parts.append(s)
            total += len(s)
        docs.append("".join(parts))
    return docs


def special_cases(specials):
    """Texts with the tokenizer's own special-token strings in them."""
    out = []
    for s in specials[:6]:
        out += [s, s + s, "a" + s + "b", " " + s + " ", "Hello " + s + " world",
                s[:-1], s + "\n" + s, "x" + s[1:], s.upper()]
    if len(specials) >= 2:
        out.append(specials[0] + "text" + specials[1])
    return out


def invalid_utf8_cases():
    """Byte strings that are not UTF-8; the reference decodes them the way
    Python's errors='replace' does, which llmbatch documents as its rule."""
    return [b"\xff", b"abc\x80def", b"\xc3", b"\xc3(", b"\xe2\x82", b"\xe2\x82(",
            b"\xf0\x9f\x98", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf",
            b"\xe0\x80\xaf", b"\xf8\x88\x80\x80\x80", b"ok \xfe\xfe ok", b"\x80\x80\x80",
            b"\xf0\x9f\x98\x80\xf0\x9f", b"\xef\xbf\xbf", b"\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41"]


def tokenizer_specials(tok):
    added = tok.get_added_tokens_decoder()
    specials = [t.content for _, t in sorted(added.items()) if t.special]
    # A few well-known ones first, then some from the reserved range.
    return specials[:4] + specials[-2:]


def make_real(name):
    path = os.path.join(FIX, name, "tokenizer.json")
    tok = Tokenizer.from_file(path)
    rng = random.Random(1234)
    specials = tokenizer_specials(tok)
    texts = words_pool() + special_cases(specials) + generated_cases(rng, 150) + long_documents(rng)
    cases = []
    for text in texts:
        cases.append(encode_case(tok, text))
    for raw in invalid_utf8_cases():
        case = encode_case(tok, raw.decode("utf-8", errors="replace"))
        # "text" is the reference's reading of the bytes; the test encodes
        # the bytes themselves.
        case["text_hex"] = raw.hex()
        cases.append(case)
    decodes = []
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    for i in range(120):
        n = rng.randint(0, 12)
        ids = [rng.randrange(vocab_size) for _ in range(n)]
        if i % 3 == 0 and name == "mistral":  # byte-fallback tokens <0x00>..<0xFF> are ids 3..258
            ids = [rng.randrange(3, 259) for _ in range(n)] + ids[: n // 2]
        decodes.append({"ids": ids, "decode": tok.decode(ids, skip_special_tokens=False),
                        "decode_skip": tok.decode(ids, skip_special_tokens=True)})
    return {"tokenizer": name, "reference": "tokenizers " + __import__("tokenizers").__version__,
            "cases": cases, "decodes": decodes}


def encode_case(tok, text):
    ids = tok.encode(text, add_special_tokens=False).ids
    ids_special = tok.encode(text, add_special_tokens=True).ids
    tok.encode_special_tokens = True
    ids_no_parse = tok.encode(text, add_special_tokens=False).ids
    tok.encode_special_tokens = False
    case = {"text": text, "ids": ids, "ids_special": ids_special,
            "decode": tok.decode(ids_special, skip_special_tokens=False),
            "decode_skip": tok.decode(ids_special, skip_special_tokens=True)}
    if ids_no_parse != ids:
        case["ids_no_parse"] = ids_no_parse
    return case


# ---------------------------------------------------------------- components

BARE_MODEL = {"type": "BPE", "vocab": {}, "merges": []}


def bare_tokenizer(**parts):
    spec = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": None, "pre_tokenizer": None, "post_processor": None, "decoder": None,
            "model": BARE_MODEL}
    spec.update(parts)
    return Tokenizer.from_str(json.dumps(spec))


def component_inputs():
    return [p for p in words_pool() if len(p) < 80] + ["  a  b  ", "123abc4567", "a1b22c333",
                                                         "x,y;z", "¿Qué? ¡Sí!", "«quoted»"]


NORMALIZERS = [
    {"type": "NFC"}, {"type": "NFD"}, {"type": "NFKC"}, {"type": "NFKD"}, {"type": "Lowercase"},
    {"type": "Prepend", "prepend": "\u2581"}, {"type": "Prepend", "prepend": "<>"},
    {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
    {"type": "Replace", "pattern": {"String": "ab"}, "content": ""},
    {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
    {"type": "Replace", "pattern": {"Regex": "[0-9]"}, "content": "#"},
    {"type": "Strip", "strip_left": True, "strip_right": True},
    {"type": "Strip", "strip_left": False, "strip_right": True},
    {"type": "Strip", "strip_left": True, "strip_right": False},
    {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]},
    {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                         {"type": "Replace", "pattern": {"String": " "},
                                          "content": "\u2581"}]},
]

PRE_TOKENIZERS = [
    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
    {"type": "Whitespace"}, {"type": "WhitespaceSplit"},
    {"type": "Punctuation", "behavior": "Isolated"}, {"type": "Punctuation", "behavior": "Removed"},
    {"type": "Punctuation", "behavior": "MergedWithPrevious"},
    {"type": "Punctuation", "behavior": "MergedWithNext"},
    {"type": "Punctuation", "behavior": "Contiguous"},
    {"type": "Digits", "individual_digits": True}, {"type": "Digits", "individual_digits": False},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never", "split": True},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": False},
    {"type": "Metaspace", "replacement": "_", "prepend_scheme": "first", "split": True},
    {"type": "Split", "pattern": {"String": " "}, "behavior": "Removed", "invert": False},
    {"type": "Split", "pattern": {"String": " "}, "behavior": "Isolated", "invert": False},
    {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": False},
    {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithNext", "invert": False},
    {"type": "Split", "pattern": {"String": " "}, "behavior": "Contiguous", "invert": False},
    {"type": "Split", "pattern": {"String": "."}, "behavior": "Isolated", "invert": False},
    {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": True},
    {"type": "Split", "pattern": {"Regex": "\\p{L}+"}, "behavior": "Isolated", "invert": True},
    {"type": "Split", "pattern": {"Regex": "[0-9]+"}, "behavior": "MergedWithNext", "invert": True},
    {"type": "Split", "pattern": {"Regex": "\\s*"}, "behavior": "Isolated", "invert": False},
    {"type": "Split", "pattern": {"Regex":
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
     "behavior": "Isolated", "invert": False},
    {"type": "Split", "pattern": {"Regex":
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
     "behavior": "Isolated", "invert": False},
    {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"},
                                           {"type": "Digits", "individual_digits": True}]},
    {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
]

DECODER_TOKENS = [
    ["\u2581Hello", "\u2581world", "!"], ["\u2581", "\u2581\u2581a", "b\u2581"], ["a", "b"], [],
    ["<0xE4>", "<0xBD>", "<0xA0>", "\u2581ok"], ["<0xE4>", "<0xBD>"], ["<0xFF>", "x", "<0x41>"],
    ["<0x0A>", "<0x0a>", "<0xZZ>", "<0x41"], ["\u0120Hello", "\u0120world", "\u010a"],
    ["\u00e4\u00bd", "\u0142"], ["<|endoftext|>", "\u0120hi"], ["  a ", " b  ", "c"],
    ["\u2581\u2581", "\u2581"], ["caf\u00c3\u00a9", "\u00f0\u0141\u013a\u0122"],
]

DECODERS = [
    {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never", "split": True},
    {"type": "ByteFallback"}, {"type": "Fuse"},
    {"type": "Strip", "content": " ", "start": 1, "stop": 0},
    {"type": "Strip", "content": " ", "start": 2, "stop": 1},
    {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
    {"type": "Replace", "pattern": {"Regex": "a+"}, "content": "A"},
    {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
]


def make_components():
    inputs = component_inputs()
    out = {"normalizers": [], "pre_tokenizers": [], "decoders": []}
    for cfg in NORMALIZERS:
        n = bare_tokenizer(normalizer=cfg).normalizer
        out["normalizers"].append({"config": cfg, "cases": [
            {"input": s, "output": n.normalize_str(s)} for s in inputs]})
    for cfg in PRE_TOKENIZERS:
        p = bare_tokenizer(pre_tokenizer=cfg).pre_tokenizer
        out["pre_tokenizers"].append({"config": cfg, "cases": [
            {"input": s, "pieces": [piece for piece, _ in p.pre_tokenize_str(s)]} for s in inputs]})
    for cfg in DECODERS:
        d = bare_tokenizer(decoder=cfg).decoder
        out["decoders"].append({"config": cfg, "cases": [
            {"tokens": toks, "output": d.decode(toks)} for toks in DECODER_TOKENS]})
    return out


# ----------------------------------------------------------------- synthetic

def train_small_bpe(pre_tokenizer, byte_fallback):
    model = models.BPE(unk_token="<unk>", byte_fallback=byte_fallback, fuse_unk=True)
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizer
    alphabet = [f"<0x{b:02X}>" for b in range(256)] if byte_fallback else []
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<unk>", "<s>", "</s>"] + alphabet,
                                  show_progress=False)
    corpus = [s for s in words_pool() if s] * 3
    tok.train_from_iterator(corpus, trainer)
    return json.loads(tok.to_str())


def synthetic_variants():
    """(name, tokenizer.json dict) pairs covering configs the real files lack."""
    meta = train_small_bpe(pre_tokenizers.Metaspace(), byte_fallback=True)
    variants = []
    added = [
        {"id": 600, "content": "<mask>", "single_word": True, "lstrip": True, "rstrip": True,
         "normalized": False, "special": True},
        {"id": 601, "content": "hello", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": True, "special": False},
        {"id": 602, "content": "[SEP]", "single_word": False, "lstrip": False, "rstrip": True,
         "normalized": False, "special": True},
        {"id": 603, "content": "wor", "single_word": True, "lstrip": False, "rstrip": False,
         "normalized": False, "special": False},
    ]
    decoder = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    post = {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                               "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}}
    for scheme in ("always", "first", "never"):
        spec = json.loads(json.dumps(meta))
        spec["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581",
                                 "prepend_scheme": scheme, "split": True}
        spec["normalizer"] = {"type": "Sequence", "normalizers": [
            {"type": "NFKC"}, {"type": "Lowercase"}]}
        spec["added_tokens"] += added
        spec["decoder"] = dict(decoder, prepend_scheme=scheme)
        spec["post_processor"] = post
        variants.append(("metaspace_" + scheme, spec))
    spec = json.loads(json.dumps(meta))
    spec["model"]["fuse_unk"] = False
    spec["model"]["byte_fallback"] = False
    spec["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "WhitespaceSplit"}, {"type": "Punctuation", "behavior": "Isolated"},
        {"type": "Digits", "individual_digits": True}]}
    spec["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]}
    variants.append(("unk_no_fuse", spec))
    spec = json.loads(json.dumps(meta))
    spec["pre_tokenizer"] = {"type": "Whitespace"}
    spec["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "NFD"}, {"type": "Strip", "strip_left": True, "strip_right": True}]}
    spec["model"]["merges"] = [m.split(" ") if isinstance(m, str) else m
                               for m in spec["model"]["merges"]]
    variants.append(("whitespace_nfd", spec))
    return variants


def make_synthetic():
    rng = random.Random(99)
    texts = [s for s in words_pool() if len(s) < 120][::2] + [
        "<mask> My name <mask> A<mask> <mask>ony <mask>", "hello HELLO Hello world wor word",
        "x [SEP]   y [SEP]", "  <mask>  ", "[SEP]", "hello", "a hello b", "wor wor, wor."]
    texts += generated_cases(rng, 20)
    out = []
    for name, spec in synthetic_variants():
        tok = Tokenizer.from_str(json.dumps(spec))
        cases = [encode_case(tok, t) for t in texts]
        out.append({"name": name, "tokenizer": spec, "cases": cases})
    return out


def write(name, data):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in REAL:
        write(name + ".json", make_real(name))
    write("components.json", make_components())
    write("synthetic.json", make_synthetic())
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
