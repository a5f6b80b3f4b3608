"""Label-free model selection: how well a student ranks the corpus for held-out pseudo-labels."""

from __future__ import annotations

import math

from sentence_transformers.base.evaluation.evaluator import BaseEvaluator


class PseudoLabelRankingEvaluator(BaseEvaluator):
    """nDCG@k of the student's ranking of the whole (frozen) corpus, with the teacher's
    weights over each held-out query's candidates as the gains. Reads no qrels."""

    def __init__(self, queries: list[str], rows: list[tuple[list[int], list[float]]], documents, normalize=True, k=10):
        super().__init__()
        from torch.nn import functional as F

        from pseudorel.training.losses.corpus_distillation import teacher_targets

        self.queries, self.k, self.normalize = queries, k, normalize
        self.documents = F.normalize(documents.float(), dim=-1) if normalize else documents.float()
        self.target_docs, self.target_weights = teacher_targets(rows)
        self.primary_metric = f"pseudo_ndcg@{k}"

    def __call__(self, model, output_path=None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        import torch
        from torch.nn import functional as F

        with torch.inference_mode():
            q = model.encode(self.queries, task="query", convert_to_tensor=True, show_progress_bar=False).float()
            if self.normalize:
                q = F.normalize(q, dim=-1)
            top = (q @ self.documents.T).topk(min(self.k, self.documents.shape[0]), dim=1).indices
        hits = top[:, :, None] == self.target_docs[:, None, :]
        gains = (hits * self.target_weights[:, None, :]).sum(dim=2)
        discounts = torch.tensor([1 / math.log2(r + 2) for r in range(top.shape[1])])
        best = self.target_weights.sort(dim=1, descending=True).values[:, : top.shape[1]]
        ideal = (best * discounts[: best.shape[1]]).sum(dim=1)
        ndcg = (gains * discounts).sum(dim=1) / ideal.clamp_min(1e-12)
        metrics = {self.primary_metric: float(ndcg.mean())}
        metrics = self.prefix_name_to_metrics(metrics, "")
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics
