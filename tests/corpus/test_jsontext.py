"""JSON lines built as text by polars expressions read back as the values they were built from,
whatever the strings hold, with keys in orjson's sorted order."""

from __future__ import annotations

import io

import orjson
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus import jsontext as jt

texts = st.lists(st.one_of(st.none(), st.text()), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(a=texts, flag=st.booleans())
def test_objects_read_back_as_built(a, flag):
    df = pl.DataFrame({"a": a, "b": [s or "" for s in a]}, schema={"a": pl.String, "b": pl.String})
    line = jt.obj(z=pl.col("a"), y=jt.list_of_one_if(pl.col("b") != "", jt.flat(v=pl.col("b"), k="c")),
                  m=[], c=-1, d=flag, e=None, n=jt.list_of_one(jt.flat(x=pl.col("a"))), f=pl.col("b"))
    got = [orjson.loads(t) for t in df.select(line=line)["line"]]
    want = [{"c": -1, "d": flag, "e": None, "f": b, "m": [], "n": [{"x": s}], "y": [{"k": "c", "v": b}] if b else [],
             "z": s} for s, b in zip(a, df["b"])]
    assert got == want
    assert all(list(g) == sorted(g) for g in got)


@settings(max_examples=30, deadline=None)
@given(a=st.lists(st.text(), min_size=1, max_size=30))
def test_write_lines_writes_one_line_per_row(a):
    df = pl.DataFrame({"a": a}).select(line=jt.flat(s=pl.col("a")))
    out = io.BytesIO()
    jt.write_lines(df, "line", out)
    lines = out.getvalue().decode().split("\n")
    assert lines[-1] == "" and [orjson.loads(x)["s"] for x in lines[:-1]] == a
