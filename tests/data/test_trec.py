import pytest

from pseudorel.data import read_run, write_run
from pseudorel.errors import InputError


def test_run_roundtrip_sorted_by_score(tmp_path):
    path = tmp_path / "run.trec"
    write_run({"q1": {"a": 0.5, "b": 2.0}, "q2": {"c": 1.0}}, path, tag="t")
    lines = path.read_text().splitlines()
    assert lines[0] == "q1 Q0 b 1 2.000000 t"
    assert lines[1] == "q1 Q0 a 2 0.500000 t"
    assert read_run(path) == {"q1": {"b": 2.0, "a": 0.5}, "q2": {"c": 1.0}}


def test_write_run_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "run.trec"
    path.write_text("old\n")

    class Boom(dict):
        def items(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_run(Boom(q=1), path)
    assert path.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [path]


def test_bad_run_line(tmp_path):
    path = tmp_path / "run.trec"
    path.write_text("q1 Q0 a 1 1.0 t\nq1 Q0 b 2\n")
    with pytest.raises(InputError, match=r":2: expected 6 columns"):
        read_run(path)
