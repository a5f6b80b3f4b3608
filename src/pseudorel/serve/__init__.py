"""The search service: a live corpus (the base corpus plus written-back documents, changed only
through an append-only log), its indexes swapped atomically, and the FastAPI app over them."""
