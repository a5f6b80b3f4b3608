"""Documents/s of the expensive teacher (nomic-bert) and the student (MiniLM) on a GPU, for
sampled mode's scale projections (bench/distill.py).

    PYTHONPATH=src python3 bench/gpu_rates.py --output-dir DIR

The GPU machine cannot fetch model weights, and speed does not depend on their values: both
architectures are built with random weights (nomic-bert from pseudorel's port: 12 layers,
768 wide, 3,072 SwiGLU, rotary positions; MiniLM: BERT, 6 layers, 384 wide) and timed on
batches of random token ids at the lengths pseudorel reads (nomic 512, MiniLM 256), in bf16,
median of 5 timed runs after warm-up. Full-length batches: real corpora, padded per batch after
sorting by length, run faster.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path


def rate(model, length: int, batch: int, batches: int, vocab: int) -> float:
    import torch

    ids = torch.randint(1000, vocab - 1, (batch, length), device="cuda")
    mask = torch.ones_like(ids)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
        for _ in range(3):
            model(ids, mask)
        torch.cuda.synchronize()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(batches):
                model(ids, mask)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    return batch * batches / statistics.median(times)


def main() -> None:
    import torch
    from transformers import BertConfig, BertModel

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from pseudorel.retrieval.nomic_bert import NomicConfig, _torch_modules

    parser = argparse.ArgumentParser()
    parser.add_argument("--output-dir", type=Path, required=True)
    args = parser.parse_args()
    nomic_config = NomicConfig(30528, 768, 12, 12, 3072, 1e-12, 1000.0, 2048)
    nomic = _torch_modules()(nomic_config).cuda().eval()
    minilm = (
        BertModel(BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536))
        .cuda()
        .eval()
    )

    def minilm_forward(ids, mask):
        return minilm(input_ids=ids, attention_mask=mask).last_hidden_state.mean(1)

    result = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "weights": "random (speed only)",
        "nomic_docs_per_second_512_tokens": round(rate(nomic, 512, 128, 10, 30528), 1),
        "minilm_docs_per_second_256_tokens": round(rate(minilm_forward, 256, 256, 10, 30522), 1),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "PYTHONPATH=src python3 bench/gpu_rates.py --output-dir $OUT",
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "gpu_rates.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
