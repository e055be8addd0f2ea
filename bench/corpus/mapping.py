"""The import mapping: which column of an external file is which POLE field, and how each row
names its true entity. Documented by example in corpora/import-example.yaml (loaded by the tests)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bench.corpus.spec import SOURCE_SYSTEMS
from bench.specio import load_yaml, validate


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateColumn(Strict):
    """A date column and its strftime format, or several formats tried in turn (the first that
    parses a cell wins: list an ambiguous pair such as %d/%m/%Y and %m/%d/%Y in the order meant)."""

    column: str
    format: str | list[str] = "%Y-%m-%d"

    @field_validator("format")
    @classmethod
    def _some(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list) and not v:
            raise ValueError("give at least one format")
        return v

    @property
    def formats(self) -> list[str]:
        return [self.format] if isinstance(self.format, str) else list(self.format)


class EntityId(Strict):
    """The true entity: a column, or a regular expression whose first group derives it from a column."""

    column: str
    regex: str | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                if re.compile(v).groups < 1:
                    raise ValueError("the regex needs one group, e.g. rec-(\\d+)-")
            except re.error as e:
                raise ValueError(f"not a regular expression: {e}") from None
        return v


class SourceSystem(Strict):
    """The system a record came from: a constant, or a column whose own names `values` may map
    onto polebench's systems (profiles say which systems each modelled search can see)."""

    column: str | None = None
    constant: str | None = None
    values: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one(self) -> "SourceSystem":
        if (self.column is None) == (self.constant is None):
            raise ValueError("give either column or constant")
        if self.values and self.column is None:
            raise ValueError("values maps a column's names: give column with it")
        for v in ([self.constant] if self.constant is not None else []) + list(self.values.values()):
            if v not in SOURCE_SYSTEMS:
                raise ValueError(f"unknown source system {v!r}; known: {', '.join(SOURCE_SYSTEMS)}")
        return self


class PersonColumns(Strict):
    forename: str | None = None
    middle: str | None = None
    surname: str
    dob: DateColumn | None = None
    sex: str | None = None


class AddressColumns(Strict):
    lines: tuple[str, ...] = ()
    town: str | None = None
    postcode: str | None = None


class Mapping(Strict):
    """An import mapping. Example: corpora/import-example.yaml (loaded by the tests)."""

    schema_version: Literal[1] = 1
    origin: str = Field(description="where the records come from, in words")
    licence: str = Field(description="the licence the source file is under")
    synthetic: bool = Field(description="true when the source records are themselves synthetic")
    delimiter: str = ","
    record_id: str
    entity_id: EntityId
    source_system: SourceSystem = SourceSystem(constant="intel")
    record_date: DateColumn | None = None
    person: PersonColumns
    address: AddressColumns = AddressColumns()
    phone: str | None = None
    vehicle_vrm: str | None = None
    text: tuple[str, ...] = Field((), description="columns joined into the record's free text")
    unmapped: Literal["keep_as_text", "drop"] = "keep_as_text"
    on_error: Literal["fail", "skip", "blank"] = Field("fail", description=(
        "a row that fails a check: fail the import, skip the row, or (blank) keep a row whose only "
        "faults are unreadable fields, with those fields empty; a row without a usable id still fails"))

    def columns(self) -> dict[tuple, str]:
        """Every column the mapping names, keyed by where in the mapping it is named."""
        out: dict[tuple, str] = {("record_id",): self.record_id, ("entity_id", "column"): self.entity_id.column}
        if self.source_system.column:
            out[("source_system", "column")] = self.source_system.column
        if self.record_date:
            out[("record_date", "column")] = self.record_date.column
        for f in ("forename", "middle", "surname", "sex"):
            if getattr(self.person, f):
                out[("person", f)] = getattr(self.person, f)
        if self.person.dob:
            out[("person", "dob", "column")] = self.person.dob.column
        for i, c in enumerate(self.address.lines):
            out[("address", "lines", i)] = c
        for f in ("town", "postcode"):
            if getattr(self.address, f):
                out[("address", f)] = getattr(self.address, f)
        for f in ("phone", "vehicle_vrm"):
            if getattr(self, f):
                out[(f,)] = getattr(self, f)
        for i, c in enumerate(self.text):
            out[("text", i)] = c
        return out


def load_mapping(path: Path) -> tuple[Mapping, dict]:
    data, pos = load_yaml(path)
    return validate(Mapping, data, path, pos), pos
