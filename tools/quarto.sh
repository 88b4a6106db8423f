#!/usr/bin/env bash
# Print the path of a Quarto CLI, installing one the way a user's machine would if none is found:
#   1. `quarto` on PATH (the official installer's);
#   2. the quarto-cli Python package in the venv (pip fetches Quarto's release; tried once, remembered if it fails);
#   3. ../shared/quarto/setup.sh beside the checkout (Quarto 1.11 run from source, for machines without GitHub).
# Usage: tools/quarto.sh [VENV]   (messages on stderr; the path alone on stdout)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/.venv}"

if command -v quarto >/dev/null 2>&1; then
  command -v quarto
  exit 0
fi
if [ -x "$venv/bin/quarto" ] && "$venv/bin/quarto" --version >/dev/null 2>&1; then
  echo "$venv/bin/quarto"
  exit 0
fi
if [ ! -e "$venv/.no-quarto-cli" ] && [ -x "$venv/bin/python" ]; then
  echo "quarto.sh: installing the quarto-cli package" >&2
  if "$venv/bin/python" -m pip install -q quarto-cli >/dev/null 2>&1 && "$venv/bin/quarto" --version >/dev/null 2>&1; then
    echo "$venv/bin/quarto"
    exit 0
  fi
  echo "quarto.sh: the quarto-cli package could not fetch Quarto (not tried again: rm $venv/.no-quarto-cli)" >&2
  touch "$venv/.no-quarto-cli"
fi
shared="$root/../shared/quarto/setup.sh"
if [ -f "$shared" ]; then
  echo "quarto.sh: using $shared" >&2
  bash "$shared" --with-fontawesome5  # Quarto loads fontawesome5 in any PDF with a callout
  exit 0
fi
echo "quarto.sh: no Quarto found: install it (https://quarto.org/docs/get-started/) or put it on PATH" >&2
exit 1
