import json

import pytest

from pseudorel.errors import InputError
from pseudorel.report.run_report import RunReport, SystemChoice


def test_a_report_reads_back_as_written(tmp_path):
    report = RunReport(settings={"seed": 0}, seconds={"labels": 1.5}, system=SystemChoice("bm25", ["reranker"], []))
    report.reused.append("queries")
    report.save(tmp_path)
    written = json.loads((tmp_path / "report.json").read_text())
    assert "evaluation" not in written and written["system"]["shipped"] == "bm25"  # stages that did not run: absent
    assert RunReport.load(tmp_path) == report


def test_entries_of_an_older_version_are_ignored_and_a_wrong_shape_is_named(tmp_path):
    (tmp_path / "report.json").write_text('{"seconds": {"total": 3}, "stages": 1}')
    assert RunReport.load(tmp_path).seconds == {"total": 3}
    (tmp_path / "report.json").write_text('{"system": {"shipped": "x", "why": 1}}')
    with pytest.raises(InputError, match=r"report\.json"):
        RunReport.load(tmp_path)
    with pytest.raises(InputError, match=r"no report\.json"):
        RunReport.load(tmp_path / "elsewhere")
