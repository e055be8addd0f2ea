"""The record table every backend keeps beside its index (record id and date by record number):
read back as it was written, whatever the ids, and without a Python object per id."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.backends.base import load_record_table, save_record_table

# ids as an import may name them: any printable text without whitespace, of one width or many
IDS = st.lists(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1,
                       max_size=12).filter(lambda s: s.split() == [s]), max_size=40)


@settings(max_examples=200, deadline=None)
@given(ids=IDS, same_width=st.booleans())
def test_ids_read_back_as_written(tmp_path_factory, ids, same_width):
    if same_width:  # the generator's case: R00000001, R00000002, ...
        ids = [f"R{i:08d}" for i in range(len(ids))]
    d = tmp_path_factory.mktemp("table")
    save_record_table(d, ids, list(range(len(ids))))
    rids, dates = load_record_table(d)
    assert rids.tolist() == ids and dates.tolist() == list(range(len(ids)))
    # the same array as the list of ids made into one (its string width included)
    assert ids == [] or rids.dtype == np.asarray(ids).dtype


def test_a_million_ids_are_read_without_an_object_each(tmp_path: Path):
    """A list of str first, then the array: 102 MB traced at a million ids; straight into the
    array: 54 MB (the array itself 36 MB). At 10M records the run's table took 1.18 GB."""
    n = 1_000_000
    save_record_table(tmp_path, [f"R{i:08d}" for i in range(n)], np.zeros(n, np.int64).tolist())
    tracemalloc.start()
    try:
        rids, _ = load_record_table(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rids[0] == "R00000000" and rids[-1] == f"R{n - 1:08d}" and len(rids) == n
    assert peak < 75e6, f"{peak / 1e6:.0f} MB traced reading a million ids"
