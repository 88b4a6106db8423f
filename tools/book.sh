#!/usr/bin/env bash
# Render the Quarto project in the working directory (`make report`: the book) with the venv's Python for the kernels
# and the pre-render step; any warning Quarto, pandoc, LaTeX or the PDF driver prints fails the build. Arguments go
# to `quarto render` (e.g. --to html). Frozen pages (`freeze: auto`, which watches only each page's own source) are
# thrown away when the package they ran changed since they were frozen.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
quarto="$("$root/tools/quarto.sh" "$root/.venv")"
package="$("$root/.venv/bin/python" -c 'from sca.cache import package_digest; print(package_digest())')"
if [ -d _freeze ] && [ "$(cat _freeze/.sca-package 2>/dev/null)" != "$package" ]; then
  echo "book.sh: the package changed since the pages were frozen: executing them afresh" >&2
  rm -rf _freeze
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
QUARTO_PYTHON="$root/.venv/bin/python" PATH="$root/.venv/bin:$PATH" "$quarto" render "$@" 2>&1 | tee "$log"
if [ -d _freeze ]; then echo "$package" > _freeze/.sca-package; fi
# Quarto's and pandoc's warnings, and those of LaTeX and its PDF driver, which Quarto passes on (Quarto colours its
# own, piped or not: the colour codes are taken off before the match)
if sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E "^(WARN|WARNING|\[WARNING\])|xdvipdfmx:warning|LaTeX Warning|Package [a-zA-Z]+ Warning"; then
  echo "book.sh: the warnings above fail the build" >&2
  exit 1
fi
