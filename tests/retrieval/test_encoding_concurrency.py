"""Two processes encoding the same texts into one embedding cache must both succeed."""

import subprocess
import sys

import numpy as np
import pytest

SCRIPT = """
import sys
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer
from pseudorel.retrieval.encoding import encode_texts

model = SentenceTransformer(sys.argv[1], device="cpu")
texts = [f"text number {i} about bones and coffee" for i in range(120)]
emb = encode_texts(model, texts, "tiny", batch_size=4, shard_size=2, precision="fp32", progress=False)
np.save(sys.argv[2], emb)
"""


@pytest.mark.fault("two processes encode the same texts into one cache", "both finish with equal embeddings")
def test_two_concurrent_encoders_share_the_cache(tmp_path, tiny_model_path):
    for round_ in range(3):  # each round a fresh cache: both processes write and clean up shards
        env = {"PSEUDOREL_CACHE_DIR": str(tmp_path / f"cache{round_}"), "HF_HUB_OFFLINE": "1", "PATH": ""}
        outs = [tmp_path / f"r{round_}_{i}.npy" for i in range(2)]
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", SCRIPT, str(tiny_model_path), str(out)],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
            for out in outs
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err[-2000:]
        first, second = (np.load(out) for out in outs)
        np.testing.assert_allclose(first, second, rtol=1e-5, atol=1e-6)
