"""``pseudorel ingest``: folders and files of documents into a BEIR folder of passages.

Each passage's ``_id`` is made from its file's path (relative to the source it was found under)
and its position in the file, so adding or changing one file never renames another file's
passages. A file is re-read only when its size or time changed and its bytes did too (sha256);
the manifest (``ingest.json``) remembers each file's digest and passages, so a rerun reuses the
rest from the previous ``corpus.jsonl``. Every output is written atomically; a file that cannot
be read is skipped with one line naming it and why (``strict`` makes that an error).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pseudorel._io import atomic_write, file_digest
from pseudorel.data.readers import read_corpus
from pseudorel.errors import InputError, UsageError
from pseudorel.ingest.chunk import WordCounter, chunk, tokenizer_counter, words_counter
from pseudorel.ingest.extract import READERS, Block, Unreadable, extract
from pseudorel.retrieval.models import resolve_model

logger = logging.getLogger("pseudorel")

MANIFEST = "ingest.json"
SIGNATURES = "minhash.npz"  # each passage's MinHash, by its text's digest: a rerun hashes only new ones
FORMAT = 1
CORPORA = (".jsonl", ".csv", ".tsv")  # already a corpus: its documents are chunked, their ids kept


@dataclass
class IngestSummary:
    files: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # file -> why
    passages: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    queries: int | None = None

    def lines(self) -> list[str]:
        out = [
            f"{self.files} files: {len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped",
            f"{self.passages} passages ({self.duplicates} exact and {self.near_duplicates} near duplicates dropped)",
        ]
        if self.queries is not None:
            out.append(f"{self.queries} distinct queries from the query log")
        return out


def _slug(relative: str) -> str:
    stem = re.sub(r"[^\w.-]+", "_", Path(relative).stem)[:40].strip("_") or "doc"
    return f"{stem}-{hashlib.blake2b(relative.encode(), digest_size=4).hexdigest()}"


def find_files(sources: list[Path]) -> dict[str, Path]:
    """Every readable-looking file under ``sources``, by its path relative to the source's parent
    (``docs/a/b.pdf`` for ``docs``), hidden files and folders left out."""
    found: dict[str, Path] = {}
    for source in sources:
        if not source.exists():
            raise UsageError(f"{source}: no such file or folder")
        if source.is_file():
            found[source.name] = source
            continue
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source.parent)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                found[relative.as_posix()] = path
    return found


def _documents(path: Path) -> list[tuple[str, str, list]]:
    """(document key, title, blocks) of a file: one document, or each of a corpus file's."""

    if path.suffix.lower() in CORPORA:
        try:
            corpus = read_corpus(path)
        except InputError as e:
            raise Unreadable(str(e)) from None
        return [(doc_id, doc.title, [Block(doc.text)]) for doc_id, doc in corpus.items() if doc.text.strip()]
    extracted = extract(path)
    return [("", extracted.title, extracted.blocks)]


def _passages(relative: str, path: Path, count: WordCounter, max_tokens: int, overlap: int) -> list[dict]:
    digest = file_digest(path)
    records = []
    for key, title, blocks in _documents(path):
        base = key or _slug(relative)
        parts = chunk(blocks, count, max_tokens, overlap)
        for n, p in enumerate(parts):
            doc_id = base if key and len(parts) == 1 else f"{base}-{n}"
            section = " > ".join(p.headings)
            metadata = {"source": relative, "start": p.start, "end": p.end, "sha256": digest}
            if key:
                metadata["document"] = key
            if p.page is not None:
                metadata["page"] = p.page
            if p.headings:
                metadata["headings"] = list(p.headings)
            full_title = f"{title} — {section}" if section and section != title else title
            records.append({"_id": doc_id, "title": full_title, "text": p.text, "metadata": metadata})
    return records


def _previous(output: Path, settings: dict) -> tuple[dict, dict[str, dict], dict[str, list[int]]]:
    """(files of the last run's manifest, all its passages by id (the duplicates it dropped
    included), its MinHash signatures by text), or empty ones where there was no run or the
    settings changed."""
    manifest = output / MANIFEST
    try:
        old = json.loads(manifest.read_text(encoding="utf-8"))
        if old.get("format") != FORMAT or old.get("settings") != settings:
            return {}, {}, {}
        passages = {}
        with open(output / "corpus.jsonl", encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                passages[record["_id"]] = record
        with open(output / "duplicates.jsonl", encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)["passage"]
                passages[record["_id"]] = record
        return old["files"], passages, _load_signatures(output / SIGNATURES)
    except (OSError, ValueError, KeyError, TypeError):
        return {}, {}, {}  # no earlier run (or a damaged one): everything is read


def _load_signatures(path: Path) -> dict:
    import numpy as np

    try:
        with np.load(path) as saved:
            return dict(zip(saved["keys"].tolist(), saved["values"], strict=True))
    except (OSError, ValueError, KeyError):
        return {}


def _save_signatures(path: Path, signatures: dict) -> None:
    import numpy as np

    keys = np.array(list(signatures), dtype=str)
    values = np.stack(list(signatures.values())).astype(np.uint64) if signatures else np.zeros((0, 64), np.uint64)
    with atomic_write(path, "wb") as f:
        np.savez(f, keys=keys, values=values)


def _counter(model: str | None) -> WordCounter:
    if model is None:
        return words_counter()

    path = Path(resolve_model(model))
    if (path / "tokenizer.json").is_file():  # the fast tokenizer alone loads in a fraction of a second
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer_counter(tokenizer)
    from transformers import AutoTokenizer

    return tokenizer_counter(AutoTokenizer.from_pretrained(str(path)))


def ingest(
    sources: list[str | Path],
    output: str | Path,
    max_tokens: int = 256,
    overlap: int = 32,
    model: str | None = "all-MiniLM-L6-v2",
    queries: str | Path | None = None,
    strict: bool = False,
    near_duplicates: float = 0.9,
    say: Callable[[str], None] = logger.warning,
) -> IngestSummary:
    """Ingest ``sources`` into the BEIR folder ``output`` (``corpus.jsonl``, ``ingest.json``,
    ``duplicates.jsonl``, and ``queries.jsonl`` from a query log). Token counts are ``model``'s
    tokenizer's (None: about 1.3 tokens a word)."""
    output = Path(output)
    files = find_files([Path(s) for s in sources])
    settings = {"max_tokens": max_tokens, "overlap": overlap, "model": model}
    old_files, old_passages, signatures = _previous(output, settings)
    counters: list[WordCounter] = []  # the tokenizer loads only when a file has to be read
    summary = IngestSummary(files=len(files))
    manifest: dict[str, dict] = {}
    passages: list[dict] = []
    for relative, path in files.items():
        if path.suffix.lower() not in (*READERS, *CORPORA):
            continue  # not a document kind: not counted as skipped (images, archives, ...)
        stat = path.stat()
        before = old_files.get(relative)
        if before and before.get("size") == stat.st_size and before.get("mtime_ns") == stat.st_mtime_ns:
            if "skipped" in before:
                summary.skipped[relative] = before["skipped"]
                say(f"skipped {relative}: {before['skipped']}")
                manifest[relative] = before
                continue
            if all(i in old_passages for i in before["ids"]):
                summary.unchanged += 1
                manifest[relative] = before
                passages += [old_passages[i] for i in before["ids"]]
                continue
        try:
            counters[:] = counters or [_counter(model)]
            records = _passages(relative, path, counters[0], max_tokens, overlap)
        except Unreadable as e:
            if strict:
                raise InputError(path, f"cannot be read: {e}") from None
            summary.skipped[relative] = str(e)
            say(f"skipped {relative}: {e}")
            manifest[relative] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "skipped": str(e)}
            continue
        digest = records[0]["metadata"]["sha256"] if records else file_digest(path)
        if before and before.get("sha256") == digest and all(i in old_passages for i in before.get("ids", [])):
            summary.unchanged += 1  # touched, not changed
        elif before and "ids" in before:
            summary.changed.append(relative)
        else:
            summary.added.append(relative)
        ids = [r["_id"] for r in records]
        manifest[relative] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest, "ids": ids}
        passages += records
    summary.removed = sorted(set(old_files) - set(manifest))
    kept, dropped = deduplicate(passages, near_duplicates, signatures)
    summary.duplicates = sum(d["kind"] == "exact" for d in dropped)
    summary.near_duplicates = len(dropped) - summary.duplicates
    summary.passages = len(kept)
    if not kept:
        raise UsageError(f"no passage found in {', '.join(str(s) for s in sources)} ({len(summary.skipped)} skipped)")
    output.mkdir(parents=True, exist_ok=True)
    with atomic_write(output / "corpus.jsonl") as f:
        for record in kept:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    with atomic_write(output / "duplicates.jsonl") as f:
        for record in dropped:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    if queries is not None:
        summary.queries = write_query_log(Path(queries), output / "queries.jsonl")
    _save_signatures(output / SIGNATURES, signatures)
    with atomic_write(output / MANIFEST) as f:  # last: a run killed before this is redone, not trusted
        json.dump({"format": FORMAT, "settings": settings, "files": manifest, "summary": asdict(summary)}, f)
    return summary


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


BANDS, ROWS = 8, 8  # 64 MinHash values in 8 bands of 8: a pair at Jaccard 0.9 shares a band with p > 0.99


def deduplicate(
    passages: list[dict], threshold: float = 0.9, signatures: dict | None = None
) -> tuple[list[dict], list[dict]]:
    """(passages kept, one record per passage dropped, with the passage): an exact duplicate (the
    same words) or, with datasketch installed, a near duplicate (MinHash Jaccard of word
    3-shingles over ``threshold``, candidates found by banding) of a passage kept before it.
    ``signatures`` (text digest -> MinHash values) is read and filled, so a rerun hashes only new
    passages."""
    import numpy as np

    kept, dropped, seen = [], [], {}
    signatures = {} if signatures is None else signatures
    fresh = None
    if threshold < 1:
        try:
            from datasketch import MinHash

            fresh = MinHash(num_perm=BANDS * ROWS, seed=1)  # its permutations (made once: slow), for all
        except ImportError:
            fresh = None
    buckets: dict[tuple[int, bytes], str] = {}
    values_of: dict[str, np.ndarray] = {}
    used = set()
    for record in passages:
        key = _normal(record["text"])
        source = record["metadata"]["source"]
        if key in seen:
            dropped.append(
                {"_id": record["_id"], "kind": "exact", "of": seen[key], "source": source, "passage": record}
            )
            continue
        if fresh is not None and len(key.split()) >= 8:
            digest = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
            used.add(digest)
            if digest not in signatures:
                words = key.split()
                signature = MinHash(num_perm=BANDS * ROWS, permutations=fresh.permutations, scheme=fresh.scheme)
                signature.update_batch([" ".join(words[i : i + 3]).encode() for i in range(len(words) - 2)])
                signatures[digest] = signature.hashvalues
            values = np.asarray(signatures[digest])
            bands = [(band, values[band * ROWS : (band + 1) * ROWS].tobytes()) for band in range(BANDS)]
            similar = next(
                (
                    other
                    for other in dict.fromkeys(buckets[b] for b in bands if b in buckets)
                    if np.mean(values_of[other] == values) >= threshold
                ),
                None,
            )
            if similar is not None:
                dropped.append(
                    {"_id": record["_id"], "kind": "near", "of": similar, "source": source, "passage": record}
                )
                continue
            values_of[record["_id"]] = values
            for band in bands:
                buckets.setdefault(band, record["_id"])
        seen[key] = record["_id"]
        kept.append(record)
    for stale in set(signatures) - used:  # passages no longer there
        del signatures[stale]
    return kept, dropped


def write_query_log(path: Path, target: Path) -> int:
    """A query log (one query a line, or CSV/TSV with a ``query``/``text`` column and an optional
    ``count`` column) as ``queries.jsonl``: unlabelled real queries, duplicates merged with their
    counts added up (``metadata.count``)."""
    import csv

    if not path.is_file():
        raise UsageError(f"--queries: {path} is not a file")
    counts: dict[str, int] = {}
    shown: dict[str, str] = {}
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() in (".csv", ".tsv"):
        rows = list(csv.DictReader(text.splitlines(), delimiter="\t" if path.suffix.lower() == ".tsv" else ","))
        column = next((c for c in ("query", "text", "q") if rows and c in rows[0]), None)
        if column is None:
            raise InputError(path, "a CSV/TSV query log needs a 'query' or 'text' column", 1)
        pairs = []
        for number, row in enumerate(rows, start=2):
            try:
                n = int(row.get("count") or 1)
            except ValueError:
                raise InputError(path, f"count '{row.get('count')}' is not a whole number", number) from None
            pairs.append((row[column] or "", n))
    else:
        pairs = [(line, 1) for line in text.splitlines()]
    for query, n in pairs:
        cleaned = " ".join(query.split())
        if not cleaned:
            continue
        key = cleaned.lower()
        counts[key] = counts.get(key, 0) + n
        shown.setdefault(key, cleaned)
    if not counts:
        raise InputError(path, "no queries in the query log")
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    with atomic_write(target) as f:
        for n, key in enumerate(ranked, start=1):
            record = {"_id": f"log{n}", "text": shown[key], "metadata": {"count": counts[key]}}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(ranked)
