"""The service's HTML page: a search box, the hits, and every written-back document with where it
came from (its provenance). Plain HTML, no script."""

from __future__ import annotations

import html
import json

STYLE = (
    "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "li{margin:.6rem 0}.w{background:#fff4d6}.meta{color:#666;font-size:.85rem}"
    "input[type=text]{width:70%;padding:.4rem}"
)


def _source(source: dict | None) -> str:
    """``docs/report.pdf · page 3 · Methods > Sampling`` under an ingested passage."""
    if not source:
        return ""
    parts = [source["source"]]
    if source.get("page"):
        parts.append(f"page {source['page']}")
    if source.get("headings"):
        parts.append(" > ".join(map(str, source["headings"])))
    return f"<br><span class='meta'>from {html.escape(' · '.join(map(str, parts)))}</span>"


def render_page(title: str, query: str, results: list[dict], written: dict[str, dict]) -> str:
    e = html.escape
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>{STYLE}</style>",
        f"</head><body><h1>{e(title)}</h1><form method='get' action='/'>",
        f"<input type='text' name='q' value='{e(query)}' placeholder='search'> <button>Search</button></form>",
    ]
    if query:
        parts.append(f"<h2>Results for “{e(query)}”</h2><ol>")
        for hit in results:
            mark = " class='w'" if hit["written"] else ""
            tag = " (written back)" if hit["written"] else ""
            parts.append(
                f"<li{mark}><b>{e(hit['title'] or hit['id'])}</b>{tag} <span class='meta'>{e(hit['id'])}"
                f" · {hit['score']:.3f}</span><br>{e(hit['text'][:300])}{_source(hit.get('source'))}</li>"
            )
        parts.append("</ol>")
    parts.append(f"<h2>Written-back documents ({len(written)})</h2><ul>")
    for doc_id, record in written.items():
        provenance = json.dumps(record.get("provenance", {}), ensure_ascii=False)[:500]
        parts.append(
            f"<li class='w'><b>{e(doc_id)}</b> <span class='meta'>{e(record['time'])}</span><br>"
            f"{e(record['text'][:300])}<br><span class='meta'>provenance: {e(provenance)}</span></li>"
        )
    parts.append("</ul></body></html>")
    return "".join(parts)
