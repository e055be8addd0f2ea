"""The partial store of a run: a search cut short by a kill, wherever the kill lands, is
dropped and redone; everything finished before it is kept."""

from __future__ import annotations

import numpy as np

from bench.run.store import Partial


def _fill(p: Partial, n: int) -> None:
    with p.writer("iip") as w:
        for i in range(n):
            w.add({"qid": f"q{i}", "returned": i + 1, "error": None}, np.arange(i + 1) * 10)


def test_a_kill_mid_list_or_mid_line_loses_only_that_search(tmp_path):
    p = Partial(tmp_path, "run", resume=False, force=False)
    _fill(p, 4)
    lists = p.dir / "iip.rnums"
    rows = p.dir / "iip.jsonl"
    lists.write_bytes(lists.read_bytes()[:-6])  # the last list torn mid-number
    loaded, ranked = p.load("iip")
    assert set(loaded) == {"q0", "q1", "q2"}
    assert ranked["q2"].tolist() == [0, 10, 20]
    rows.write_bytes(rows.read_bytes()[:-5])  # and its line torn too
    again = Partial(tmp_path, "run", resume=True, force=False)
    with again.writer("iip") as w:  # --resume redoes q3 and appends after what is whole
        w.add({"qid": "q3", "returned": 4, "error": None}, np.array([7, 8, 9, 6]))
    loaded, ranked = again.load("iip")
    assert set(loaded) == {"q0", "q1", "q2", "q3"}
    assert ranked["q3"].tolist() == [7, 8, 9, 6] and ranked["q1"].tolist() == [0, 10]
