"""Label-noise simulation for robustness studies."""

from pseudorel.noise.inject import NOISE_KINDS, Corruption, inject_noise

__all__ = ["NOISE_KINDS", "Corruption", "inject_noise"]
