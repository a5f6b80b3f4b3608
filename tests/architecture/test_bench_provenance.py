"""Every committed benchmark result can be traced to the run that made it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
FILES = sorted(RESULTS.glob("*.json"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_row_names_its_run(path):
    data = json.loads(path.read_text())
    provenance = data.pop("provenance")
    data.pop("meta")
    for key, value in data.items():
        table = isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values())
        for row in [f"{key}/{sub}" for sub in value] if table else [key]:
            assert {"command", "commit", "date"} <= set(provenance[row]), row


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_markdown_header_comes_from_the_json(path):
    markdown = path.with_suffix(".md")
    if markdown.is_file():
        text = markdown.read_text()
        assert "earlier results kept from" not in text
        commits = {p["commit"] for p in json.loads(path.read_text())["provenance"].values()}
        assert all(commit in text for commit in commits)
