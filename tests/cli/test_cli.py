import json
import subprocess
import sys

import pytest

from pseudorel import cli


def run_cli(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["pseudorel", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_help_loads_no_heavy_library():
    heavy = "('torch', 'transformers', 'sentence_transformers', 'faiss', 'ray')"
    code = f"import sys, pseudorel.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_evaluate_bm25_end_to_end(monkeypatch, capsys, tmp_path):
    code, out, _ = run_cli(monkeypatch, capsys, "evaluate", "--dataset", "tiny", "--output", str(tmp_path / "o"))
    assert code == 0
    assert "nDCG@10" in out
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert set(metrics) == {"nDCG@10", "R@10", "R@100", "RR@10", "AP@100"}
    assert all(isinstance(v, float) for v in metrics.values())
    assert metrics["nDCG@10"] > 0.5
    per_query = (tmp_path / "o" / "per_query.tsv").read_text().splitlines()
    assert per_query[0].startswith("query_id\tnDCG@10") and len(per_query) == 5
    assert (tmp_path / "o" / "run.trec").read_text().startswith("q1 Q0 ")


def test_evaluate_dense_and_compare(monkeypatch, capsys, tmp_path, tiny_model_path, tiny_dataset_path):
    for spec, name in (("bm25", "a"), (f"dense:{tiny_model_path}", "b")):
        code, _, _ = run_cli(
            monkeypatch, capsys, "evaluate", "--dataset", "tiny", "--retriever", spec, "--output", str(tmp_path / name)
        )
        assert code == 0
    code, out, _ = run_cli(
        monkeypatch,
        capsys,
        "compare",
        str(tmp_path / "a" / "run.trec"),
        str(tmp_path / "b" / "run.trec"),
        "--qrels",
        str(tiny_dataset_path / "qrels" / "test.tsv"),
    )
    assert code == 0
    assert out.startswith("nDCG@10: A=") and "4 queries" in out


@pytest.mark.parametrize(
    ("corpus", "message"),
    [
        ('{"_id": "a", "text": "x"}\n{"_id": "b"', "corpus.jsonl:2: malformed JSON"),
        ('{"_id": "a", "text": "x"}\n{"title": "t", "text": "y"}\n', "corpus.jsonl:2: missing '_id'"),
        ('{"_id": "a", "text": "x"}\n{"_id": "a", "text": "y"}\n', "corpus.jsonl:2: duplicate document id 'a'"),
        ("", "corpus.jsonl: empty corpus"),
        ('{"_id": "a", "text": "caf\u00e9"}\n'.encode("latin-1"), "corpus.jsonl:1: not valid UTF-8"),
    ],
)
def test_bad_input_one_line_exit_2(monkeypatch, capsys, tmp_path, tiny_dataset_path, corpus, message):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "queries.jsonl").write_bytes((tiny_dataset_path / "queries.jsonl").read_bytes())
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_bytes((tiny_dataset_path / "qrels" / "test.tsv").read_bytes())
    (folder / "corpus.jsonl").write_bytes(corpus if isinstance(corpus, bytes) else corpus.encode())
    code, _, err = run_cli(monkeypatch, capsys, "evaluate", "--dataset", str(folder))
    assert code == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ") and message in err


def test_bad_retriever_and_missing_dataset(monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "evaluate", "--dataset", "tiny", "--retriever", "splade")
    assert code == 2 and "unknown retriever 'splade'" in err
    code, _, err = run_cli(monkeypatch, capsys, "evaluate", "--dataset", "nowhere")
    assert code == 2 and "not a downloadable dataset" in err


def test_existing_output_survives_failed_run(monkeypatch, capsys, tmp_path):
    out = tmp_path / "o"
    assert run_cli(monkeypatch, capsys, "evaluate", "--dataset", "tiny", "--output", str(out))[0] == 0
    before = (out / "metrics.json").read_text()
    code, _, _ = run_cli(monkeypatch, capsys, "evaluate", "--dataset", "tiny", "--split", "dev", "--output", str(out))
    assert code == 2
    assert (out / "metrics.json").read_text() == before


def test_queries_command(monkeypatch, capsys, tmp_path):
    out = tmp_path / "q.jsonl"
    code, stdout, _ = run_cli(monkeypatch, capsys, "queries", "--dataset", "tiny", "--output", str(out), "--show", "3")
    assert code == 0
    assert sum(line.startswith("[") for line in stdout.splitlines()) == 3 and "wrote 20 queries" in stdout
    from pseudorel.queries import read_query_file

    assert {q.source for q in read_query_file(out)} == {"title", "ict"}


def test_label_needs_queries(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "label", "--dataset", "tiny", "--output", str(tmp_path / "l.parquet"))
    assert code == 2 and "no queries" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--time-budget", "0"), "--time-budget must be a finite number above 0"),
        (("--tower", "document"), "--tower must be one of query, query+document, both"),
        (("--tower", "both", "--loss", "hinge"), "--loss: unknown loss 'hinge'"),
        (("--llm-queries", "10"), "--llm-queries needs --llm"),
        (("--synthetic-per-document", "0"), "--synthetic-per-document must be at least 1"),
        (("--judge-domain", "poem"), "--judge-domain must be one of generic, claim"),
        (("--learning-rates", "5e-5,fast"), "--learning-rates must be comma-separated numbers, got '5e-5,fast'"),
        (("--learning-rates", "5e-5,-1"), "--learning-rates must be"),
    ],
)
def test_adapt_rejects_bad_options_before_any_work(monkeypatch, capsys, tmp_path, options, message):
    code, _, err = run_cli(
        monkeypatch, capsys, "adapt", "--dataset", "tiny", "--output", str(tmp_path / "out"), *options
    )
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_noise_sweep_command(monkeypatch, capsys, tmp_path, tiny_model_path):
    out = tmp_path / "sweep"
    code, stdout, _ = run_cli(
        monkeypatch,
        capsys,
        "noise-sweep",
        "--dataset",
        "tiny",
        "--output",
        str(out),
        "--train-split",
        "test",
        "--losses",
        "infonce",
        "--ratios",
        "0,0.5",
        "--extra-seeds",
        "",
        "--base-model",
        str(tiny_model_path),
        "--batch-size",
        "2",
        "--negatives",
        "1",
    )
    assert code == 0, stdout
    assert (out / "noise.png").is_file() and (out / "results.csv").is_file()
    assert "| infonce | 0.5 |" in (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "<td>infonce</td>" in html and "http" not in html


def test_noise_sweep_loss_specs(monkeypatch, capsys, tmp_path):
    from pseudorel.cli.noise import _loss_specs

    assert _loss_specs("infonce, label_weakening[beta=0.3,alpha=0],gce") == (
        "infonce",
        "label_weakening[beta=0.3,alpha=0]",
        "gce",
    )
    code, _, stderr = run_cli(
        monkeypatch, capsys, "noise-sweep", "--dataset", "tiny", "--output", str(tmp_path), "--losses", "infonse"
    )
    assert code == 2 and "unknown loss 'infonse'" in stderr


def test_queries_command_with_llm(monkeypatch, capsys, tmp_path):
    from tests.llm import stub_server

    server, _, url = stub_server.start()
    try:
        out = tmp_path / "q.jsonl"
        code, stdout, _ = run_cli(
            monkeypatch,
            capsys,
            "queries",
            "--dataset",
            "tiny",
            "--kinds",
            "title",
            "--output",
            str(out),
            "--llm",
            url,
            "--llm-docs",
            "3",
            "--llm-per-doc",
            "2",
        )
        assert code == 0 and "LLM: 6 queries, 0 duplicates, 0 failed" in stdout
        args = ("queries", "--dataset", "tiny", "--output", str(out), "--llm", url, "--llm-domain", "poem")
        code, _, stderr = run_cli(monkeypatch, capsys, *args)
        assert code == 2 and "--llm-domain must be one of generic, claim" in stderr and "Traceback" not in stderr
    finally:
        server.shutdown()


def test_search_and_evaluate_a_system_folder(monkeypatch, capsys, tmp_path, system_folder):
    code, out, _ = run_cli(monkeypatch, capsys, "search", "--system", str(system_folder), "--query", "coffee liver")
    assert code == 0 and out.startswith("q1: coffee liver") and "d3" in out.splitlines()[1]
    code, out, _ = run_cli(
        monkeypatch, capsys, "search", "--system", str(system_folder), "--query", "bones", "--top-k", "2", "--json"
    )
    assert code == 0 and len(json.loads(out)["hits"]) == 2
    code, out, _ = run_cli(
        monkeypatch, capsys, "evaluate", "--dataset", "tiny", "--system", str(system_folder), "--output", str(tmp_path)
    )
    assert code == 0 and "system: bm25 + dense:retriever" in out
    assert json.loads((tmp_path / "metrics.json").read_text())["nDCG@10"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "--system", "{tmp}"], "give --query"),
        (["search", "--system", "{tmp}", "--query", "x"], "no system.json"),
        (["search", "--system", "{tmp}", "--query", "x", "--top-k", "0"], "--top-k must be at least 1"),
    ],
)
def test_search_rejects_bad_input(monkeypatch, capsys, tmp_path, args, message):
    code, _, err = run_cli(monkeypatch, capsys, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert code == 2 and message in err
