"""The corpus truth in numpy columns, for the query stage on a large corpus.

Held as dicts (TruthIndex) the truth cost about 1.7 GB a million records: a dict per true entity
(a million at 1M) and an object per mention (four million). Here each field of a kind of entity
is a column (strings as codes into the field's distinct values, lists as offsets into one array,
numbers as arrays), each mention is four small integers, and ids are fixed-width bytes found by
binary search. An entity is read as a read-only Mapping view over its columns, and a list of
mentions or records is made when asked for, so only what a need's sampling and judging touch is
ever a Python object. The walks over every entity that templates and judge make (who has enough
records, surname strata, people by name) are vector operations on the columns instead.

TruthStore answers exactly as TruthIndex does (tests/queries/test_compact.py holds the two to each
other on generated corpora), so an instance folder is the same, byte for byte."""

from __future__ import annotations

import functools
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.corpus.store import Corpus, gc_paused
from bench.errors import PolebenchError
from bench.fields import days
from bench.queries.ids import SortedIds, narrow
from bench.queries.truth import EventTable, Mention, NamedPeople, Truth, norm_name

CHUNK = 1 << 13  # values of a field held as Python objects before they are packed into arrays
# Distinct mention ids, and distinct lists of a mention's kinds, are each coded in an int16 (codes 0
# to 2**15 - 1). A mention id names a mention within its record and kinds come from a fixed set of
# labels, so what polebench writes needs few codes: generate's mention ids are p0-p4 (an event's
# lead, up to three associates and a victim), v0, t0 and l0, and its lists of kinds are subsets,
# in a fixed order, of the at most eleven labels that apply to one kind of mention (2,048 at most);
# import writes p0 and l0, each ["unlabelled"]. Only a truth written some other way can pass this.
MAX_CODES = 1 << 15
MENTIONS_FILE = "mentions.jsonl.gz"  # in the truth's folder
FEW = 1 << 16  # a field with at most this many distinct strings keeps them as str objects (faster to read)


def _packed(values: list[str]) -> np.ndarray | None:
    """Strings as UTF-8 in a fixed-width bytes array, or None where one ends in NUL (numpy would
    drop it)."""
    enc = [v.encode() for v in values]
    if any(b.endswith(b"\0") for b in enc):
        return None
    return np.array(enc, dtype="S") if enc else np.zeros(0, "S1")


def _past_max_codes(where: Path, r: int, row: dict, j: int, mid: bool) -> PolebenchError:
    """The error for mention j of row r, whose mention id (mid) or list of kinds was the first
    past MAX_CODES distinct ones."""
    head = f"{where / MENTIONS_FILE}: row {r + 1} (record {row['rid']!r}): mentions[{j}]"
    m = row["mentions"][j]
    if mid:
        return PolebenchError(
            f"{head}.mid {m['mid']!r} is distinct mention id {MAX_CODES + 1:,}; the truth holds at most "
            f"{MAX_CODES:,} (a 16-bit code each). A mention id names a mention within its record (polebench "
            f"writes p0, p1, v0, t0, l0): number each record's mentions afresh, not across the corpus")
    return PolebenchError(
        f"{head}.kinds {m['kinds']!r} is distinct list of kinds {MAX_CODES + 1:,}; the truth holds at most "
        f"{MAX_CODES:,} (a 16-bit code each). Kinds label how a mention was written (typo, alias, ...): "
        f"take them from a small fixed set of labels")


class _Strings:
    """Distinct strings by code: as str objects when few, else as a bytes array decoded on read."""

    def __init__(self, uniq: np.ndarray):
        self.few = [b.decode() for b in uniq.tolist()] if len(uniq) <= FEW else None
        self.uniq = None if self.few is not None else uniq

    def __getitem__(self, code: int) -> str:
        return self.few[code] if self.few is not None else self.uniq[code].decode()

    def all(self) -> list[str]:
        return self.few if self.few is not None else [b.decode() for b in self.uniq.tolist()]


class _Column:
    """One field of one kind of entity, for every row."""

    def get(self, row: int) -> object:
        raise NotImplementedError


class _NoneColumn(_Column):
    def get(self, row: int) -> None:
        return None


class _ObjColumn(_Column):
    """Values of no single simple type, kept as they were read (not met in generated corpora)."""

    def __init__(self, values: list):
        self.values = values

    def get(self, row: int) -> object:
        return self.values[row]


class _StrColumn(_Column):
    def __init__(self, codes: np.ndarray, strings: _Strings):
        self.codes, self.strings = codes, strings  # code -1: None

    def get(self, row: int) -> str | None:
        c = int(self.codes[row])
        return None if c < 0 else self.strings[c]


class _ListColumn(_Column):
    """Lists of strings: row i's are codes[starts[i]:starts[i + 1]]; None where `none`."""

    def __init__(self, starts: np.ndarray, codes: np.ndarray, strings: _Strings, none: np.ndarray | None):
        self.starts, self.codes, self.strings, self.none = starts, codes, strings, none

    def get(self, row: int) -> list[str] | None:
        if self.none is not None and self.none[row]:
            return None
        s = self.strings
        return [s[c] for c in self.codes[self.starts[row]:self.starts[row + 1]].tolist()]


class _NumColumn(_Column):
    def __init__(self, values: np.ndarray, none: np.ndarray | None):
        self.values, self.none = values, none

    def get(self, row: int) -> int | float | None:
        if self.none is not None and self.none[row]:
            return None
        return self.values[row].item()  # a Python int or float, the value as read


@dataclass
class _Piece:
    """A chunk of one field's values, packed. `kind` is what every value is: "str", "list" (of
    str), "int" or "float"; "none" (all None); or "obj" (no single simple type, kept as read).
    Strings are codes into the chunk's own distinct strings (a chunk of dates or offence types is
    a few hundred strings and an int32 a row)."""

    kind: str
    n: int  # rows
    none: np.ndarray | None = None  # per row, whether the value is None (None: no row is)
    values: np.ndarray | list | None = None  # "int", "float": the numbers; "obj": the values as read
    uniq: np.ndarray | None = None  # "str", "list": the distinct strings, as bytes
    codes: np.ndarray | None = None  # "str": a code a row; "list": a code an item
    lengths: np.ndarray | None = None  # "list": items a row

    @classmethod
    def of(cls, values: list) -> "_Piece":
        n = len(values)
        types = {type(v) for v in values} - {type(None)}
        if not types:
            return cls("none", n)
        none = np.fromiter((v is None for v in values), bool, n) if None in values else None
        if types == {str}:
            packed = _packed([v or "" for v in values])
            if packed is not None:
                uniq, codes = _distinct(packed)
                return cls("str", n, none, uniq=uniq, codes=codes)
        elif types == {list}:
            flat = [x for v in values if v is not None for x in v]
            if all(type(x) is str for x in flat):
                packed = _packed(flat)
                if packed is not None:
                    lengths = np.fromiter((0 if v is None else len(v) for v in values), np.int32, n)
                    uniq, codes = _distinct(packed)
                    return cls("list", n, none, uniq=uniq, codes=codes, lengths=lengths)
        elif types == {int} or types == {float}:
            kind = "int" if types == {int} else "float"
            try:
                arr = np.array([0 if v is None else v for v in values], np.int64 if kind == "int" else np.float64)
                return cls(kind, n, none, values=arr)
            except OverflowError:  # an int past int64
                pass
        return cls("obj", n, values=list(values))

    def as_kind(self, kind: str) -> "_Piece":
        """A piece of all None as a piece of the column's kind."""
        if self.kind != "none":
            return self
        n, nothing, every = self.n, np.zeros(0, "S1"), np.ones(self.n, bool)
        if kind == "str":
            return _Piece("str", n, every, uniq=nothing, codes=np.full(n, -1, np.int32))
        if kind == "list":
            return _Piece("list", n, every, uniq=nothing, codes=np.zeros(0, np.int32), lengths=np.zeros(n, np.int32))
        return _Piece(kind, n, every, values=np.zeros(n, np.int64 if kind == "int" else np.float64))

    def unpacked(self) -> list:
        """The values as they were read."""
        if self.kind == "none":
            return [None] * self.n
        if self.kind == "obj":
            return self.values
        if self.kind == "str":
            out = [b.decode() for b in self.uniq[self.codes].tolist()]
        elif self.kind == "list":
            flat, out, i = [b.decode() for b in self.uniq[self.codes].tolist()], [], 0
            for k in self.lengths.tolist():
                out.append(flat[i:i + k])
                i += k
        else:
            out = self.values.tolist()
        return out if self.none is None else [None if z else v for v, z in zip(out, self.none.tolist())]


class _ColumnBuilder:
    """Collects one field's values row by row, packing each CHUNK of them into arrays; the
    column's type is what all its values are (str, list of str, int, float), else objects."""

    def __init__(self) -> None:
        self.pending: list = []
        self.pieces: list[_Piece] = []
        self.count = 0

    def put(self, row: int, value: object) -> None:
        while self.count < row:  # rows before this field was first met lack it
            self._add(None)
        self._add(value)

    def _add(self, value: object) -> None:
        self.pending.append(value)
        self.count += 1
        if len(self.pending) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.pieces.append(_Piece.of(self.pending))
            self.pending = []

    def finish(self, n: int) -> _Column:
        while self.count < n:
            self._add(None)
        self._flush()
        kinds = {p.kind for p in self.pieces} - {"none"}
        if not kinds:
            return _NoneColumn()
        if len(kinds) > 1 or kinds == {"obj"}:
            return _ObjColumn([v for p in self.pieces for v in p.unpacked()])
        (kind,) = kinds
        pieces = [p.as_kind(kind) for p in self.pieces]
        self.pieces = []
        none = None
        if any(p.none is not None for p in pieces):
            none = np.concatenate([np.zeros(p.n, bool) if p.none is None else p.none for p in pieces])
        if kind == "str":
            uniq, codes = _merged(pieces)
            if none is not None:
                codes[none] = -1
            return _StrColumn(codes, _Strings(uniq))
        if kind == "list":
            lengths = np.concatenate([p.lengths for p in pieces])
            starts = np.zeros(len(lengths) + 1, np.int64)
            np.cumsum(lengths, out=starts[1:])
            uniq, codes = _merged(pieces)
            return _ListColumn(narrow(starts), codes, _Strings(uniq), none)
        return _NumColumn(np.concatenate([p.values for p in pieces]), none)


def _distinct(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inv = np.unique(packed, return_inverse=True)
    return uniq, inv.astype(np.int32).reshape(-1)


def _merged(pieces: list[_Piece]) -> tuple[np.ndarray, np.ndarray]:
    """Codes into each piece's own distinct strings, as codes into the distinct strings of all."""
    uniq, inv = _distinct(np.concatenate([p.uniq for p in pieces]))
    out, at = [], 0
    for p in pieces:
        out.append(inv[at:at + len(p.uniq)][p.codes] if len(p.uniq) else np.full(len(p.codes), -1, np.int32))
        at += len(p.uniq)
    return uniq, np.concatenate(out)


class _Block:
    """Every entity of one kind: a column per field, rows in corpus order."""

    def __init__(self, kind: str):
        self.kind = kind
        self.builders: dict[str, _ColumnBuilder] = {}
        self.schemas: dict[tuple[str, ...], int] = {}  # the keys of a row, in their order
        self.schema_of = array("i")
        self.gidx = array("q")  # row -> index of the entity among all ids
        self.n = 0

    def add(self, g: int, e: dict) -> None:
        row = self.n
        keys = tuple(e)
        self.schema_of.append(self.schemas.setdefault(keys, len(self.schemas)))
        self.gidx.append(g)
        for k, v in e.items():
            if k != "id" and k != "kind":  # the id is in the id table; the kind is the block's
                b = self.builders.get(k)
                if b is None:
                    b = self.builders[k] = _ColumnBuilder()
                b.put(row, v)
        self.n += 1

    def finish(self) -> None:
        self.cols: dict[str, _Column] = {k: b.finish(self.n) for k, b in self.builders.items()}
        del self.builders
        self.keys = list(self.schemas)
        self.keysets = [frozenset(k) for k in self.keys]
        # one set of keys for every row (as the generator writes them): no per-row check
        self.rows_schema = np.frombuffer(self.schema_of, np.int32).copy() if len(self.keys) > 1 else None
        del self.schema_of
        self.gidx = narrow(np.frombuffer(self.gidx, np.int64))


class Entity(Mapping):
    """One true entity, read from its kind's columns: a read-only mapping equal to the dict the
    corpus holds for it."""

    __slots__ = ("_store", "_block", "_row")

    def __init__(self, store: "TruthStore", block: _Block, row: int):
        self._store, self._block, self._row = store, block, row

    def _keys(self) -> list | frozenset:
        b = self._block
        return b.keys[0 if b.rows_schema is None else int(b.rows_schema[self._row])]

    def __getitem__(self, key: str) -> object:
        b = self._block
        if b.rows_schema is not None and key not in b.keysets[int(b.rows_schema[self._row])]:
            raise KeyError(key)
        col = b.cols.get(key)
        if col is not None:
            return col.get(self._row)
        if key == "id":
            return self._store.id_at(int(b.gidx[self._row]))
        if key == "kind":
            return b.kind
        raise KeyError(key)

    def get(self, key: str, default: object = None) -> object:
        try:
            return self[key]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __repr__(self) -> str:
        return f"Entity({dict(self)!r})"


class _Rows(Sequence):
    """Entities of one kind, in corpus order, made as views when read."""

    def __init__(self, store: "TruthStore", block: _Block, rows: Sequence[int] | None = None):
        self.store, self.block = store, block
        self.rows = range(block.n) if rows is None else rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return _Rows(self.store, self.block, self.rows[i])
        return Entity(self.store, self.block, int(self.rows[i]))

    def __iter__(self) -> Iterator[Entity]:
        s, b = self.store, self.block
        for r in self.rows:
            yield Entity(s, b, int(r))


class _Lazy(Mapping):
    """A mapping computed by a function of the key; iteration over the keys it holds."""

    def __init__(self, find, keys):
        self._find, self._iter_keys = find, keys

    def __getitem__(self, key: str) -> object:
        return self._find(key)

    def __iter__(self) -> Iterator[str]:
        return self._iter_keys()

    def __len__(self) -> int:
        return sum(1 for _ in self._iter_keys())


class _Grouped(_Lazy):
    """key -> the list of things filed under it; an empty list for a key with none (as a
    defaultdict(list) reads), and `get` gives the default there."""

    def get(self, key: str, default: object = None) -> object:
        out = self._find(key)
        return out if out else default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and bool(self._find(key))


class _Decoded(Sequence):
    """A bytes array read as a sequence of str."""

    def __init__(self, arr: np.ndarray):
        self.arr = arr

    def __len__(self) -> int:
        return len(self.arr)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [b.decode() for b in self.arr[i].tolist()]
        return self.arr[i].decode()


def _by_first(start: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """The keys with anything filed under them (key k's things are pos[start[k]:start[k + 1]],
    places in the file, in file order), ordered by where their first thing is in the file: the
    order in which the dict form, appending as it reads, first met them."""
    has = np.flatnonzero(np.diff(start) > 0)
    return has[np.argsort(pos[start[has]])]  # places in the file are distinct: no ties to break


def _csr(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A stable sort of positions by key, and where each key 0..n-1 starts in it."""
    order = np.argsort(keys, kind="stable")
    return order, np.searchsorted(keys[order], np.arange(n + 1))


class TruthStore(Truth):
    """The truth of a corpus as columns (see the module's docstring)."""

    def __init__(self) -> None:
        self.blocks: dict[str, _Block] = {}

    # ---- loading

    @classmethod
    def load(cls, corpus: Corpus) -> "TruthStore":
        corpus.verify()  # what relevance is judged from is the corpus's own (queries, sar, erase)
        return cls.from_rows(corpus.truth_entities(), corpus.truth_mentions(), corpus.root / "truth")

    @classmethod
    def from_rows(cls, entities: Iterable[dict], mentions: Iterable[dict], where: Path) -> "TruthStore":
        """From the rows of truth/entities.jsonl.gz and truth/mentions.jsonl.gz (`where`: their
        folder, named in errors)."""
        t = cls()
        with gc_paused():
            t._load_entities(entities, where)
            t._load_mentions(mentions, where)
        return t

    def _load_entities(self, entities: Iterable[dict], where: Path) -> None:
        kinds: list[str] = []
        kind_of, row_of = array("b"), array("q")
        ids: list[np.ndarray] = []
        pending: list[str] = []
        for g, e in enumerate(entities):
            kind, eid = e.get("kind"), e.get("id")
            if type(kind) is not str or type(eid) is not str:
                raise PolebenchError(f"{where}: entity {g + 1} has no string id and kind")
            b = self.blocks.get(kind)
            if b is None:
                b = self.blocks[kind] = _Block(kind)
                kinds.append(kind)
            if len(kinds) > 127:
                raise PolebenchError(f"{where}: more than 127 kinds of entity")
            kind_of.append(kinds.index(kind))
            row_of.append(b.n)
            b.add(g, e)
            pending.append(eid)
            if len(pending) >= CHUNK:
                ids.append(self._packed_ids(pending, where))
                pending = []
        ids.append(self._packed_ids(pending, where))
        for b in self.blocks.values():
            b.finish()
        self.kinds = kinds
        self.n_entities = len(kind_of)
        self.kind_of = np.frombuffer(kind_of, np.int8).copy()
        self.row_of = narrow(np.frombuffer(row_of, np.int64))
        self._set_ids(np.concatenate(ids))
        if self._ids.duplicated():
            raise PolebenchError(f"{where}: the same entity id is given twice")

    @staticmethod
    def _packed_ids(ids: list[str], where: Path) -> np.ndarray:
        packed = _packed(ids)
        if packed is None:
            raise PolebenchError(f"{where}: an entity id ends in a NUL character")
        return packed

    def _set_ids(self, ids: np.ndarray) -> None:
        self.ids = ids
        self._ids = SortedIds(ids)

    def _resolve(self, ids: list[str], extra: dict[str, int], where: Path) -> np.ndarray:
        """Index of each id among all ids, a chunk at a time (no array of every mention's id is
        made); an id no entity has (a mention of an entity the truth does not list) gets an index
        past the entities', as the dict form keeps it by name."""
        packed = _packed(ids)
        if packed is None:
            raise PolebenchError(f"{where}: an id ends in a NUL character")
        g = self._ids.find_all(packed)
        for i in np.flatnonzero(g < 0).tolist():
            g[i] = extra.setdefault(ids[i], self.n_entities + len(extra))
        return g.astype(np.int32 if self.n_entities + len(extra) < 2**31 else np.int64)

    def _load_mentions(self, rows: Iterable[dict], where: Path) -> None:
        rids: list[str] = []
        events: list[str] = []
        rk_code: dict[tuple[str, ...], int] = {(): 0}
        rkinds = array("i")
        m_ent: list[str] = []
        m_rec = array("i")  # int32: below 2**31 records
        m_mid, m_kinds = array("h"), array("h")  # int16 codes: see MAX_CODES
        mids: dict[str, int] = {}
        kinds: dict[tuple[str, ...], int] = {}
        extra: dict[str, int] = {}
        rid_pieces, event_pieces, ent_pieces = [], [], []

        def flush() -> None:
            packed = _packed(rids)
            if packed is None:
                raise PolebenchError(f"{where}: a record id ends in a NUL character")
            rid_pieces.append(packed)
            event_pieces.append(self._resolve(events, extra, where))
            ent_pieces.append(self._resolve(m_ent, extra, where))
            for src in (rids, events, m_ent):
                src.clear()

        for r, row in enumerate(rows):
            if r >= 2**31 - 1:
                raise PolebenchError(f"{where / MENTIONS_FILE}: more than 2**31 - 1 records: more than the truth's "
                                     f"arrays hold")
            rids.append(row["rid"])
            events.append(row["event"])
            rkinds.append(rk_code.setdefault(tuple(row.get("record_kinds") or ()), len(rk_code)))
            first = len(m_rec)
            try:
                for m in row["mentions"]:
                    m_ent.append(m["entity"])
                    m_rec.append(r)
                    m_mid.append(mids.setdefault(m["mid"], len(mids)))
                    m_kinds.append(kinds.setdefault(tuple(m["kinds"]), len(kinds)))
            except OverflowError:  # a code past int16: the mention that made it is the last one begun
                raise _past_max_codes(where, r, row, len(m_rec) - first - 1, len(m_mid) < len(m_rec)) from None
            if len(rids) >= CHUNK:
                flush()
        flush()
        if extra:
            self._set_ids(np.concatenate([self.ids, _packed(list(extra))]))
        rid_arr = np.concatenate(rid_pieces)
        self.n_records = len(rid_arr)
        self.rids = rid_arr
        self._rids = SortedIds(rid_arr)
        if self._rids.duplicated():
            raise PolebenchError(f"{where}: the same record id is given twice")
        self.record_kind_tuples = list(rk_code)
        self.rec_kinds = narrow(np.frombuffer(rkinds, np.int32))
        self.rec_event = np.concatenate(event_pieces)
        ent = np.concatenate(ent_pieces)
        del ent_pieces[:]
        n = len(self.ids)
        self.mids = list(mids)
        self.kind_tuples = list(kinds)
        # mentions by entity, each entity's in file order (as the dict form appends them)
        order, m_start = _csr(ent, n)
        self.m_start = narrow(m_start)
        self.m_ent = ent[order]
        del ent
        self.m_rec = np.frombuffer(m_rec, np.int32)[order]
        del m_rec
        self.m_mid = np.frombuffer(m_mid, np.int16)[order]
        self.m_kinds = np.frombuffer(m_kinds, np.int16)[order]
        self.m_pos = narrow(order)  # each mention's place in the file
        # records by event, in file order
        self.er_order, self.er_start = _csr(self.rec_event, n)
        self.er_order, self.er_start = narrow(self.er_order), narrow(self.er_start)

    # ---- lookups

    def id_at(self, g: int) -> str:
        return self.ids[g].decode()

    def index_of(self, eid: str) -> int:
        """An id's index among all ids, -1 if absent."""
        return self._ids.find(eid)

    def record_index(self, rid: str) -> int:
        """A record id's row in truth/mentions.jsonl.gz, -1 if absent."""
        return self._rids.find(rid)

    def entity_at(self, g: int) -> Entity | None:
        """The entity at index g; None for -1 (an id not found) and for ids only mentions give."""
        if not 0 <= g < self.n_entities:
            return None
        return Entity(self, self.blocks[self.kinds[self.kind_of[g]]], int(self.row_of[g]))

    def _entity(self, eid: str) -> Entity:
        e = self.entity_at(self.index_of(eid)) if isinstance(eid, str) else None
        if e is None:
            raise KeyError(eid)
        return e

    def _entity_ids(self) -> Iterator[str]:
        return (b.decode() for b in self.ids[:self.n_entities].tolist())

    def _mentions_at(self, g: int) -> list[Mention]:
        s, e = int(self.m_start[g]), int(self.m_start[g + 1])
        mids, kinds, rids = self.mids, self.kind_tuples, self.rids
        return [Mention(rids[r].decode(), mids[m], kinds[k]) for r, m, k in
                zip(self.m_rec[s:e].tolist(), self.m_mid[s:e].tolist(), self.m_kinds[s:e].tolist())]

    def _mentions(self, eid: str) -> list[Mention]:
        g = self.index_of(eid)
        return [] if g < 0 else self._mentions_at(g)

    def _mentioned_ids(self) -> Iterator[str]:
        return (self.ids[g].decode() for g in _by_first(self.m_start, self.m_pos).tolist())

    def _record_event(self, rid: str) -> str:
        r = self.record_index(rid)
        if r < 0:
            raise KeyError(rid)
        return self.ids[self.rec_event[r]].decode()

    def _event_records(self, eid: str) -> list[str]:
        g = self.index_of(eid)
        if g < 0:
            return []
        s, e = int(self.er_start[g]), int(self.er_start[g + 1])
        return [b.decode() for b in self.rids[self.er_order[s:e]].tolist()]

    @functools.cached_property
    def entities(self) -> Mapping[str, Entity]:  # type: ignore[override]
        return _Lazy(self._entity, self._entity_ids)

    @functools.cached_property
    def mentions(self) -> Mapping[str, list[Mention]]:  # type: ignore[override]
        return _Grouped(self._mentions, self._mentioned_ids)

    @functools.cached_property
    def record_event(self) -> Mapping[str, str]:  # type: ignore[override]
        return _Lazy(self._record_event, lambda: (b.decode() for b in self.rids.tolist()))

    @functools.cached_property
    def event_records(self) -> Mapping[str, list[str]]:  # type: ignore[override]
        return _Grouped(self._event_records, lambda: (self.ids[g].decode() for g in
                                                      _by_first(self.er_start, self.er_order).tolist()))

    @functools.cached_property
    def record_kinds(self) -> Mapping[str, tuple[str, ...]]:  # type: ignore[override]
        # only records with any, as the dict form holds them
        return _Grouped(self._record_kinds_or_none, lambda: (self.rids[r].decode() for r in
                                                              np.flatnonzero(self.rec_kinds > 0).tolist()))

    def _record_kinds_or_none(self, rid: str) -> tuple[str, ...]:
        r = self.record_index(rid)
        return self.record_kind_tuples[self.rec_kinds[r]] if r >= 0 else ()

    # ---- what Truth derives, as vector operations

    def of_kind(self, kind: str) -> Sequence[Entity]:
        b = self.blocks.get(kind)
        return _Rows(self, b) if b is not None else ()

    @functools.cached_property
    def _counts(self) -> np.ndarray:
        """Per id, how many distinct records mention it."""
        n = len(self.ids)
        if not len(self.m_ent):
            return np.zeros(n, np.int64)
        # each entity's mentions are in file order, so its mentions in one record are adjacent:
        # a record counts where the entity or the record changes
        new = np.ones(len(self.m_ent), bool)
        new[1:] = (self.m_ent[1:] != self.m_ent[:-1]) | (self.m_rec[1:] != self.m_rec[:-1])
        return narrow(np.bincount(self.m_ent[new], minlength=n))

    def record_count(self, entity: str) -> int:
        g = self.index_of(entity)
        return int(self._counts[g]) if g >= 0 else 0

    def with_records(self, kind: str, min_records: int) -> list[Entity]:
        b = self.blocks.get(kind)
        if b is None:
            return []
        rows = np.flatnonzero(self._counts[b.gidx] >= min_records)
        return list(_Rows(self, b, rows.tolist()))

    def _nonempty(self, b: _Block, key: str) -> np.ndarray | None:
        """Per row, whether a string field is truthy; None where it is not a string column."""
        col = b.cols.get(key)
        if isinstance(col, _NoneColumn):
            return np.zeros(b.n, bool)
        if not isinstance(col, _StrColumn):
            return None
        full = np.array([bool(s) for s in col.strings.all()] + [False], bool)  # code -1: None
        return full[col.codes]

    def eligible_people(self, min_records: int) -> list[Entity]:
        b = self.blocks.get("person")
        if b is None:
            return []
        fore, sur = self._nonempty(b, "forename"), self._nonempty(b, "surname")
        if fore is None or sur is None or b.rows_schema is not None:
            return super().eligible_people(min_records)
        rows = np.flatnonzero((self._counts[b.gidx] >= min_records) & (fore | sur))
        return list(_Rows(self, b, rows.tolist()))

    def named_people(self) -> NamedPeople:
        b = self.blocks.get("person")
        if b is None:
            return NamedPeople((), np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64))
        fore, sur = self._nonempty(b, "forename"), self._nonempty(b, "surname")
        alias = b.cols.get("alias")
        if isinstance(alias, _ListColumn):
            has_alias = np.diff(alias.starts) > 0
            if alias.none is not None:
                has_alias &= ~alias.none
        else:
            has_alias = self._nonempty(b, "alias") if alias is not None else np.zeros(b.n, bool)
        if fore is None or sur is None or has_alias is None or b.rows_schema is not None:
            return super().named_people()
        counts = self._counts[b.gidx]
        rows = np.flatnonzero((counts >= 1) & (fore | sur))
        col = b.cols["surname"]
        surname = col.codes[rows] if isinstance(col, _StrColumn) else np.full(len(rows), -1)  # -1: None
        return NamedPeople(_Rows(self, b, rows), surname.astype(np.int64), has_alias[rows],
                           counts[rows].astype(np.int64))

    def distinct(self, kind: str, key: str) -> set:
        b = self.blocks.get(kind)
        if b is None:
            return set()
        col = b.cols.get(key)
        if b.rows_schema is not None or key in ("id", "kind"):
            return super().distinct(kind, key)
        if col is None or isinstance(col, _NoneColumn):  # no entity of the kind holds it, or all hold None
            return {None} if b.n else set()
        if not isinstance(col, (_StrColumn, _ListColumn)):
            return super().distinct(kind, key)
        codes = np.unique(col.codes)
        out: set = {col.strings[c] for c in codes[codes >= 0].tolist()}
        none = col.codes < 0 if isinstance(col, _StrColumn) else col.none  # a list column's items are never None
        if none is not None and none.any():
            out.add(None)
        return out

    def recorded_events(self) -> list[Entity]:
        b = self.blocks.get("event")
        if b is None:
            return []
        rows = np.flatnonzero(np.diff(self.er_start)[b.gidx] > 0)
        return list(_Rows(self, b, rows.tolist()))

    @functools.cached_property
    def strata(self) -> Mapping[str, str]:  # type: ignore[override]
        b = self.blocks.get("person")
        col = b.cols.get("surname") if b is not None else None
        if b is None or not isinstance(col, _StrColumn) or b.rows_schema is not None:
            return super().strata
        code = col.codes.astype(np.int64) + 1  # None counted as one surname, as Counter counts it
        freq = np.bincount(code)[code]
        ranked = np.lexsort((self.ids[b.gidx], -freq))
        third = max(1, b.n // 3)
        level = np.empty(b.n, np.int8)
        level[ranked] = np.minimum(np.arange(b.n) // third, 2)
        names = ("common", "middling", "rare")

        def find(pid: str) -> str:
            g = self.index_of(pid)
            if g < 0 or not self._is_person[g]:
                raise KeyError(pid)
            return names[level[self.row_of[g]]]
        return _Lazy(find, lambda: (self.ids[g].decode() for g in b.gidx[ranked].tolist()))

    def person_candidates(self, forename: str | None, surname: str | None) -> Iterable[Entity]:
        b = self.blocks.get("person")
        if b is None:
            return ()
        want, key = (surname, "surname") if surname else (forename, "forename")
        col, alias = b.cols.get(key), b.cols.get("alias")
        if not want or not isinstance(col, _StrColumn) or not isinstance(alias, (_ListColumn, _NoneColumn)):
            return self.of_kind("person")
        # every person whose true name or any word of an alias compares equal: a superset of
        # those person_matches keeps, which it then judges in full
        w = norm_name(want)
        hit = np.array([norm_name(s) == w for s in col.strings.all()] + [False], bool)[col.codes]
        if isinstance(alias, _ListColumn):
            ahit = np.array([norm_name(s) == w for s in alias.strings.all()] + [False], bool)[alias.codes]
            rows_of = np.repeat(np.arange(b.n), np.diff(alias.starts))
            hit[rows_of[ahit]] = True
        return _Rows(self, b, np.flatnonzero(hit).tolist())

    @functools.cached_property
    def _is_person(self) -> np.ndarray:
        """Per id, whether it is a true person's (ids only mentions give are no one's)."""
        out = np.zeros(len(self.ids), bool)
        if "person" in self.kinds:
            out[:self.n_entities] = self.kind_of == self.kinds.index("person")
        return out

    @functools.cached_property
    def recorded_ties(self) -> Mapping[str, set[str]]:  # type: ignore[override]
        # mentions by record, for the people written beside a person
        order, start = _csr(self.m_rec, self.n_records)
        by_rec_ent, start = self.m_ent[order], narrow(start)
        del order
        is_person = self._is_person

        def find(pid: str) -> set[str]:
            g = self.index_of(pid)
            if g < 0 or not is_person[g]:
                return set()
            recs = np.unique(self.m_rec[self.m_start[g]:self.m_start[g + 1]])
            near = np.unique(np.concatenate([by_rec_ent[start[r]:start[r + 1]] for r in recs.tolist()] or
                                            [np.zeros(0, np.int32)]))
            return {self.ids[x].decode() for x in near.tolist() if is_person[x] and x != g}
        return _Grouped(find, lambda: (p for p in self._mentioned_ids() if find(p)))

    def subject_numbers(self, rnum_of: Mapping[str, int]) -> np.ndarray:
        out = np.full(len(rnum_of), -1, np.int32)
        is_person = self._is_person
        p0 = self.mids.index("p0") if "p0" in self.mids else -1
        sel = np.flatnonzero((self.m_mid == p0) & is_person[self.m_ent])
        if len(np.unique(self.m_rec[sel])) != len(sel):  # a record with two main subjects
            return super().subject_numbers(rnum_of)
        ent, rec = self.m_ent[sel], self.m_rec[sel]
        # the dict form numbers people as it meets them: by their first mention of any kind in the
        # file, and within a person by the file order of the records
        first = self.m_pos[self.m_start[ent]]  # an entity's first mention leads its slice (file order)
        order = np.lexsort((self.m_pos[sel], first))
        ent, rec = ent[order], rec[order]
        new = np.ones(len(ent), bool)
        new[1:] = ent[1:] != ent[:-1]
        code = np.cumsum(new) - 1
        many = getattr(rnum_of, "many", None)  # the record shelf's numbers, found by vector search
        rnums = many(self.rids[rec]) if many else np.array([rnum_of[b.decode()] for b in self.rids[rec].tolist()], np.int64)
        out[rnums] = code
        return out

    @functools.cached_property
    def events(self) -> EventTable:  # type: ignore[override]
        b, a = self.blocks.get("event"), self.blocks.get("address")
        ok = (b is not None and a is not None and b.rows_schema is None and a.rows_schema is None
              and isinstance(b.cols.get("address"), _StrColumn) and isinstance(b.cols.get("date"), _StrColumn)
              and all(isinstance(a.cols.get(k), _NumColumn) and a.cols[k].none is None for k in ("lat", "lon"))
              and (b.cols["address"].codes >= 0).all() and (b.cols["date"].codes >= 0).all())
        if not ok:
            return EventTable.build(self)
        where = b.cols["address"]
        uniq = np.array([s.encode() for s in where.strings.all()], dtype="S") if where.strings.few is not None \
            else where.strings.uniq
        g = self._ids.find_all(uniq)
        addr_kind = self.kinds.index("address")
        if ((g < 0) | (g >= self.n_entities)).any() or (self.kind_of[g] != addr_kind).any():
            return EventTable.build(self)  # an event at no known address: the dict form raises the error
        rows = self.row_of[g][where.codes]
        date = b.cols["date"]
        day = np.array([days(s) for s in date.strings.all()], np.int64)[date.codes]
        return EventTable(_Decoded(self.ids[b.gidx]), a.cols["lat"].values[rows].astype(float),
                          a.cols["lon"].values[rows].astype(float), day)
