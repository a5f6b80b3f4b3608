"""Evaluation: ir-measures metrics and paired significance tests."""

from pseudorel.evaluation.metrics import DEFAULT_MEASURES, Evaluation, evaluate_run
from pseudorel.significance import PairedTest, paired_test

__all__ = ["DEFAULT_MEASURES", "Evaluation", "PairedTest", "evaluate_run", "paired_test"]
