"""run.json as a typed model: what a finished run measured, in one definition that the runner
writes and the report, gates, sweep and subject access read. A reader gets attributes checked
when the file is loaded, not dict paths spelled again in each module, and a damaged run.json
(cut short, edited, written by another version) is refused with the file and field named.

JSON has no NaN: an undefined figure (a mean over no needs, a ratio to a baseline total of 0)
is NaN in memory and null in the file, so every estimate's number is `float | None`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from bench.analyst.model import Purpose, Range, Reader
from bench.errors import Location, PolebenchError, SpecError
from bench.metrics.registry import named
from bench.profiles.model import compared_union
from bench.provenance import Provenance
from bench.specio import dotted

RUN_FILE = "run.json"
SCHEMA_VERSION = 1
Number = float | None  # None: undefined (null in run.json, NaN in memory)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Estimate(_Model):
    """A figure with its 95% bootstrap interval over `n` needs."""

    value: Number
    lo: Number
    hi: Number
    n: int

    @property
    def defined(self) -> bool:
        return self.value is not None and self.value == self.value


class Spread(_Model):
    """A figure over sampled reading behaviours: median and 10-90% range over `n` of them."""

    median: Number
    p10: Number
    p90: Number
    n: int


class Sometimes(_Model):
    """A measure undefined for some needs: its median over the others, and how many ('never')."""

    median: Estimate
    never: int


class Carrier(_Model):
    qid: str
    volume: float
    share: Number


class Inflation(_Model):
    median: Estimate
    mean: Estimate
    geometric_mean: Estimate
    ratio_of_totals: Estimate
    undefined: int
    distribution: dict[Literal["p10", "p25", "p50", "p75", "p90"], Number]
    carriers: list[Carrier]


class Effort(_Model):
    """Records examined and found against the baseline's; plus, by name, each measure of the
    registry that aggregates as `median_defined` (a Sometimes)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, Sometimes] = Field(init=False)
    examined_ratio_of_totals: Estimate
    found_ratio_of_totals: Estimate
    examined_total: float
    searches_total: float

    @model_validator(mode="after")
    def _registry(self) -> "Effort":
        _as_registered(self.__pydantic_extra__ or {}, named("median_defined"))
        return self

    def sometimes(self, measure: str) -> Sometimes:
        return (self.__pydantic_extra__ or {})[measure]


def _as_registered(held: dict, registered: tuple[str, ...]) -> dict:
    """A map holding one entry for each measure of the registry that aggregates its way, no other."""
    lacks, unknown = [m for m in registered if m not in held], sorted(set(held) - set(registered))
    if lacks or unknown:
        raise ValueError("; ".join(([f"lacks {', '.join(lacks)}"] if lacks else [])
                                   + ([f"holds {', '.join(unknown)}, not a measure aggregated here"] if unknown else [])))
    return held


Means = Annotated[dict[str, Estimate], AfterValidator(lambda d: _as_registered(d, named("mean") + named("mean_defined")))]


class Latency(_Model):
    p50: Number
    p95: Number


class Block(_Model):
    """A profile's aggregates over a set of needs (all of them, or those of one kind)."""

    queries: int
    failed: int
    returned_nothing: int
    mean: Means
    volume_total: int
    missed_total: int
    relevant_total: int
    queries_with_lost: int
    lost_capabilities: dict[str, int]
    latency_ms: Latency
    inflation: Inflation
    effort: Effort
    sift_hours_per_1000: Estimate
    extra_sift_hours_per_1000: Estimate


class Cell(Estimate):
    """Recall over the relevant records in one cell (an error kind, a source system); where the
    run could say, the criteria that most often excluded its missed records, with how many each."""

    relevant: int
    found: int
    missed: int | None = None
    excluded_by: list[tuple[str, int]] | None = None


class Entity(_Model):
    needs: int
    person_found: Estimate
    distinct_people: Estimate
    records_per_person: Estimate


class Breakdown(_Model):
    kind: dict[str, Cell]
    source: dict[str, Cell]
    entity: Entity


class Missed(_Model):
    rid: str
    written: str
    kinds: list[str]
    source: str


class Worst(_Model):
    qid: str
    recall: float
    missed: list[Missed]
    missed_total: int
    lost: list[str]


class GainCurve(_Model):
    budgets: list[int]
    recall: list[Number]


class Wss(_Model):
    """Work saved over sampling at 95% recall (Cohen et al. 2006); no value for a profile whose
    list is read one candidate entity at a time (entries and records are different units)."""
    value: Number
    never: int


class ProfileAggregates(Block):
    by_kind: dict[str, Block]
    gain_curve: GainCurve
    wss_95: Wss
    breakdown: Breakdown
    worst: list[Worst]


class Comparison(_Model):
    profile: str
    measure: str
    n: int
    mean_diff: Number
    p: Number
    p_adjusted: Number


class Collapse(_Model):
    profile: str
    kind: str
    recall: float
    baseline: float


class BehaviourSpread(_Model):
    examined_ratio: Spread
    found_ratio: Spread


class Behaviours(_Model):
    """The analyst's reading behaviour: the central reader, and the figures over the sampled ones."""

    central: Reader
    purpose_by_kind: dict[str, Purpose]
    ranges: dict[str, Range]
    samples: int
    sources: dict[str, str]
    narrow_above: int  # a reformulating reader narrows a free-text search while it returns more
    reformulating: list[str]  # the free-text profiles that were also searched the narrowing way
    profiles: dict[str, BehaviourSpread]


class Aggregates(_Model):
    baseline: str
    profiles: dict[str, ProfileAggregates]
    comparisons: list[Comparison]
    behaviour: Behaviours
    collapses: list[Collapse]


class Corruption(_Model):
    applied: int
    eligible: int
    hidden: int


class CorpusInfo(_Model):
    path: str
    name: str
    checksum: str
    seed: int | None
    origin: str
    synthetic: bool
    licence: str | None
    source_file: str | None
    counts: dict[str, int | dict[str, int]]
    corruption: dict[str, dict[str, Corruption]]
    rates: dict[str, dict[str, float]]

    @property
    def records(self) -> int:
        return int(self.counts["records"])  # type: ignore[arg-type]

    @property
    def provenance(self) -> Provenance:
        return Provenance(self.synthetic, self.origin, self.licence)


class QuerySetInfo(_Model):
    """The instantiated set's own description (its meta.json) and what the run counted of it."""

    format: int
    query_set: str
    source: str
    set_checksum: str
    corpus: str
    corpus_checksum: str
    synthetic: bool
    subjects: dict[str, str] | None = None  # a subject access set: need -> the person it is about
    queries: int
    kinds: list[str]


class ProfileInfo(_Model):
    label: str
    kind: str
    description: str
    assumptions: dict[str, str]
    union_of: list[str]
    deletion: str
    audit_s62: list[str]
    upper_bound: bool
    upper_bound_of: str | None = None  # the profile whose volume this one bounds from above
    colour: str | None = None  # as its profile file declares it (charts)


class Inputs(_Model):
    """What the run id is derived from."""

    corpus_checksum: str
    set_checksum: str
    profiles: dict[str, str]
    profile_order: list[str]
    backend: str
    baseline: str
    seconds_per_record: float
    seed: int
    version: str
    behaviour: str
    backend_config: str | None = None  # the checksum of an http backend's adapter file, where one was given


class RunResults(_Model):
    """A finished run: results/<run id>/run.json."""

    schema_version: Literal[1]
    run_id: str
    synthetic: bool
    created_at: str
    versions: dict[str, str]
    inputs: Inputs
    corpus: CorpusInfo
    query_set: QuerySetInfo
    profiles: dict[str, ProfileInfo]
    profile_order: list[str]
    backend: str
    baseline: str
    seconds_per_record: float
    bootstrap_seed: int
    failed: int
    aggregates: Aggregates
    timings: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _same_profiles(self) -> "RunResults":
        for what, names in (("profiles", self.profiles), ("aggregates.profiles", self.aggregates.profiles)):
            if set(names) != set(self.profile_order):
                raise ValueError(f"{what} ({', '.join(names)}) are not the profile_order's "
                                 f"({', '.join(self.profile_order)})")
        return self

    def profile(self, name: str) -> ProfileAggregates:
        return self.aggregates.profiles[name]

    def label(self, name: str) -> str:
        info = self.profiles.get(name)
        return info.label if info else name

    def upper_bound(self, name: str) -> bool:
        info = self.profiles.get(name)
        return bool(info and info.upper_bound)

    def union(self) -> str | None:
        """The run's union profile of the systems in use today (see compared_union), if it has one."""
        return compared_union(self.profile_order, lambda n: self.profiles[n].kind, self.upper_bound)

    def bound_of(self, name: str) -> str | None:
        """The upper-bound profile of the run that bounds `name` (its upper_bound_of), if any."""
        return next((n for n in self.profile_order if self.profiles[n].upper_bound_of == name
                     and self.upper_bound(n)), None)

    def dump(self) -> dict[str, Any]:
        """As run.json holds it: the keys the runner gave, nothing added (a Range keeps only the
        bounds it was declared with)."""
        return self.model_dump(exclude_unset=True)

    @classmethod
    def from_data(cls, data: Any, path: Path) -> "RunResults":
        """Validated; every problem named with its file and dotted field, as a SpecError (exit 2)."""
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            problems = [(Location(str(path), None, None, dotted(tuple(err["loc"]))),
                         ("unknown key" if err["type"] == "extra_forbidden" else
                          err["msg"].removeprefix("Value error, ")) + _AGAIN)
                        for err in e.errors()[:20]]
            raise SpecError(problems) from None


_AGAIN = ("; the run folder is damaged or was written by another version of polebench: run again "
          "with --force to start the run again")


def damaged(path: Path, field: str, message: str, line: int | None = None) -> SpecError:
    """A file of a finished run folder that is not as the run wrote it."""
    return SpecError.single(path, field, message + _AGAIN, line=line)


def read_results(run_dir: Path) -> RunResults:
    """A finished run's run.json, checked whole: a folder without one, or a file cut short, edited
    or from another version, is refused naming the file and the field, with how to start again."""
    path = run_dir / RUN_FILE
    if not path.is_file():
        raise PolebenchError(f"{run_dir}: not a finished run folder (no {RUN_FILE})")
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise SpecError.single(path, "", f"not valid JSON ({e}){_AGAIN}") from None
    return RunResults.from_data(data, path)


def run_inputs(run: RunResults) -> dict:
    """What a run measured: the corpus and the query set, by name and checksum."""
    q = run.query_set
    return {"corpus": q.corpus, "corpus_checksum": q.corpus_checksum, "query_set": q.query_set,
            "set_checksum": q.set_checksum}


def input_differences(mine: dict, theirs: dict, what: str) -> list[str]:
    """How two sets of inputs (run_inputs) differ, in words; empty when they measure the same needs
    on the same records. `what` names the other side ("the previous run", "the sweep's base")."""
    out = []
    if mine.get("corpus_checksum") != theirs.get("corpus_checksum"):
        out.append(f"corpus: this run's is {mine.get('corpus')} ({(mine.get('corpus_checksum') or '?')[:12]}), "
                   f"{what}'s is {theirs.get('corpus')} ({(theirs.get('corpus_checksum') or '?')[:12]})")
    if mine.get("set_checksum") != theirs.get("set_checksum"):
        out.append(f"query set: this run's is {mine.get('query_set')} ({(mine.get('set_checksum') or '?')[:12]}), "
                   f"{what}'s is {theirs.get('query_set')} ({(theirs.get('set_checksum') or '?')[:12]})")
    return out
