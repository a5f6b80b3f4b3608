"""Backends and precision on this machine: documents/s of MiniLM and nomic on SciFact abstracts for
each backend (median of 3, all against PyTorch fp32 in the same run), what ``auto`` chooses, the
quality cost (MiniLM's test nDCG@10 on scifact and nfcorpus per backend; nomic's where asked),
the time estimates against the passes as they ran, and the README's main job (cranfield, cold
caches except the model download) before and after, on this machine.

    .venv/bin/python bench/speed.py [--skip-main-job] [--before-src DIR] [--nomic-quality BACKEND ...]

``--before-src``: the ``src`` folder of the commit to compare against (default: a worktree of
``--before`` made under bench/cache). Qrels are read only to report nDCG.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _corpora import load_collection
from _report import Report

from pseudorel._io import cache_root
from pseudorel.evaluation import evaluate_run
from pseudorel.labels.teacher_choice import LENGTH_SAMPLE, measure_docs_per_second, speed_sample
from pseudorel.retrieval.backends import available_backends, native_bf16, with_backend
from pseudorel.retrieval.batch import encode_batch
from pseudorel.retrieval.calibration import calibrate
from pseudorel.retrieval.dense import DenseRetriever
from pseudorel.retrieval.models import load_bi_encoder

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / "cache" / "speed"
MODELS = {"minilm": ("all-MiniLM-L6-v2", 128), "nomic": ("nomic", 32)}  # model, SciFact abstracts timed


def rates(report: Report) -> None:
    data = load_collection("scifact")
    texts = [data.corpus[d].full_text for d in list(data.corpus)[:128]]
    for short, (name, count) in MODELS.items():
        model = load_bi_encoder(name)
        row = {}
        for backend in available_backends():
            runner = with_backend(model, backend)
            encode_batch(runner, texts[:4], 4, backend_key(backend), None, "document")  # warm-up
            times = []
            for _ in range(3):
                start = time.perf_counter()
                encode_batch(runner, texts[:count], 16, backend_key(backend), None, "document")
                times.append(time.perf_counter() - start)
            row[backend] = round(count / statistics.median(times), 2)
            print(short, backend, row[backend], flush=True)
        report.data.setdefault("docs_per_second", {})[short] = row
        report.save(markdown(report.data))


def choices(report: Report) -> None:
    """What ``auto`` chooses here for each model (its calibration, as a run would make it)."""
    corpus = load_collection("scifact").corpus
    for short, (name, _) in MODELS.items():
        choice = calibrate(load_bi_encoder(name), speed_sample(corpus))
        report.data.setdefault("auto", {})[short] = choice.as_dict()
        print(short, "auto:", choice.reason, flush=True)
    report.save(markdown(report.data))


def backend_key(backend: str) -> str:
    from pseudorel.retrieval.backends import cache_precision

    return cache_precision(backend)


def quality(report: Report, model: str, short: str, backends: list[str], datasets=("scifact", "nfcorpus")) -> None:
    """Test nDCG@10 per backend over each whole corpus; the chosen backend's pass also checks the estimate."""
    os.environ["PSEUDOREL_CACHE_DIR"] = str(CACHE / "cache")
    chosen = report.data["auto"][short]["backend"]
    for dataset in datasets:
        data = load_collection(dataset)
        queries, qrels = data.split_queries("test"), data.qrels["test"]
        for backend in backends:
            done = report.data.setdefault("ndcg", {}).setdefault(short, {}).setdefault(dataset, {})
            if backend in done:
                continue
            start = time.perf_counter()
            retriever = DenseRetriever(data.corpus, model, precision=backend, progress=False)
            seconds = time.perf_counter() - start
            done[backend] = round(evaluate_run(qrels, retriever.search(queries, 100)).aggregate["nDCG@10"], 4)
            print(short, dataset, backend, done[backend], flush=True)
            if retriever.encode_stats.get("encoded") == len(data.corpus):  # a whole pass, not the cache
                passes = report.data.setdefault("pass_seconds", {}).setdefault(short, {}).setdefault(dataset, {})
                passes[backend] = retriever.encode_stats["seconds"]
            if backend == chosen and retriever.encode_stats.get("encoded") == len(data.corpus):
                os.environ["PSEUDOREL_BACKEND"] = chosen
                lengths = speed_sample(data.corpus, size=LENGTH_SAMPLE)
                rate = measure_docs_per_second(model, speed_sample(data.corpus), lengths, len(data.corpus))
                os.environ.pop("PSEUDOREL_BACKEND")
                estimate = len(data.corpus) / rate
                actual = retriever.encode_stats["seconds"]
                report.data.setdefault("estimates", {})[f"{short} {dataset} ({backend})"] = {
                    "documents": len(data.corpus),
                    "estimate_s": round(estimate, 1),
                    "actual_s": round(actual, 1),
                    "error": round(abs(estimate - actual) / actual, 3),
                    "wall_s": round(seconds, 1),
                }
            report.save(markdown(report.data))


def main_job(report: Report, label: str, src: Path | None, calibrated_from: Path | None = None) -> None:
    """``pseudorel adapt`` on Cranfield as ``make adapt`` runs it, empty caches but the model files
    (and, with ``calibrated_from``, that run's backend choices and exported graphs: a second run)."""
    work = CACHE / f"main_job_{label}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "cache").mkdir(parents=True)
    models = Path(os.environ.get("PSEUDOREL_MODELS_FROM", Path.home() / ".cache" / "pseudorel" / "models"))
    if models.is_dir():
        shutil.copytree(models, work / "cache" / "models")
    for kept in ("speed", "onnx") if calibrated_from else ():
        if (calibrated_from / kept).is_dir():
            shutil.copytree(calibrated_from / kept, work / "cache" / kept)
    env = {
        **os.environ,
        "PSEUDOREL_CACHE_DIR": str(work / "cache"),
        "PSEUDOREL_DATA_DIR": str(ROOT.parent / "shared" / "data"),
    }
    env.pop("PSEUDOREL_BACKEND", None)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    output = work / "runs" / "cranfield-adapt"
    command = [sys.executable, "-m", "pseudorel", "adapt", "--dataset", "cranfield", "--output", str(output)]
    command += ["--evaluate-split", "test"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"main job ({label}) failed:\n{done.stderr[-3000:]}")
    adapt = json.loads((output / "report.json").read_text())
    report.data.setdefault("main_job", {})[label] = {
        "code": str(src) if src else "this commit",
        "wall_s": round(seconds, 1),
        "shipped": adapt["system"]["shipped"],
        "test_ndcg@10": adapt.get("evaluation", {}).get("system", {}).get("nDCG@10"),
        "corpus_passes": adapt.get("corpus_passes"),
        "stages_s": adapt["seconds"],
    }
    for model, step in (adapt.get("corpus_passes") or {}).items():
        if "error" in step:
            report.data.setdefault("estimates", {})[f"main job: {model} cranfield ({step.get('backend')})"] = {
                "documents": step["encoded"],
                "estimate_s": step["estimate_for_encoded_s"],
                "actual_s": step["actual_s"],
                "error": step["error"],
            }
    report.save(markdown(report.data))


def headline(data: dict) -> dict:
    rates, auto = data.get("docs_per_second", {}), data.get("auto", {})

    def speedup(short):
        row = rates.get(short, {})
        chosen = auto.get(short, {}).get("backend")
        return round(row[chosen] / row["torch-fp32"], 2) if chosen in row and "torch-fp32" in row else None

    losses = []
    for short, sets in data.get("ndcg", {}).items():
        chosen = auto.get(short, {}).get("backend")
        for row in sets.values():
            if chosen in row and "torch-fp32" in row:
                losses.append(round(row["torch-fp32"] - row[chosen], 4))
    errors = [e["error"] for e in data.get("estimates", {}).values()]
    jobs = data.get("main_job", {})
    return {
        "cpu_bf16_native": int(native_bf16()),
        "minilm_speedup": speedup("minilm"),
        "nomic_speedup": speedup("nomic"),
        "int8_ndcg_loss_max": max(losses) if losses else None,
        "estimate_error_max": max(errors) if errors else None,
        "main_job_minutes": round(jobs["after"]["wall_s"] / 60, 1) if "after" in jobs else None,
        "main_job_minutes_before": round(jobs["before"]["wall_s"] / 60, 1) if "before" in jobs else None,
        "main_job_minutes_calibrated": (
            round(jobs["after_calibrated"]["wall_s"] / 60, 1) if "after_calibrated" in jobs else None
        ),
    }


def markdown(data: dict) -> str:
    data["headline"] = headline(data)
    lines = ["## Headline", "", "```", json.dumps(data["headline"], indent=1), "```", ""]
    lines += ["## Documents/s on SciFact abstracts (median of 3; same run)", ""]
    backends = sorted({b for row in data.get("docs_per_second", {}).values() for b in row})
    lines += ["| model | " + " | ".join(backends) + " | auto chose |", "|---" * (len(backends) + 2) + "|"]
    for short, row in data.get("docs_per_second", {}).items():
        cells = [f"{row.get(b, '-')}" for b in backends]
        chose = data.get("auto", {}).get(short, {}).get("backend", "-")
        lines.append(f"| {short} | " + " | ".join(cells) + f" | {chose} |")
    lines += ["", "auto's reasons (label-free check: rank agreement with fp32 on the sample):", ""]
    lines += [f"- {short}: {choice['reason']}" for short, choice in data.get("auto", {}).items()]
    lines += ["", "## Test nDCG@10 per backend (whole corpus)", ""]
    for short, sets in data.get("ndcg", {}).items():
        for dataset, row in sets.items():
            lines.append(f"- {short} {dataset}: " + ", ".join(f"{b} {v}" for b, v in row.items()))
    lines += ["", "## Seconds of each whole-corpus pass (the quality runs above)", ""]
    for short, sets in data.get("pass_seconds", {}).items():
        for dataset, row in sets.items():
            lines.append(f"- {short} {dataset}: " + ", ".join(f"{b} {v} s" for b, v in row.items()))
    lines += ["", "## Estimate (measured on 16 documents of the corpus) vs the pass as it ran", ""]
    lines += ["| pass | documents | estimate s | actual s | error |", "|---|---|---|---|---|"]
    for name, e in data.get("estimates", {}).items():
        lines.append(f"| {name} | {e['documents']} | {e['estimate_s']} | {e['actual_s']} | {e['error']} |")
    lines += ["", "## Main job (`pseudorel adapt --dataset cranfield`, cold caches but the model files)", ""]
    for label, job in data.get("main_job", {}).items():
        note = " (backend choices and exported graphs kept from 'after': a second run here)" if "calib" in label else ""
        lines.append(f"- {label} ({job['code']}){note}: {job['wall_s'] / 60:.1f} min, ships {job['shipped']}")
        stages = ", ".join(f"{k} {v:.0f} s" for k, v in job.get("stages_s", {}).items() if isinstance(v, int | float))
        lines.append(f"  - stages: {stages}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-main-job", action="store_true")
    parser.add_argument("--recalibrate", action="store_true", help="measure auto's choice again")
    parser.add_argument("--before", default="40b6b38", help="the commit whose default path is 'before'")
    parser.add_argument("--before-src", type=Path)
    parser.add_argument("--nomic-quality", nargs="*", default=[], help="backends to measure nomic's nDCG for")
    parser.add_argument("--nomic-datasets", nargs="*", default=["nfcorpus"])
    args = parser.parse_args()
    report = Report("speed", keep_previous=True)
    report.data["command"] = " ".join(["bench/speed.py", *sys.argv[1:]])
    if "docs_per_second" not in report.data:
        rates(report)
    if "auto" not in report.data or args.recalibrate:
        choices(report)
    quality(report, "all-MiniLM-L6-v2", "minilm", list(available_backends()))
    if args.nomic_quality:
        quality(report, "nomic", "nomic", args.nomic_quality, args.nomic_datasets)
    if not args.skip_main_job:
        src = args.before_src
        if src is None:
            tree = CACHE / "before"
            if not tree.is_dir():
                subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.before], cwd=ROOT, check=True)
            src = tree / "src"
        if "before" not in report.data.get("main_job", {}):
            main_job(report, "before", src)
        if "after" not in report.data.get("main_job", {}):
            main_job(report, "after", None)
        main_job(report, "after_calibrated", None, CACHE / "main_job_after" / "cache")
    report.save(markdown(report.data), complete=True)
    print(cache_root())


if __name__ == "__main__":
    main()
