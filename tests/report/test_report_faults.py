"""pseudorel report on a damaged run folder: one line naming the file, never a traceback."""

import pytest

from tests.cli.test_cli import run_cli

CASES = {
    "a list": (b"[]", None),
    "system as text": (b'{"system": "x"}', None),
    "decisions of the wrong kind": (b'{"system": {"decisions": [1, null]}}', None),
    "not UTF-8": (b'{"system": "\xff\xfe"}', None),
    "a broken student card": (b"{}", b'{"steps": '),
}


@pytest.mark.fault("report on a report.json of the wrong shape, not UTF-8, or a broken card", "exit 2 naming the file")
@pytest.mark.parametrize("case", list(CASES))
def test_report_on_a_damaged_run_names_the_file(monkeypatch, capsys, tmp_path, case):
    report, card = CASES[case]
    (tmp_path / "report.json").write_bytes(report)
    if card is not None:
        (tmp_path / "retriever").mkdir()
        (tmp_path / "retriever" / "pseudorel.json").write_bytes(card)
    code, _, err = run_cli(monkeypatch, capsys, "report", str(tmp_path))
    named = "pseudorel.json" if card is not None else "report.json"
    assert code == 2 and named in err and "Traceback" not in err, err
    assert not (tmp_path / "report.html").exists()
