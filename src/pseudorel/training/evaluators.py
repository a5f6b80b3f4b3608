"""Label-free model selection: how well a student ranks the corpus for held-out pseudo-labels."""

from __future__ import annotations

import math

from sentence_transformers.base.evaluation.evaluator import BaseEvaluator


class PseudoLabelRankingEvaluator(BaseEvaluator):
    """How well the student's ranking of the whole (frozen) corpus matches the teacher on
    held-out queries. Reads no qrels.

    ``pseudo_log_likelihood`` (the primary metric, higher is better): the mean over queries of
    sum_d w(d) log p_student(d | q), with p_student the softmax over the corpus at ``scale``,
    i.e. minus the training loss on held-out queries. ``pseudo_ndcg@k``: nDCG@k with the
    teacher's weights as gains; reported, not used for selection, because the candidates come
    partly from the untrained model's own ranking, which it therefore starts out agreeing with.
    ``documents`` are scored as given (pass them L2-normalised for cosine models, as
    :class:`CorpusDistillationLoss` holds them); ``normalize`` applies to the queries.
    """

    def __init__(
        self,
        queries: list[str],
        rows: list[tuple[list[int], list[float]]],
        documents,
        normalize: bool = True,
        k: int = 10,
        scale: float = 20.0,
    ):
        super().__init__()
        from pseudorel.training.losses.corpus_distillation import teacher_targets  # start-up: loads torch

        self.queries, self.k, self.normalize, self.scale = queries, k, normalize, scale
        self.documents = documents
        self.target_docs, self.target_weights = teacher_targets(rows)
        self.primary_metric = "pseudo_log_likelihood"

    def __call__(self, model, output_path=None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        import torch
        from torch.nn import functional as F

        from pseudorel.training.losses.corpus_distillation import teacher_log_likelihood  # start-up: loads torch

        with torch.inference_mode():
            q = model.encode(self.queries, task="query", convert_to_tensor=True, show_progress_bar=False).float()
            if self.normalize:
                q = F.normalize(q, dim=-1)
            scores = q @ self.documents.T
            top = scores.topk(min(self.k, self.documents.shape[0]), dim=1).indices
            likelihood = teacher_log_likelihood(self.scale * scores, self.target_docs, self.target_weights).mean()
        hits = top[:, :, None] == self.target_docs[:, None, :]
        gains = (hits * self.target_weights[:, None, :]).sum(dim=2)
        discounts = torch.tensor([1 / math.log2(r + 2) for r in range(top.shape[1])])
        best = self.target_weights.sort(dim=1, descending=True).values[:, : top.shape[1]]
        ideal = (best * discounts[: best.shape[1]]).sum(dim=1)
        ndcg = (gains * discounts).sum(dim=1) / ideal.clamp_min(1e-12)
        metrics = {self.primary_metric: float(likelihood), f"pseudo_ndcg@{self.k}": float(ndcg.mean())}
        metrics = self.prefix_name_to_metrics(metrics, "")
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics
