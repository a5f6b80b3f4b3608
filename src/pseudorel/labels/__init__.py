"""Labels: the label store and the pipeline that fills it."""

from pseudorel.labels.store import StageCache, load_labels, save_labels

__all__ = ["StageCache", "load_labels", "save_labels"]
