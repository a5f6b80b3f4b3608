"""Gated write-back: a generated answer enters the corpus only if it passes entailment,
attribution and novelty gates (source 000), every decision logged, every write revertible."""
