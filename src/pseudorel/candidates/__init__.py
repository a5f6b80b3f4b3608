"""Candidate mining: which (query, document) pairs the teachers judge."""

from pseudorel.candidates.mining import MiningSettings, mine_candidates

__all__ = ["MiningSettings", "mine_candidates"]
