"""nomic-embed-text-v1.5: the PyTorch port (bf16 autocast) against the GGUF through xllamacpp,
on the same SciFact documents, in one run; median of repeats.

    PSEUDOREL_NOMIC_WHEELS=DIR .venv/bin/python bench/nomic_speed.py [--docs 48] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _report import SHARED_DATA, Report

from pseudorel.data import load_beir
from pseudorel.retrieval.batch import autocast
from pseudorel.retrieval.nomic_bert import PREFIXES, NomicEmbedder
from pseudorel.retrieval.nomic_files import nomic_gguf


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    report = Report("nomic_speed")
    corpus = load_beir(SHARED_DATA / "scifact", splits=[]).corpus
    port = NomicEmbedder(nomic_gguf())
    # the same texts for both: cut to the port's 256 tokens, so neither reads more than the other
    texts = []
    for doc in list(corpus.values())[: args.docs]:
        ids = port.tokenizer(PREFIXES["document"] + doc.full_text, truncation=True, max_length=256)["input_ids"]
        texts.append(port.tokenizer.decode(ids[1:-1]))

    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(nomic_gguf())
    params.embedding = True
    params.pooling_type = xlc.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
    params.n_ctx = params.n_batch = 8192
    params.n_ubatch = 2048
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = 2
    server = xlc.Server(params)

    timings: dict[str, list[float]] = {"port_bf16": [], "port_fp32": [], "xllamacpp_f16": []}
    outputs = {}
    for _ in range(args.repeats):
        for precision in ("bf16", "fp32"):
            start = time.perf_counter()
            with autocast(precision):
                outputs[precision] = port.encode(texts, batch_size=16, prompt="")
            timings[f"port_{precision}"].append(time.perf_counter() - start)
        start = time.perf_counter()
        data = server.handle_embeddings({"input": texts})["data"]
        timings["xllamacpp_f16"].append(time.perf_counter() - start)
        ref = np.array([row["embedding"] for row in data])
        outputs["gguf"] = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    medians = {k: statistics.median(v) for k, v in timings.items()}
    result = {
        "documents": len(texts),
        "median_seconds": medians,
        "docs_per_second": {k: len(texts) / v for k, v in medians.items()},
        "speedup_port_bf16_vs_xllamacpp": medians["xllamacpp_f16"] / medians["port_bf16"],
        "min_cosine_port_fp32_vs_xllamacpp": float((outputs["fp32"] * outputs["gguf"]).sum(1).min()),
        "min_cosine_port_bf16_vs_xllamacpp": float((outputs["bf16"] * outputs["gguf"]).sum(1).min()),
    }
    report.data.update(result)
    rows = "\n".join(f"| {k} | {medians[k]:.1f} | {len(texts) / medians[k]:.2f} |" for k in medians)
    md = (
        f"{len(texts)} SciFact documents cut to 256 tokens, median of {args.repeats} runs, 2 threads.\n\n"
        "| encoder | seconds | docs/s |\n|---|---|---|\n" + rows + "\n\n"
        f"Port (bf16) vs xllamacpp: {result['speedup_port_bf16_vs_xllamacpp']:.2f}x. Minimum cosine with "
        f"xllamacpp's embeddings: fp32 {result['min_cosine_port_fp32_vs_xllamacpp']:.6f}, "
        f"bf16 {result['min_cosine_port_bf16_vs_xllamacpp']:.6f}.\n"
    )
    report.save(md, complete=True)


if __name__ == "__main__":
    main()
