"""The export mapping: how a corpus's records are written for a system under test to load, the
inverse of the import mapping (which field goes to which column, date formats, name order, how
several people of one record are laid out). Documented by example in corpora/export-example.yaml
(loaded by the tests)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bench.corpus.spec import SOURCE_SYSTEMS
from bench.specio import load_model


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_format(fmt: str) -> str:
    try:
        dt.date(2001, 2, 3).strftime(fmt)
    except ValueError as e:
        raise ValueError(f"not a strftime format: {e}") from None
    if "%" not in fmt:
        raise ValueError("a date format needs a % directive, e.g. %d/%m/%Y")
    return fmt


class DateOut(Strict):
    """A date column and the strftime format it is written in (an empty date stays empty)."""

    column: str
    format: str = "%Y-%m-%d"

    @field_validator("format")
    @classmethod
    def _fmt(cls, v: str) -> str:
        return _check_format(v)


class NameOut(Strict):
    """The whole name in one column, in the order the system writes it ("SMITH, John Paul")."""

    column: str
    order: Literal["forename_first", "surname_first"] = "surname_first"
    separator: str = Field(", ", description="between surname and the forenames when surname_first; "
                                             "a space when forename_first")
    surname_upper: bool = Field(False, description="surname in capitals, as many police systems write it")


class PersonOut(Strict):
    """Columns of one person mention (each optional: a system without the field leaves it out)."""

    forename: str | None = None
    middle: str | None = None
    surname: str | None = None
    name: NameOut | None = None
    dob: DateOut | None = None
    sex: str | None = None
    role: str | None = None


class PeopleOut(Strict):
    """How the people a record mentions are laid out.
    rows: one row per person (the record's other columns repeated on each), `mention` numbering
    them and `row_id` a column unique per row for systems that key rows;
    numbered: columns repeated with a number (person1_surname ...) up to `max`, a record with
    more people refused rather than cut;
    nested (jsonl only): a list of person objects under `key`."""

    layout: Literal["rows", "numbered", "nested"] = "rows"
    columns: PersonOut
    mention: str | None = Field(None, description="rows: column numbering the person within the record (1, 2 ...)")
    row_id: str | None = Field(None, description="rows: column holding <record id>-<person number>, unique per row")
    max: int | None = Field(None, ge=1, description="numbered: people per record the columns hold")
    numbered: str = Field("person{n}_{column}", description="numbered: how a column name is numbered")
    key: str = Field("people", description="nested: the key holding the list")

    @model_validator(mode="after")
    def _fits(self) -> "PeopleOut":
        if self.layout == "numbered":
            if self.max is None:
                raise ValueError("layout numbered needs max (people per record the columns hold)")
            if "{n}" not in self.numbered or "{column}" not in self.numbered:
                raise ValueError("numbered must hold {n} and {column}, e.g. person{n}_{column}")
        if self.layout != "rows" and (self.mention or self.row_id):
            raise ValueError("mention and row_id belong to layout rows")
        return self


class VehicleOut(Strict):
    vrm: str | None = None
    make: str | None = None
    model: str | None = None
    colour: str | None = None


class LocationOut(Strict):
    address: str | None = None
    borough: str | None = None
    postcode: str | None = None
    lat: str | None = None
    lon: str | None = None


class ExportMapping(Strict):
    """An export mapping. Example: corpora/export-example.yaml (loaded by the tests)."""

    schema_version: Literal[1] = 1
    format: Literal["csv", "jsonl"] = "csv"
    delimiter: str = Field(",", min_length=1, max_length=1)
    file: str = Field("{source}.csv", description="file name per source system; {source} is the system's name")
    source_names: dict[str, str] = Field(default_factory=dict, description=(
        "polebench's source systems (intel, crime, custody, stop_search, property) by the names the system "
        "under test gives them (in file names and the source column); unnamed ones keep polebench's"))
    record_id: str = Field(description="column holding the polebench record id, by which results map back")
    source: str | None = Field(None, description="column naming the record's source system")
    type: str | None = None
    record_date: DateOut | None = Field(None, description="the date the record was written")
    event_date: DateOut | None = Field(None, description="the date of the event as the record gives it")
    offence: str | None = None
    text: str | None = Field(None, description="the record's free text")
    grading: str | None = None
    weapon: str | None = None
    people: PeopleOut
    vehicle: VehicleOut = VehicleOut()
    phone: str | None = None
    location: LocationOut = LocationOut()

    @field_validator("file")
    @classmethod
    def _file(cls, v: str) -> str:
        if "{source}" not in v:
            raise ValueError("the file name needs {source}: one file is written per source system")
        if "/" in v or "\\" in v or v.startswith(".") or v == "export.json":
            raise ValueError("a file name, not a path (no / or \\, no leading dot)")
        return v

    @field_validator("source_names")
    @classmethod
    def _systems(cls, v: dict[str, str]) -> dict[str, str]:
        for k, name in v.items():
            if k not in SOURCE_SYSTEMS:
                raise ValueError(f"unknown source system {k!r}; known: {', '.join(SOURCE_SYSTEMS)}")
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", name):
                raise ValueError(f"{name!r}: names a file, so letters, digits, '.', '_', '+' and '-'")
        if len(set(v.values())) != len(v):
            raise ValueError("two systems under one name would share a file")
        return v

    @model_validator(mode="after")
    def _distinct(self) -> "ExportMapping":
        if self.people.layout == "nested" and self.format != "jsonl":
            raise ValueError("people.layout nested needs format jsonl (a CSV cell holds no list)")
        seen: dict[str, str] = {}
        for where, col in self.columns():
            if col in seen:
                raise ValueError(f"column {col!r} is named twice ({seen[col]} and {where})")
            seen[col] = where
        return self

    def system_name(self, source: str) -> str:
        return self.source_names.get(source, source)

    def person_columns(self) -> list[tuple[str, str]]:
        """(field, column) of one person, in the mapping's order."""
        p = self.people.columns
        out = [(f, getattr(p, f)) for f in ("forename", "middle", "surname") if getattr(p, f)]
        out += [("name", p.name.column)] if p.name else []
        out += [("dob", p.dob.column)] if p.dob else []
        return out + [(f, getattr(p, f)) for f in ("sex", "role") if getattr(p, f)]

    def columns(self) -> list[tuple[str, str]]:
        """(where in the mapping, column) of every column a row holds, in the order written."""
        out = [("record_id", self.record_id)]
        out += [(f, getattr(self, f)) for f in ("source", "type") if getattr(self, f)]
        out += [(f, getattr(self, f).column) for f in ("record_date", "event_date") if getattr(self, f)]
        out += [(f, getattr(self, f)) for f in ("offence", "grading", "weapon", "phone") if getattr(self, f)]
        out += [(f"vehicle.{f}", getattr(self.vehicle, f)) for f in ("vrm", "make", "model", "colour")
                if getattr(self.vehicle, f)]
        out += [(f"location.{f}", getattr(self.location, f)) for f in ("address", "borough", "postcode", "lat", "lon")
                if getattr(self.location, f)]
        pe = self.people
        if pe.layout == "rows":
            out += [(f"people.{f}", getattr(pe, f)) for f in ("mention", "row_id") if getattr(pe, f)]
            out += [(f"people.columns.{f}", c) for f, c in self.person_columns()]
        elif pe.layout == "numbered":
            out += [(f"people.columns.{f} (person {n})", pe.numbered.format(n=n, column=c))
                    for n in range(1, (pe.max or 0) + 1) for f, c in self.person_columns()]
        else:
            out.append(("people.key", pe.key))
        return out + ([("text", self.text)] if self.text else [])


def load_export_mapping(path: Path) -> ExportMapping:
    return load_model(ExportMapping, path)
