"""Each loss on hand-made embeddings: its value against a formula, and its gradient direction."""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from pseudorel.training.losses import (
    BiXSELoss,
    BootstrappingLoss,
    GCELoss,
    InfoNCELoss,
    LabelSmoothingLoss,
    LabelWeakeningLoss,
    ListwiseKLLoss,
    MAELoss,
    MarginMSELoss,
    SCELoss,
)


class Lookup(nn.Module):
    """A stand-in encoder: features carry their embeddings; ``encode`` looks texts up."""

    def __init__(self, table: dict[str, torch.Tensor] | None = None):
        super().__init__()
        self.table = table or {}

    def forward(self, features):
        return {"sentence_embedding": features["emb"]}

    def encode(self, texts, convert_to_tensor=True, normalize_embeddings=True, **_):
        return F.normalize(torch.stack([self.table[t] for t in texts]), dim=-1)


def columns(*embeddings):
    return [{"emb": e} for e in embeddings]


@pytest.fixture
def batch():
    torch.manual_seed(0)
    q = torch.randn(2, 4, requires_grad=True)
    pos = torch.randn(2, 4)
    neg = torch.randn(2, 4)
    return q, pos, neg


def logits_of(q, pos, neg, scale):
    return scale * F.normalize(q, dim=-1) @ F.normalize(torch.cat([pos, neg]), dim=-1).T


def p_positive(q, pos, neg, scale=20.0):
    return logits_of(q, pos, neg, scale).softmax(-1)[torch.arange(2), torch.arange(2)]


def assert_descent_raises_positive(loss_fn, q, pos, neg, labels=None):
    """One gradient step on the queries makes the queries' own positives more probable (never less:
    MAE's gradient vanishes where p(d+|q) is near 0, its known slowness to fit)."""
    loss = loss_fn(columns(q, pos, neg), labels)
    loss.backward()
    before = p_positive(q, pos, neg).detach()
    after = p_positive((q - 0.05 * q.grad).detach(), pos, neg)
    assert (after >= before).all() and (after > before).any()
    return loss


@pytest.mark.parametrize(
    ("loss_cls", "kwargs", "formula"),
    [
        (InfoNCELoss, {}, lambda p, lg: -p.log().mean()),
        (GCELoss, {"q": 0.7}, lambda p, lg: ((1 - p**0.7) / 0.7).mean()),
        (MAELoss, {}, lambda p, lg: (2 * (1 - p)).mean()),
        (SCELoss, {"alpha": 0.1, "beta": 1.0}, lambda p, lg: 0.1 * -p.log().mean() + (4 * (1 - p)).mean()),
        (
            LabelSmoothingLoss,
            {"epsilon": 0.1},
            lambda p, lg: (-(0.9 * F.one_hot(torch.arange(2), 4) + 0.1 / 4) * lg.log_softmax(-1)).sum(-1).mean(),
        ),
        (
            BootstrappingLoss,
            {"beta": 0.95},
            lambda p, lg: (
                (-(0.95 * F.one_hot(torch.arange(2), 4) + 0.05 * lg.softmax(-1)) * lg.log_softmax(-1)).sum(-1).mean()
            ),
        ),
        (
            BootstrappingLoss,
            {"beta": 0.8, "mode": "hard"},
            lambda p, lg: (
                (-(0.8 * F.one_hot(torch.arange(2), 4) + 0.2 * F.one_hot(lg.argmax(-1), 4)) * lg.log_softmax(-1))
                .sum(-1)
                .mean()
            ),
        ),
    ],
)
def test_softmax_family(batch, loss_cls, kwargs, formula):
    q, pos, neg = batch
    loss_fn = loss_cls(Lookup(), scale=20.0, **kwargs)
    lg = logits_of(q, pos, neg, 20.0).detach()
    expected = formula(lg.softmax(-1)[torch.arange(2), torch.arange(2)], lg)
    loss = assert_descent_raises_positive(loss_fn, q, pos, neg)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_bixse_value_and_direction(batch):
    q, pos, neg = batch
    loss_fn = BiXSELoss(Lookup(), scale=20.0, bias=-5.0)
    labels = torch.tensor([[1.0, 0.0], [0.8, 0.1]])
    lg = logits_of(q, pos, neg, 20.0).detach() - 5.0
    own = torch.tensor([[0, 2], [1, 3]])
    own_term = F.binary_cross_entropy_with_logits(lg.gather(1, own), labels)
    others = torch.tensor([[False, True, False, True], [True, False, True, False]])
    expected = own_term + F.binary_cross_entropy_with_logits(lg[others], torch.zeros(4))
    loss = loss_fn(columns(q, pos, neg), labels)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    # a label of 1 on the positive: the gradient step raises cos(q0, pos0)
    step = F.normalize(q - 0.05 * q.grad, dim=-1)
    cos = lambda a, b: (F.normalize(a, dim=-1) * F.normalize(b, dim=-1)).sum(-1)  # noqa: E731
    assert cos(step[0], pos[0]) > cos(q[0].detach(), pos[0])
    assert loss_fn.bias.grad is not None  # the bias is learned


def test_margin_mse(batch):
    q, pos, neg = batch
    labels = torch.tensor([[0.9, 0.1], [0.6, 0.5]])
    lg = logits_of(q, pos, neg, 1.0).detach()
    student = torch.stack([lg[0, 0] - lg[0, 2], lg[1, 1] - lg[1, 3]])
    expected = ((student - torch.tensor([0.8, 0.1])) ** 2).mean()
    loss = MarginMSELoss(Lookup())(columns(q, pos, neg), labels)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_listwise_kl_zero_when_student_matches_teacher(batch):
    q, pos, neg = batch
    lg = logits_of(q, pos, neg, 20.0).detach()
    student = torch.stack([lg[0, [0, 2]], lg[1, [1, 3]]])
    loss_fn = ListwiseKLLoss(Lookup(), scale=20.0, labels_are_probs=False)
    assert loss_fn(columns(q, pos, neg), student).item() == pytest.approx(0.0, abs=1e-6)
    flipped = loss_fn(columns(q, pos, neg), student.flip(-1))
    assert flipped.item() > 0.1
    probs = ListwiseKLLoss(Lookup(), scale=20.0)(columns(q, pos, neg), torch.tensor([[0.9, 0.1], [0.7, 0.2]]))
    assert probs.item() > 0


def test_label_weakening_targets_change_once_per_epoch():
    base = {"q": torch.tensor([1.0, 0.0]), "p": torch.tensor([0.0, 1.0]), "n": torch.tensor([1.0, 0.05])}
    model = Lookup(base)
    loss_fn = LabelWeakeningLoss(model, beta=0.5, alpha=0.0, scale=20.0)
    q = base["q"][None].clone().requires_grad_(True)
    feats = columns(q, base["p"][None], base["n"][None])
    row = torch.tensor([0])

    # before any update, R* = {observed positive}: plain -log p(positive)
    lg = logits_of(q.detach(), base["p"][None], base["n"][None], 20.0)[0]
    expected = -lg.log_softmax(-1)[0]
    for _ in range(3):  # batches do not change the target sets
        assert loss_fn(feats, row).item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss_fn.targets is None and loss_fn.updates == 0

    targets = loss_fn.update_targets(["q"], [["p", "n"]])  # epoch boundary
    assert targets.tolist() == [[True, True]]  # the confident negative joined R*
    # optimistic superset: the loss of the most plausible member (the "negative" here)
    assert loss_fn(feats, row).item() == pytest.approx(-lg.log_softmax(-1)[1].item(), rel=1e-5)
    marginal = LabelWeakeningLoss(model, beta=0.5, alpha=0.0, marginal=True)
    marginal.targets = targets
    assert marginal(feats, row).item() == pytest.approx(-torch.logsumexp(lg.log_softmax(-1), 0).item(), abs=1e-5)

    model.table["n"] = torch.tensor([-1.0, 0.0])  # the model changes its mind...
    assert loss_fn.targets.tolist() == [[True, True]]  # ...but R* waits for the next epoch
    assert loss_fn.update_targets(["q"], [["p", "n"]]).tolist() == [[True, False]]
    assert loss_fn.updates == 2


def test_label_weakening_relaxation_zeroes_satisfied_queries(batch):
    q, pos, neg = batch
    loss_fn = LabelWeakeningLoss(Lookup(), alpha=1.0)  # any mass satisfies
    assert loss_fn(columns(q, pos, neg), torch.tensor([0, 1])).item() == 0.0
    strict = LabelWeakeningLoss(Lookup(), alpha=0.0)
    assert strict(columns(q, pos, neg), torch.tensor([0, 1])).item() == pytest.approx(
        -p_positive(q.detach(), pos, neg).log().mean().item(), rel=1e-5
    )
    assert math.isfinite(strict(columns(q, pos, neg), torch.tensor([0, 1])).item())


def test_parse_loss_spec():
    from pseudorel.training.losses import parse_loss_spec

    assert parse_loss_spec("infonce") == ("infonce", {})
    assert parse_loss_spec("label_weakening[beta=0.3, alpha=0,marginal=true]") == (
        "label_weakening",
        {"beta": 0.3, "alpha": 0.0, "marginal": True},
    )
    for bad in ("nope", "label_weakening[beta]", "label_weakening[beta=0.3"):
        with pytest.raises(ValueError):
            parse_loss_spec(bad)


def test_corpus_distillation_is_cross_entropy_over_the_whole_corpus():
    from pseudorel.training.losses.corpus_distillation import CorpusDistillationLoss, teacher_targets

    torch.manual_seed(0)
    documents = torch.randn(6, 4)
    docs, weights = teacher_targets([([0, 2], [3.0, 1.0]), ([5], [1.0])])
    assert torch.allclose(weights.sum(dim=1), torch.ones(2)) and weights[1, 1] == 0  # padded, weight 0
    query = torch.randn(2, 4, requires_grad=True)
    loss_fn = CorpusDistillationLoss(Lookup(), documents, docs, weights, scale=10.0)
    loss = loss_fn(columns(query), torch.tensor([0, 1]))
    log_p = (10.0 * F.normalize(query, dim=-1) @ F.normalize(documents, dim=-1).T).log_softmax(dim=-1)
    expected = -(0.75 * log_p[0, 0] + 0.25 * log_p[0, 2] + log_p[1, 5]) / 2
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    with torch.no_grad():  # a small step against the gradient raises the teacher's documents' share
        stepped = query - 0.1 * query.grad
        after = (10.0 * F.normalize(stepped, dim=-1) @ F.normalize(documents, dim=-1).T).log_softmax(dim=-1)
    assert after[1, 5] > log_p[1, 5] and after[0, 0] > log_p[0, 0]


def test_corpus_distillation_rejects_a_row_without_teacher_mass():
    from pseudorel.training.losses.corpus_distillation import teacher_targets

    with pytest.raises(ValueError, match="positive teacher weight"):
        teacher_targets([([0, 1], [0.0, 0.0])])
