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
