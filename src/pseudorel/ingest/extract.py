"""Text out of files: one reader per format, each returning the document's title and its blocks
(paragraphs, list items, table cells) with the page (PDF) and the heading path they sit under.

Readers: PDF (pypdf: pure Python, reads the text layer, tells an encrypted file from a damaged
one), DOCX (python-docx: paragraphs with their heading styles), HTML (selectolax's lexbor: a
fast HTML5 parser; scripts, styles, navigation, headers and footers dropped), Markdown
(markdown-it-py: the CommonMark tokens give headings and paragraphs) and plain text (UTF-8, else
the encoding charset-normalizer detects). Each library is imported only when a file of its kind
is read; a missing one is a clear error for that kind (``pip install 'pseudorel[ingest]'``).
A reader raises :class:`Unreadable` with the reason for a file it cannot read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class Unreadable(Exception):
    """A file that cannot be read: encrypted, damaged, binary, empty, or its reader is missing."""


@dataclass(frozen=True)
class Block:
    text: str
    page: int | None = None  # 1-based, PDF only
    headings: tuple[str, ...] = ()  # the heading path the block sits under


@dataclass
class Extracted:
    title: str
    blocks: list[Block] = field(default_factory=list)


def _need(module: str, package: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise Unreadable(f"reading this kind of file needs {package}: pip install 'pseudorel[ingest]'") from None


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each with its line breaks joined (hyphenation undone)."""
    out = []
    for part in re.split(r"\n\s*\n", text):
        joined = re.sub(r"-\n(?=[a-z])", "", part)
        joined = " ".join(joined.split())
        if joined:
            out.append(joined)
    return out


def _decode(path: Path) -> str:
    """A text file's text: UTF-8 (or UTF-16 with its mark); else Windows-1252/Latin-1 where that
    reads as letters (charset detection mistakes short Western texts for Central European ones);
    else the encoding charset-normalizer finds."""
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise Unreadable("binary content (NUL bytes), not text")
    try:
        return data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        pass
    western = data.decode("cp1252", errors="replace")
    if all(c.isascii() or c.isalpha() or c in "\u00a0«»°–—‘’“”€" for c in western):
        return western  # Windows-1252 / Latin-1, the usual legacy encoding, when it reads as letters
    charset_normalizer = _need("charset_normalizer", "charset-normalizer")
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise Unreadable("unknown text encoding")
    return str(best)


def read_text(path: Path) -> Extracted:
    return Extracted(path.stem, [Block(p) for p in _paragraphs(_decode(path))])


def read_markdown(path: Path) -> Extracted:
    markdown_it = _need("markdown_it", "markdown-it-py")
    text = _decode(path)
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(text)
    headings: list[tuple[int, str]] = []
    blocks, title, level = [], "", 0
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            level = int(token.tag[1])
        elif token.type == "inline" and i and tokens[i - 1].type == "heading_open":
            heading = " ".join(token.content.split())
            headings = [h for h in headings if h[0] < level] + [(level, heading)]
            title = title or heading
        elif token.type in ("inline", "fence", "code_block") and token.content.strip():
            blocks.append(Block(" ".join(token.content.split()), headings=tuple(h for _, h in headings)))
    return Extracted(title or path.stem, blocks)


_SKIP_HTML = "script, style, noscript, nav, header, footer, aside, form, template, svg"
_BLOCK_HTML = {"p", "li", "td", "th", "pre", "blockquote", "dd", "dt", "figcaption", "caption"}


def read_html(path: Path) -> Extracted:
    lexbor = _need("selectolax.lexbor", "selectolax")
    tree = lexbor.LexborHTMLParser(path.read_bytes())
    title_node = tree.css_first("title")
    title = " ".join(title_node.text().split()) if title_node else ""
    for node in tree.css(_SKIP_HTML):
        node.decompose()
    root = tree.css_first("main") or tree.css_first("article") or tree.body
    if root is None:
        raise Unreadable("no HTML body")
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    for node in root.traverse():
        tag = node.tag
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            level, text = int(tag[1]), " ".join(node.text().split())
            if text:
                headings = [h for h in headings if h[0] < level] + [(level, text)]
                title = title or text
        elif tag in _BLOCK_HTML:
            if any(parent.tag in _BLOCK_HTML for parent in _parents(node)):
                continue  # the enclosing block has its text already
            text = " ".join(node.text(separator=" ").split())
            if text:
                blocks.append(Block(text, headings=tuple(h for _, h in headings)))
    if not blocks:  # a page of bare text (no <p>): its text as paragraphs
        blocks = [Block(p) for p in _paragraphs(root.text(separator="\n"))]
    return Extracted(title or path.stem, blocks)


def _parents(node):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def read_docx(path: Path) -> Extracted:
    docx = _need("docx", "python-docx")
    try:
        document = docx.Document(str(path))
    except Exception as e:  # python-docx raises zipfile, KeyError and its own errors for a bad file
        raise Unreadable(f"not a readable DOCX ({type(e).__name__})") from None
    title = (document.core_properties.title or "").strip()
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    for paragraph in document.paragraphs:
        text = " ".join(paragraph.text.split())
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        match = re.match(r"Heading (\d)", style)
        if match or style == "Title":
            level = int(match.group(1)) if match else 0
            headings = [h for h in headings if h[0] < level] + [(level, text)]
            title = title or text
            continue
        blocks.append(Block(text, headings=tuple(h for _, h in headings)))
    for table in document.tables:
        for row in table.rows:
            cells = [" ".join(c.text.split()) for c in row.cells]
            text = " | ".join(dict.fromkeys(c for c in cells if c))
            if text:
                blocks.append(Block(text, headings=tuple(h for _, h in headings)))
    return Extracted(title or path.stem, blocks)


def read_pdf(path: Path) -> Extracted:
    pypdf = _need("pypdf", "pypdf")
    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted:
            raise Unreadable("encrypted PDF (no password given)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except Unreadable:
        raise
    except Exception as e:  # pypdf raises PdfReadError, ValueError, KeyError... for a damaged file
        raise Unreadable(f"not a readable PDF ({type(e).__name__}: {str(e)[:80]})") from None
    repeated = _repeated_lines(pages)
    blocks = []
    for number, text in enumerate(pages, start=1):
        lines = [line for line in text.splitlines() if line.strip() not in repeated and not _PAGE_NUMBER.match(line)]
        blocks += [Block(p, page=number) for p in _paragraphs("\n".join(lines))]
    if pages and not blocks:
        raise Unreadable("no text layer (a scanned PDF needs OCR, which pseudorel does not do)")
    title = ""
    try:
        title = ((reader.metadata or {}).get("/Title") or "").strip()
    except Exception:  # metadata of a damaged file: the title is not worth failing for
        title = ""
    return Extracted(title or path.stem, blocks)


# a line that is only a page number ("7", "Page 7", "- 7 -", "7 of 12"), even in a one-page file
_PAGE_NUMBER = re.compile(r"^\W*(page\s*)?\d{1,4}(\s*(of|/)\s*\d{1,4})?\W*$", re.IGNORECASE)


def _repeated_lines(pages: list[str]) -> set[str]:
    """Lines on at least half the pages of a document of 3 pages or more: running headers and
    footers (page numbers differ, so digits are ignored when counting)."""
    if len(pages) < 3:
        return set()
    counts: Counter = Counter()
    shapes: dict[str, set[str]] = {}
    for text in pages:
        lines = {line.strip() for line in text.splitlines()[:3] + text.splitlines()[-3:] if line.strip()}
        for line in lines:
            shape = re.sub(r"\d+", "#", line)
            shapes.setdefault(shape, set()).add(line)
        counts.update({re.sub(r"\d+", "#", line) for line in lines})
    return {line for shape, n in counts.items() if n >= len(pages) / 2 for line in shapes[shape]}


READERS: dict[str, Callable[[Path], Extracted]] = {
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_text,
    ".text": read_text,
    ".rst": read_text,
}


def extract(path: Path) -> Extracted:
    """The file's title and blocks, or :class:`Unreadable` with the reason."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise Unreadable(f"unknown kind of file '{path.suffix}' (reads {', '.join(sorted(READERS))})")
    if path.stat().st_size == 0:
        raise Unreadable("empty file (0 bytes)")
    extracted = reader(path)
    if not extracted.blocks:
        raise Unreadable("no text found")
    return extracted
