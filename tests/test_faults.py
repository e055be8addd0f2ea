"""Fault injection: kill -9 at seeded random moments of generate, import, run (and the resume
that follows, killed in turn), erase, and two runs of the same inputs at once; then let the
command finish. Every trial must end with exactly what an uninterrupted command gives, or with a
clean refusal (exit 2 or 5, one message, no traceback); anything else is counted as lost.

Commands run in processes forked from one that has already imported polebench (a 'zygote'):
starting Python and importing numpy, scipy and matplotlib costs about two CPU-seconds a command,
which would make the suite ten times longer. Each forked process runs the CLI's own main() in a
session of its own, and is killed -9 as a whole, as the OS would kill a real command.

POLEBENCH_FAULT_TRIALS scales the trials per scenario (default 2) and POLEBENCH_FAULT_SEED
picks the kill moments (default 21); the counts (tried, handled, lost) are printed with -s."""

from __future__ import annotations

import csv
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
TRIALS = int(os.environ.get("POLEBENCH_FAULT_TRIALS", "2"))
SEED = int(os.environ.get("POLEBENCH_FAULT_SEED", "21"))
PROFILES = "crimint,iip"
CLEAN_REFUSAL = (2, 5)  # bad input; run folder held by another process
COUNTS: Counter = Counter()

ZYGOTE = r"""
import json, os, select, signal, sys
import bench.cli.main as cli
import bench.access.erase, bench.corpus.generate, bench.corpus.importer, bench.run.runner  # noqa: F401
import bench.report.html  # noqa: F401

def child(req):
    os.setsid()  # a session of its own: killed as a whole, like a command in a terminal
    os.chdir(req["cwd"])
    fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(fd, 0)
    for n, name in ((1, "stdout"), (2, "stderr")):
        os.dup2(os.open(req["out"] + "." + name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), n)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    sys.argv = ["polebench", *req["argv"]]
    code = 4
    try:
        code = cli.main(req["argv"])
    except SystemExit as e:  # argparse
        code = e.code if isinstance(e.code, int) else 2
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

print("ready", flush=True)
pending = {}
while True:
    ready, _, _ = select.select([sys.stdin], [], [], 0.01)
    while pending:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if not pid:
            break
        out = pending.pop(pid)
        with open(out + ".status.tmp", "w") as f:
            f.write(str(os.waitstatus_to_exitcode(status)))
        os.rename(out + ".status.tmp", out + ".status")
    if ready:
        line = sys.stdin.readline()
        if not line:
            break
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(req)
        pending[pid] = req["out"]
        print(pid, flush=True)
"""


class Proc:
    def __init__(self, pid: int, out: Path):
        self.pid, self.out = pid, out

    def wait(self, timeout: float = 300) -> int:
        """Exit code, or minus the signal that killed it."""
        status = Path(f"{self.out}.status")
        deadline = time.monotonic() + timeout
        while not status.is_file():
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"{self.out}: still running after {timeout} s")
            time.sleep(0.01)
        return int(status.read_text())

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:  # already gone
            pass

    @property
    def stderr(self) -> str:
        return Path(f"{self.out}.stderr").read_text()


class Zygote:
    def __init__(self, logs: Path):
        self.logs, self.n = logs, 0
        self.p = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, env={**os.environ, "PYTHONPATH": str(ROOT), "CI": "true"})
        assert self.p.stdout.readline().strip() == "ready"

    def start(self, *argv: str, cwd: Path) -> Proc:
        self.n += 1
        out = self.logs / f"{self.n:04d}-{argv[0]}"
        self.p.stdin.write(json.dumps({"argv": list(argv), "cwd": str(cwd), "out": str(out)}) + "\n")
        self.p.stdin.flush()
        return Proc(int(self.p.stdout.readline()), out)

    def run(self, *argv: str, cwd: Path) -> tuple[int, float, Proc]:
        t = time.monotonic()
        p = self.start(*argv, cwd=cwd)
        code = p.wait()
        return code, time.monotonic() - t, p

    def close(self) -> None:
        self.p.stdin.close()
        self.p.wait(timeout=30)


def killed(z: Zygote, rng: random.Random, within: float, *argv: str, cwd: Path) -> int | None:
    """Start a command and kill -9 it at a random moment in [0, within] s; its exit code if it
    ended first, else None."""
    p = z.start(*argv, cwd=cwd)
    time.sleep(rng.uniform(0, within))
    p.kill()
    code = p.wait()
    COUNTS[f"{argv[0]} kills {'landed' if code == -signal.SIGKILL else 'after the end'}"] += 1
    return None if code == -signal.SIGKILL else code


def refused_cleanly(p: Proc, code: int) -> bool:
    return code in CLEAN_REFUSAL and "Traceback" not in p.stderr and p.stderr.startswith("polebench: error:")


# ---- what the outputs must equal

def tree(d: Path) -> dict[str, bytes]:
    """Every file under d by relative path (hidden ones included: nothing may be left behind)."""
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def corpus_files(d: Path) -> dict[str, bytes]:
    return {k: v for k, v in tree(d).items() if not k.startswith(("index/", "queries/"))}


VOLATILE = {"latency_ms", "search_ms", "created_at", "timings", "path", "at"}


def _strip(x):
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [_strip(v) for v in x]
    return x


def run_figures(d: Path) -> dict:
    """What a finished run folder says, but for timings: run.json, per_query.csv, the TREC
    files, qrels, outcomes, and one audit line per search issued."""
    with open(d / "per_query.csv") as f:
        rows = [{k: v for k, v in r.items() if k != "latency_ms"} for r in csv.DictReader(f)]
    audit = sorted((e["profile"], e["need"]) for e in map(json.loads, (d / "audit.jsonl").read_text().splitlines()))
    return {"run": _strip(json.loads((d / "run.json").read_text())), "rows": rows,
            "runs": {p.name: p.read_bytes() for p in sorted((d / "runs").iterdir())},
            "qrels": (d / "qrels.txt").read_bytes(),
            "outcomes": {p.name: _strip([json.loads(x) for x in gzip.decompress(p.read_bytes()).splitlines()])
                         for p in sorted((d / "outcomes").iterdir())},
            "searches": sorted(set(audit))}


def leftovers(d: Path, allowed: set[str]) -> list[str]:
    """What else is in d: nothing may be, but what is allowed and a run's lock file (kept, empty
    of meaning once its process is gone: removing a lock another process may hold is unsafe)."""
    return sorted(p.name for p in d.iterdir() if p.name not in allowed and not p.name.startswith(".lock-")) \
        if d.is_dir() else []


# ---- the lab: a small corpus, query set and import file, and what uninterrupted commands give

TINY = {"people": 800, "vehicles": 300, "phones": 500, "addresses": 600, "events": 1800, "records": 4000}
QUERIES = {"schema_version": 1, "name": "faults", "seed": 5, "templates": [
    {"template": "person_name_dob", "id_prefix": "p", "count": 12, "params": {"with_dob": True}},
    {"template": "vehicle_vrm", "id_prefix": "v", "count": 4},
    {"template": "phone_number", "id_prefix": "t", "count": 4},
    {"template": "location_window", "id_prefix": "l", "count": 4, "params": {"radius_m": 400, "window_days": 14}},
    {"template": "subject_access", "id_prefix": "s", "count": 2}]}


def _febrl_rows(n: int, rng: random.Random) -> str:
    names = ["smith", "jones", "taylor", "brown", "williams", "wilson", "johnson", "davies", "patel", "khan"]
    given = ["james", "mary", "john", "sarah", "david", "emma", "michael", "laura", "peter", "anna"]
    out = ["rec_id,given_name,surname,date_of_birth,street_number,address_1,address_2,suburb,postcode,phone_number"]
    for i in range(n):
        person = i // 3
        out.append(f"rec-{person}-{'org' if i % 3 == 0 else f'dup-{i % 3}'},{rng.choice(given)},{rng.choice(names)},"
                   f"19{rng.randint(50, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)},{rng.randint(1, 200)},"
                   f"{rng.choice(['high street', 'mill lane', 'park road'])},,{rng.choice(['hackney', 'ealing'])},"
                   f"E{rng.randint(1, 9)} {rng.randint(1, 9)}AB,07700 900{rng.randint(100, 999)}")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    d = tmp_path_factory.mktemp("faults")
    (d / "logs").mkdir()
    spec = YAML(typ="safe").load((ROOT / "corpora" / "ci.yaml").read_text())
    spec.update(TINY, name="tiny")
    (d / "tiny.yaml").write_text(json.dumps(spec, default=str))  # JSON is YAML
    (d / "faults.yaml").write_text(json.dumps(QUERIES))
    (d / "people.csv").write_text(_febrl_rows(6000, random.Random(1)))
    z = Zygote(d / "logs")
    ref: dict = {"dir": d, "z": z, "took": {}}
    steps = {
        "generate": ("generate", str(d / "tiny.yaml"), "--out", str(d / "ref" / "tiny"), "--workers", "1"),
        "import": ("import", str(d / "people.csv"), "--map", str(ROOT / "corpora" / "import-example.yaml"),
                   "--name", "people", "--out", str(d / "ref" / "people")),
        "queries": ("queries", str(d / "faults.yaml"), "--corpus", str(d / "ref" / "tiny")),
        "run": ("run", "--corpus", str(d / "ref" / "tiny"), "--queries", str(d / "faults.yaml"),
                "--profiles", PROFILES, "--results", str(d / "ref" / "results")),
    }
    for name, argv in steps.items():
        code, took, p = z.run(*argv, cwd=d)
        assert code == 0, p.stderr
        ref["took"][name] = took
    ref["run"] = next((d / "ref" / "results").glob("faults-*"))
    # the trials find the index built: kill moments are drawn over a run's time without building it
    code, ref["took"]["run"], p = z.run(*steps["run"][:-1], str(d / "warm"), cwd=d)
    assert code == 0, p.stderr
    ref["subject"] = _subject(d / "ref" / "tiny")
    code, took, p = z.run("erase", "--corpus", str(d / "ref" / "tiny"), "--subject", ref["subject"],
                          "--profile", "crimint", "--results", str(d / "ref" / "erase"), cwd=d)
    assert code == 0, p.stderr
    ref["took"]["erase"] = took
    yield ref
    z.close()
    print(f"\nfault injection (seed {SEED}, {TRIALS} trials a scenario): " +
          ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items())))


def _subject(corpus: Path) -> str:
    """A person with several records (a SAR subject erasure has something to do for)."""
    n: Counter = Counter()
    for line in gzip.open(corpus / "truth" / "mentions.jsonl.gz"):
        for m in json.loads(line)["mentions"]:
            if m["entity"].startswith("P"):
                n[m["entity"]] += 1
    return n.most_common(1)[0][0]


def tally(scenario: str, ok: bool, note: str = "") -> None:
    COUNTS["tried"] += 1
    COUNTS["handled" if ok else "lost"] += 1
    COUNTS[f"{scenario}:{'handled' if ok else 'lost'}"] += 1
    assert ok, f"{scenario}: {note}"


# ---- the scenarios

def test_generate_killed_then_run_again(lab):
    d, z = lab["dir"], lab["z"]
    rng = random.Random(SEED)
    want = corpus_files(d / "ref" / "tiny")
    out = d / "gen"
    for _ in range(TRIALS):
        argv = ("generate", str(d / "tiny.yaml"), "--out", str(out / "tiny"), "--workers", "1")
        first = killed(z, rng, lab["took"]["generate"], *argv, cwd=d)
        code, _, p = z.run(*argv, cwd=d)
        tally("generate", *_corpus_as_uninterrupted(out, "tiny", want, first, code, p))


def test_import_killed_then_run_again(lab):
    d, z = lab["dir"], lab["z"]
    rng = random.Random(SEED + 1)
    want = corpus_files(d / "ref" / "people")
    out = d / "imp"
    for _ in range(TRIALS):
        argv = ("import", str(d / "people.csv"), "--map", str(ROOT / "corpora" / "import-example.yaml"),
                "--name", "people", "--out", str(out / "people"))
        first = killed(z, rng, lab["took"]["import"], *argv, cwd=d)
        code, _, p = z.run(*argv, cwd=d)
        if code != 0 and refused_cleanly(p, code) and "--force" in p.stderr:  # killed after it was complete
            code, _, p = z.run(*argv, "--force", cwd=d)
        tally("import", *_corpus_as_uninterrupted(out, "people", want, first, code, p))


def _corpus_as_uninterrupted(out: Path, name: str, want: dict, first: int | None, code: int,
                             p: Proc) -> tuple[bool, str]:
    """Is out/name the uninterrupted command's corpus, with nothing else left in out? Saying, if
    not, how the killed command ended (None: killed), which files differ and what is left."""
    got = corpus_files(out / name) if (out / name).is_dir() else {}
    differ = sorted(k for k in {*want, *got} if want.get(k) != got.get(k))
    left = leftovers(out, {name})
    return (code == 0 and not differ and not left,
            f"killed command: {first}; again: {code} {p.stderr}; differ: {differ}; left: {left}")


def _run_argv(d: Path, results: Path) -> tuple[str, ...]:
    return ("run", "--corpus", str(d / "ref" / "tiny"), "--queries", str(d / "faults.yaml"),
            "--profiles", PROFILES, "--results", str(results))


def _finished_as_uninterrupted(z: Zygote, argv: tuple, cwd: Path, results: Path, want: dict) -> tuple[bool, str]:
    """--resume until the run is complete (a resume refused because another process still
    holds the run is tried again once it has gone); then is it the uninterrupted run, with
    nothing else left in the results folder?"""
    for _ in range(5):
        code, _, p = z.run(*argv, "--resume", cwd=cwd)
        if code != 5:
            break
        time.sleep(0.2)
    done = list(results.glob("faults-*"))
    left = leftovers(results, {"audit.jsonl", *(x.name for x in done)})
    got = run_figures(done[0]) if len(done) == 1 else {}
    differ = sorted(k for k in want if got.get(k) != want[k])
    ok = code == 0 and len(done) == 1 and not differ and not left
    return ok, f"resume: {code} {p.stderr}; left: {left}; differ: {differ}"


def test_run_and_resume_killed_then_resumed(lab):
    d, z = lab["dir"], lab["z"]
    rng = random.Random(SEED + 2)
    want = run_figures(lab["run"])
    for i in range(TRIALS):
        results = d / f"runs-{i}"
        argv = _run_argv(d, results)
        killed(z, rng, lab["took"]["run"], *argv, cwd=d)
        killed(z, rng, lab["took"]["run"], *argv, "--resume", cwd=d)  # the resume is killed too
        tally("run", *_finished_as_uninterrupted(z, argv, d, results, want))


def test_erase_killed_then_run_again(lab):
    d, z = lab["dir"], lab["z"]
    rng = random.Random(SEED + 3)
    ref = next((d / "ref" / "erase").glob("erase-*.json"))
    want = json.loads(ref.read_text())
    corpus = d / "ref" / "tiny"
    for i in range(TRIALS):
        argv = ("erase", "--corpus", str(corpus), "--subject", lab["subject"], "--profile", "crimint",
                "--results", str(d / f"erase-{i}"))
        killed(z, rng, lab["took"]["erase"], *argv, cwd=d)
        code, _, p = z.run(*argv, cwd=d)
        got = json.loads((d / f"erase-{i}" / ref.name).read_text()) if code == 0 else None
        tally("erase", code == 0 and got == want and not list((corpus / "index").glob(".erase-*")),
              p.stderr + str(list((corpus / "index").glob(".*"))))


def test_two_runs_at_once(lab):
    """The same inputs started twice into one results folder, one of them killed at a random
    moment: the other finishes or refuses cleanly, and resuming gives the uninterrupted result."""
    d, z = lab["dir"], lab["z"]
    rng = random.Random(SEED + 4)
    want = run_figures(lab["run"])
    for i in range(TRIALS):
        results = d / f"twice-{i}"
        argv = _run_argv(d, results)
        first = z.start(*argv, cwd=d)
        second = z.start(*argv, *(("--resume",) if rng.random() < 0.5 else ()), cwd=d)
        time.sleep(rng.uniform(0, lab["took"]["run"]))
        first.kill()
        COUNTS[f"concurrent kills {'landed' if first.wait() == -signal.SIGKILL else 'after the end'}"] += 1
        code2 = second.wait()
        ok, why = _finished_as_uninterrupted(z, argv, d, results, want)
        tally("concurrent", (code2 == 0 or refused_cleanly(second, code2)) and ok,
              f"second: {code2} {second.stderr}; {why}")
