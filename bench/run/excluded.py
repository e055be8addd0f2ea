"""Which criterion excluded each relevant record a profile missed. A compiled plan is a
conjunction of criteria (surname, date of birth, event date window, MO words...); each criterion is
searched on its own, on the same engine, and a missed record is put down to every criterion it
does not meet. A record that meets them all was missed for another mechanical reason: past the
profile's result cap, or its criteria met by different people in one record. Computed by the run
(it needs the engine), summarised per cell by the breakdown and explained in the report."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from bench.backends.base import Backend
from bench.fields import PHONETIC
from bench.plans import All, Any, Form, Fuzzy, GeoRadius, Intersect, Linked, Node, Plan, Range, Regex, Resolve, \
    Scoped, Sequence, Term, Terms, Text, Union_

# Index fields as the criteria of a need that profiles name (person.surname, event.date...).
CRITERION = {"surname": "surname", "forename": "forename", "forename_nick": "forename", "initial": "forename",
             "dob": "date of birth", "sex": "sex", "person_key": "person", "vrm": "registration",
             "vrm_misread": "registration", "make": "vehicle make", "colour": "vehicle colour",
             "phone": "phone number", "postcode": "postcode", "district": "postcode district",
             "street": "street", "lat_e6": "location", "lon_e6": "location", "event_date": "event date",
             "date": "record date", "offence": "offence type", "narrative": "MO words in the narrative",
             "all_text": "words in the record's text", "source": "source system",
             **{f"{part}_{algo}": part for part in ("forename", "surname") for algo in PHONETIC}}
BEYOND_CAP = "matched, but past the result cap"
SPLIT = "each criterion met, but not by the same person or item in the record"


def criteria(node: Node) -> Iterator[Node]:
    """The conjuncts of a plan: every part of an Intersect and every clause of a scope's All,
    flattened; an OR (Any, Union_) or a link search stays one criterion."""
    if isinstance(node, Intersect):
        for p in node.parts:
            yield from criteria(p)
    elif isinstance(node, Scoped) and isinstance(node.clause, All):
        for c in node.clause.clauses:
            yield from criteria(Scoped(node.scope, c))
    else:
        yield node


def _fields(c: object) -> list[str]:
    if isinstance(c, GeoRadius):
        return ["location"]
    if isinstance(c, (All, Any)):
        return [f for x in c.clauses for f in _fields(x)]
    field = getattr(c, "field", None)
    return [CRITERION.get(field, field)] if field else []


def label(node: Node) -> str:
    """A criterion in words, without the need's values, so that it counts across needs."""
    if isinstance(node, Linked):
        return "linked to the named person through the links recorded"
    if isinstance(node, Resolve):
        return f"{node.entity} agreeing field by field as the entity-resolution thresholds say"
    if isinstance(node, Form):
        return "the search form as filled in"
    if isinstance(node, Union_):
        return "any of: " + " | ".join(label(p) for p in node.parts)
    if isinstance(node, Intersect):
        return " and ".join(label(p) for p in node.parts)
    if not isinstance(node, Scoped):
        return type(node).__name__
    c = node.clause
    names = " or ".join(dict.fromkeys(_fields(c)))
    if isinstance(c, All):
        return " and ".join(label(Scoped(node.scope, x)) for x in c.clauses)
    if isinstance(c, GeoRadius):
        return f"location within {c.radius_m:,.0f} m"
    if isinstance(c, Range):
        return f"{names} within the range searched"
    if isinstance(c, Text):
        return f"{names}: {'every' if c.operator == 'and' else 'any'} word searched"
    if isinstance(c, Fuzzy):
        return f"{names} within {c.distance} edit{'s' if c.distance > 1 else ''}"
    if isinstance(c, Regex):
        return f"{names} matching the pattern"
    if isinstance(c, (Term, Terms, Any)):
        return f"{names} as searched"
    return names


def read_formulation(plan: Plan, searches: int) -> Plan:
    """The formulation whose list the analyst read: narrowed searches-1 times (the run's count)."""
    for _ in range(max(0, searches - 1)):
        if plan.narrower is None:
            break
        plan = plan.narrower
    return plan


def excluded_by(backend: Backend, plan: Plan, searches: int, missed: np.ndarray,
                cache: dict[Node, np.ndarray], relevant: np.ndarray | None = None) -> dict[int, list[str]]:
    """For each missed record number, the criteria (in words) it fails. `cache` holds each
    criterion's matches for the need among its `relevant` records (all matches if None), shared
    between profiles that search alike. A union of profiles (Sequence) is not taken apart here:
    its members' own reasons stand."""
    if plan.root is None or isinstance(plan.root, Sequence) or not len(missed):
        return {}
    plan = read_formulation(plan, searches)
    parts = list(criteria(plan.root))
    fails: dict[int, list[str]] = {int(r): [] for r in missed}
    if len(parts) == 1 and plan.cap is None:  # one criterion, uncapped: a missed record failed it
        return {r: [label(parts[0])] for r in fails}
    for node in parts:
        if node not in cache:
            cache[node] = backend.matches(node, relevant)
        why = label(node)
        for r in missed[~np.isin(missed, cache[node])].tolist():
            if why not in fails[r]:  # two clauses alike (two MO words) are one reason
                fails[r].append(why)
    met = np.asarray([r for r, why in fails.items() if not why], np.int64)
    if len(met):
        # only whether these few records match the whole plan is asked, not all it matches
        whole = backend.matches(plan.root, met) if plan.cap is not None else np.empty(0, np.int64)
        for r, inside in zip(met.tolist(), np.isin(met, whole)):
            fails[r].append(BEYOND_CAP if inside else SPLIT)
    return fails
