"""JSON lines written as text by polars expressions, a column at a time.

Why not polars' own JSON writer: it is slow at lists of structs (about 2 s per million records of
the corpus format, against a few tenths this way), while it encodes a flat struct quickly. So each
flat object of a line is encoded in one pass (`flat`) and the nesting is spliced around it as
text (`obj`). Keys are written sorted, as orjson's OPT_SORT_KEYS writes them, so a corpus reads
the same whichever writer made it; strings are escaped by polars' JSON encoder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

import orjson
import polars as pl

Scalar = pl.Expr | str | int | bool | None


def flat(**fields: Scalar) -> pl.Expr:
    """`{"key":value,...}`, keys sorted, from plain values: columns (a null becomes null) or
    constants. One encoding pass for the whole object."""
    return pl.struct(**{k: v if isinstance(v, pl.Expr) else pl.lit(v) for k, v in sorted(fields.items())}) \
        .struct.json_encode()


def members(**fields: Scalar) -> pl.Expr:
    """`"key":value,...` (a flat object without its braces), to splice into a larger object."""
    return flat(**fields).str.slice(1).str.head(-1)


@dataclass(frozen=True)
class Raw:
    """An expression that already is JSON text (from `flat`, `obj` ...), spliced in as it is."""

    expr: pl.Expr


def obj(**fields: Scalar | Raw | list) -> pl.Expr:
    """`{"key":value,...}` with the keys sorted. Plain columns and constants are encoded by
    polars, neighbouring ones in one pass; a `Raw` value is spliced in; a list is a constant."""
    parts: list[pl.Expr | str] = []
    run: dict[str, Scalar] = {}

    def flush() -> None:
        if any(isinstance(v, pl.Expr) for v in run.values()):
            parts.append(members(**run))
        elif run:
            parts.append(orjson.dumps(run).decode()[1:-1])
        run.clear()
        parts.append(",")

    for key, value in sorted(fields.items()):
        if isinstance(value, (Raw, list)):
            if run:
                flush()
            parts.append(orjson.dumps(key).decode() + ":")
            parts.append(value.expr if isinstance(value, Raw) else orjson.dumps(value).decode())
            parts.append(",")
        else:
            run[key] = value
    if run:
        flush()
    return concat(["{", *parts[:-1], "}"])


def list_of_one_if(cond: pl.Expr, item: pl.Expr) -> Raw:
    """`[item]` where `cond` holds, else `[]`."""
    return Raw(pl.when(cond).then(pl.lit("[") + item + pl.lit("]")).otherwise(pl.lit("[]")))


def list_of_one(item: pl.Expr) -> Raw:
    return Raw(pl.lit("[") + item + pl.lit("]"))


def concat(parts: list[pl.Expr | str]) -> pl.Expr:
    """Text pieces and constants joined, neighbouring constants merged into one literal."""
    merged: list[pl.Expr | str] = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        else:
            merged.append(p)
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in merged])


def write_lines(df: pl.DataFrame, column: str, out: IO[bytes]) -> None:
    """The column's text into a binary stream, one line each."""
    # never quoting writes each value exactly; JSON text holds no raw newline to break a line
    df.select(column).write_csv(out, include_header=False, quote_style="never")
