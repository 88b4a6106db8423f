# Everything a bare machine with Python 3.11 needs: `make test`, `make report`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install compiler tex browser axe test test-fast lint report run bench clean clean-cache

install: $(STAMP) compiler

# torch is installed first and on its own, pinned exactly: any looser spec pulls CUDA wheels.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,report,lint]'
	touch $(STAMP)

# A C++ compiler, which builds training's fused step (src/sca/fused.cpp) on first use (Debian package).
compiler:
	@command -v g++ >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends g++ >/dev/null; }

# A TeX engine, to prove the LaTeX tables compile (Debian packages, ~200 MB; skipped when present).
TEX_PACKAGES := texlive-latex-recommended texlive-latex-extra texlive-science texlive-xetex lmodern fonts-dejavu-core
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
tex:
	@command -v xelatex >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES) >/dev/null; }

# Headless Chromium, for the test that opens the rendered book (Debian package).
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# axe-core, the accessibility checker the browser test runs over the book's pages (npm, into the venv's folder).
AXE := $(VENV)/npm/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE):
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends npm >/dev/null; }
	npm install --silent --no-audit --no-fund --prefix $(VENV)/npm axe-core@4.14.1

# The book tests render with Quarto: tools/book.sh finds it or installs it (tools/quarto.sh).
test: install tex browser axe
	$(PY) -m pytest

# Everything but the book and the runs the scorecard judges (pytest markers `book` and `slow`): under two minutes.
test-fast: install
	$(PY) -m pytest -m "not book and not slow"

# ruff's linter and formatter over the Python sources, and mypy over the package (settings in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check src tests tools bench
	$(VENV)/bin/ruff format --check src tests tools bench
	$(VENV)/bin/mypy

# The book, HTML and PDF, in _book/, rendered by Quarto: on PATH, else the quarto-cli Python package, else
# ../shared/quarto (tools/quarto.sh says which); a warning fails the build (tools/book.sh).
report: install tex
	bash tools/book.sh

run: install
	$(PY) -m sca run 2.4.1 --seeds 0-59 --out runs/2.4.1

bench: install
	$(PY) bench/bench.py

clean-cache:
	rm -rf .cache/sca

clean: clean-cache
	rm -rf $(VENV) runs .pytest_cache _book _freeze .quarto _provenance.yml
