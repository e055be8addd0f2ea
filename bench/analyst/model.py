"""The modelled analyst's reading behaviour, declared in YAML (bench/analyst/behaviour.yaml is the
shipped one and the example the tests load). Every parameter is named and sourced there."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bench.specio import load_yaml, validate

Purpose = Literal["identify", "everything", "read_all"]
PARAMETERS = ("page_size", "empty_pages", "read_cap", "persistence", "miss_rate", "reformulate")
INTEGERS = ("page_size", "empty_pages", "read_cap")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reader(Strict):
    """One reader: how they page through a list and when they stop."""

    page_size: int = Field(gt=0, le=10_000)
    empty_pages: int = Field(ge=1, le=1_000)
    read_cap: int = Field(gt=0)
    persistence: float = Field(gt=0, lt=1)
    miss_rate: float = Field(ge=0, lt=1)
    # Whether the analyst formulates a free-text search a criterion at a time, narrowing while it
    # returns more than `narrow_above` records, instead of typing every criterion at once.
    reformulate: bool = False


class Range(Strict):
    """A parameter's documented range: a list of values, or a uniform interval."""

    values: tuple[float, ...] | None = Field(None, min_length=1)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _one(self) -> "Range":
        if (self.values is None) == (self.low is None or self.high is None):
            raise ValueError("give either `values: [...]` or both `low` and `high`")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("low is above high")
        return self

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.values is not None:
            return rng.choice(np.asarray(self.values, dtype=np.float64), size=n)
        return rng.uniform(self.low, self.high, size=n)


class Behaviour(Strict):
    """bench/analyst/behaviour.yaml."""

    schema_version: Literal[1] = 1
    central: Reader
    purpose_by_kind: dict[str, Purpose]
    ranges: dict[Literal["page_size", "empty_pages", "read_cap", "persistence", "miss_rate", "reformulate"], Range]
    narrow_above: int = Field(200, gt=0)
    samples: int = Field(200, ge=1, le=100_000)
    sources: dict[str, str]

    @model_validator(mode="after")
    def _complete(self) -> "Behaviour":
        if "default" not in self.purpose_by_kind:
            raise ValueError("purpose_by_kind needs a `default` entry")
        if self.central.reformulate:
            raise ValueError("central.reformulate: the central reader formulates as each profile declares "
                             "(free_text.strategy); sample reformulation through ranges.reformulate, or "
                             "sweep free_text.strategy: incremental")
        unsourced = [p for p in (*PARAMETERS, "purpose_by_kind", "narrow_above") if p not in self.sources]
        if unsourced:
            raise ValueError(f"sources: say where {', '.join(unsourced)} come from (or 'assumed')")
        return self

    @property
    def formulations(self) -> bool:
        """Does any sampled reader reformulate? Then free-text profiles are searched
        a second time, the narrowing way (ProfileSet.narrowing)."""
        r = self.ranges.get("reformulate")
        return r is not None and (any(r.values) if r.values is not None else (r.high or 0) >= 0.5)

    def purpose(self, kind: str) -> Purpose:
        return self.purpose_by_kind.get(kind, self.purpose_by_kind["default"])

    def sample(self, seed: int) -> list[Reader]:
        """`samples` readers drawn from the ranges (parameters without a range keep the central
        value), seeded so that a rerun draws the same readers."""
        rng = np.random.default_rng([seed, 20])
        cols = {p: (self.ranges[p].draw(rng, self.samples) if p in self.ranges
                    else np.full(self.samples, getattr(self.central, p), dtype=np.float64)) for p in PARAMETERS}
        return [Reader(**{p: reader_value(p, cols[p][i]) for p in PARAMETERS}) for i in range(self.samples)]


def reader_value(parameter: str, v: float) -> float | int | bool:
    """A drawn or given number as the reader parameter's type."""
    if parameter == "reformulate":
        return bool(round(float(v)))
    return int(round(float(v))) if parameter in INTEGERS else float(v)


def shipped_path() -> Path:
    return Path(__file__).with_name("behaviour.yaml")


def load_behaviour(path: str | Path | None = None) -> Behaviour:
    path = Path(path) if path else shipped_path()
    data, pos = load_yaml(path)
    return validate(Behaviour, data, path, pos)


def behaviour_checksum(b: Behaviour) -> str:
    return hashlib.sha256(b.model_dump_json().encode()).hexdigest()
