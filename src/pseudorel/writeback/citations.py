"""Which retrieved documents an answer cites: ``[n]`` markers read back to positions."""

from __future__ import annotations

import re


def cited_positions(text: str, shown: int) -> list[int]:
    """1-based document numbers cited as [n] (or [n, m]) in ``text``, in order, within 1..shown."""
    found: list[int] = []
    for group in re.findall(r"\[([\d,\s]+)\]", text):
        for number in re.findall(r"\d+", group):
            n = int(number)
            if 1 <= n <= shown and n not in found:
                found.append(n)
    return found
