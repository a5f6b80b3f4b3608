"""The search service (FastAPI): ``POST /search``, ``POST /documents`` and ``DELETE
/documents/{id}`` (only with writes allowed), ``GET /documents/{id}``, ``GET /health`` and a
small HTML page at ``/``. Bad requests get a 4xx with a message; bodies over the limit, 413."""

from typing import Any

from pydantic import BaseModel, Field

from pseudorel.serve.live import LiveIndex
from pseudorel.serve.page import render_page

WRITES_OFF = "writes are off: start the service with --allow-writes"


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=4000)
    k: int = Field(10, ge=1, le=1000)
    include_written: bool = True


class DocumentRequest(BaseModel):
    text: str = Field(min_length=1, max_length=50_000)
    title: str = Field("", max_length=1000)
    id: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[\w.:-]+$")
    provenance: dict[str, Any] = Field(default_factory=dict)


class AnswerRequest(BaseModel):
    question: str = Field(min_length=1, max_length=4000)
    answer: str = Field(min_length=1, max_length=20_000)
    retrieved: list[str] = Field(min_length=1, max_length=100)  # the documents given to the LLM: [n] cites the n-th
    model: str = Field("", max_length=200)


def create_app(
    index: LiveIndex, allow_writes: bool = False, max_body_bytes: int = 65_536, title: str = "", writeback=None
):
    """``writeback`` (a ``WriteBack``): enables ``POST /answers``, candidate answers through the gates."""
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.responses import HTMLResponse, JSONResponse

    app = FastAPI(title="pseudorel search", description=title)

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
            {"id": d, "score": s, "title": corpus[d].title, "text": corpus[d].text, "written": d in snapshot.written}
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
    def add(request: DocumentRequest) -> dict:
        if not allow_writes:
            raise HTTPException(403, WRITES_OFF)
        from pseudorel.errors import UsageError

        try:
            record = index.add(request.title, request.text, request.provenance, request.id)
        except UsageError as e:
            raise HTTPException(409, str(e)) from None
        return {"id": record["id"], "seq": record["seq"], "time": record["time"]}

    @app.post("/answers")
    def answer(request: AnswerRequest) -> dict:
        if not allow_writes:
            raise HTTPException(403, WRITES_OFF)
        if writeback is None:
            raise HTTPException(409, "write-back needs an LLM for its entailment gates: start serve with --llm")
        from pseudorel.writeback.candidate import from_answer

        candidate = from_answer(request.question, request.answer, request.retrieved, request.model)
        decision = writeback.consider(candidate)
        return {k: v for k, v in decision.as_dict().items() if k in ("accepted", "reason", "doc_id", "gates")}

    @app.delete("/documents/{doc_id}")
    def remove(doc_id: str) -> dict:
        if not allow_writes:
            raise HTTPException(403, WRITES_OFF)
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
