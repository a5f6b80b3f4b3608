"""What ``adapt`` does, as one dataclass: every stage's settings, nested, with their defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

from pseudorel.labels.pipeline import LabelSettings
from pseudorel.labels.teacher_choice import AUTO
from pseudorel.system.guard import GuardSettings
from pseudorel.training.bi_encoder import TrainSettings
from pseudorel.training.cross_encoder import CrossTrainSettings
from pseudorel.training.document_tower import DocumentTowerSettings
from pseudorel.training.embedding_student import EmbeddingStudentSettings
from pseudorel.training.examples import ExampleSettings
from pseudorel.training.query_tower import QueryTowerSettings

TOWERS = ("query", "query+document", "both")
RERANKER_SHARE = 0.35  # of the time left in a budget when the reranker starts
STUDENT_SHARE = 0.6  # of the time left in a budget when the sampled-mode student starts
QUERY_TOWER_SHARE = 0.6  # with retriever_tower="query+document", the query tower's share of the retriever's time
STUDENT = "student"  # sampled mode: the folder of the student that imitates the expensive teacher


@dataclass
class AdaptSettings:
    base_model: str = "all-MiniLM-L6-v2"
    synthetic_kinds: tuple[str, ...] = ("title", "ict")
    max_synthetic_docs: int | None = None
    synthetic_per_document: int = 1  # queries of each kind per document (ict: distinct sentences)
    llm_query_docs: int = 0  # documents (seeded sample) the LLM writes a query for, if an LLM is given
    # ("auto",): BM25 + MiniLM, plus nomic-embed-text-v1.5 where it is usable (labels/teacher_choice.py)
    labels: LabelSettings = field(default_factory=lambda: LabelSettings(retrievers=(AUTO,), teacher_mode=AUTO))
    # sampled mode: the student that carries the expensive teacher to the corpus (training/corpus_student.py):
    # "query", a query tower on the expensive teacher's judgments (query_tower settings), or
    # "embedding", a model that imitates its embeddings and re-encodes the corpus (student settings)
    student_kind: str = "query"
    student: EmbeddingStudentSettings = field(default_factory=EmbeddingStudentSettings)
    # sampled mode: the expensive teacher offered at search time on the first stage's top
    # ``late_depth`` documents (system/search.py's late stage; 0: not offered)
    late_depth: int = 20
    # ... offered only where a search none of whose documents it has read waits at most this long at
    # the expensive teacher's speed measured on this machine (None: whatever the wait)
    late_max_seconds: float | None = 30.0
    examples: ExampleSettings = field(default_factory=ExampleSettings)
    # query: train the query tower against the frozen corpus index; query+document: then the
    # document tower against the frozen training queries; both: fine-tune everything on examples
    retriever_tower: str = "query"
    query_tower: QueryTowerSettings = field(default_factory=QueryTowerSettings)
    document_tower: DocumentTowerSettings = field(default_factory=DocumentTowerSettings)
    retriever: TrainSettings = field(default_factory=TrainSettings)  # retriever_tower="both"
    reranker: CrossTrainSettings | None = field(default_factory=CrossTrainSettings)
    reranker_pairs: int = 4000  # labelled pairs to train the reranker: confident positives + hard negatives
    # train the reranker only when a teacher that reads the pairs labelled them (see NO_READER)
    reranker_only_with_reader: bool = True
    chain: bool = False  # let the reranker relabel all pairs before training the retriever
    # after the chain, each query's top reranked candidate is its positive (retriever_tower="both"):
    # a reranker trained on a few hundred queries orders candidates usefully long before its
    # calibrated probabilities clear the teachers' positive threshold
    chain_positives_by_rank: bool = True
    # wall-clock budget in seconds for queries, labels and training (evaluation comes after):
    # the reranker may use RERANKER_SHARE of what is left when it starts, the retriever the rest
    time_budget_s: float | None = None
    guard: GuardSettings = field(default_factory=GuardSettings)  # held-out queries that judge each part
    # extra rounds in which the retriever joins the teacher (each only if the guard kept the last)
    refresh_rounds: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.retriever_tower not in TOWERS:
            raise ValueError(f"retriever_tower must be one of {', '.join(TOWERS)}, not '{self.retriever_tower}'")
