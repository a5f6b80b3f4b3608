# Two entry points: `make evaluate` (the main job) and `make test`. Both set up .venv first.
DATASET ?= scifact
RETRIEVERS ?= bm25 dense hybrid
OUT ?= runs
BIN := .venv/bin

.PHONY: setup evaluate test lint bench
setup:
	@bash scripts/setup.sh

evaluate: setup
	@for r in $(RETRIEVERS); do \
	  $(BIN)/pseudorel evaluate --dataset $(DATASET) --retriever $$r --output $(OUT)/$(DATASET)/$$r || exit $$?; \
	done

test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/zero_shot.py
