"""From a sweep file to cells: each cell is a corpus spec and a set of profiles. One factor at a
time by default (every axis value against the base); a full grid where the file asks for one."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bench.analyst.model import Behaviour, Reader, load_behaviour
from bench.corpus.generate import spec_checksum
from bench.corpus.spec import CorpusSpec
from bench.errors import SpecError
from bench.profiles.model import Profile, load_profile
from bench.specio import locate
from bench.sweep.model import Sweep


@dataclass
class Cell:
    id: str
    factors: dict[str, Any]               # axis -> value ("base" for the base cell)
    spec: CorpusSpec
    profile_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # profile -> {property: value}
    behaviour_overrides: dict[str, Any] = field(default_factory=dict)  # reader parameter -> value

    @property
    def corpus_key(self) -> str:
        return spec_checksum(self.spec)[:12]


def scaled_spec(base: CorpusSpec, factors: dict[str, Any]) -> CorpusSpec:
    d = base.model_dump(mode="json")
    if "size" in factors:
        k = factors["size"] / base.records
        for f in ("people", "vehicles", "phones", "addresses", "events"):
            d[f] = max(10, int(round(d[f] * k)))
        d["records"] = int(factors["size"])
    if "corruption_scale" in factors:
        for s in d["sources"].values():
            s["corruption"] = {k: min(1.0, v * factors["corruption_scale"]) for k, v in s["corruption"].items()}
    if "corruption_kind" in factors:
        for s in d["sources"].values():
            s["corruption"] = {k: (v if k == factors["corruption_kind"] else 0.0) for k, v in s["corruption"].items()}
    if "surname_skew" in factors:
        d["surname_skew"] = factors["surname_skew"]
    d["name"] = base.name
    content = hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:8]
    d["name"] = f"{base.name}-{content}"  # same content, same name: cells share corpora
    return CorpusSpec.model_validate(d)


def set_path(data: dict, dotted: str, value: Any) -> dict:
    """Set a dotted property (fields.person.surname.modes) on a profile's data; KeyError if absent."""
    out = copy.deepcopy(data)
    parts = _split(dotted, out)
    node = out
    for p in parts[:-1]:
        node = node[p]
    if parts[-1] not in node:
        raise KeyError(dotted)
    node[parts[-1]] = value
    return out


def _split(dotted: str, data: dict) -> list[str]:
    """fields.person.surname.modes -> [fields, person.surname, modes]: field names hold a dot."""
    parts = dotted.split(".")
    if parts[0] == "fields" and len(parts) >= 3:
        return ["fields", f"{parts[1]}.{parts[2]}", *parts[3:]]
    return parts


def variant(profile: Profile, overrides: dict[str, Any]) -> Profile:
    data = profile.model_dump(mode="json")
    for prop, value in overrides.items():
        data = set_path(data, prop, value)
    key = profile.name + "@" + ",".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in overrides.items())
    data["name"] = "v-" + hashlib.sha256(key.encode()).hexdigest()[:8] + "-" + profile.name
    data["label"] = profile.label + " [" + ", ".join(f"{k}={v}" for k, v in overrides.items()) + "]"
    return Profile.model_validate(data)


def check(sweep: Sweep, path: Path, pos: dict) -> None:
    """Every axis value must make a valid corpus spec or profile, before any cell runs."""
    problems = []
    axes = sweep.axes
    for name in ("size", "corruption_scale", "corruption_kind", "surname_skew"):
        if name in axes.model_fields_set and not getattr(axes, name):
            problems.append((locate(path, pos, ("axes", name)), "empty axis"))
    if not any(getattr(axes, a) for a in ("size", "corruption_scale", "corruption_kind", "surname_skew", "profile",
                                          "behaviour")):
        problems.append((locate(path, pos, ("axes",)), "no axis to vary"))
    for i, ax in enumerate(axes.profile):
        if ax.profile not in sweep.profiles:
            problems.append((locate(path, pos, ("axes", "profile", i, "profile")),
                             f"profile {ax.profile!r} is not among the sweep's profiles"))
            continue
        base = load_profile(ax.profile)
        for j, v in enumerate(ax.values):
            try:
                variant(base, {ax.property: v})
            except KeyError:
                problems.append((locate(path, pos, ("axes", "profile", i, "property")),
                                 f"unknown property {ax.property!r} of profile {ax.profile}"))
                break
            except ValidationError as e:
                problems.append((locate(path, pos, ("axes", "profile", i, "values", j)),
                                 f"value makes an invalid profile: {e.errors()[0]['msg']}"))
    central = load_behaviour().central
    for i, bx in enumerate(axes.behaviour):
        for j, v in enumerate(bx.values):
            try:
                Reader(**{**central.model_dump(), bx.parameter: _reader_value(bx.parameter, v)})
            except ValidationError as e:
                problems.append((locate(path, pos, ("axes", "behaviour", i, "values", j)),
                                 f"value makes an invalid reader: {e.errors()[0]['msg']}"))
    if problems:
        raise SpecError(problems)


def check_sizes(sweep: Sweep, base: CorpusSpec, path: Path, pos: dict) -> None:
    """Every size must make a valid spec of the base corpus (its entities scale with the records, and
    a spec's bounds, such as the ties its communities make, may then be passed), before any cell runs."""
    problems = []
    for i, size in enumerate(sweep.axes.size):
        try:
            scaled_spec(base, {"size": size})
        except ValidationError as e:
            err = e.errors()[0]
            problems.append((locate(path, pos, ("axes", "size", i)),
                             f"{size:,} records make an invalid spec of {sweep.base_corpus}: "
                             f"{'.'.join(map(str, err['loc']))}: {err['msg']}"))
    if problems:
        raise SpecError(problems)


BEHAVIOUR = "behaviour."  # axis-name prefix of a reader parameter


def _reader_value(parameter: str, v: float) -> float | int:
    return int(v) if parameter in ("page_size", "empty_pages", "read_cap") and float(v).is_integer() else v


def behaviour_variant(overrides: dict[str, Any]) -> Behaviour:
    """The shipped behaviour with some of its central reader's parameters changed."""
    b = load_behaviour()
    central = b.central.model_dump() | {k: _reader_value(k, v) for k, v in overrides.items()}
    return b.model_copy(update={"central": Reader(**central)})


def plan_cells(sweep: Sweep, base: CorpusSpec) -> list[Cell]:
    axes: list[tuple[str, list[Any]]] = []
    for name in ("size", "corruption_scale", "corruption_kind", "surname_skew"):
        vals = list(getattr(sweep.axes, name))
        if vals:
            axes.append((name, vals))
    for ax in sweep.axes.profile:
        axes.append((f"{ax.profile}:{ax.property}", list(ax.values)))
    for bx in sweep.axes.behaviour:
        axes.append((BEHAVIOUR + bx.parameter, list(bx.values)))
    combos: list[dict[str, Any]] = [{}]
    if sweep.design == "full_grid":
        combos = [dict(zip([a for a, _ in axes], vs)) for vs in itertools.product(*[v for _, v in axes])]
    else:
        combos += [{a: v} for a, vals in axes for v in vals]
    cells, seen = [], set()
    for f in combos:
        corpus_f = {k: v for k, v in f.items() if ":" not in k and not k.startswith(BEHAVIOUR)}
        reader_f = {k[len(BEHAVIOUR):]: v for k, v in f.items() if k.startswith(BEHAVIOUR)}
        prof_f: dict[str, dict[str, Any]] = {}
        for k, v in f.items():
            if ":" in k:
                p, prop = k.split(":", 1)
                prof_f.setdefault(p, {})[prop] = v
        cid = hashlib.sha256(json.dumps(f, sort_keys=True, default=str).encode()).hexdigest()[:10]
        if cid in seen:
            continue
        seen.add(cid)
        cells.append(Cell(cid, f or {"base": True}, scaled_spec(base, corpus_f), prof_f, reader_f))
    return cells
