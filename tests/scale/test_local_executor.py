import json

import numpy as np
import pytest

from pseudorel.errors import UsageError
from pseudorel.scale import LocalExecutor, make_executor
from pseudorel.scale.shards import from_table, to_table
from tests.scale.tasks import Doubling

SHARDS = [list(range(i, i + 3)) for i in range(0, 12, 3)]


def test_columns_round_trip_through_arrow():
    columns = {"id": np.array(["a", "b"]), "x": np.array([1.5, 2.5]), "v": np.arange(6, dtype=np.float32).reshape(2, 3)}
    back = from_table(to_table(columns))
    assert list(back["id"]) == ["a", "b"]
    np.testing.assert_array_equal(back["x"], columns["x"])
    np.testing.assert_array_equal(back["v"], columns["v"])
    assert back["v"].dtype == np.float32


def test_local_map_keeps_shard_order_and_writes_a_manifest(tmp_path):
    task = Doubling(str(tmp_path / "t"))
    parts = LocalExecutor().map(task, SHARDS, tmp_path / "store", "k1", progress=False)
    assert [list(p["item"]) for p in parts] == SHARDS
    assert np.concatenate([p["double"] for p in parts]).tolist() == [2 * i for i in range(12)]
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert manifest["key"] == "k1" and sorted(manifest["done"]) == ["0", "1", "2", "3"]


def test_interrupted_local_map_resumes_from_its_manifest(tmp_path):
    store = tmp_path / "store"
    with pytest.raises(RuntimeError, match="planned failure"):
        LocalExecutor().map(Doubling(str(tmp_path / "a"), fail_at=6), SHARDS, store, "k", progress=False)
    again = Doubling(str(tmp_path / "b"))
    parts = LocalExecutor().map(again, SHARDS, store, "k", progress=False)
    assert again.calls() == [6, 9]  # shards 0 and 1 were finished and recorded
    assert np.concatenate([p["item"] for p in parts]).tolist() == list(range(12))


def test_foreign_manifest_is_not_reused(tmp_path):
    store = tmp_path / "store"
    LocalExecutor().map(Doubling(str(tmp_path / "a")), SHARDS, store, "old-inputs", progress=False)
    fresh = Doubling(str(tmp_path / "b"))
    LocalExecutor().map(fresh, SHARDS, store, "new-inputs", progress=False)
    assert fresh.calls() == [0, 3, 6, 9]


def test_unknown_executor_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown executor"):
        make_executor("spark")


@pytest.mark.parametrize(
    ("options", "message"),
    [(["--executor", "spark"], "--executor"), (["--workers", "2"], "need --executor ray")],
)
def test_executor_options_are_checked(monkeypatch, capsys, tmp_path, options, message):
    from tests.cli.test_cli import run_cli

    code, _, err = run_cli(
        monkeypatch,
        capsys,
        "label",
        "--dataset",
        "tiny",
        "--synthetic",
        "title",
        "--output",
        str(tmp_path / "l.parquet"),
        *options,
    )
    assert code == 2 and message in err
    assert not (tmp_path / "l.parquet").exists()
