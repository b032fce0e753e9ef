#!/usr/bin/env python3
"""Writes the two 1 MB benchmark texts of tools/bench/tokenizer.sh into DIR:
english.txt (Debian's licence and copyright texts, English prose with some
code-like lines) and mixed.txt (the same prose interleaved with words in
CJK, Cyrillic, Greek, Arabic, Devanagari, Thai, Hangul and emoji). Plain
Python, deterministic: the same machine image gives the same files."""
import glob
import os
import random
import sys

SIZE = 1 << 20


def english_paragraphs():
    files = sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(
        glob.glob("/usr/share/doc/*/copyright"))
    seen, out = set(), []
    for path in files:
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for para in f.read().split("\n\n"):
                if para.strip() and para not in seen:
                    seen.add(para)
                    out.append(para)
    return out


SCRIPTS = [
    (0x4E00, 0x9FFF, 1, 4, ""),     # CJK ideographs, no spaces
    (0x0430, 0x044F, 3, 9, " "),    # Cyrillic
    (0x03B1, 0x03C9, 3, 9, " "),    # Greek
    (0x0627, 0x064A, 3, 8, " "),    # Arabic
    (0x0915, 0x0939, 2, 6, " "),    # Devanagari consonants (+ vowel signs below)
    (0x0E01, 0x0E2E, 4, 12, ""),    # Thai, no spaces
    (0xAC00, 0xD7A3, 1, 4, " "),    # Hangul syllables
    (0x1F600, 0x1F64F, 1, 2, " "),  # emoji
]


def foreign_words(rng, n):
    lo, hi, a, b, sep = rng.choice(SCRIPTS)
    words = []
    for _ in range(n):
        w = "".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(a, b)))
        if lo == 0x0915:
            w += chr(rng.choice([0x093E, 0x093F, 0x0940, 0x094D]))
        words.append(w)
    return sep.join(words) + " "


def build(paragraphs, rng, mixed):
    parts, total = [], 0
    i = 0
    while total < SIZE:
        para = paragraphs[i % len(paragraphs)]
        i += 1
        if mixed:
            words = para.split(" ")
            para = " ".join(w if rng.random() < 0.5 else foreign_words(rng, 1) for w in words)
        parts.append(para + "\n\n")
        total += len((para + "\n\n").encode("utf-8"))
    data = "".join(parts).encode("utf-8")[:SIZE]
    return data.decode("utf-8", errors="ignore")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    paragraphs = english_paragraphs()
    for name, mixed in (("english.txt", False), ("mixed.txt", True)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(build(paragraphs, random.Random(7), mixed))


if __name__ == "__main__":
    main()
