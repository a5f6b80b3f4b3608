#!/usr/bin/env bash
# What the tests need beyond .venv: Debian's chromium, to render the HTML report headless.
# Idempotent: nothing happens when chromium is already on the PATH.
set -euo pipefail
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
