"""Ids found by binary search (bench.queries.ids) are found as a dict finds them."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bench.queries.ids import SortedIds, narrow

_id = st.text(st.sampled_from("ab\0é"), max_size=5).filter(lambda s: not s.endswith("\0"))


def _packed(ids: list[str]) -> np.ndarray:
    return np.array([s.encode() for s in ids], "S") if ids else np.zeros(0, "S1")


@given(st.lists(_id, unique=True), st.lists(st.one_of(_id, st.text(st.sampled_from("ab\0é"), max_size=9))))
def test_an_id_is_found_where_a_dict_finds_it_and_nowhere_else(ids, keys):
    """Keys longer than every id, prefixes of ids, ids with NULs inside, an empty table."""
    where = {s: i for i, s in enumerate(ids)}
    table = SortedIds(_packed(ids))
    assert [table.find(k) for k in keys] == [where.get(k, -1) for k in keys]
    plain = [k for k in keys if not k.endswith("\0")]  # what find_all is given: packed ids
    assert table.find_all(_packed(plain)).tolist() == [where.get(k, -1) for k in plain]
    assert not table.duplicated() and table.find(None) == -1


@given(st.lists(_id, min_size=1))
def test_an_id_given_twice_is_seen(ids):
    assert SortedIds(_packed(ids)).duplicated() == (len(set(ids)) < len(ids))


def test_integers_are_narrowed_only_where_they_fit():
    assert narrow(np.array([-2**31, 2**31 - 1])).dtype == np.int32
    assert narrow(np.array([2**31])).dtype == np.int64 and narrow(np.array([-2**31 - 1])).dtype == np.int64
    assert narrow(np.zeros(0, np.int64)).dtype == np.int32
