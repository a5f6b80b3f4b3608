"""The search system ``adapt`` ships: a fused BM25 + dense first stage and an optional
reranker, each part kept only where held-out pseudo-labels say it helps (``guard``)."""

from pseudorel.system.search import SearchSystem
from pseudorel.system.spec import FirstStage, RerankStage, SystemSpec

__all__ = ["FirstStage", "RerankStage", "SearchSystem", "SystemSpec"]
