"""Your own documents in: folders of PDF, Word, HTML, Markdown and text into a BEIR folder of
passages with provenance (``pseudorel ingest``)."""

from pseudorel.ingest.run import IngestSummary, ingest

__all__ = ["IngestSummary", "ingest"]
