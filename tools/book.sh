#!/usr/bin/env bash
# Render the book with Quarto (`make report`): the venv's Python runs the kernels and the pre-render step, and any
# warning Quarto or pandoc prints fails the build. Arguments go to `quarto render` (e.g. --to html).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
quarto="$("$root/tools/quarto.sh" "$root/.venv")"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cd "$root"
QUARTO_PYTHON="$root/.venv/bin/python" PATH="$root/.venv/bin:$PATH" "$quarto" render "$@" 2>&1 | tee "$log"
# Quarto's and pandoc's warnings, and those of LaTeX and its PDF driver, which Quarto passes on
if grep -E "^(WARN|WARNING|\[WARNING\])|xdvipdfmx:warning|LaTeX Warning|Package [a-zA-Z]+ Warning" "$log"; then
  echo "book.sh: the warnings above fail the build" >&2
  exit 1
fi
