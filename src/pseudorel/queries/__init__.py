"""Queries: real unlabeled queries and synthetic ones generated from documents."""

from pseudorel.queries.synthetic import synthetic_queries
from pseudorel.queries.types import Query, queries_from_log, read_query_file, write_queries

__all__ = ["Query", "queries_from_log", "read_query_file", "synthetic_queries", "write_queries"]
