"""Which profile capabilities a query set exercises, and how often.

A need exercises a capability (a field and a match mode a profile declares) when the plan that
profile runs for it changes once the mode is taken away: the capability is put to use, whether or
not it then finds more. Counting this over a query set shows what the set can measure: a set with
no partial-plate need cannot show what a profile without wildcards loses."""

from __future__ import annotations

from dataclasses import dataclass

from bench.plans import Plan
from bench.profiles.compile import compile_need
from bench.profiles.model import FieldSpec, Profile, ProfileSet
from bench.queries.model import Need

Capability = tuple[str, str]  # (field, mode), e.g. ("person.forename", "nickname")
ENOUGH = 20  # needs per capability for a per-capability mean with a usable interval (assumed)


@dataclass(frozen=True)
class Coverage:
    """Per capability: the profiles that declare it and the needs that exercise it."""

    declared_by: dict[Capability, tuple[str, ...]]
    needs: dict[Capability, tuple[str, ...]]

    def count(self, cap: Capability) -> int:
        return len(self.needs.get(cap, ()))


def without(profile: Profile, field: str, mode: str) -> Profile:
    """The profile less one mode of one field (less the field where it was the only mode)."""
    fields = dict(profile.fields)
    modes = tuple(m for m in fields[field].modes if m != mode)
    if modes:
        fields[field] = FieldSpec(**{**fields[field].model_dump(), "modes": modes,
                                     **({"phonetic": None} if mode == "phonetic" else {}),
                                     **({"fuzzy_distance": None} if mode == "fuzzy" else {})})
    else:
        del fields[field]
    return profile.model_copy(update={"fields": fields})


def _shape(plan: Plan) -> tuple:
    return plan.root, plan.order, plan.cap


def coverage(needs: list[Need], profiles: ProfileSet) -> Coverage:
    """Every capability the profiles declare, with the needs that exercise it under at least one
    profile declaring it."""
    declared: dict[Capability, list[str]] = {}
    for p in profiles.by_name.values():
        for field, spec in p.fields.items():
            for mode in spec.modes:
                declared.setdefault((field, mode), []).append(p.name)
    used: dict[Capability, list[str]] = {cap: [] for cap in declared}
    for cap, names in declared.items():
        lesser = {n: without(profiles[n], *cap) for n in names}
        for need in needs:
            if any(_shape(compile_need(need, profiles[n], profiles)) != _shape(compile_need(need, lesser[n], profiles))
                   for n in names):
                used[cap].append(need.id)
    return Coverage({c: tuple(v) for c, v in sorted(declared.items())}, {c: tuple(v) for c, v in sorted(used.items())})
