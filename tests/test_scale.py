"""The stage measurer behind `polebench bench --scale huge`: what it reports is what happened."""

import subprocess
import sys

from bench.scale import disk_bytes, measure

# A parent that starts a child holding 200 MB, the way the generator's and the index build's
# workers hold memory apart from the process that started them.
HOLDER = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
          "'import time; b = bytearray(200 * 2**20); b[::4096] = b\"x\" * len(b[::4096]); time.sleep(1.5)'])")


def test_peak_memory_counts_the_whole_process_tree():
    code, wall, cpu, peak = measure([sys.executable, "-c", HOLDER])
    assert code == 0
    assert wall >= 1.5
    assert peak >= 200 * 2**20  # the child's 200 MB, which the parent alone never holds
    assert cpu > 0


# A parent holding 200 MB that forks two children sharing it, as the generator's workers share
# the world: the pages are held once.
SHARER = """
import os, time
b = bytearray(200 * 2**20)
b[::4096] = b"x" * len(b[::4096])
kids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        time.sleep(1.5)
        os._exit(0)
    kids.append(pid)
for k in kids:
    os.waitpid(k, 0)
"""


def test_pages_forked_processes_share_count_once():
    code, _, _, peak = measure([sys.executable, "-c", SHARER])
    assert code == 0
    assert 200 * 2**20 <= peak < 300 * 2**20  # resident sizes added up would give about 600 MB


def test_exit_code_of_a_failed_stage_is_kept():
    code, *_ = measure([sys.executable, "-c", "raise SystemExit(3)"])
    assert code == 3


def test_disk_use_adds_files_of_folders(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_bytes(b"1" * 1000)
    (tmp_path / "y").write_bytes(b"1" * 24)
    assert disk_bytes(tmp_path / "a", tmp_path / "y", tmp_path / "missing") == 1024


def test_unknown_stage_is_bad_input():
    r = subprocess.run([sys.executable, "-m", "bench.cli.main", "bench", "--scale", "ci", "--stages", "generate,indx"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "unknown stage 'indx'" in r.stderr + r.stdout
