"""The partial store of a run: a search cut short by a kill, wherever the kill lands, is
dropped and redone; everything finished before it is kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from bench.errors import SpecError
from bench.run.store import Partial, RunBusy, run_lock


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


def test_two_writers_at_once_are_caught_on_resume_naming_file_and_line(tmp_path):
    # what two processes appending to one run folder leave: lists that overlap
    p = Partial(tmp_path, "run", resume=False, force=False)
    with p.writer("iip") as a, p.writer("iip") as b:
        a.add({"qid": "q0", "returned": 2, "error": None}, np.array([1, 2]))
        b.add({"qid": "q1", "returned": 1, "error": None}, np.array([3]))
    with pytest.raises(SpecError, match=r"iip\.jsonl:2: at: list starts at 0, where the one before ends at 2"):
        p.load("iip")


def test_a_need_recorded_as_found_twice_is_refused(tmp_path):
    p = Partial(tmp_path, "run", resume=False, force=False)
    with p.writer("iip") as w:
        w.add({"qid": "q0", "returned": 0, "error": "ConnectionError"}, np.array([], np.int64))
        w.add({"qid": "q0", "returned": 1, "error": None}, np.array([5]))  # a retry: fine
        w.add({"qid": "q0", "returned": 1, "error": None}, np.array([5]))
    with pytest.raises(SpecError, match=r"iip\.jsonl:3: qid: need 'q0' was already recorded as searched"):
        p.load("iip")
    with pytest.raises(SpecError, match=r"iip\.jsonl:1: qid: need 'q0' is not in this run's query set"):
        p.load("iip", known={"q1"})


def test_a_torn_line_before_the_last_is_refused_not_skipped(tmp_path):
    p = Partial(tmp_path, "run", resume=False, force=False)
    _fill(p, 3)
    rows = p.dir / "iip.jsonl"
    lines = rows.read_bytes().split(b"\n")
    rows.write_bytes(b"\n".join([lines[0], lines[1][:9], *lines[2:]]))
    with pytest.raises(SpecError, match=r"iip\.jsonl:2: not a whole JSON line"):
        p.load("iip")


def test_one_process_holds_a_run_and_the_os_frees_it_when_that_process_dies(tmp_path):
    with run_lock(tmp_path, "r1"):
        with pytest.raises(RunBusy, match=rf"pid {os.getpid()}"):
            with run_lock(tmp_path, "r1"):
                pass
        with run_lock(tmp_path, "r2"):  # another run: not held
            pass
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from bench.run.store import run_lock\n"
                               f"with run_lock(Path({str(tmp_path)!r}), 'r1'):\n"
                               "    print('held', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunBusy, match=rf"pid {holder.pid}"):
            with run_lock(tmp_path, "r1"):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with run_lock(tmp_path, "r1"):  # released by the kill
        pass


def test_a_runs_lists_stay_on_disk_and_are_read_one_at_a_time(tmp_path):
    """A run holds where each ranked list is, not the lists (a free-text profile returns
    thousands of records a need): each is read from the .rnums file when asked for."""
    p = Partial(tmp_path, "run", resume=False, force=False)
    with p.writer("iip") as w:
        starts = [w.add({"qid": q, "returned": len(a), "error": None}, np.array(a, np.int64))[0]
                  for q, a in (("q0", [5, 3]), ("empty", []), ("q1", [9, 1, 4]))]
    assert starts == [0, 2, 2]
    _, ranked = p.load("iip")
    assert dict(ranked.at) == {"q0": (0, 2), "empty": (2, 0), "q1": (2, 3)}
    assert ranked["q1"].tolist() == [9, 1, 4] and ranked["empty"].tolist() == [] and len(ranked) == 3
    data = np.fromfile(p.dir / "iip.rnums", "<i4")
    data[2] = 7
    data.tofile(p.dir / "iip.rnums")
    assert ranked["q1"].tolist() == [7, 1, 4]  # read now, from the file


def test_a_runs_outcomes_stay_on_disk_each_need_its_latest_row(tmp_path):
    """A run holds where each need's latest recorded search is and which failed, not the rows:
    each row is read from the .jsonl file when asked for, as the writer recorded it."""
    p = Partial(tmp_path, "run", resume=False, force=False)
    with p.writer("iip") as w:
        w.add({"qid": "q0", "returned": 0, "error": "ConnectionError", "lost": []}, np.array([], np.int64))
        w.add({"qid": "q1", "returned": 1, "error": None, "lost": [{"capability": "text"}]}, np.array([4]))
        _, line = w.add({"qid": "q0", "returned": 2, "error": None, "lost": []}, np.array([1, 2]))  # the retry
    outcomes, ranked = p.load("iip")
    assert line == outcomes.at["q0"] and not outcomes.failed and outcomes.done() == 2
    assert outcomes["q0"] == {"qid": "q0", "returned": 2, "error": None, "lost": []}
    assert outcomes["q1"]["lost"] == [{"capability": "text"}] and ranked["q0"].tolist() == [1, 2]
    again = Partial(tmp_path, "run", resume=True, force=False)
    with again.writer("iip") as w:  # a resumed writer records where its own lines land
        _, line = w.add({"qid": "q2", "returned": 0, "error": "Timeout", "lost": []}, np.array([], np.int64))
    outcomes, _ = again.load("iip")
    assert outcomes.at["q2"] == line and outcomes.failed == {"q2"} and not outcomes.ok("q2") and outcomes.ok("q1")
    assert outcomes["q2"]["error"] == "Timeout"


def test_outcomes_read_in_order_open_the_file_once_a_block_and_give_each_row_as_written(tmp_path, monkeypatch):
    """A run reads every profile's rows need by need (measuring, then writing outcomes/): the file
    is opened once a block of rows, not once a row; rows asked for out of order, and rows recorded
    after a block was read (a resumed search written over a torn tail), are read as written."""
    from bench.run import store
    p = Partial(tmp_path, "run", resume=False, force=False)
    rows = [{"qid": f"q{i}", "returned": 0, "error": None, "lost": [{"capability": "x" * (i % 50)}], "n": i}
            for i in range(2000)]
    with p.writer("iip") as w:
        for r in rows:
            w.add(r, np.array([], np.int64))
    outcomes, _ = p.load("iip")
    opened: list[str] = []
    real_open = open

    def counting(path, *a, **kw):
        opened.append(str(path))
        return real_open(path, *a, **kw)
    monkeypatch.setattr(store, "open", counting, raising=False)
    assert [outcomes[r["qid"]] for r in rows] == rows
    size = (p.dir / "iip.jsonl").stat().st_size
    assert len(opened) <= size // store.Outcomes.BLOCK + 1 < len(rows) // 20
    assert outcomes["q1999"] == rows[1999] and outcomes["q3"] == rows[3] and outcomes["q1000"] == rows[1000]
    # a line recorded where the last block read lies is read from the file, not from that block
    start, n = outcomes.at["q3"]
    with real_open(p.dir / "iip.jsonl", "r+b") as f:
        f.seek(start)
        f.write(b'{"qid":"q3","returned":9,"error":null,"lost":[],"at":0}'.ljust(n - 1) + b"\n")
    outcomes.record("q3", (start, n), False)
    assert outcomes["q3"] == {"qid": "q3", "returned": 9, "error": None, "lost": []}
