# Two entry points: `make adapt` (the main job) and `make test`. Both set up .venv first.
DATASET ?= cranfield
RETRIEVERS ?= bm25 dense hybrid
OUT ?= runs
BIN := .venv/bin
MKDOCS := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs

.PHONY: setup adapt evaluate test docs docs-serve bench
setup:
	@bash scripts/setup.sh

# adapt a search system to $(DATASET) with the defaults; test qrels are read for the printed table only
adapt: setup
	@$(BIN)/pseudorel adapt --dataset $(DATASET) --output $(OUT)/$(DATASET)-adapt --evaluate-split test

evaluate: setup
	@for r in $(RETRIEVERS); do \
	  $(BIN)/pseudorel evaluate --dataset $(DATASET) --retriever $$r --output $(OUT)/$(DATASET)/$$r || exit $$?; \
	done

test: setup
	@bash scripts/setup_test.sh
	$(BIN)/ruff check src tests bench
	$(MKDOCS) build --strict --quiet --site-dir site
	$(BIN)/pytest

# the documentation site, built into site/ (docs-serve: a live preview on 127.0.0.1:8000)
docs: setup
	@bash scripts/setup_test.sh
	$(MKDOCS) build --strict --site-dir site

docs-serve: setup
	@bash scripts/setup_test.sh
	$(MKDOCS) serve --dev-addr 127.0.0.1:8000

bench: setup
	$(BIN)/python bench/zero_shot.py
