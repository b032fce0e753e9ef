#!/usr/bin/env python3
"""Writes the corpus of broken model directories that `llmbatch inspect`
must reject with exit code 2 and a specific message (tests/integration).

Each case is tests/fixtures/malformed_models/<case>/ holding a config.json
and weights derived from one tiny valid model, damaged in one way, plus
expect.txt: a substring the error message must contain. Standard library
only; the safetensors bytes are built here by hand, independently of the
C++ writer. Run: python3 tools/make-malformed-models.py
"""
import json
import os
import shutil
import struct

ROOT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "malformed_models")

CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 8, "hidden_size": 4,
    "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
    "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 64,
    "tie_word_embeddings": False, "hidden_act": "silu", "torch_dtype": "float32",
}


def tensors_for(cfg):
    """(name, shape) of every tensor of the micro Llama, in file order."""
    h, v, ffn = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
    hd = h // cfg["num_attention_heads"]
    q, kv = cfg["num_attention_heads"] * hd, cfg["num_key_value_heads"] * hd
    out = [("model.embed_tokens.weight", [v, h])]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        out += [(p + "input_layernorm.weight", [h]), (p + "self_attn.q_proj.weight", [q, h]),
                (p + "self_attn.k_proj.weight", [kv, h]), (p + "self_attn.v_proj.weight", [kv, h]),
                (p + "self_attn.o_proj.weight", [h, q]), (p + "post_attention_layernorm.weight", [h]),
                (p + "mlp.gate_proj.weight", [ffn, h]), (p + "mlp.up_proj.weight", [ffn, h]),
                (p + "mlp.down_proj.weight", [h, ffn])]
    return out + [("model.norm.weight", [h]), ("lm_head.weight", [v, h])]


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def header_entries(tensors, dtype="F32", esize=4):
    entries, offset = {}, 0
    for name, shape in tensors:
        size = numel(shape) * esize
        entries[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    return entries, offset


def safetensors_bytes(entries, data_len, header_len=None, data=None):
    text = json.dumps(entries).encode() if not isinstance(entries, bytes) else entries
    n = len(text) if header_len is None else header_len
    payload = data if data is not None else bytes((i * 37) % 251 for i in range(data_len))
    return struct.pack("<Q", n) + text + payload


def write_case(name, expect, config=CONFIG, weights=None, files=None):
    d = os.path.join(ROOT, name)
    os.makedirs(d)
    if config is not None:
        with open(os.path.join(d, "config.json"), "w") as f:
            f.write(config if isinstance(config, str) else json.dumps(config, indent=1))
    if weights is not None:
        with open(os.path.join(d, "model.safetensors"), "wb") as f:
            f.write(weights)
    for fname, content in (files or {}).items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
    with open(os.path.join(d, "expect.txt"), "w") as f:
        f.write(expect + "\n")


def with_config(**changes):
    cfg = dict(CONFIG)
    for k, val in changes.items():
        if val is None:
            cfg.pop(k, None)
        else:
            cfg[k] = val
    return cfg


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT)
    good_tensors = tensors_for(CONFIG)
    entries, size = header_entries(good_tensors)
    good = safetensors_bytes(entries, size)

    # safetensors container damage
    write_case("truncated_data", "runs past the end of the file", weights=good[:-10])
    write_case("file_shorter_than_length_field", "shorter than the 8-byte header length", weights=b"\x10\x00\x00")
    write_case("empty_weights_file", "shorter than the 8-byte header length", weights=b"")
    write_case("header_longer_than_file", "is longer than the file",
               weights=safetensors_bytes(entries, size, header_len=10_000_000))
    write_case("header_length_huge", "exceeds the 100 MB limit",
               weights=safetensors_bytes(entries, size, header_len=1 << 40))
    write_case("header_bad_json", "header is not valid JSON",
               weights=safetensors_bytes(json.dumps(entries).encode()[:-5] + b"!!!!!", size))
    write_case("header_not_object", "header is not a JSON object", weights=safetensors_bytes(b"[1, 2, 3]", 0))
    bad = json.loads(json.dumps(entries))
    bad["model.norm.weight"]["data_offsets"][1] += 4096
    write_case("offsets_out_of_range", "runs past the end of the file", weights=safetensors_bytes(bad, size))
    bad = json.loads(json.dumps(entries))
    first = bad["model.embed_tokens.weight"]["data_offsets"]
    bad["model.layers.0.input_layernorm.weight"]["data_offsets"] = [first[0] + 4, first[0] + 20]
    write_case("overlapping_tensors", "overlaps the previous tensor", weights=safetensors_bytes(bad, size))
    gap_entries, gap_size = header_entries(good_tensors)
    for name in list(gap_entries)[1:]:
        gap_entries[name]["data_offsets"] = [o + 16 for o in gap_entries[name]["data_offsets"]]
    write_case("gap_between_tensors", "gap of 16 unused bytes", weights=safetensors_bytes(gap_entries, gap_size + 16))
    write_case("trailing_bytes", "trailing bytes after the last tensor", weights=good + b"\0" * 12)
    bad = json.loads(json.dumps(entries))
    bad["model.norm.weight"]["shape"] = [5]
    write_case("size_not_shape_times_dtype", "does not match shape", weights=safetensors_bytes(bad, size))
    bad = json.loads(json.dumps(entries))
    bad["lm_head.weight"]["dtype"] = "Q4_K"
    write_case("unknown_dtype", "unknown dtype 'Q4_K'", weights=safetensors_bytes(bad, size))
    i8_entries, i8_size = header_entries(good_tensors, dtype="I8", esize=1)
    write_case("unsupported_dtype_int8", "unsupported: tensor dtype 'I8'", weights=safetensors_bytes(i8_entries, i8_size))
    bad = json.loads(json.dumps(entries))
    bad["model.norm.weight"]["shape"] = [-4]
    write_case("negative_shape", "must hold non-negative integers", weights=safetensors_bytes(bad, size))
    bad = json.loads(json.dumps(entries))
    off = bad["model.norm.weight"]["data_offsets"]
    bad["model.norm.weight"]["data_offsets"] = [off[1], off[0]]
    write_case("begin_after_end", "begin", weights=safetensors_bytes(bad, size))
    bad = json.loads(json.dumps(entries))
    bad["model.norm.weight"]["shape"] = [1 << 62, 1 << 62]
    write_case("shape_overflow", "overflows a 64-bit byte count", weights=safetensors_bytes(bad, size))
    bad = json.loads(json.dumps(entries))
    del bad["model.norm.weight"]["dtype"]
    write_case("entry_missing_dtype", "needs 'dtype', 'shape' and 'data_offsets'", weights=safetensors_bytes(bad, size))
    bad = json.loads(json.dumps(entries))
    bad["__metadata__"] = {"format": 5}
    write_case("metadata_not_string", "'__metadata__' value for 'format' is not a string", weights=safetensors_bytes(bad, size))

    # tensors that do not match the config
    missing = [t for t in good_tensors if t[0] != "model.layers.0.mlp.up_proj.weight"]
    e, s = header_entries(missing)
    write_case("missing_tensor", "missing model.layers.0.mlp.up_proj.weight", weights=safetensors_bytes(e, s))
    e, s = header_entries(good_tensors + [("model.layers.1.mlp.up_proj.weight", [8, 4])])
    write_case("unexpected_tensor", "unexpected model.layers.1.mlp.up_proj.weight", weights=safetensors_bytes(e, s))
    wrong = [(n, [4, 4] if n == "model.layers.0.self_attn.k_proj.weight" else sh) for n, sh in good_tensors]
    e, s = header_entries(wrong)
    write_case("wrong_shape", "wrong shape model.layers.0.self_attn.k_proj.weight: [4, 4], expected [2, 4]",
               weights=safetensors_bytes(e, s))
    write_case("qwen2_config_llama_weights", "missing model.layers.0.self_attn.q_proj.bias",
               config=with_config(architectures=["Qwen2ForCausalLM"], model_type="qwen2"), weights=good)

    # config.json problems
    write_case("wrong_architecture", "unsupported: architecture 'GPT2LMHeadModel'",
               config=with_config(architectures=["GPT2LMHeadModel"]), weights=good)
    write_case("unknown_model_type", "unsupported: model_type 'mamba'",
               config=with_config(architectures=None, model_type="mamba"), weights=good)
    write_case("config_bad_json", "not valid JSON", config='{"vocab_size": 8,', weights=good)
    write_case("config_missing_key", "'hidden_size' is missing", config=with_config(hidden_size=None), weights=good)
    write_case("config_wrong_type", "'hidden_size' must be an integer", config=with_config(hidden_size="4"), weights=good)
    write_case("rope_scaling_yarn", "unsupported: rope_scaling type 'yarn'",
               config=with_config(rope_scaling={"rope_type": "yarn", "factor": 4.0}), weights=good)
    write_case("rope_scaling_dynamic", "unsupported: rope_scaling type 'dynamic'",
               config=with_config(rope_scaling={"type": "dynamic", "factor": 2.0}), weights=good)
    write_case("sliding_window", "sliding window attention",
               config=with_config(architectures=["MistralForCausalLM"], model_type="mistral", sliding_window=16),
               weights=good)
    write_case("gqa_heads_not_divisible", "is not a multiple of num_key_value_heads",
               config=with_config(num_attention_heads=2, num_key_value_heads=3), weights=good)
    write_case("activation_gelu", "unsupported: hidden_act 'gelu'", config=with_config(hidden_act="gelu"), weights=good)
    write_case("missing_config", "config.json is missing", config=None, weights=good)
    write_case("no_weights", "no safetensors weights found")

    # sharded checkpoints
    write_case("index_missing_shard", "named by the index is missing",
               files={"model.safetensors.index.json": json.dumps(
                   {"weight_map": {n: "model-00001-of-00002.safetensors" for n, _ in good_tensors}})})
    write_case("index_empty_weight_map", "index lists no tensors",
               files={"model.safetensors.index.json": json.dumps({"metadata": {}, "weight_map": {}})})
    write_case("index_bad_json", "not valid JSON", files={"model.safetensors.index.json": "{\"weight_map\": "})
    write_case("index_shard_path_escapes", "is not a plain file name",
               files={"model.safetensors.index.json": json.dumps({"weight_map": {"lm_head.weight": "../x.safetensors"}})})
    print(f"wrote {len(os.listdir(ROOT))} cases to {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()
