"""What the book's numbers were built from: the commit, and every run's results as two short fingerprints, one
for training and one for evaluation, so that a reader who re-runs the book can tell at a glance whether their
numbers are ours bit for bit.

Training's covers every seed's trained parameters, per-step loss terms and label counts: the fused step computes
them (fused.cpp), and they are the same bits on any x86-64 processor and vector build. Evaluation's covers every
seed's validation, score and selection (the runs table), every seed under every variant (the population table)
and the selected model's evaluated arrays: parts of these run through PyTorch's kernels, which PyTorch picks per
processor (AVX-512, AVX2 or neither), so they may differ in the last bits on another machine (tests/test_digest.py
measures how far). Both are SHA-256 over the raw bytes (float32 and float64 as stored), so
one bit anywhere changes them.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .fused import model_params
from .sweep import RunResult

# How far evaluation's numbers may move on another processor, as an absolute difference (tests/test_provenance.py
# fails past it): float32's rounding through a forward pass allows about 1e-5 in an error of colours in [0, 1]
# (tests/precision.py), and CIEDE2000 turns an RGB difference of that size into a ΔE difference under 1e-2, a
# 200th of a just-noticeable difference.
MAY_MOVE = {"error (MSE) and its change": 1e-5, "ΔE and its change": 1e-2, "R², r and the score": 1e-5}

LENGTH = 12  # hex digits shown: 48 bits, no accidental collision among a book's runs


def _update(h, value) -> None:
    """Feed a value's bytes (arrays, tables, mappings in key order, scalars, strings) into the hash h."""
    if isinstance(value, pd.DataFrame):
        _update(h, list(map(str, value.columns)))
        _update(h, pd.util.hash_pandas_object(value, index=True).to_numpy())
    elif isinstance(value, pd.Series):
        _update(h, value.to_frame())
    elif isinstance(value, Mapping):
        for key in sorted(value):
            _update(h, str(key))
            _update(h, value[key])
    elif isinstance(value, np.ndarray):
        h.update(f"{value.dtype}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)):
        h.update(f"[{len(value)}]".encode())
        for item in value:
            _update(h, item)
    else:
        h.update(repr(value).encode())


def _hex(parts: Iterable) -> str:
    h = hashlib.sha256()
    for part in parts:
        _update(h, part)
    return h.hexdigest()[:LENGTH]


def training(result: RunResult) -> str:
    """Every seed's trained parameters, loss terms per step and counted labels."""
    t = result.train
    params = [p.detach().cpu().numpy() for p in model_params(t.model)]
    return _hex([list(map(int, t.seeds)), params, t.terms, t.label_steps])


def evaluation(result: RunResult) -> str:
    """Every seed's validation, score and selection, every seed under every variant, and the selected model's
    variants."""
    variants = {
        name: [v.named, v.r2, v.r, v.max_mse, v.median_mse, v.latent_mse, v.loss_mse]
        for name, v in result.variants.items()
    }
    t = result.train
    return _hex([t.val, t.val_history, result.runs, int(result.selected_seed), result.population, variants])


def combined(digests: Iterable[str]) -> str:
    """One fingerprint over many runs' fingerprints, in the order given."""
    return _hex(list(digests))


def book(results: Mapping[str, RunResult]) -> dict[str, str]:
    """The fingerprints of every run the book shows ({name: result}): training and evaluation, over all runs."""
    names = sorted(results)
    return {
        "training": combined(training(results[n]) for n in names),
        "evaluation": combined(evaluation(results[n]) for n in names),
    }


def commit(folder: str = ".") -> str:
    """The git commit the book is built from (short hash, '+' when the work tree has uncommitted changes), or
    'unknown' outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=folder, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def repository(folder: str = ".") -> str | None:
    """The web address of the source repository: GitHub Actions' own (GITHUB_SERVER_URL, GITHUB_REPOSITORY), else
    git's `origin` remote as https, else None (a checkout with no remote)."""
    if os.environ.get("GITHUB_REPOSITORY"):
        return f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{os.environ['GITHUB_REPOSITORY']}"
    try:
        done = subprocess.run(["git", "remote", "get-url", "origin"], cwd=folder, capture_output=True, text=True)
    except OSError:
        return None
    url = done.stdout.strip()
    if done.returncode != 0 or not url:
        return None
    ssh = re.fullmatch(r"(?:ssh://)?git@([^:/]+)[:/](.+?)(?:\.git)?/?", url)
    if ssh:
        return f"https://{ssh[1]}/{ssh[2]}"
    return re.sub(r"\.git/?$", "", url) if url.startswith("https://") else None


def site_metadata(prints: Mapping[str, str], folder: str = ".") -> dict:
    """Quarto metadata for the book's every page: the commit and the results fingerprints in the footer, and where
    the repository is known, its address (Quarto's `repo-url`, with links to a page's source and to an issue), the
    commit linked and, for a GitHub repository, its published site, into which the PDF's links to files lead."""
    built, url = commit(folder), repository(folder)
    shown = f"[{built}]({url}/commit/{built.rstrip('+')})" if url and built != "unknown" else f"`{built}`"
    footer = (
        f"Built from commit {shown}; results fingerprint: training `{prints['training']}`, "
        f"evaluation `{prints['evaluation']}`"
    )
    book: dict = {"page-footer": {"left": footer}}
    meta: dict = {"book": book}
    if url:
        book |= {"repo-url": url, "repo-actions": ["source", "issue"]}
        github = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", url)
        if github:  # published by .github/workflows/publish.yml to the repository's GitHub Pages
            site = f"https://{github[1].lower()}.github.io/{github[2]}/"
            book["site-url"] = site
            meta["file-links-base"] = site  # the PDF's links to the book's files (filters/pdf-file-links.lua)
    return meta


def table(prints: Mapping[str, str], folder: str = ".") -> pd.DataFrame:
    """The landing page's provenance: the commit, both fingerprints, and what may move on another processor."""
    rows = [
        ("commit", commit(folder), "the source the book was built from ('+': with uncommitted changes)"),
        ("training", prints["training"], "the same bits on any x86-64 processor, vector build and kernel choice"),
        ("evaluation", prints["evaluation"], "may differ in float32's last bits on another processor, by at most:"),
    ]
    rows += [("", f"{bound:g}", what) for what, bound in MAY_MOVE.items()]
    return pd.DataFrame(rows, columns=["part", "fingerprint", "what it covers"])
