"""Benchmarks share corpora generated once per scale under results/bench-corpora/.
Scale from POLEBENCH_BENCH_SCALE (ci | default | large), set by `polebench bench --scale`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def scale() -> str:
    return os.environ.get("POLEBENCH_BENCH_SCALE", "ci")


@pytest.fixture(scope="session")
def bench_root() -> Path:
    d = ROOT / "results" / "bench-corpora"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def corpus_of(bench_root):
    """corpus_of(name): the corpus of corpora/<name>.yaml under bench_root, generated on first use."""
    from bench.corpus.generate import generate, load_spec
    from bench.corpus.store import Corpus
    from bench.errors import PolebenchError

    def get(name: str) -> Corpus:
        out = bench_root / name
        try:
            return Corpus(out)
        except PolebenchError:
            generate(load_spec(ROOT / "corpora" / f"{name}.yaml"), out)
            return Corpus(out)
    return get
