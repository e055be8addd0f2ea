"""CI gates: thresholds on a run's aggregates, absolute or relative to a previous run.
A gates file is YAML; example: gates.example.yaml (loaded by the tests)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bench.corpus.spec import CORRUPTION_KINDS, SOURCE_SYSTEMS
from bench.errors import SpecError
from bench.metrics.aggregate import MEAN_MEASURES
from bench.run.results import Estimate, RunResults
from bench.specio import load_yaml, locate, validate

# `recall[nickname, crimint] >= 0.9`, `recall[intel, connect] >= 0.5`, `precision[crimint] >= 0.8`
CHECK = re.compile(r"^\s*(?P<metric>[a-z_][a-z0-9_.]*)\s*\[\s*(?:(?P<cell>[a-z_]+)\s*,\s*)?(?P<profile>[A-Za-z0-9_+.*-]+)\s*\]"
                   r"\s*(?P<op>>=|<=|>|<)\s*(?P<value>[-+0-9.eE]+)\s*$")
CELLS = {**{k: "kind" for k in CORRUPTION_KINDS + ("clean", "combined")}, **{s: "source" for s in SOURCE_SYSTEMS}}


def parse_check(text: str) -> dict:
    """A gate written as one line, in the style of ir_measures' measure strings."""
    m = CHECK.match(text)
    if not m:
        raise ValueError("check must look like `recall[nickname, crimint] >= 0.9` or `recall[crimint] >= 0.6`")
    out = {"profile": m["profile"], "op": m["op"], "value": float(m["value"]), "metric": m["metric"]}
    if m["cell"]:
        if m["metric"] != "recall":
            raise ValueError("a cell [kind-or-source, profile] is measured as recall only")
        if m["cell"] not in CELLS:
            raise ValueError(f"unknown cell {m['cell']!r}: a corruption kind ({', '.join(CORRUPTION_KINDS)}, clean, "
                             f"combined) or a source system ({', '.join(SOURCE_SYSTEMS)})")
        out["metric"] = f"breakdown.{CELLS[m['cell']]}.{m['cell']}"
    return out


OPS = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b}


def _either_check_or_parts(schema: dict) -> None:
    """In a gates file a gate is either one `check` line or its parts (name, profile, metric):
    the JSON Schema says so, as the model's before-validator does."""
    parts = ["name", "profile", "metric"]
    schema["required"] = [r for r in schema.get("required", []) if r not in parts]
    schema["anyOf"] = [{"required": ["check"]}, {"required": parts}]


class Gate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_either_check_or_parts)
    name: str
    check: str | None = Field(None, description="the whole gate in one line, e.g. recall[nickname, crimint] >= 0.9")
    profile: str = Field(description="a profile of the run, or * for one gate per profile of the run, each named "
                                     "with its profile")
    metric: str = Field(description="recall, precision, ... (means), or a path such as "
                                    "inflation.ratio_of_totals, inflation.median, sift_hours_per_1000, "
                                    "queries_with_lost, failed, missed_total")
    kind: str | None = Field(None, description="restrict to one kind of need")
    bound: Literal["value", "lo", "hi"] = Field("value", description="which end of the 95% CI to compare")
    op: Literal[">=", "<=", ">", "<"] | None = None
    value: float | None = Field(None, allow_inf_nan=False)  # a threshold of nan failed every gate, with exit 1
    max_increase: float | None = Field(None, ge=0, description="largest allowed relative rise over --previous")
    max_decrease: float | None = Field(None, ge=0, description="largest allowed relative fall below --previous")

    @model_validator(mode="before")
    @classmethod
    def _expand_check(cls, data):
        if isinstance(data, dict) and data.get("check"):
            data = {**data, **parse_check(str(data["check"]))}
            data.setdefault("name", data["check"])
        return data

    @model_validator(mode="after")
    def _one_rule(self) -> "Gate":
        absolute = self.op is not None and self.value is not None
        relative = self.max_increase is not None or self.max_decrease is not None
        if (self.op is None) != (self.value is None):
            raise ValueError("op and value go together")
        if absolute == relative:
            raise ValueError("give either op + value, or max_increase / max_decrease")
        return self

    @property
    def path(self) -> list[str]:
        return ["mean", self.metric] if self.metric in MEAN_MEASURES else self.metric.split(".")


class GatesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_version: Literal[1] = 1
    gates: tuple[Gate, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Outcome:
    gate: Gate
    status: Literal["passed", "failed", "skipped"]
    actual: float | None
    message: str


def _step(block: Any, part: str) -> Any:
    """One part of a metric path: a field of a results model, or a key of one of its maps."""
    if isinstance(block, BaseModel):
        if part not in type(block).model_fields and part not in (block.__pydantic_extra__ or {}):
            raise KeyError(part)
        return getattr(block, part)
    return block[part]


def _lookup(run: RunResults, g: Gate) -> float:
    block: Any = run.profile(g.profile)
    if g.kind:
        block = block.by_kind[g.kind]
    for part in g.path:
        block = _step(block, part)
    if isinstance(block, Estimate):
        block = getattr(block, g.bound)
    elif isinstance(block, BaseModel):
        raise KeyError(g.metric)
    # undefined over the needs it covers (none completed, or none returned anything): a gate on it
    # cannot pass, and says nan rather than calling the metric unknown
    return float("nan") if block is None else float(block)


def _missing(run: RunResults, g: Gate) -> str:
    """Why a gate's metric is not in the run: a breakdown cell exists only where a relevant record
    carries that error or comes from that system (an imported corpus labels no errors)."""
    parts = g.metric.split(".")
    cells = getattr(run.profile(g.profile).breakdown, parts[1], None) if len(parts) > 2 else None
    if parts[0] == "breakdown" and isinstance(cells, dict):
        why = {"kind": f"no relevant record carries a {parts[2]!r} error",
               "source": f"no relevant record comes from {parts[2]!r}"}.get(parts[1], "no such cell")
        return f"this run has no {g.metric!r}: {why} (its {parts[1]} cells: {', '.join(sorted(cells)) or 'none'})"
    return f"unknown metric {g.metric!r}"


ALL = "*"


def every_profile(gates: GatesFile, profiles: list[str]) -> tuple[GatesFile, list[int]]:
    """Gates with profile * become one gate per profile of the run, named `<name> [<profile>]`
    so that a failure names the profile; also the index of each gate's entry in the file."""
    out, where = [], []
    for i, g in enumerate(gates.gates):
        for p in (profiles if g.profile == ALL else [g.profile]):
            out.append(g if g.profile != ALL else g.model_copy(update={"profile": p, "name": f"{g.name} [{p}]"}))
            where.append(i)
    return gates.model_copy(update={"gates": tuple(out)}), where


def load_gates(path: Path, run: RunResults) -> GatesFile:
    """Validate a gates file, and every gate against the run it will judge, all errors at once."""
    data, pos = load_yaml(path)
    gates = validate(GatesFile, data, path, pos)
    problems = []
    profiles = run.aggregates.profiles
    gates, where = every_profile(gates, list(profiles))
    for i, g in zip(where, gates.gates):
        if g.profile not in profiles:
            problems.append((locate(path, pos, ("gates", i, "profile")),
                             f"profile {g.profile!r} is not in this run ({', '.join(profiles)})"))
            continue
        if g.kind and g.kind not in profiles[g.profile].by_kind:
            problems.append((locate(path, pos, ("gates", i, "kind")), f"no need of kind {g.kind!r} in this run"))
            continue
        try:
            _lookup(run, g)
        except (KeyError, TypeError, ValueError):
            problems.append((locate(path, pos, ("gates", i, "metric")), _missing(run, g)))
    if problems:
        raise SpecError(problems)
    return gates


def evaluate(gates: GatesFile, run: RunResults, previous: RunResults | None, caveat: str = "") -> list[Outcome]:
    """`caveat` heads every comparison with the previous run (its inputs differ, say)."""
    out = []
    for g in gates.gates:
        actual = _lookup(run, g)
        if g.op:
            ok = actual == actual and OPS[g.op](actual, g.value)
            out.append(Outcome(g, "passed" if ok else "failed", actual,
                               f"{g.metric}[{g.profile}{', ' + g.kind if g.kind else ''}] = {actual:.4g}, "
                               f"required {g.op} {g.value:g}"))
            continue
        if previous is None:
            out.append(Outcome(g, "skipped", actual, "no --previous run to compare with"))
            continue
        if g.profile not in previous.aggregates.profiles:
            out.append(Outcome(g, "skipped", actual, f"{caveat}the previous run has no profile {g.profile!r}"))
            continue
        before = _lookup(previous, g)
        if before != before or actual != actual:  # undefined (nan) in either run: no change can be shown to hold
            ok, said = False, "undefined in " + ("both runs" if before != before and actual != actual else
                                                 "the previous run" if before != before else "this run")
        else:
            change = (actual - before) / before if before else float("inf") if actual else 0.0
            ok = (g.max_increase is None or change <= g.max_increase) and \
                 (g.max_decrease is None or -change <= g.max_decrease)
            said = f"{change:+.1%}"
        out.append(Outcome(g, "passed" if ok else "failed", actual,
                           f"{caveat}{g.metric}[{g.profile}] {before:.4g} -> {actual:.4g} ({said}); allowed "
                           f"rise {g.max_increase if g.max_increase is not None else '-'}, "
                           f"fall {g.max_decrease if g.max_decrease is not None else '-'}"))
    return out
