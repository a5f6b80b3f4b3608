"""Write a random tiny nomic-bert GGUF (2 layers, 32 wide) with the fixture's words as vocabulary."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_tiny_nomic_gguf(path: Path, words: list[str], seed: int = 0) -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = [*words, *"abcdefghijklmnopqrstuvwxyz:_"]
    tokens = special + ["\u2581" + w for w in dict.fromkeys(pieces)] + list("abcdefghijklmnopqrstuvwxyz0123456789")
    hidden, inter, layers, heads = 32, 64, 2, 2
    writer = gguf.GGUFWriter(str(path), "nomic-bert")
    writer.add_name("tiny-nomic")
    writer.add_block_count(layers)
    writer.add_context_length(128)
    writer.add_embedding_length(hidden)
    writer.add_feed_forward_length(inter)
    writer.add_head_count(heads)
    writer.add_layer_norm_eps(1e-12)
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.MEAN)
    writer.add_rope_freq_base(1000.0)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("bert")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in tokens])
    writer.add_token_type_count(2)
    writer.add_unk_token_id(1)
    writer.add_bos_token_id(2)
    writer.add_eos_token_id(3)
    writer.add_sep_token_id(3)
    writer.add_pad_token_id(0)

    def tensor(name: str, *shape: int, scale: float = 0.2) -> None:
        writer.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    tensor("token_embd.weight", len(tokens), hidden)
    tensor("token_types.weight", 2, hidden)
    writer.add_tensor("token_embd_norm.weight", np.ones(hidden, np.float32))
    writer.add_tensor("token_embd_norm.bias", np.zeros(hidden, np.float32))
    for i in range(layers):
        tensor(f"blk.{i}.attn_qkv.weight", 3 * hidden, hidden)
        tensor(f"blk.{i}.attn_output.weight", hidden, hidden)
        tensor(f"blk.{i}.ffn_up.weight", inter, hidden)
        tensor(f"blk.{i}.ffn_gate.weight", inter, hidden)
        tensor(f"blk.{i}.ffn_down.weight", hidden, inter)
        for norm in ("attn_output_norm", "layer_output_norm"):
            writer.add_tensor(f"blk.{i}.{norm}.weight", (1 + 0.1 * rng.standard_normal(hidden)).astype(np.float32))
            writer.add_tensor(f"blk.{i}.{norm}.bias", (0.1 * rng.standard_normal(hidden)).astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
