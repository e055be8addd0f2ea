"""Sweep files (sweeps/<name>.yaml): a base corpus, a query set, profiles, and axes to vary.
Example: sweeps/example.yaml (loaded by the tests). Every axis is checked before any cell runs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bench.corpus.spec import CORRUPTION_KINDS
from bench.specio import NAME_MAX


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProfileAxis(Strict):
    """Vary one property of one profile, e.g. profile: iip, property: free_text.strategy, values: [naive]."""

    profile: str
    property: str
    values: tuple[Any, ...] = Field(min_length=1)


class BehaviourAxis(Strict):
    """Vary one parameter of the modelled reader (bench/analyst/behaviour.yaml's `central`),
    e.g. parameter: empty_pages, values: [1, 3]."""

    parameter: Literal["page_size", "empty_pages", "read_cap", "persistence", "miss_rate"]
    values: tuple[int | float, ...] = Field(min_length=1)


class Axes(Strict):
    size: tuple[int, ...] = Field((), description="records in the corpus; entities scale with it")
    corruption_scale: tuple[float, ...] = Field((), description="every corruption rate times this")
    corruption_kind: tuple[str, ...] = Field((), description="one corruption kind at a time, the others off")
    surname_skew: tuple[float, ...] = Field((), description="exponent on surname frequencies")
    profile: tuple[ProfileAxis, ...] = ()
    behaviour: tuple[BehaviourAxis, ...] = ()

    @field_validator("size")
    @classmethod
    def _size(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(x < 1000 or x > 5_000_000 for x in v):
            raise ValueError("sizes must be between 1,000 and 5,000,000 records")
        return v

    @field_validator("corruption_scale")
    @classmethod
    def _scale(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(x < 0 or x > 10 for x in v):
            raise ValueError("corruption scales must be between 0 and 10")
        return v

    @field_validator("surname_skew")
    @classmethod
    def _skew(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(x < 0 or x > 4 for x in v):
            raise ValueError("surname skew must be between 0 and 4")
        return v

    @field_validator("corruption_kind")
    @classmethod
    def _kinds(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [k for k in v if k not in CORRUPTION_KINDS]
        if bad:
            raise ValueError(f"unknown corruption kind {bad[0]!r}; known: {', '.join(CORRUPTION_KINDS)}")
        return v


class Sweep(Strict):
    schema_version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=NAME_MAX)
    description: str = ""
    base_corpus: str
    queries: str
    profiles: tuple[str, ...] = ("crimint", "connect", "iip", "connect+iip")
    baseline: str = "crimint"
    design: Literal["one_factor", "full_grid"] = "one_factor"
    seed: int = 0
    axes: Axes
