"""The search service (FastAPI): ``POST /search``, ``POST /documents`` and ``DELETE
/documents/{id}`` (only with writes allowed), ``GET /documents/{id}``, ``GET /health`` and a
small HTML page at ``/``. Bad requests get a 4xx with a message; bodies over the limit, 413."""

import hmac
import json
import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from pseudorel.errors import PseudorelError, UsageError
from pseudorel.serve.page import render_page
from pseudorel.system.live import LiveIndex
from pseudorel.writeback.candidate import from_answer

WRITES_OFF = "writes are off: start the service with --allow-writes"
TOKEN_NEEDED = "writes need the service's token: send 'Authorization: Bearer TOKEN'"


def _unicode(value: str) -> str:
    """Text that is valid Unicode (a lone UTF-16 surrogate such as ``\\ud800`` is not)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text holds an unpaired UTF-16 surrogate: not valid Unicode") from None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("text is only whitespace")
    return value


def _strict_json(value: dict) -> dict:
    """Provenance the log can hold: plain JSON (no NaN or infinity), valid Unicode, and a
    ``question``, where there is one, that is text."""
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        raise ValueError("provenance must be plain JSON: no NaN, no infinity, no unpaired surrogate") from None
    if "question" in value and not isinstance(value["question"], str):
        raise ValueError("provenance 'question' must be text")
    return value


Text = Annotated[str, AfterValidator(_unicode)]
Body = Annotated[str, AfterValidator(_unicode), AfterValidator(_not_blank)]


class SearchRequest(BaseModel):
    query: Body = Field(min_length=1, max_length=4000)
    k: int = Field(10, ge=1, le=1000)
    include_written: bool = True


class DocumentRequest(BaseModel):
    text: Body = Field(min_length=1, max_length=50_000)
    title: Text = Field("", max_length=1000)
    id: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[\w.:-]+$")
    provenance: Annotated[dict[str, Any], AfterValidator(_strict_json)] = Field(default_factory=dict)


class AnswerRequest(BaseModel):
    question: Body = Field(min_length=1, max_length=4000)
    answer: Body = Field(min_length=1, max_length=20_000)
    retrieved: list[Text] = Field(min_length=1, max_length=100)  # the documents given to the LLM: [n] cites the n-th
    model: Text = Field("", max_length=200)


def source_of(metadata: dict | None) -> dict | None:
    """Where an ingested passage came from (file, page, headings), for a hit."""
    if not metadata or not isinstance(metadata.get("source"), str):
        return None
    keep = ("source", "page", "headings", "start", "end", "document")
    return {k: metadata[k] for k in keep if k in metadata}


def _safe(value):
    """``value`` as JSON can carry it (an error message must not fail on the input it quotes)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(_safe(k)): _safe(v) for k, v in value.items()}
    return value if value is None or isinstance(value, bool | int | float) else _safe(str(value))


def create_app(
    index: LiveIndex,
    allow_writes: bool = False,
    max_body_bytes: int = 65_536,
    title: str = "",
    writeback=None,
    token: str | None = None,
):
    """``writeback`` (a ``WriteBack``): enables ``POST /answers``, candidate answers through the gates.
    ``token``: every write must carry it (``Authorization: Bearer TOKEN``)."""
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse

    app = FastAPI(title="pseudorel search", description=title)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = [{k: _safe(e.get(k)) for k in ("type", "loc", "msg")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(PseudorelError)
    async def unavailable(request: Request, exc: PseudorelError):
        return JSONResponse({"detail": _safe(str(exc))}, status_code=503)

    def check_write(request: Request) -> None:
        if not allow_writes:
            raise HTTPException(403, WRITES_OFF)
        if token is not None:
            sent = request.headers.get("authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                raise HTTPException(401, TOKEN_NEEDED)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body_bytes):
            return JSONResponse({"detail": f"request body over {max_body_bytes} bytes"}, status_code=413)
        if length is None and request.method in ("POST", "PUT", "PATCH"):
            body = await request.body()
            if len(body) > max_body_bytes:
                return JSONResponse({"detail": f"request body over {max_body_bytes} bytes"}, status_code=413)
        return await call_next(request)

    def hits(query: str, k: int, include_written: bool = True) -> list[dict]:
        snapshot = index.refresh()  # one snapshot for the whole answer, whatever a write does meanwhile
        run = snapshot.search({"q": query}, k, include_written)["q"]
        corpus = snapshot.system.corpus
        return [
            {
                "id": d,
                "score": s,
                "title": corpus[d].title,
                "text": corpus[d].text,
                "written": d in snapshot.written,
                **({"source": source} if (source := source_of(corpus[d].metadata)) else {}),
            }
            for d, s in run.items()
            if d in corpus
        ]

    @app.get("/health")
    def health() -> dict:
        snapshot = index.refresh()
        return {
            "status": "ok",
            "documents": len(snapshot.system.corpus),
            "written": len(snapshot.written),
            "version": snapshot.version,
            "writes": allow_writes,
            "token": token is not None,
        }

    @app.post("/search")
    def search(request: SearchRequest) -> dict:
        return {"query": request.query, "hits": hits(request.query, request.k, request.include_written)}

    @app.get("/documents/{doc_id}")
    def document(doc_id: str) -> dict:
        found = index.document(doc_id)
        if found is None:
            raise HTTPException(404, f"no document '{doc_id}'")
        doc, record = found
        return {"id": doc_id, "title": doc.title, "text": doc.text, "written": record is not None, "log": record}

    @app.post("/documents", status_code=201)
    def add(request: DocumentRequest, http: Request) -> dict:
        check_write(http)

        try:
            record = index.add(request.title, request.text, request.provenance, request.id)
        except UsageError as e:
            raise HTTPException(409, str(e)) from None
        return {"id": record["id"], "seq": record["seq"], "time": record["time"]}

    @app.post("/answers")
    def answer(request: AnswerRequest, http: Request) -> dict:
        check_write(http)
        if writeback is None:
            raise HTTPException(409, "write-back needs an LLM for its entailment gates: start serve with --llm")

        candidate = from_answer(request.question, request.answer, request.retrieved, request.model)
        decision = writeback.consider(candidate)
        return {k: v for k, v in decision.as_dict().items() if k in ("accepted", "reason", "doc_id", "gates")}

    @app.delete("/documents/{doc_id}")
    def remove(doc_id: str, http: Request) -> dict:
        check_write(http)
        if doc_id in index.base.corpus:
            raise HTTPException(409, f"'{doc_id}' is in the base corpus: only written-back documents can be removed")
        try:
            record = index.remove(doc_id, reason="DELETE /documents")
        except KeyError:
            raise HTTPException(404, f"no written-back document '{doc_id}'") from None
        return {"id": doc_id, "removed": True, "seq": record["seq"]}

    @app.get("/", response_class=HTMLResponse)
    def page(q: str = "", k: int = 10) -> str:
        results = hits(q, max(1, min(k, 100))) if q.strip() else []
        return render_page(title or "pseudorel search", q, results, index.refresh().written)

    return app
