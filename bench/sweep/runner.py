"""Run a sweep: generate and index each distinct corpus once (cached by spec checksum), run every
cell (in parallel on the available cores; a finished cell is reused, so a sweep resumes), and
collect one row per cell and profile."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ruamel.yaml import YAML

from bench.analyst.model import behaviour_checksum
from bench.backends.registry import open_backend
from bench.corpus.generate import current_corpus, generate, load_spec, spec_checksum
from bench.corpus.store import Corpus, atomic_dir, write_json_atomic
from bench.errors import BackendError, PolebenchError
from bench.profiles.model import load_profile
from bench.queries.instantiate import ensure_instance, file_checksum, instance_dir, load_query_set
from bench.run.incomplete import incomplete_note
from bench.run.runner import RunSettings, run_benchmark
from bench.run.results import RunResults, run_inputs
from bench.specio import load_yaml, validate
from bench.sweep.cells import Cell, behaviour_variant, check, check_sizes, plan_cells, variant
from bench.sweep.model import Sweep

COLUMNS = ("cell", "axis", "value", "profile", "ratio", "ratio_lo", "ratio_hi", "median", "median_lo", "median_hi",
           "recall", "recall_lo", "recall_hi", "examined_ratio", "examined_ratio_lo", "examined_ratio_hi",
           "sift_hours_per_1000", "needs_with_lost", "needs")


@dataclass
class SweepResult:
    dir: Path
    rows: list[dict]
    sweep: Sweep


def _resolve(p: str, sweep_path: Path) -> Path:
    for cand in (Path(p), sweep_path.parent / p):
        if cand.exists():
            return cand
    raise PolebenchError(f"{sweep_path}: {p} not found (relative to the current folder or the sweep file)")


def _prepare_corpus(spec_json: dict, root: str, queries: str) -> str:
    """Generate (once), index (once) and instantiate the query set for one corpus spec."""
    from bench.corpus.spec import CorpusSpec
    spec = CorpusSpec.model_validate(spec_json)
    out = Path(root) / spec_checksum(spec)[:12]
    corpus = current_corpus(spec, out)
    if corpus is None:
        generate(spec, out, workers=1)
        corpus = Corpus(out)
    open_backend("embedded", corpus).prepare()
    ensure_instance(queries, corpus)
    return str(out)


def _run_cell(corpus_dir: str, instance: str, profiles: list[str], baseline: str, results: str, seed: int,
              behaviour: str | None) -> RunResults:
    res = run_benchmark(RunSettings(corpus=Path(corpus_dir), instance=Path(instance), profiles=profiles,
                                    baseline=baseline, results=Path(results), seed=seed, resume=True,
                                    behaviour=Path(behaviour) if behaviour else None))
    if res.failed:  # a cell's figures from some of its needs would be drawn as if from all
        raise BackendError(f"{res.dir}: {incomplete_note(res.run)}")
    return res.run


def run_sweep(path: Path, results_root: Path, workers: int | None = None,
              progress: Callable[[str, int], Callable[[int], None]] | None = None) -> SweepResult:
    data, pos = load_yaml(path)
    sweep = validate(Sweep, data, path, pos)
    check(sweep, path, pos)
    base = load_spec(_resolve(sweep.base_corpus, path))
    check_sizes(sweep, base, path, pos)
    queries = _resolve(sweep.queries, path)
    cells = plan_cells(sweep, base)
    key = hashlib.sha256(path.read_bytes() + spec_checksum(base).encode()
                         + file_checksum(load_query_set(queries)).encode()).hexdigest()[:10]
    out = results_root / f"sweep-{sweep.name}-{key}"
    cache = results_root / "sweep-cache" / "corpora"
    workers = workers or os.cpu_count() or 1
    profile_dir = out.with_name(out.name + ".profiles")
    profile_dir.mkdir(parents=True, exist_ok=True)

    specs = {c.corpus_key: c.spec for c in cells}
    corpus_dirs: dict[str, str] = {}
    tick = progress("sweep corpora", len(specs)) if progress else (lambda n: None)
    with ProcessPoolExecutor(max_workers=workers) as ex:
        futs = {ex.submit(_prepare_corpus, s.model_dump(mode="json"), str(cache), str(queries)): k for k, s in specs.items()}
        for f in as_completed(futs):
            corpus_dirs[futs[f]] = f.result()
            tick(1)

    # Cells that are the same run (e.g. the base and "corruption x1") share one run.
    groups: dict[tuple, list[Cell]] = {}
    for c in cells:
        sig = (c.corpus_key, json.dumps([c.profile_overrides, c.behaviour_overrides], sort_keys=True, default=str))
        groups.setdefault(sig, []).append(c)
    jobs = {}
    tick = progress("sweep cells", len(groups)) if progress else (lambda n: None)
    set_name = load_query_set(queries).qset.name
    with ProcessPoolExecutor(max_workers=workers) as ex:
        for group in groups.values():
            c = group[0]
            names, baseline = _cell_profiles(sweep, c, profile_dir)
            inst = str(instance_dir(Corpus(corpus_dirs[c.corpus_key]), set_name))
            jobs[ex.submit(_run_cell, corpus_dirs[c.corpus_key], inst, names, baseline,
                           str(out.with_name(out.name + ".cells")), sweep.seed,
                           _cell_behaviour(c, profile_dir))] = group
        runs: dict[str, RunResults] = {}
        for f in as_completed(jobs):
            for c in jobs[f]:
                runs[c.id] = f.result()
            tick(1)

    rows = [row for c in cells for row in _rows(c, runs[c.id], sweep)]
    with atomic_dir(out) as tmp:
        with open(tmp / "sweep.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(rows)
        write_json_atomic(tmp / "sweep.json", {"name": sweep.name, "synthetic": True, "sweep": sweep.model_dump(mode="json"),
                                               "cells": [{"id": c.id, "factors": c.factors, "corpus": c.spec.name,
                                                          "run_id": runs[c.id].run_id,
                                                          "inputs": run_inputs(runs[c.id])} for c in cells],
                                               "base": run_inputs(runs[_base(cells).id]),
                                               "rows": rows})
        from bench.sweep.report import write_sweep_report
        write_sweep_report(tmp, sweep, rows)
    return SweepResult(out, rows, sweep)


def _cell_behaviour(c: Cell, folder: Path) -> str | None:
    """A behaviour YAML for a cell that varies the reader, None for the shipped one."""
    if not c.behaviour_overrides:
        return None
    b = behaviour_variant(c.behaviour_overrides)
    p = folder / f"behaviour-{behaviour_checksum(b)[:12]}.yaml"
    if not p.exists():
        with open(p, "w") as fh:
            YAML().dump(b.model_dump(mode="json", exclude_none=True), fh)
    return str(p)


def _cell_profiles(sweep: Sweep, c: Cell, profile_dir: Path) -> tuple[list[str], str]:
    """Profile names or variant YAML paths for a cell, and its baseline."""
    paths: dict[str, str] = {}
    renamed: dict[str, str] = {}
    for name, over in c.profile_overrides.items():
        v = variant(load_profile(name), over)
        p = profile_dir / f"{v.name}.yaml"
        if not p.exists():
            with open(p, "w") as fh:
                YAML().dump(v.model_dump(mode="json"), fh)
        paths[name] = str(p)
        renamed[name] = v.name
    names = []
    for name in sweep.profiles:
        prof = load_profile(name)
        if prof.kind == "union" and any(m in paths for m in prof.union_of) and name not in paths:
            data = prof.model_dump(mode="json")
            data["union_of"] = [paths.get(m, m) for m in prof.union_of]
            data["name"] = f"v-{hashlib.sha256(str(data['union_of']).encode()).hexdigest()[:8]}-{name}"
            p = profile_dir / f"{data['name']}.yaml"
            if not p.exists():
                with open(p, "w") as fh:
                    YAML().dump(data, fh)
            paths[name] = str(p)
        names.append(paths.get(name, name))
    return names, renamed.get(sweep.baseline, sweep.baseline)


def _base(cells: list[Cell]) -> Cell:
    """The cell on the base corpus spec with no change: what a report's run is compared with."""
    return next((c for c in cells if c.factors.get("base")), cells[0])


def show_value(v: Any) -> str:
    """An axis value as a reader writes it (YAML flow style), never a Python repr:
    {modes: [exact, prefix, phonetic], phonetic: soundex}."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {show_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(show_value(x) for x in v) + "]"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


def _rows(c: Cell, run: RunResults, sweep: Sweep) -> list[dict]:
    axis = "base" if c.factors.get("base") else ";".join(c.factors)
    value = "" if c.factors.get("base") else ";".join(show_value(v) for v in c.factors.values())
    out = []
    for base_name, name in zip(sweep.profiles, run.profile_order):
        p = run.profile(name)
        r, m, rc = p.inflation.ratio_of_totals, p.inflation.median, p.mean["recall"]
        ex = p.effort.examined_ratio_of_totals
        out.append({"cell": c.id, "axis": axis, "value": value, "profile": base_name,
                    "ratio": r.value, "ratio_lo": r.lo, "ratio_hi": r.hi,
                    "median": m.value, "median_lo": m.lo, "median_hi": m.hi,
                    "recall": rc.value, "recall_lo": rc.lo, "recall_hi": rc.hi,
                    "examined_ratio": ex.value, "examined_ratio_lo": ex.lo, "examined_ratio_hi": ex.hi,
                    "sift_hours_per_1000": p.sift_hours_per_1000.value,
                    "needs_with_lost": p.queries_with_lost, "needs": p.queries})
    return out


