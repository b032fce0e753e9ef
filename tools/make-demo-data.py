#!/usr/bin/env python3
"""Writes jobs/data/demo.jsonl: the demo job's input (tools/demo.sh).

240 records of mixed lengths: plain prompts, chat conversations, records
with their own sampling overrides, and six deliberately bad records that
must come out as error rows (bad JSON, missing prompt, wrong type, empty
prompt, out-of-range sampling value, unknown sampling key). Deterministic:
rerunning it rewrites the same file. Standard library only.
"""
import json
import random
import sys
from pathlib import Path

TOPICS = ["the ocean", "a lighthouse", "distributed systems", "bread baking", "the night sky", "old maps",
          "a mountain village", "compilers", "migrating birds", "tea ceremonies", "glaciers", "jazz",
          "public libraries", "volcanoes", "chess openings", "city gardens"]
OPENERS = ["Write a short story about", "Explain in simple words", "List three facts about",
           "Describe", "Give advice to a beginner about", "Write a haiku about"]


def prompt(rng: random.Random) -> str:
    text = f"{rng.choice(OPENERS)} {rng.choice(TOPICS)}."
    # Mixed lengths: some prompts carry a long context paragraph.
    for _ in range(rng.choice([0, 0, 0, 1, 2, 6, 12])):
        text += f" Consider also {rng.choice(TOPICS)} and how it relates to {rng.choice(TOPICS)}."
    return text


def main() -> None:
    rng = random.Random(20261125)
    lines = []
    for i in range(234):
        kind = i % 9
        if kind == 7:
            record = {"id": f"chat-{i}", "messages": [
                {"role": "system", "content": "You are a concise assistant."},
                {"role": "user", "content": prompt(rng)}]}
        else:
            record = {"id": f"p-{i}", "prompt": prompt(rng)}
        if kind == 4:
            record["sampling"] = {"temperature": 0, "max_tokens": 16}
        lines.append(json.dumps(record))
    bad = [
        '{"id": "bad-json", "prompt": "unterminated',
        json.dumps({"id": "bad-missing-prompt", "text": "no prompt field"}),
        json.dumps({"id": "bad-type", "prompt": 42}),
        json.dumps({"id": "bad-empty", "prompt": ""}),
        json.dumps({"id": "bad-top-p", "prompt": "Hello", "sampling": {"top_p": 1.5}}),
        json.dumps({"id": "bad-key", "prompt": "Hello", "sampling": {"temprature": 0.5}}),
    ]
    for k, line in enumerate(bad):
        lines.insert(17 + 37 * k, line)
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "jobs/data/demo.jsonl")
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}: {len(lines)} records ({len(bad)} bad)")


if __name__ == "__main__":
    main()
