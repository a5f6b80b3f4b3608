"""A pool of OpenAI-compatible servers: requests spread over them, a failing one is passed over."""

import pytest

from pseudorel.data import load_beir
from pseudorel.labels.pipeline import LabelSettings, label_pairs
from pseudorel.llm.backend import LLMError
from pseudorel.llm.factory import make_backend, make_scorer
from pseudorel.llm.pool import EndpointPool, pool_urls
from pseudorel.queries import Query
from tests.llm import stub_server


@pytest.fixture
def servers():
    started = [stub_server.start(mode) for mode in ("grade", "grade", "error")]
    yield [(state, url) for _, state, url in started]
    for server, _, _ in started:
        server.shutdown()


def test_judging_spreads_over_the_pool_and_skips_a_failing_server(tmp_path, tiny_dataset_path, servers):
    (good_a, url_a), (good_b, url_b), (broken, url_c) = servers
    backend = make_backend(f"{url_a},{url_b},{url_c}", tmp_path / "c.sqlite", model="stub", retries=0)
    assert isinstance(backend.backend, EndpointPool)
    ds = load_beir(tiny_dataset_path, splits=[])
    queries = [Query(q, t) for q, t in ds.queries.items()]
    settings = LabelSettings(retrievers=("bm25",), llm_budget=9)
    frame, stats = label_pairs(ds.corpus, queries, settings, tmp_path / "w", backend=backend, progress=False)
    assert stats["llm"]["judged"] == 9 and stats["llm"]["failed"] == 0 and frame["prob_llm"].notna().sum() == 9
    assert len(good_a.requests) >= 3 and len(good_b.requests) >= 3  # both healthy servers worked
    assert len(broken.requests) >= 1  # asked, failed, passed over
    assert backend.backend.answered[2] == 0


def test_a_pool_whose_servers_all_fail_is_an_error(servers):
    _, url = servers[2]
    pool = make_scorer(f"{url},{url}", model="stub", retries=0)
    with pytest.raises(LLMError, match="every server of the pool failed"):
        pool.logprobs([("Passage: a\nQuery:", " a")])


def test_pool_specs():
    assert pool_urls("http://a/v1") is None
    assert pool_urls("http://a/v1, https://b/v1") == ["http://a/v1", "https://b/v1"]
    with pytest.raises(LLMError, match="http"):
        pool_urls("http://a/v1,gguf:qwen")
