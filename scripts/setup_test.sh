#!/usr/bin/env bash
# What the tests need beyond .venv: the ray, serve, ingest and docs extras (the scale-out tests start a
# local Ray, the service tests a uvicorn server, the ingest tests read PDF, DOCX and HTML, the test
# command builds the documentation site) and
# Debian's chromium, to render the HTML report headless.
# Idempotent: nothing is installed when both are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv/bin/python -c "import ray.data, fastapi, uvicorn, datasketch, pypdf, docx, selectolax, mkdocs, material, mkdocstrings_handlers.python" >/dev/null 2>&1; then
  echo "installing the ray, serve, ingest and docs extras for the scale-out, service, ingest and docs tests"
  if ! .venv/bin/pip install --disable-pip-version-check -e ".[ray,serve,ingest,docs]" >>.venv/install.log 2>&1; then
    tail -30 .venv/install.log
    echo "setup failed: pip install -e '.[ray,serve,ingest,docs]' (the scale-out, service, ingest and docs tests need them)" >&2
    exit 1
  fi
fi
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
echo "installing chromium (apt) for the report tests"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -q --no-install-recommends chromium >/tmp/pseudorel-apt.log 2>&1; then
  $SUDO apt-get update -q >>/tmp/pseudorel-apt.log 2>&1
  $SUDO apt-get install -y -q --no-install-recommends chromium >>/tmp/pseudorel-apt.log 2>&1 || {
    tail -20 /tmp/pseudorel-apt.log
    echo "setup failed: apt-get install chromium (the report tests need it)" >&2
    exit 1
  }
fi
