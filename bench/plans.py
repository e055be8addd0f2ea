"""Backend-neutral plans: what a compiled need asks an engine to do. Frozen dataclasses, so a
plan can be hashed, compared and shown in a report. Field names come from bench.fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union, get_args

# ---- clauses: evaluated inside one scope (one kind of indexed document)


@dataclass(frozen=True)
class Term:
    field: str
    value: str | int


@dataclass(frozen=True)
class Terms:
    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Fuzzy:
    field: str
    value: str
    distance: int


@dataclass(frozen=True)
class Regex:
    """A whole-value regular expression (wildcards compiled to regex) on a keyword field."""

    field: str
    pattern: str


@dataclass(frozen=True)
class Range:
    field: str
    lo: int
    hi: int


@dataclass(frozen=True)
class GeoRadius:
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class Text:
    """Analysed words, relevance-scored (BM25), combined with the operator."""

    field: str
    text: str
    operator: Literal["and", "or"]


@dataclass(frozen=True)
class All:
    clauses: tuple["Clause", ...]


@dataclass(frozen=True)
class Any:
    clauses: tuple["Clause", ...]


Clause = Union[Term, Terms, Fuzzy, Regex, Range, GeoRadius, Text, All, Any]

# ---- record-level nodes: combine record sets


@dataclass(frozen=True)
class Scoped:
    """Documents of one scope matching a clause, reported as the records that hold them."""

    scope: str
    clause: Clause


@dataclass(frozen=True)
class Intersect:
    parts: tuple["Node", ...]


@dataclass(frozen=True)
class Union_:
    """Records of any part (scores: the best part's)."""

    parts: tuple["Node", ...]


@dataclass(frozen=True)
class Sequence:
    """Each plan's records in that plan's own order, one plan after another, records already
    seen left out: an analyst who reads one system's list, then the other's new records."""

    plans: tuple["Plan", ...]


@dataclass(frozen=True)
class Linked:
    """People co-mentioned with the seed's people in the same records (links as recorded),
    followed `hops` times; returns the records of those people matched on `match_on`."""

    seed: Scoped
    hops: int
    match_on: tuple[str, ...]


@dataclass(frozen=True)
class Resolve:
    """Entity-resolution search (a `reference` profile): the records whose person, plate or phone,
    as written, agrees field by field with what the need gives, under the rules' thresholds, each
    record tagged with the candidate person, plate or number it most likely concerns (one entry
    of the list the analyst reads). `query` and `rules` are (name, value) pairs, sorted."""

    entity: Literal["person", "vehicle", "phone"]
    query: tuple[tuple[str, object], ...]
    rules: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Form:
    """A search form as the analyst filled it in from the need: (field, value) pairs, for a
    system under test that is asked per need (the http backend's need-level adapters), not
    through a profile's clauses. Its records come in the system's own order."""

    fields: tuple[tuple[str, str], ...]


Node = Union[Scoped, Intersect, Union_, Linked, Sequence, Resolve, Form]
# The kinds by name, as backends declare what they run (Backend.SUPPORTS) and adapters what a
# service can be asked.
CLAUSE_KINDS = tuple(t.__name__ for t in get_args(Clause))
NODE_KINDS = tuple(t.__name__ for t in get_args(Node))


@dataclass(frozen=True)
class Lost:
    """A criterion the profile could not express (dropped) or expressed less tolerantly (weakened)."""

    criterion: str
    capability: str
    effect: Literal["dropped", "weakened"]
    reason: str


@dataclass(frozen=True)
class Plan:
    root: Node | None  # None: nothing the profile can search with
    order: Literal["relevance", "date_desc", "given"]
    cap: int | None
    lost: tuple[Lost, ...] = ()
    # An analyst who gets more than `narrow_above` records back searches again with `narrower`
    # (the same need with the next criterion they know added); None: they read what came back.
    narrower: "Plan | None" = None
    narrow_above: int | None = None


def has_text(c: Clause) -> bool:
    """Does a clause score by relevance anywhere inside it?"""
    return isinstance(c, Text) or any(has_text(x) for x in getattr(c, "clauses", ()))


def geo_of(c: Clause) -> GeoRadius | None:
    """The radius test of a clause, alone or among an All's parts (backends post-filter by it)."""
    if isinstance(c, GeoRadius):
        return c
    if isinstance(c, All):
        return next((x for x in c.clauses if isinstance(x, GeoRadius)), None)
    return None


def nodes_of(node: object, kind: type) -> list:
    """Every node or clause of a kind inside a plan's root (and its member plans)."""
    out = [node] if isinstance(node, kind) else []
    for attr in ("clause", "seed"):
        if hasattr(node, attr):
            out += nodes_of(getattr(node, attr), kind)
    for attr in ("clauses", "parts"):
        for child in getattr(node, attr, ()):
            out += nodes_of(child, kind)
    for plan in getattr(node, "plans", ()):
        step = plan
        while step is not None and step.root is not None:
            out += nodes_of(step.root, kind)
            step = step.narrower
    return out


def node_kinds(node: object) -> set[str]:
    """Every node and clause kind used in a plan (backends declare which they support)."""
    return {type(n).__name__ for n in nodes_of(node, object)}
