import numpy as np
import pytest

from pseudorel.errors import UsageError
from pseudorel.retrieval.ann import IndexSettings, build_index, default_nlist


def clustered(n: int, dim: int = 32, clusters: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    vectors = centres[rng.integers(clusters, size=n)] + 0.5 * rng.normal(size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def recall_against_exact(kind: str, **options) -> float:
    docs, queries = clustered(6000), clustered(100, seed=1)
    _, exact = build_index(docs).search(queries, 10)
    _, approx = build_index(docs, IndexSettings(kind=kind, **options)).search(queries, 10)
    return float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)]))


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_indexes_find_most_exact_neighbours(kind):
    assert recall_against_exact(kind) >= 0.9


def test_ivf_recall_grows_with_nprobe():
    assert recall_against_exact("ivf", nlist=64, nprobe=1) < recall_against_exact("ivf", nlist=64, nprobe=64) == 1.0


def test_few_vectors_fall_back_to_exact_search():
    index = build_index(clustered(20), IndexSettings(kind="ivf"))
    assert type(index).__name__ == "IndexFlatIP"
    assert default_nlist(10_000) == 256 and default_nlist(1_000_000) == 4000


def test_unknown_index_kind_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown index"):
        IndexSettings(kind="annoy")


def test_evaluate_takes_an_index_option(monkeypatch, capsys, tmp_path, tiny_model_path):
    from tests.cli.test_cli import run_cli

    args = ["evaluate", "--dataset", "tiny", "--retriever", f"dense:{tiny_model_path}"]
    code, out, err = run_cli(monkeypatch, capsys, *args, "--index", "ivf", "--nprobe", "4")
    assert code == 0 and "nDCG@10" in out, err
    code, _, err = run_cli(monkeypatch, capsys, *args, "--index", "annoy")
    assert code == 2 and "--index" in err
