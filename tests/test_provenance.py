"""The results fingerprints: training's the same bits on every processor and vector build, evaluation's numbers
within provenance.MAY_MOVE of each other, and one changed bit changes a fingerprint."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from sca import provenance

HERE = Path(__file__).parent
BOUND = {"error": "error (MSE) and its change", "ΔE": "ΔE and its change", "R²": "R², r and the score"}


def _cpu_flags() -> set[str]:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return set(line.partition(":")[2].split())


# The instructions each of PyTorch's kernel sets uses: PyTorch takes a setting above the processor's at its word
# and dies of SIGILL (seen on an AMD EPYC without AVX-512)
CAPABILITY_NEEDS = {
    "default": set(),
    "avx2": {"avx2", "fma"},
    "avx512": {"avx512f", "avx512bw", "avx512vl", "avx512dq"},
}


def _settings() -> list[tuple[str, str, str]]:
    """(ATEN_CPU_CAPABILITY, MKL_ENABLE_INSTRUCTIONS, SCA_VECTOR): every kernel choice PyTorch and MKL have on this
    processor ("" leaves MKL to choose), and both fused builds; the first is what a processor without AVX2 gets."""
    every = [
        ("default", "SSE4_2", "baseline"),
        ("default", "", "widest"),
        ("avx2", "AVX2", "widest"),
        ("avx512", "", "widest"),
        ("avx512", "", "baseline"),
    ]
    flags = _cpu_flags()
    return [s for s in every if CAPABILITY_NEEDS[s[0]] <= flags]


def _run(setting: tuple[str, str, str], folder: Path) -> dict:
    capability, mkl, vector = setting
    name = "-".join(x for x in setting if x)
    target = folder / f"{name}.npz"
    env = {
        **os.environ,
        "ATEN_CPU_CAPABILITY": capability,
        "SCA_VECTOR": vector,
        "SCA_WORKERS": "1",
        "SCA_CACHE_DIR": str(folder / f"cache-{name}"),
        "PYTHONPATH": str(HERE),
    }
    if mkl:
        env["MKL_ENABLE_INSTRUCTIONS"] = mkl
    else:
        env.pop("MKL_ENABLE_INSTRUCTIONS", None)
    done = subprocess.run(
        [sys.executable, str(HERE / "provenance_run.py"), str(target)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(np.load(target))


@pytest.mark.slow
def test_training_is_the_same_bits_and_evaluation_moves_less_than_the_book_says(tmp_path):
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda s: _run(s, tmp_path), _settings()))
    capabilities = {str(r["capability"]) for r in runs}
    assert "DEFAULT" in capabilities, capabilities
    first = runs[0]
    for other, setting in zip(runs[1:], _settings()[1:]):
        for key in first:
            if key.endswith("training"):
                assert other[key] == first[key], (setting, key)
            elif key.endswith("evaluation") or key == "capability":
                continue
            else:
                tag_kind = key.split(" ")[2]
                moved = np.nanmax(np.abs(other[key] - first[key]), initial=0)
                assert moved <= provenance.MAY_MOVE[BOUND[tag_kind]], (setting, key, moved)


def test_one_changed_bit_changes_a_fingerprint(small_run):
    training, evaluation = provenance.training(small_run), provenance.evaluation(small_run)
    params = small_run.train.model.weights[0].detach().clone()
    flipped = params.view(torch.int32).clone()
    flipped.view(-1)[5] ^= 1
    with torch.no_grad():
        small_run.train.model.weights[0].copy_(flipped.view(torch.float32))
    try:
        assert provenance.training(small_run) != training
    finally:
        with torch.no_grad():
            small_run.train.model.weights[0].copy_(params)
    assert provenance.training(small_run) == training
    named = small_run.variants["baseline"].named
    variants = {**small_run.variants, "baseline": replace(small_run.variants["baseline"], named=named * (1 + 2**-23))}
    assert provenance.evaluation(replace(small_run, variants=variants)) != evaluation


def test_the_commit_is_read_from_git():
    commit = provenance.commit(str(HERE.parent))
    assert commit == "unknown" or len(commit.rstrip("+")) == 12


def test_every_page_names_the_repository_and_the_commit_when_they_are_known(tmp_path, monkeypatch):
    prints = {"training": "a" * 12, "evaluation": "b" * 12}
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    # no remote, no commit: the footer says so, and no link to a repository is made up
    meta = provenance.site_metadata(prints, str(tmp_path))["book"]
    assert "repo-url" not in meta and "`unknown`" in meta["page-footer"]["left"] and "a" * 12 in str(meta)
    subprocess.run(
        ["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:someone/sca.git"], check=True
    )
    assert provenance.repository(str(tmp_path)) == "https://github.com/someone/sca"
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/sca-reproduction")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    meta = provenance.site_metadata(prints, str(HERE.parent))["book"]
    built = provenance.commit(str(HERE.parent))
    assert meta["repo-url"] == "https://github.com/team/sca-reproduction" and "source" in meta["repo-actions"]
    assert meta["site-url"] == "https://team.github.io/sca-reproduction/"
    assert built == "unknown" or f"/commit/{built.rstrip('+')})" in meta["page-footer"]["left"]
