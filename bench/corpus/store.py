"""A corpus on disk: manifest.json, records.jsonl.gz and, apart, truth/. Written to a
temporary folder and moved into place only when complete; read back as a stream."""

from __future__ import annotations

import fcntl
import gc
import gzip
import hashlib
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import orjson
from isal import igzip, isal_zlib
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bench.errors import PolebenchError, SpecError

RECORDS = "records.jsonl.gz"
TRUTH_DIR = "truth"
MENTIONS = "truth/mentions.jsonl.gz"
ENTITIES = "truth/entities.jsonl.gz"
MANIFEST = "manifest.json"


class KindCount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    eligible: int
    applied: int
    hidden: int = 0  # applied, then overwritten by a later kind: not in the truth's labels


# A corpus name names folders (corpora/<name>, results/<set>-<name>-...): no separators, no
# leading dot, so that no name can steer a write outside its root.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"
# What polebench writes into a corpus folder: the corpus, then indexes and query instances.
CORPUS_ENTRIES = frozenset({MANIFEST, RECORDS, TRUTH_DIR, "index", "queries"})


class Manifest(BaseModel):
    """manifest.json of a corpus folder."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = 1
    name: str = Field(pattern=NAME_PATTERN)
    synthetic: bool
    generator: str
    generator_version: str
    origin: str = "generated"
    seed: int | None = None
    licence: str | None = None
    spec: dict[str, Any]
    spec_checksum: str
    counts: dict[str, Any]
    corruption: dict[str, dict[str, KindCount]] = Field(default_factory=dict)
    files: dict[str, str]

    @property
    def checksum(self) -> str:
        """Identity of the corpus content: the checksum of its records file."""
        return self.files[RECORDS]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def gz_lines(rows: list[dict]) -> bytes:
    """One gzip member for a chunk of rows; mtime 0 keeps output byte-identical. Level 1: the
    corpus is written once per spec and read by streaming; speed matters more than size."""
    payload = b"".join(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) + b"\n" for r in rows)
    return gzip.compress(payload, compresslevel=1, mtime=0)


def check_name(name: str, what: str) -> str:
    """A name that will name a folder: refused, saying why, if it could leave its root."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise PolebenchError(f"{what} {name!r}: a name is letters, digits, '.', '_', '+' and '-', starting "
                             f"with a letter or digit (it names a folder, and may not lead out of it)")
    return name


def check_replaceable(out: Path, name: str, force: bool, option: str = "--out") -> None:
    """Before a corpus is written to `out`: refuse to replace a file, or a folder holding anything
    but a polebench corpus of the same name (with --force, a folder of anything), so that no
    command deletes what polebench did not write."""
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir():
        raise PolebenchError(f"{option} {out}: is a file, not a folder; refusing to replace it")
    entries = {e.name for e in out.iterdir()}
    if not entries or force:
        return
    try:
        ours = Manifest.model_validate_json((out / MANIFEST).read_bytes())
    except (OSError, ValueError):
        ours = None
    if ours is None or not ours.generator.startswith("polebench") or not entries <= CORPUS_ENTRIES:
        raise PolebenchError(f"{option} {out}: the folder holds files polebench did not write; refusing to "
                             f"replace it (choose an empty or new folder, or add --force to replace it)")
    if ours.name != name:
        raise PolebenchError(f"{option} {out}: holds the corpus {ours.name!r}, not {name!r}; refusing to replace "
                             f"it (choose another folder, or add --force to replace it)")


OWNER = ".polebench-owner"  # in a folder being written: held locked by the writing process


def own(folder: Path) -> int:
    """Mark `folder` as being written by this process: an exclusive lock on a marker file, which
    the OS releases when the process dies however it dies (kill -9 included). Returns the fd."""
    fd = os.open(folder / OWNER, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, orjson.dumps({"writer": "polebench", "pid": os.getpid()}))
    return fd


def abandoned(folder: Path) -> bool:
    """True when `folder` carries polebench's owner marker and no live process holds it."""
    try:
        fd = os.open(folder / OWNER, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:  # no marker: not a folder polebench is writing, or not one at all
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def clean_abandoned(parent: Path, name: str = "*") -> list[Path]:
    """Remove what killed writers left in `parent`: temporary folders of atomic_dir whose owner
    died (only those with polebench's marker), and a replaced output kept aside while its
    successor was moved in, put back if the successor never arrived."""
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for tmp in parent.glob(f".{name}.partial-*"):
        if tmp.is_dir() and not tmp.is_symlink() and abandoned(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    for old in parent.glob(f".{name}.old-*"):
        m = re.fullmatch(r"\.(.+)\.old-(\d+)", old.name)
        if not m or not old.is_dir() or old.is_symlink() or _alive(int(m[2])):
            continue
        final = old.with_name(m[1])
        if final.exists() or final.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:  # killed between moving the old output aside and the new one in: the old comes back
            old.rename(final)
        removed.append(old)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success replace `final` with it, else remove it.
    Whatever an earlier writer killed on the way left beside `final` is cleaned first."""
    final.parent.mkdir(parents=True, exist_ok=True)
    clean_abandoned(final.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    owner = own(tmp)
    try:
        os.chmod(tmp, 0o755)
        yield tmp
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        if final.exists():
            final.rename(old)
        os.unlink(tmp / OWNER)  # still locked through the fd until the folder is in place
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        os.close(owner)


def write_json_atomic(path: Path, data: Any) -> None:
    """Indented, keys sorted. JSON has no NaN: an undefined number (e.g. a mean over no needs)
    is written as null, which orjson does by itself."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps(data, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
                             | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY))
        f.write(b"\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Around building or loading millions of small acyclic objects (a world, records, truth):
    the cyclic garbage collector would walk them again and again as they pile up, for nothing
    (generating the default corpus: 11.1 s with it, 7.4 s without). It is paused, and what
    was made is then moved out of its way (gc.freeze); reference counting still frees it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was:
            gc.enable()


def iter_jsonl(path: Path) -> Iterator[dict]:
    """Rows of a gzip JSON-lines file. Read in 4 MB blocks and split: a line at a time through
    GzipFile costs more than parsing the JSON. ISA-L inflates about 3x faster than zlib. A file
    that is missing, cut short or not gzip is named, not a traceback."""
    try:
        yield from _jsonl_rows(path)
    except FileNotFoundError:
        raise PolebenchError(f"{path}: missing; the folder is incomplete: make it again") from None
    except (OSError, EOFError, ValueError, isal_zlib.error) as e:  # ValueError: JSON
        raise PolebenchError(f"{path}: damaged ({type(e).__name__}: {e}); make it again") from None


def _jsonl_rows(path: Path) -> Iterator[dict]:
    with igzip.open(path, "rb") as f:
        rest = b""
        while block := f.read(1 << 22):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if line:
                    yield orjson.loads(line)
        if rest.strip():
            yield orjson.loads(rest)


_VERIFIED: set[tuple] = set()


class Corpus:
    """A corpus folder, read as a stream. Engines read records only; judging reads truth."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        mpath = self.root / MANIFEST
        if not mpath.is_file():
            raise PolebenchError(f"{self.root}: not a corpus folder (no {MANIFEST}); "
                                 f"run `polebench generate corpora/<name>.yaml` first")
        try:
            self.manifest = Manifest.model_validate_json(mpath.read_text())
        except ValidationError as e:
            first = e.errors()[0]
            raise SpecError.single(mpath, ".".join(map(str, first["loc"])), first["msg"]) from None

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def checksum(self) -> str:
        return self.manifest.checksum

    def verify(self) -> None:
        """Refuse a corpus whose files are not what its manifest says: a file missing, or its
        SHA-256 not the one recorded. A full hash of every file, since it is cheap (SHA-256 runs
        at about 1 GB/s with the CPU's SHA extensions: 0.08-0.2 s for the 44 MB of the
        200k-record `default` corpus) and a size or a partial hash would miss an edited checksum."""
        for name in (RECORDS, MENTIONS, ENTITIES):
            path, claimed = self.root / name, self.manifest.files.get(name)
            if claimed is None:
                raise SpecError.single(self.root / MANIFEST, f"files.{name}", "missing: the manifest must give "
                                       "the checksum of every corpus file")
            if not path.is_file():
                raise PolebenchError(f"{path}: missing; the corpus is incomplete: generate or import it again")
            st = path.stat()
            seen = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, claimed)
            if seen in _VERIFIED:  # checked already in this process (queries, then run)
                continue
            actual = sha256_file(path)
            if actual != claimed:
                raise SpecError.single(self.root / MANIFEST, f"files.{name}", f"says SHA-256 {claimed[:16]}..., "
                                       f"but {name} has {actual[:16]}...: the corpus was changed after it was "
                                       f"written; generate or import it again")
            _VERIFIED.add(seen)

    def records(self) -> Iterator[dict]:
        return iter_jsonl(self.root / RECORDS)

    def truth_mentions(self) -> Iterator[dict]:
        return iter_jsonl(self.root / MENTIONS)

    def truth_entities(self) -> Iterator[dict]:
        return iter_jsonl(self.root / ENTITIES)
