from pathlib import Path

from pseudorel.adapt.settings import AdaptSettings
from pseudorel.adapt.stage import Run
from pseudorel.report.run_report import RunReport


def _run(folder: Path) -> Run:
    return Run(folder, AdaptSettings(), RunReport())


def test_a_stage_is_reused_only_from_the_same_inputs_and_remade_when_damaged(tmp_path):
    made: list[str] = []
    path = tmp_path / "thing.txt"

    def make(text: str):
        def write() -> str:
            made.append(text)
            path.write_text(text)
            return text

        return write

    def load(p: Path) -> str:
        text = p.read_text()
        if not text:
            raise ValueError("empty")
        return text

    assert _run(tmp_path).cached_stage("thing", "k1", path, make("a"), load) == "a"
    again = _run(tmp_path)
    assert again.cached_stage("thing", "k1", path, make("b"), load) == "a" and again.report.reused == ["thing"]
    assert _run(tmp_path).cached_stage("thing", "k2", path, make("c"), load) == "c"  # other inputs: made again
    path.write_text("")  # damaged
    damaged = _run(tmp_path)
    assert damaged.cached_stage("thing", "k2", path, make("d"), load) == "d" and not damaged.report.reused
    assert made == ["a", "c", "d"]
