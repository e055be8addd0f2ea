"""A corpus on disk: manifest.json, records.jsonl.gz and, apart, truth/. Written to a
temporary folder and moved into place only when complete; read back as a stream."""

from __future__ import annotations

import ctypes
import fcntl
import gc
import hashlib
import os
import re
import shutil
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

import orjson
from isal import igzip, isal_zlib
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bench.errors import PolebenchError, SpecError
from bench.provenance import Provenance
from bench.specio import NAME_MAX

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
# manifest.json's `generator`: what wrote the corpus (an imported one may be the only copy left of
# the user's records, so neither kind replaces the other without --force)
GENERATED, IMPORTED = "polebench", "polebench import"


class Manifest(BaseModel):
    """manifest.json of a corpus folder."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = 1
    name: str = Field(pattern=NAME_PATTERN, max_length=NAME_MAX)
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

    @property
    def provenance(self) -> Provenance:
        return Provenance(self.synthetic, self.origin, self.licence)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def gz_lines(rows: Iterable[dict]) -> bytes:
    """One gzip member for a chunk of rows; mtime 0 keeps output byte-identical. Level 1: the
    corpus is written once per spec and read by streaming; speed matters more than size. zlib,
    not ISA-L (about four times as fast at level 1): gz_writer promises the same bytes."""
    member = GzMember()
    member.write(rows)
    return member.close()


class GzMember:
    """One gzip member written a batch of rows at a time: the bytes gzip.compress(lines, 1,
    mtime=0) gives for all the lines at once (it is zlib's own gzip wrapping, whose output does
    not depend on how its input is cut), holding only the compressed bytes and the batch. The
    generator's workers held a chunk's 20,000 records as dicts and then as one string: about
    100 MB each."""

    def __init__(self) -> None:
        self.z = zlib.compressobj(1, zlib.DEFLATED, 31)
        self.out: list[bytes] = []

    def write(self, rows: Iterable[dict]) -> None:
        self.out.append(self.z.compress(b"".join([orjson.dumps(r, option=orjson.OPT_SORT_KEYS) + b"\n"
                                                  for r in rows])))

    def close(self) -> bytes:
        self.out.append(self.z.flush())
        return b"".join(self.out)


class _GzLines:
    def __init__(self, raw: BinaryIO):
        # gzip.compress with mtime 0 is zlib's own gzip wrapping (wbits 31): the same stream, fed in parts
        self.raw, self.z = raw, zlib.compressobj(1, zlib.DEFLATED, 31)

    def write(self, data: bytes) -> None:
        self.raw.write(self.z.compress(data))


@contextmanager
def gz_writer(path: Path) -> Iterator[_GzLines]:
    """A gzip file written a line at a time, byte for byte what gz_lines gives for the same lines."""
    with open(path, "wb") as raw:
        out = _GzLines(raw)
        yield out
        raw.write(out.z.flush())


def check_name(name: str, what: str) -> str:
    """A name that will name a folder: refused, saying why, if it could leave its root."""
    if len(name) > NAME_MAX:
        raise PolebenchError(f"{what} {name[:NAME_MAX]!r}...: a name has at most {NAME_MAX} characters (it names "
                             f"files and folders joined with others, and a file name has at most 255 bytes)")
    if not re.fullmatch(NAME_PATTERN, name):
        raise PolebenchError(f"{what} {name!r}: a name is letters, digits, '.', '_', '+' and '-', starting "
                             f"with a letter or digit (it names a folder, and may not lead out of it)")
    return name


def check_replaceable(out: Path, name: str, generator: str, force: bool, option: str = "--out") -> None:
    """Before a corpus is written to `out`: refuse to replace a file, or a folder holding anything
    but a polebench corpus of the same name written the same way (generated, or imported), with
    --force a folder of anything, so that no command deletes what polebench did not write or what
    only an import could write again."""
    entries = entries_to_check(out, force, option)
    if entries is None:
        return
    ours = our_corpus(out)
    if ours is None:
        raise PolebenchError(f"{option} {out}: the folder holds files polebench did not write; refusing to "
                             f"replace it (choose an empty or new folder, or add --force to replace it)")
    if ours.name != name:
        raise PolebenchError(f"{option} {out}: holds the corpus {ours.name!r}, not {name!r}; refusing to replace "
                             f"it (choose another folder, or add --force to replace it)")
    if ours.generator != generator:
        kind = {GENERATED: "generated", IMPORTED: f"imported ({ours.origin})"}.get(ours.generator, ours.generator)
        raise PolebenchError(f"{option} {out}: holds the corpus {name!r} {kind}, which this command did not write; "
                             f"refusing to replace it (choose another name or folder, or add --force to replace it)")


def our_corpus(folder: Path) -> Manifest | None:
    """The manifest of a corpus folder polebench wrote and that holds nothing else; else None."""
    try:
        manifest = Manifest.model_validate_json((folder / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None
    if not manifest.generator.startswith("polebench") or not {e.name for e in folder.iterdir()} <= CORPUS_ENTRIES:
        return None
    return manifest


def entries_to_check(out: Path, force: bool, option: str = "--out") -> set[str] | None:
    """What an output folder holds, to be checked before it is replaced; None when there is
    nothing to check (no folder, an empty one, or --force). A file is never replaced."""
    if not out.exists() and not out.is_symlink():
        return None
    if not out.is_dir():
        raise PolebenchError(f"{option} {out}: is a file, not a folder; refusing to replace it")
    entries = {e.name for e in out.iterdir()}
    return entries if entries and not force else None


OWNER = ".owner"  # beside a folder being written, named after it, held locked by its writer


def claim(parent: Path, prefix: str) -> tuple[Path, int]:
    """A new folder `<prefix><random>` in `parent`, and beside it `<folder>.owner`, held locked
    by this process (the OS drops the lock when the process dies, kill -9 included). The owner
    file comes first, so that there is no moment at which a folder exists that a later command
    could not tell is polebench's and abandoned. Returns the folder and the lock's fd."""
    while True:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=OWNER, dir=parent)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, orjson.dumps({"writer": "polebench", "pid": os.getpid()}))
        folder = Path(name[: -len(OWNER)])
        if _still_there(Path(name), fd):  # a cleaner may have taken it between creation and lock
            try:
                folder.mkdir()
                return folder, fd
            except FileExistsError:
                os.unlink(name)
        os.close(fd)


def _still_there(owner: Path, fd: int) -> bool:
    try:
        return os.stat(owner).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def release(folder: Path, fd: int) -> None:
    """The end of a claim: the owner file goes (the folder is the caller's), then the lock."""
    try:
        os.unlink(f"{folder}{OWNER}")
    finally:
        os.close(fd)


def clean_claims(parent: Path, pattern: str, remove: Callable[[Path], None]) -> list[Path]:
    """For every owner file matching `pattern` in `parent` that no live process holds: `remove`
    its folder (if there is one), then the owner file. A folder without an owner file is not
    polebench's to remove, and one whose owner still runs is left alone. If `remove` fails the
    owner file stays, so that a later command tries again."""
    removed: list[Path] = []
    for owner in sorted(parent.glob(pattern + OWNER)) if parent.is_dir() else []:
        try:
            fd = os.open(owner, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # another cleaner got there first
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if not _still_there(owner, fd):
                continue
            folder = Path(str(owner)[: -len(OWNER)])
            if folder.is_dir() and not folder.is_symlink():
                remove(folder)
                removed.append(folder)
            owner.unlink()
        except BlockingIOError:  # its writer is alive
            continue
        finally:
            os.close(fd)
    return removed


def clean_abandoned(parent: Path, name: str = "*") -> list[Path]:
    """Remove what killed writers left in `parent`: temporary folders of atomic_dir whose owner
    died, and a replaced output kept aside while its successor was moved in, put back if the
    successor never arrived."""
    removed = clean_claims(parent, f".{name}.partial-*", lambda d: shutil.rmtree(d, ignore_errors=True))
    for old in parent.glob(f".{name}.old-*") if parent.is_dir() else []:
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
    tmp, owner = claim(final.parent, f".{final.name}.partial-")
    try:
        os.chmod(tmp, 0o755)
        yield tmp
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        release(tmp, owner)


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


def release_free_memory() -> None:
    """Give the memory freed so far back to the OS (glibc's malloc_trim; nothing elsewhere).
    Building the world frees far more than it keeps (numpy's temporaries), and glibc keeps
    what was freed inside its heap: 70 of the 150 MB the 1M-record world's process held. A
    process about to fork workers that share its pages would otherwise hold those for good."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.malloc_trim(0)


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
        for line in block_lines(f):
            if line.strip():
                yield orjson.loads(line)


def block_lines(f: BinaryIO, block: int = 1 << 22) -> Iterator[bytes]:
    """Every line of a binary file without its newline (the last one too, if it has none), read in
    blocks and split: a line at a time through a GzipFile costs more than parsing it."""
    rest = b""
    while data := f.read(block):
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


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
