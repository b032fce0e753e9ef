#!/usr/bin/env python3
"""Write a bf16 Llama model directory (config.json + model.safetensors) as a
BF16 GGUF that llama.cpp loads, for tools/bench/vs-llamacpp.sh.

    to_gguf.py MODEL_DIR OUT.gguf

Only for throughput comparisons: the GGUF has no tokenizer (tokenizer.ggml.model
= "none" with llama.vocab_size dummy tokens; llama-batched-bench feeds random
token ids). The tensors are the same weights under llama.cpp's names, with Q
and K rows permuted the way llama.cpp's HF converter does (llama.cpp applies
rotary embedding to interleaved pairs, HF to the two halves of each head), so
the model computes the same function as ours. Needs the `gguf` and `numpy`
packages (a throwaway venv; see vs-llamacpp.sh).
"""
import json
import struct
import sys
from pathlib import Path

import gguf
import numpy as np


def read_bf16_safetensors(path):
    """{name: uint16 array} of the raw bf16 bits (numpy has no bfloat16)."""
    data = path.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "BF16":
            sys.exit(f"{path}: tensor {name} is {info['dtype']}; this script writes BF16 models only")
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data, dtype=np.uint16, count=(end - begin) // 2,
                                      offset=base + begin).reshape(info["shape"])
    return tensors


def permute_rope_rows(w, n_head):
    """[n_head * head_dim, hidden]: rows of each head from halves to pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


LAYER_NAMES = {
    "input_layernorm": "attn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def gguf_name(hf_name):
    if hf_name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf_name == "model.norm.weight":
        return "output_norm.weight"
    if hf_name == "lm_head.weight":
        return "output.weight"
    parts = hf_name.split(".")  # model.layers.N.<module...>.weight
    if parts[:2] != ["model", "layers"] or parts[-1] != "weight":
        sys.exit(f"unexpected tensor {hf_name}")
    module = ".".join(parts[3:-1])
    if module not in LAYER_NAMES:
        sys.exit(f"unexpected tensor {hf_name}")
    return f"blk.{parts[2]}.{LAYER_NAMES[module]}.weight"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model_dir, out = Path(sys.argv[1]), sys.argv[2]
    cfg = json.loads((model_dir / "config.json").read_text())
    n_head, n_head_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // n_head

    writer = gguf.GGUFWriter(out, "llama")
    writer.add_context_length(cfg["max_position_embeddings"])
    writer.add_embedding_length(cfg["hidden_size"])
    writer.add_block_count(cfg["num_hidden_layers"])
    writer.add_feed_forward_length(cfg["intermediate_size"])
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(float(cfg.get("rope_theta", 10000.0)))
    writer.add_layer_norm_rms_eps(float(cfg["rms_norm_eps"]))
    writer.add_vocab_size(cfg["vocab_size"])
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_BF16)
    writer.add_tokenizer_model("none")

    for name, w in read_bf16_safetensors(model_dir / "model.safetensors").items():
        if name.endswith("q_proj.weight"):
            w = permute_rope_rows(w, n_head)
        elif name.endswith("k_proj.weight"):
            w = permute_rope_rows(w, n_head_kv)
        if w.ndim == 1:  # norm weights: ggml's CPU ops want them in F32 (as llama.cpp's converter writes them)
            writer.add_tensor(gguf_name(name), (w.astype(np.uint32) << 16).view(np.float32))
        else:
            writer.add_tensor(gguf_name(name), np.ascontiguousarray(w), raw_dtype=gguf.GGMLQuantizationType.BF16)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
