"""Closed vocabularies a need may name (event types, MO terms, vehicle makes and colours,
postcode districts), read from the corpus truth. A value outside them is a typing error in the
query set, not a need the corpus cannot answer, and is reported as such with the closest known
value: `burgalry` is not 'target not in corpus' but 'unknown event type; closest: burglary'."""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass

from bench.queries.model import Need
from bench.queries.truth import Truth


@dataclass(frozen=True)
class Unknown:
    """One value a need names that the corpus's vocabulary does not hold."""

    loc: tuple  # the key path of the value inside the need, e.g. ("event", "types", 0)
    what: str
    value: str
    known: tuple[str, ...]

    def message(self) -> str:
        if not self.known:
            return f"unknown {self.what} {self.value!r}: the corpus holds no {self.what} at all"
        close = difflib.get_close_matches(self.value.lower(), self.known, n=1, cutoff=0.6)
        hint = f"; closest: {close[0]!r}" if close else ""
        shown = ", ".join(self.known[:40]) + (f" ... ({len(self.known)} in all)" if len(self.known) > 40 else "")
        return f"unknown {self.what} {self.value!r}{hint}; known: {shown}"


class Vocabulary:
    """The values of each closed field as the truth holds them, compared case-insensitively as
    the judge compares them."""

    def __init__(self, truth: Truth):
        self.truth = truth

    @functools.cached_property
    def values(self) -> dict[str, tuple[str, ...]]:
        # from each field's distinct values, not a walk over every event, vehicle and address
        t = self.truth
        return {"event type": _sorted(v for v in t.distinct("event", "type") if v is not None),
                "MO term": _sorted(v.lower() for v in t.distinct("event", "mo") if v is not None),
                "vehicle make": _sorted(v.lower() for v in t.distinct("vehicle", "make") if v),
                "vehicle colour": _sorted(v.lower() for v in t.distinct("vehicle", "colour") if v),
                "postcode district": _sorted(v.split()[0].upper() for v in t.distinct("address", "postcode") if v)}

    def unknown(self, need: Need) -> list[Unknown]:
        out: list[Unknown] = []

        def check(loc: tuple, what: str, value: str | None, key: str) -> None:
            if value is not None and key not in set(self.values[what]):
                out.append(Unknown(loc, what, value, self.values[what]))
        if need.event:
            for i, t in enumerate(need.event.types):
                check(("event", "types", i), "event type", t, t)
            for i, t in enumerate(need.event.terms):
                check(("event", "terms", i), "MO term", t, t.lower())
        if need.vehicle:
            for part in ("make", "colour"):
                v = getattr(need.vehicle, part)
                check(("vehicle", part), f"vehicle {part}", v, (v or "").lower())
        if need.location and need.location.district:
            check(("location", "district"), "postcode district", need.location.district,
                  need.location.district.upper())
        return out


def _sorted(values) -> tuple[str, ...]:
    return tuple(sorted(set(values)))
