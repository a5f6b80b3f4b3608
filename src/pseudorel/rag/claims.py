"""SciFact claim verification labels, read from a BEIR queries file's metadata: a claim whose
metadata holds evidence is SUPPORT or CONTRADICT (its evidence documents), one without is NEI
(SciFact's "not enough info"). Used for evaluation, and for utility labels on train claims
only (which then read train labels, as the supervised path does)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from pseudorel.errors import InputError


@dataclass(frozen=True)
class ClaimLabel:
    verdict: str  # SUPPORT, CONTRADICT or NEI
    evidence: tuple[str, ...]  # documents with evidence sentences


def read_claim_labels(queries_file: str | Path) -> dict[str, ClaimLabel]:
    """Each claim's label; empty when no query of the file carries evidence labels (not SciFact)."""
    path = Path(queries_file)
    labels, mixed = {}, []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                metadata = record.get("metadata") or {}
                if not isinstance(metadata, dict) or any(not isinstance(v, list) for v in metadata.values()):
                    raise TypeError("metadata must map document ids to lists of evidence")
                verdicts = {e["label"] for entries in metadata.values() for e in entries}
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
                problem = f"not a SciFact query with claim metadata ({type(e).__name__}: {e})"
                raise InputError(path, problem, number) from None
            if len(verdicts) > 1:
                mixed.append(str(record.get("_id")))  # mixed evidence: no single verdict to score
                continue
            verdict = verdicts.pop() if verdicts else "NEI"
            if verdict not in ("SUPPORT", "CONTRADICT", "NEI"):
                raise InputError(path, f"unknown claim label '{verdict}'", number)
            labels[str(record["_id"])] = ClaimLabel(verdict, tuple(sorted(metadata)))
    if all(label.verdict == "NEI" for label in labels.values()):
        return {}
    warn_some(path, "claim(s) have both SUPPORT and CONTRADICT evidence and are not scored", mixed)
    return labels


def warn_some(path: str | Path, what: str, ids: list[str]) -> None:
    """One warning line: ``path: N <what> (the first five ids)``, where there are any."""
    if ids:
        logging.getLogger("pseudorel").warning("%s: %d %s (%s)", path, len(ids), what, ", ".join(ids[:5]))
