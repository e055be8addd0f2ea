"""What each stage costs at scale: generate a corpus spec, index it (embedded tantivy), instantiate
the standard query set and run it, each stage in a process of its own, measuring its wall time,
its CPU time, the peak resident memory of its processes together and the disk it leaves behind.
`polebench bench --scale huge` (or `--stages` on another scale) runs it; the stages are the
commands a user types, so the figures are what a user would see.

Peak memory is sampled from /proc every 0.2 s over the stage's whole process tree (the generator
and the index build fork workers, whose memory adds up) as proportional set size: a page shared
by forked processes counts once in all, where adding their resident sizes would count the world
the generator's workers share once per worker. Linux only, and a peak shorter than the interval
can be missed."""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.errors import PolebenchError

STAGES = ("generate", "index", "queries", "run")
PROFILES = "crimint,connect,iip,connect+iip"
SAMPLE_S = 0.2
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class StageCost:
    stage: str
    command: str
    exit_code: int
    wall_s: float
    cpu_s: float  # user + system of the stage's processes, reaped children included
    peak_mem_mb: float  # of the whole process tree at once (sum of PSS), sampled
    disk_mb: float  # what the stage leaves: corpus files, index folder, run folder
    load_before: float  # 1-minute load average when the stage started (the machine may be shared)


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:  # gone meanwhile
                continue
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def _pss(pid: int) -> int:
    """A process's proportional set size in bytes (its resident size where the kernel gives no
    smaps_rollup), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    except OSError:
        return 0
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return 0


def tree_memory(pid: int) -> int:
    """Bytes held by a process and all its descendants, now (the sum of their PSS)."""
    kids, todo, total = _children(), [pid], 0
    while todo:
        p = todo.pop()
        todo += kids.get(p, [])
        total += _pss(p)
    return total


def measure(cmd: list[str], env: dict[str, str] | None = None,
            log: Path | None = None) -> tuple[int, float, float, int]:
    """Run `cmd`; return its exit code, wall seconds, CPU seconds and the peak memory of its
    process tree in bytes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = open(log, "ab") if log else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        peak = 0
        try:
            while proc.poll() is None:
                peak = max(peak, tree_memory(proc.pid))
                time.sleep(SAMPLE_S)
        except BaseException:  # interrupted: the stage goes too (it cleans up what it wrote)
            proc.terminate()
            proc.wait()
            raise
    finally:
        if log:
            out.close()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc.returncode, wall, cpu, peak


def disk_bytes(*paths: Path) -> int:
    total = 0
    for p in paths:
        if p.is_file():
            total += p.stat().st_size
        elif p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink())
    return total


def stage_commands(spec: Path, corpus: Path, results: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "bench.cli.main"]
    return {
        "generate": cli + ["generate", str(spec), "--out", str(corpus), "--force"],
        "index": [sys.executable, "-m", "bench.scale", "index", str(corpus)],
        "queries": cli + ["queries", "queries/standard.yaml", "--corpus", str(corpus)],
        "run": cli + ["run", "--corpus", str(corpus), "--queries", "queries/standard.yaml",
                      "--profiles", PROFILES, "--results", str(results), "--force"],
    }


def run_stages(spec: Path, root: Path, stages: tuple[str, ...], log: Path,
               report=lambda cost: None) -> list[StageCost]:
    """The stages in order, stopping at the first that fails (each needs the one before)."""
    name = spec.stem
    corpus, results = root / name, root / f"results-{name}"
    commands = stage_commands(spec, corpus, results)
    leaves = {"generate": [corpus / "manifest.json", corpus / "records.jsonl.gz", corpus / "truth"],
              "index": [corpus / "index"], "queries": [corpus / "queries"], "run": [results]}
    costs = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                                      os.environ.get("PYTHONPATH")]))}
    for stage in stages:
        if stage == "run" and results.exists():
            shutil.rmtree(results)  # only the folder this command made for its own runs
        load = os.getloadavg()[0]
        code, wall, cpu, peak = measure(commands[stage], env, log)
        cost = StageCost(stage, " ".join(commands[stage][1:]), code, round(wall, 2), round(cpu, 2),
                         round(peak / 2**20, 1), round(disk_bytes(*leaves[stage]) / 2**20, 1), load)
        costs.append(cost)
        report(cost)
        if code:
            break
    return costs


def as_json(spec: Path, costs: list[StageCost]) -> dict:
    return {"spec": str(spec), "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(), "stages": [asdict(c) for c in costs]}


def _index(corpus: Path) -> None:
    """The embedded index of a corpus, built afresh (a stage of its own, so it can be measured)."""
    from bench.backends.registry import open_backend
    from bench.corpus.store import Corpus
    c = Corpus(corpus)
    if (c.root / "index").is_dir():
        shutil.rmtree(c.root / "index")  # the indexes polebench wrote for this corpus: rebuilt to be timed
    open_backend("embedded", c).prepare()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "index":
        raise SystemExit("usage: python -m bench.scale index <corpus folder>")
    if not Path(sys.argv[2]).is_dir():
        raise PolebenchError(f"{sys.argv[2]}: not a corpus folder")
    _index(Path(sys.argv[2]))
