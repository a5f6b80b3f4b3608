import pytest

from pseudorel.data import load_beir
from pseudorel.noise import sweep
from pseudorel.noise.sweep import SweepSettings, labels_from_qrels, plot, run_sweep, summarize
from pseudorel.retrieval.bm25 import BM25Retriever
from pseudorel.training.bi_encoder import TrainSettings


def test_labels_from_qrels():
    frame = labels_from_qrels({"q": {"a": 1, "b": 0}}, {"q": "text"}, {"q": {"b": 3.0, "a": 2.0, "c": 1.0}})
    assert dict(zip(frame.doc_id, frame.label, strict=True)) == {"a": 1.0, "b": 0.0, "c": 0.0}


def test_sweep_runs_caches_and_plots(tmp_path, tiny_dataset_path, tiny_model_path, monkeypatch):
    ds = load_beir(tiny_dataset_path, splits=["test"])
    queries = ds.split_queries("test")
    ranking = BM25Retriever(ds.corpus).search(queries, 10)
    settings = SweepSettings(
        losses=("infonce", "label_weakening[beta=0.3]"),
        ratios=(0.0, 0.5),
        seeds=(0,),
        extra_seeds={0.5: (0, 1)},
        base_model=str(tiny_model_path),
        train=TrainSettings(epochs=1, batch_size=2, eval_fraction=0.0, bf16=False),
        negatives=1,
    )
    from pseudorel.training import bi_encoder

    seen = []
    real_train = bi_encoder.train_bi_encoder

    def spy(base, examples, output, settings, card=None):
        seen.append((settings.loss, settings.loss_kwargs))
        return real_train(base, examples, output, settings, card)

    monkeypatch.setattr("pseudorel.noise.sweep.train_bi_encoder", spy)
    table = run_sweep(ds, ds, "test", ranking, tmp_path / "sweep", settings, progress=lambda _: None)
    assert ("label_weakening", {"beta": 0.3}) in seen and ("infonce", {}) in seen
    assert (tmp_path / "sweep" / "runs" / "label_weakening_beta=0.3-r0.50-s1.json").is_file()
    assert set(table.loss) == {"infonce", "label_weakening[beta=0.3]"}
    assert len(table) == 6 and set(table.ratio) == {0.0, 0.5}
    assert set(table[table.ratio == 0.5].corrupted_queries) == {2}
    assert set(table[table.ratio == 0.0].corrupted_queries) == {0}
    assert table["nDCG@10"].between(0, 1).all()
    assert not (tmp_path / "sweep" / "models").exists() or not any((tmp_path / "sweep" / "models").iterdir())

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr("pseudorel.noise.sweep.train_bi_encoder", no_training)
    again = run_sweep(ds, ds, "test", ranking, tmp_path / "sweep", settings, progress=lambda _: None)
    assert again.equals(table)

    summary = summarize(table)
    assert summary.loc[(summary.loss == "infonce") & (summary.ratio == 0.5), "count"].item() == 2
    png = plot(table, tmp_path / "sweep" / "noise.png", baseline=0.1)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sweep.REPORTED == ("nDCG@10", "R@10", "RR@10")


def test_grid():
    grid = SweepSettings(losses=("a",), ratios=(0.0, 0.5), seeds=(0,), extra_seeds={0.5: (1, 2)}).grid()
    assert grid == [("a", 0.0, 0), ("a", 0.5, 0), ("a", 0.5, 1), ("a", 0.5, 2)]
    with pytest.raises(TypeError):
        SweepSettings(unknown=1)


def test_load_runs_is_the_union_of_sweeps(tmp_path):
    import json

    runs = tmp_path / "runs"
    runs.mkdir()
    for i, loss in enumerate(("infonce", "gce")):
        (runs / f"{loss}-r0.00-s0.json").write_text(json.dumps({"loss": loss, "ratio": 0.0, "nDCG@10": 0.1 * i}))
    table = sweep.load_runs(tmp_path)
    assert sorted(table.loss) == ["gce", "infonce"] and table["nDCG@10"].max() == 0.1
