import pytest

from pseudorel.noise import inject_noise

QRELS = {f"q{i}": {f"r{i}": 1, f"r{i}b": 2} if i % 3 == 0 else {f"r{i}": 1} for i in range(20)}
QRELS["empty"] = {"x": 0}
RANKING = {
    q: {**{d: 10.0 for d in docs}, "shared": 9.0, f"hard_{q}": 8.0, f"hard2_{q}": 7.0} for q, docs in QRELS.items()
}
DOCS = ["shared"] + [d for docs in QRELS.values() for d in docs] + [f"n{i}" for i in range(50)]


@pytest.mark.parametrize("kind", ["bm25", "dense", "random"])
@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.3, 0.5, 1.0])
def test_exact_fraction_never_relevant(kind, ratio):
    noisy, corruptions = inject_noise(QRELS, ratio, kind, seed=1, ranking=RANKING, doc_ids=DOCS)
    corrupted = {c.query_id for c in corruptions}
    assert len(corrupted) == round(ratio * 20)  # "empty" has no relevant document: never eligible
    for c in corruptions:
        assert QRELS[c.query_id].get(c.replacement, 0) == 0  # never a truly relevant document
        assert c.original not in noisy[c.query_id] and c.replacement in noisy[c.query_id]
    for q in QRELS:
        if q not in corrupted:
            assert noisy[q] == QRELS[q]
        else:  # every positive of a corrupted query is replaced, grades kept
            assert sorted(noisy[q].values()) == sorted(QRELS[q].values())


def test_hard_noise_takes_top_non_relevant():
    _, corruptions = inject_noise(QRELS, 1.0, "bm25", seed=0, ranking=RANKING)
    by_query = {}
    for c in corruptions:
        by_query.setdefault(c.query_id, []).append(c.replacement)
    assert by_query["q1"] == ["shared"]
    assert by_query["q0"] == ["shared", "hard_q0"]


def test_reproducible_from_seed():
    a = inject_noise(QRELS, 0.5, "random", seed=7, doc_ids=DOCS)
    assert a == inject_noise(QRELS, 0.5, "random", seed=7, doc_ids=DOCS)
    assert a[1] != inject_noise(QRELS, 0.5, "random", seed=8, doc_ids=DOCS)[1]


def test_bad_arguments():
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        inject_noise(QRELS, 1.5, "random", doc_ids=DOCS)
    with pytest.raises(ValueError, match="needs a ranking"):
        inject_noise(QRELS, 0.5, "bm25")
    with pytest.raises(ValueError, match="unknown noise kind"):
        inject_noise(QRELS, 0.5, "typo")
