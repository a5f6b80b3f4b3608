import json

import pytest

from pseudorel.data import load_beir
from pseudorel.errors import InputError
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.fusion import normalized_score_fusion
from pseudorel.system import SearchSystem, SystemSpec


def test_system_folder_round_trips(system_folder, tiny_dataset_path):
    ds = load_beir(tiny_dataset_path, splits=[])
    loaded = SearchSystem.load(system_folder)
    assert loaded.spec.first_stage.weights == (0.6, 0.4) and loaded.spec.corpus_digest
    assert loaded.corpus == ds.corpus
    run = loaded.search(ds.queries, top_k=5)
    # the same ranking computed by hand from its parts
    depth = loaded.spec.first_stage.depth
    sparse = BM25Retriever(ds.corpus).search(ds.queries, depth)
    dense = DenseRetriever(ds.corpus, str(system_folder / "retriever"), progress=False).search(ds.queries, depth)
    expected = normalized_score_fusion([sparse, dense], (0.6, 0.4), top_k=5)
    assert {q: list(docs) for q, docs in run.items()} == {q: list(docs) for q, docs in expected.items()}
    again = SearchSystem.load(system_folder).search(ds.queries, top_k=5)
    assert again == run


def test_system_with_reranker_reorders_only_its_depth(system_folder, tiny_dataset_path, tiny_model_path):
    from pseudorel.system.rerank import blend

    spec = json.loads((system_folder / "system.json").read_text())
    spec["reranker"] = {"model": str(tiny_model_path), "depth": 3, "weight": 1.0}
    (system_folder / "system.json").write_text(json.dumps(spec))
    system = SearchSystem.load(system_folder)
    queries = load_beir(tiny_dataset_path, splits=[]).queries
    first = system.first_stage(queries, 10)
    run = system.search(queries, top_k=10)
    for qid, docs in run.items():
        first_order = sorted(first[qid], key=lambda d: (-first[qid][d], d))
        order = list(docs)
        assert set(order[:3]) == set(first_order[:3]) and order[3:] == first_order[3:]
    assert blend(first, {q: dict.fromkeys(first[q], 0.0) for q in first}, 3)  # constant scores do not crash


@pytest.mark.fault("system folder without or with a malformed system.json", "error naming the file")
def test_broken_system_folders_name_the_problem(system_folder, tmp_path):
    with pytest.raises(InputError, match=r"no system\.json"):
        SearchSystem.load(tmp_path)
    spec = json.loads((system_folder / "system.json").read_text())
    spec["first_stage"]["fusion"] = "max"
    (system_folder / "system.json").write_text(json.dumps(spec))
    with pytest.raises(InputError, match="unknown fusion 'max'"):
        SystemSpec.load(system_folder)
    (system_folder / "system.json").write_text("{")
    with pytest.raises(InputError, match="malformed system spec"):
        SystemSpec.load(system_folder)


@pytest.mark.fault("system folder whose corpus changed after adapt", "refused: the digest does not match")
def test_changed_corpus_is_refused(system_folder):
    with open(system_folder / "corpus.jsonl", "a") as f:
        f.write('{"_id": "new", "title": "", "text": "added later"}\n')
    with pytest.raises(InputError, match="does not match the digest"):
        SearchSystem.load(system_folder)


@pytest.mark.fault(
    "a system's model retrained in place after adapt saved the system",
    "the system still loads and searches; a warning names the model that changed",
)
def test_changed_model_is_named_when_loading(system_folder, caplog):
    from tests.reliability.test_stale_work import retrain_in_place

    saved = json.loads((system_folder / "system.json").read_text())["models"]
    assert set(saved) == {"retriever"} and saved["retriever"].endswith("@own")
    with caplog.at_level("WARNING", logger="pseudorel"):
        SearchSystem.load(system_folder)
    assert "not the one this system was saved with" not in caplog.text
    retrain_in_place(system_folder / "retriever")
    with caplog.at_level("WARNING", logger="pseudorel"):
        SearchSystem.load(system_folder)
    assert "model retriever is not the one this system was saved with" in caplog.text
