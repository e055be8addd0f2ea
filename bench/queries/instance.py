"""An instantiated query set as the run reads it: need by need, from its folder.

The folder holds the needs (needs.jsonl, one Need a line), their TREC qrels (qrels.txt, grouped
by need in need order, record ids sorted) and what the query stage said of each relevant record
(judgements.jsonl.gz, one need a line, in need order). A run reads the three side by side, one
need at a time, each line checked against its model, so that its memory does not grow with the
number of needs by the set itself (about 11 KB a need on `ci`: needs, grades and the details of
every relevant record). A line that does not fit names its file, line and field."""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing_extensions import TypedDict

import numpy as np
from isal import igzip
from isal import isal_zlib
from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config

from bench.corpus.store import block_lines, sha256_file
from bench.errors import Location, PolebenchError, SpecError
from bench.queries.model import Need

NEEDS, QRELS, JUDGEMENTS, SUBJECTS, META = "needs.jsonl", "qrels.txt", "judgements.jsonl.gz", "subjects.npy", "meta.json"
# meta.json's checksum of needs.jsonl: qrels and judgements are checked need by need against the
# needs, but a need edited, or needs cut off the end, would leave a set that reads whole and is not
# the one judged (a run measured 450 of the standard set's 460 needs and exited 0)
NEEDS_SHA256 = "needs_sha256"
# Read a block at a time, the three files side by side (and the judgements again for the breakdown):
# each block is held with its lines split out, so 1 MB blocks held several MB while a run read its
# needs (most of what a set of a few hundred needs then added a need); 64 KB reads as fast.
BLOCK = 64 << 10


@with_config(ConfigDict(extra="forbid"))
class RecordJudgement(TypedDict):
    """What the query stage said of one relevant record of a need."""

    rnum: int  # its record number: its place in the corpus
    kinds: list[str]  # the corruptions that hide it from the need (sorted)
    source: str  # the source system that wrote it
    written: str  # how the target was written in it


@with_config(ConfigDict(extra="forbid"))
class JudgementLine(TypedDict):
    """One line of judgements.jsonl.gz: a need and its relevant records by record id."""

    qid: str
    records: dict[str, RecordJudgement]


_JUDGEMENT = TypeAdapter(JudgementLine)  # validated into plain dicts: the run reads them as such


@dataclass
class Judged:
    """One need with its judgements: grade per relevant record id, and the record's details."""

    need: Need
    qrels: dict[str, int]
    details: dict[str, RecordJudgement]


def _lines(path: Path, gz: bool = False) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line) of a text file, read in blocks; a missing or damaged file is
    named, not a traceback."""
    try:
        with (igzip.open(path, "rb") if gz else open(path, "rb")) as f:
            yield from enumerate(block_lines(f, BLOCK), 1)
    except FileNotFoundError:
        raise PolebenchError(f"{path}: missing; the query set's folder is incomplete: run `polebench queries` "
                             f"again") from None
    except (OSError, EOFError, isal_zlib.error) as e:
        raise PolebenchError(f"{path}: damaged ({type(e).__name__}: {e}); run `polebench queries` again") from None


def _invalid(path: Path, line: int, e: ValidationError) -> SpecError:
    return SpecError([(Location(str(path), line, None, ".".join(str(x) for x in err["loc"])),
                       "unknown key" if err["type"] == "extra_forbidden" else err["msg"]) for err in e.errors()])


def read_needs(path: Path) -> Iterator[Need]:
    for n, line in _lines(path):
        if not line.strip():
            continue
        try:
            yield Need.model_validate_json(line)
        except ValidationError as e:
            raise _invalid(path, n, e) from None


def _judgements(path: Path) -> Iterator[tuple[int, JudgementLine]]:
    for n, line in _lines(path, gz=True):
        if not line.strip():
            continue
        try:
            yield n, _JUDGEMENT.validate_json(line)
        except ValidationError as e:
            raise _invalid(path, n, e) from None


def _qrels(path: Path) -> Iterator[tuple[int, str, dict[str, int]]]:
    """(line of its first qrel, need id, grade per record id), need by need as the file groups them."""
    qid, rel, first = None, {}, 0
    for n, line in _lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4 or not parts[3].isdigit():
            raise SpecError.single(path, "", "a qrels line is `need 0 record grade` (grade a whole number)", line=n)
        q = parts[0].decode()
        if q != qid:
            if qid is not None:
                yield first, qid, rel
            qid, rel, first = q, {}, n
        rel[parts[2].decode()] = int(parts[3])
    if qid is not None:
        yield first, qid, rel


class NeedIds(Sequence):
    """A query set's need ids in the set's order, and each one's place: the ids' UTF-8 bytes back to
    back with where each ends, and an open-addressing table of places by the id's hash (4 bytes a
    slot, at least two slots a need). About len(id) + 12 bytes a need, where a list of the ids, a
    dict of their places and one of their kinds held about 200: a run keeps these from its first
    search to its last file."""

    def __init__(self, ids: Iterable[str]):
        blob, ends = bytearray(), array("q")
        for q in ids:
            blob += q.encode()
            ends.append(len(blob))
        self._blob, self._ends = bytes(blob), ends
        n = len(ends)
        self._mask = (1 << max(1, (2 * n).bit_length())) - 1  # more than 2n slots: short probes
        self._slots = array("i", [-1]) * (self._mask + 1)
        for i in range(n):
            q = self[i]
            h = hash(q) & self._mask
            while self._slots[h] >= 0:
                if self._slots[h] == i or self[self._slots[h]] == q:
                    raise ValueError(f"need {q!r} appears twice")
                h = (h + 1) & self._mask
            self._slots[h] = i

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        return self.raw(i).decode()

    def raw(self, i: int) -> bytes:
        """The i-th id's UTF-8 bytes."""
        return self._blob[self._ends[i - 1] if i else 0: self._ends[i]]

    def __iter__(self) -> Iterator[str]:
        start, blob = 0, self._blob
        for end in self._ends:
            yield blob[start:end].decode()
            start = end

    def place(self, q: object) -> int:
        """q's place in the set, or -1."""
        if not isinstance(q, str):
            return -1
        b, h = q.encode(), hash(q) & self._mask
        while (i := self._slots[h]) >= 0:
            if self.raw(i) == b:
                return i
            h = (h + 1) & self._mask
        return -1

    def __contains__(self, q: object) -> bool:
        return self.place(q) >= 0

    def fixed(self) -> np.ndarray:
        """The ids' UTF-8 bytes as one fixed-width bytes array, laid out a block at a time (no list
        of the ids)."""
        n = len(self)
        width = max(1, int(np.diff(np.frombuffer(self._ends, np.int64), prepend=0).max())) if n else 1
        out = np.zeros(n, f"S{width}")
        for b in range(0, n, _BLOCK_IDS):
            out[b: b + _BLOCK_IDS] = [self.raw(i) for i in range(b, min(n, b + _BLOCK_IDS))]
        return out

    def sorted_places(self) -> np.ndarray:
        """The places (int32) in the order of the ids sorted as strings: their UTF-8 bytes sort as
        the code points do."""
        return np.argsort(self.fixed(), kind="stable").astype(np.int32)


_BLOCK_IDS = 4096


class Places(Mapping):
    """need -> its place in the set, over NeedIds (what keeps something per need in arrays shares it)."""

    def __init__(self, ids: NeedIds):
        self.ids = ids

    def _value(self, i: int):
        return i

    def __getitem__(self, q: str):
        i = self.ids.place(q)
        if i < 0:
            raise KeyError(q)
        return self._value(i)

    def get(self, q, default=None):  # type: ignore[override]
        i = self.ids.place(q)
        return default if i < 0 else self._value(i)

    def __contains__(self, q: object) -> bool:
        return self.ids.place(q) >= 0

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


class Kinds(Places):
    """need -> its kind (person, vehicle, ..., sar): a byte a need, coded against the kinds seen."""

    def __init__(self, ids: NeedIds, codes: bytes, names: list[str]):
        super().__init__(ids)
        self.codes, self.names = codes, names

    def _value(self, i: int) -> str:
        return self.names[self.codes[i]]

    def values(self):  # type: ignore[override]
        return [self.names[c] for c in self.codes]


@dataclass
class InstanceFiles:
    """An instantiated query set, read need by need from its folder (see the module's docstring).
    Holds the needs' ids and kinds (compactly: NeedIds), the meta data and each record's true
    subject (a number per record of the corpus), never the needs' judgements."""

    dir: Path
    meta: dict
    ids: NeedIds
    kinds: Kinds  # need -> its kind (person, vehicle, ..., sar)
    subjects: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))

    @classmethod
    def open(cls, d: Path) -> "InstanceFiles":
        ids: list[str] = []
        seen: set[str] = set()
        names: dict[str, int] = {}
        codes = bytearray()
        for need in read_needs(d / NEEDS):
            if need.id in seen:
                raise SpecError.single(d / NEEDS, "id", f"need {need.id!r} appears twice", line=len(ids) + 1)
            seen.add(need.id)
            ids.append(need.id)
            codes.append(names.setdefault(need.derived_kind(), len(names)))
        del seen
        try:
            meta = json.loads((d / META).read_text())
            subjects = np.load(d / SUBJECTS)
        except (OSError, ValueError) as e:
            raise PolebenchError(f"{d}: {type(e).__name__}: {e}; run `polebench queries` again") from None
        claimed = meta.pop(NEEDS_SHA256, None) if isinstance(meta, dict) else None
        if claimed != sha256_file(d / NEEDS):
            raise SpecError.single(d / META, NEEDS_SHA256, f"{'missing' if claimed is None else 'does not match'}: "
                                   f"{NEEDS} was changed after it was written: run `polebench queries` again")
        compact = NeedIds(ids)
        return cls(d, meta, compact, Kinds(compact, bytes(codes), list(names)), subjects)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def index(self) -> Places:
        """need -> its place in the set (shared by whatever keeps something per need in arrays)."""
        return Places(self.ids)

    def needs(self) -> Iterator[Need]:
        return read_needs(self.dir / NEEDS)

    def __iter__(self) -> Iterator[Judged]:
        """Need by need, with its grades and details, the three files read side by side."""
        qrels, judgements = _qrels(self.dir / QRELS), _judgements(self.dir / JUDGEMENTS)
        for need in self.needs():
            q = need.id
            line, qid, rel = next(qrels, (None, None, None))
            if qid != q:
                raise SpecError.single(self.dir / QRELS, "", f"expected the qrels of need {q!r} here (the needs' "
                                       f"order), found {qid or 'the end of the file'}", line=line)
            line, row = next(judgements, (None, None))
            if row is None or row["qid"] != q:
                raise SpecError.single(self.dir / JUDGEMENTS, "qid", f"expected need {q!r} here (the needs' order), "
                                       f"found {row['qid'] if row else 'the end of the file'!r}", line=line)
            if set(row["records"]) != set(rel):
                raise SpecError.single(self.dir / JUDGEMENTS, "records", f"need {q!r}: the records judged here are "
                                       f"not those of {QRELS}", line=line)
            yield Judged(need, rel, row["records"])

    def details(self) -> "Details":
        return Details(self)


class Details:
    """need -> its relevant records' details, read need by need each time it is iterated (what
    the error breakdown goes through), never held."""

    def __init__(self, inst: InstanceFiles):
        self.inst = inst

    def items(self) -> Iterator[tuple[str, dict[str, RecordJudgement]]]:
        return ((row["qid"], row["records"]) for _, row in _judgements(self.inst.dir / JUDGEMENTS))
