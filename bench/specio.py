"""The one YAML reader: plain data plus the line and column of every key, and validation
into pydantic models whose errors point at the file, line and field."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from bench.errors import Location, SpecError

M = TypeVar("M", bound=BaseModel)
Positions = dict[tuple, tuple[int, int]]

# polebench's YAML files are a few KB; the round-trip parser that gives every key its line reads
# about 50k values a second on a busy 2-core machine, so these caps bound a hostile file to
# seconds, not hours (a 50 MB file of keys), and aliases nested to expand a few lines into
# billions of values ("billion laughs") stop at the cap instead of exhausting memory.
MAX_YAML_BYTES = 1 << 20
MAX_VALUES = 200_000
# Names of corpora, query sets, profiles and sweeps name files and folders, joined: a run's folder is
# `<set>-<corpus>-<backend>-<key>` and its work in progress `.<run>.partial-<random>.owner`, and a
# file name has at most 255 bytes. At 64 each, the longest is under 200; a corpus named with 240
# characters failed only at `run` ("File name too long"), naming no field.
NAME_MAX = 64


class _TooMany(Exception):
    pass


def _plain(node: Any, path: tuple, pos: Positions, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooMany
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            line, col = node.lc.key(key)
            pos[path + (key,)] = (line + 1, col + 1)
            out[key] = _plain(value, path + (key,), pos, budget)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            line, col = node.lc.item(i)
            pos[path + (i,)] = (line + 1, col + 1)
            out_list.append(_plain(value, path + (i,), pos, budget))
        return out_list
    return node


def load_yaml(path: str | Path) -> tuple[Any, Positions]:
    """Read a YAML file into plain Python data and a map of key path -> (line, column)."""
    path = Path(path)
    if not path.is_file():
        raise SpecError.single(path, "", "file not found")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise SpecError.single(path, "", f"{path.stat().st_size:,} bytes; a polebench YAML file may hold at "
                               f"most {MAX_YAML_BYTES:,} (use templates rather than writing out thousands of needs)")
    yaml = YAML(typ="rt")
    # Keep dates as text so that pydantic parses them and an impossible date gets a location.
    yaml.constructor.add_constructor("tag:yaml.org,2002:timestamp",
                                     lambda c, n: c.construct_scalar(n))
    try:
        node = yaml.load(_text(path))
        pos: Positions = {}
        return _plain(node, (), pos, [MAX_VALUES]), pos
    except MarkedYAMLError as e:
        mark = e.problem_mark
        raise SpecError.single(path, "", f"not valid YAML: {e.problem}",
                               mark.line + 1 if mark else None,
                               mark.column + 1 if mark else None) from e
    except YAMLError as e:  # e.g. a character YAML does not allow
        raise SpecError.single(path, "", f"not valid YAML: {e}".splitlines()[0]) from e
    except _TooMany:
        raise SpecError.single(path, "", f"holds more than {MAX_VALUES:,} values once its aliases are expanded "
                               f"(aliases nested to multiply are refused)") from None
    except RecursionError:
        raise SpecError.single(path, "", "nested too deeply, or an alias refers to itself") from None


def _text(path: Path) -> str:
    """The file as UTF-8 text; a byte that is not UTF-8, or a NUL, named by line and column."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise SpecError.single(path, "", f"not UTF-8 text (byte 0x{data[e.start]:02x}); save it as UTF-8",
                               line, column) from None
    if "\0" in text:
        at = text.index("\0")
        raise SpecError.single(path, "", "holds a NUL character; a YAML file is text",
                               text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1)
    return text


def dotted(loc: tuple) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts)


def locate(path: str | Path, pos: Positions, loc: tuple) -> Location:
    """The nearest known position for a key path (the key itself, else its parent)."""
    for n in range(len(loc), -1, -1):
        if loc[:n] in pos:
            line, col = pos[loc[:n]]
            return Location(str(path), line, col, dotted(loc))
    return Location(str(path), 1 if not pos else None, None, dotted(loc))


def validate(model: type[M], data: Any, path: str | Path, pos: Positions,
             prefix: tuple = (), context: dict | None = None) -> M:
    """Validate data into a model; every problem becomes one located line of a SpecError."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key" + _did_you_mean(model, tuple(err["loc"]))
            problems.append((locate(path, pos, loc), msg))
        raise SpecError(problems) from None


def _did_you_mean(model: type[BaseModel], loc: tuple) -> str:
    """'; did you mean 'forename'?' for a misspelt key, from the keys the model allows where it
    stands (read from the model's JSON Schema); empty when nothing is close or the place is unclear."""
    try:
        schema = model.model_json_schema()
    except Exception:  # a model whose schema cannot be generated still gets its plain message
        return ""
    defs = schema.get("$defs", {})

    def resolve(node: dict) -> list[dict]:
        if "$ref" in node:
            return resolve(defs.get(node["$ref"].rsplit("/", 1)[-1], {}))
        subs = node.get("anyOf") or node.get("oneOf") or node.get("allOf")
        return [x for sub in subs for x in resolve(sub)] if subs else [node]

    nodes = resolve(schema)
    for part in loc[:-1]:
        nxt: list[dict] = []
        for n in nodes:
            if isinstance(part, int):
                items = n.get("items") or (n.get("prefixItems") or [{}])[0]
                nxt += resolve(items) if isinstance(items, dict) else []
            elif part in n.get("properties", {}):
                nxt += resolve(n["properties"][part])
            elif isinstance(n.get("additionalProperties"), dict):
                nxt += resolve(n["additionalProperties"])
        nodes = nxt
    known = sorted({k for n in nodes for k in n.get("properties", {})})
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6) if known else []
    return f"; did you mean {close[0]!r}?" if close else (f"; known: {', '.join(known)}" if 0 < len(known) <= 12 else "")


def load_model(model: type[M], path: str | Path, context: dict | None = None) -> M:
    data, pos = load_yaml(path)
    if data is None:
        raise SpecError.single(path, "", "file is empty")
    return validate(model, data, path, pos, context=context)
