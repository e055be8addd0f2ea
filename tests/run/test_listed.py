"""The reader's lists kept on disk while a run measures (bench.run.listed.ListedFile)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.analyst.reader import Listed
from bench.run import listed as listed_mod
from bench.run.listed import PURPOSES, ListedFile


def _listed(i: int, k: int) -> Listed:
    hits = np.sort(np.random.default_rng(i).choice(1000, k, replace=False)).astype(np.int64)
    return Listed(hits, hits * 3 + i, 1000 + i, k + i % 3, PURPOSES[i % len(PURPOSES)], 2**32 - 1 - i)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 12), max_size=40), st.integers(1, 5))
def test_every_list_reads_back_as_it_was_added_in_blocks_and_alone(tmp_path_factory, sizes, block):
    """Lists of any length (none relevant among them too), gone through in blocks of any size and
    read one by one: the same positions, record numbers (int64, as measured), length, relevant
    records, purpose and key, in the order added; two profiles' files side by side apart."""
    old, listed_mod.BLOCK = listed_mod.BLOCK, block
    try:
        d = tmp_path_factory.mktemp("l")
        f, other = ListedFile(d / "listed.0"), ListedFile(d / "listed.1")
        want = [_listed(i, k) for i, k in enumerate(sizes)]
        for x in want:
            f.append(x)
            other.append(_listed(7, 3))
        list(other)  # written out first, then f: neither file is the other's
        got, alone = list(f), [f[i] for i in range(len(want))]
        others = list(other)
        for a, b, c in zip(want, got, alone):
            for x in (b, c):
                assert x.hits.dtype == np.int64 and np.array_equal(a.hits, x.hits)
                assert np.array_equal(a.records, x.records)
                assert (a.n, a.n_relevant, a.purpose, a.key) == (x.n, x.n_relevant, x.purpose, x.key)
        assert len(got) == len(f) == len(want) \
            and all(np.array_equal(x.records, _listed(7, 3).records) for x in others)
        f.remove()
        assert not f.index_path.exists() and not f.data_path.exists()
    finally:
        listed_mod.BLOCK = old
