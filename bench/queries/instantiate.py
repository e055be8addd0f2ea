"""Instantiate a query set against a corpus: expand includes and templates, judge every need
from truth, and write the concrete needs and TREC qrels beside the corpus."""

from __future__ import annotations

import hashlib
import json
import random
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from bench.corpus.store import Corpus, atomic_dir, gz_lines, sha256_file, write_json_atomic
from bench.errors import Location, SpecError
from bench.queries.instance import NEEDS_SHA256, InstanceFiles
from bench.queries.records import RecordShelf
from bench.queries.judge import judge, resolve_targets, unrecorded_targets
from bench.queries.model import Need, QuerySet
from bench.queries.templates import TEMPLATES, Context, TemplateError
from bench.queries.compact import TruthStore
from bench.queries.truth import Truth
from bench.queries.vocabulary import Vocabulary
from bench.specio import load_yaml, locate, validate


INSTANCE_FORMAT = 5  # bump when the instance folder's files change: old ones are made again


@dataclass
class Loaded:
    """A query set file with its includes, and where each of its parts came from."""

    path: Path
    qset: QuerySet
    pos: dict
    children: list["Loaded"]


def load_query_set(path: str | Path, _stack: tuple = ()) -> Loaded:
    path = Path(path).resolve()
    if path in _stack:
        raise SpecError.single(path, "include", "includes itself (cycle)")
    data, pos = load_yaml(path)
    qset = validate(QuerySet, data, path, pos)
    problems = []
    for i, t in enumerate(qset.templates):
        if t.template not in TEMPLATES:
            problems.append((locate(path, pos, ("templates", i, "template")),
                             f"unknown template {t.template!r}; known: {', '.join(TEMPLATES)}"))
            continue
        try:
            TEMPLATES[t.template][1].model_validate(t.params)
        except ValidationError as e:
            for err in e.errors():
                loc = ("templates", i, "params") + tuple(err["loc"])
                problems.append((locate(path, pos, loc), "unknown key" if err["type"] == "extra_forbidden" else err["msg"]))
    children = []
    for i, inc in enumerate(qset.include):
        child = path.parent / inc
        if not child.is_file():
            problems.append((locate(path, pos, ("include", i)), f"included file not found: {child}"))
            continue
        children.append(load_query_set(child, _stack + (path,)))
    if problems:
        raise SpecError(problems)
    return Loaded(path, qset, pos, children)


def file_checksum(loaded: Loaded) -> str:
    h = hashlib.sha256(loaded.path.read_bytes())
    for c in loaded.children:
        h.update(file_checksum(c).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Origin:
    """Where a need was written: a file, and the key path of the need (or of its template)."""

    path: Path
    pos: dict
    loc: tuple

    def at(self, *sub: object) -> Location:
        return locate(self.path, self.pos, self.loc + sub)


def _expand(loaded: Loaded, ctx_for, truth: Truth) -> list[tuple[Need, Origin]]:
    out: list[tuple[Need, Origin]] = []
    for child in loaded.children:
        out += _expand(child, ctx_for, truth)
    for i, need in enumerate(loaded.qset.queries):
        out.append((need, Origin(loaded.path, loaded.pos, ("queries", i))))
    ctx = ctx_for(loaded.qset.seed)
    for i, t in enumerate(loaded.qset.templates):
        fn, params_model = TEMPLATES[t.template]
        try:
            needs = fn(ctx, t.count, params_model.model_validate(t.params), t.id_prefix)
        except TemplateError as e:
            loc = locate(loaded.path, loaded.pos, ("templates", i, e.field))
            raise SpecError([(loc, str(e))]) from None
        where = Origin(loaded.path, loaded.pos, ("templates", i))
        out += [(n, where) for n in needs]
    return out


@dataclass
class Instantiated:
    """A query set made concrete for one corpus: needs, graded qrels, and for every relevant
    record its record number, the corruptions its mention of the target carries, its source
    system and how it was written (for the error breakdown), plus each record's main true
    subject as a number per record number, -1 for none (for the entity view)."""

    needs: list[Need]
    qrels: dict[str, dict[str, int]]
    meta: dict
    details: dict[str, dict[str, dict]] = field(default_factory=dict)
    subjects: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))


def instantiate(set_path: str | Path, corpus: Corpus) -> Instantiated:
    loaded = load_query_set(set_path)
    truth = TruthStore.load(corpus)
    records = RecordShelf(corpus)
    rnum_of = records.rnum_of
    ctx_for = lambda seed: Context(truth, records, random.Random(f"queries:{seed}"))  # noqa: E731
    expanded = _expand(loaded, ctx_for, truth)
    needs: list[Need] = []
    qrels: dict[str, dict[str, int]] = {}
    details: dict[str, dict[str, dict]] = {}
    problems = []
    vocabulary = Vocabulary(truth)
    for need, where in expanded:
        if need.id in qrels:
            problems.append((where.at(), f"duplicate query id {need.id!r}"))
            continue
        unknown = vocabulary.unknown(need)
        if unknown:
            problems += [(where.at(*u.loc), f"query {need.id!r}: {u.message()}") for u in unknown]
            continue
        rel = judge(need, truth)
        if not rel:
            problems.append((where.at(), f"query {need.id!r}: the corpus holds no record of what it describes "
                                         f"(target not in corpus)"))
            continue
        needs.append(need)
        qrels[need.id] = rel
        details[need.id] = describe(need, rel, truth, records, rnum_of)
    if problems:
        raise SpecError(problems)
    if not needs:  # every figure of a run would be a mean over nothing
        raise SpecError.single(set_path, "queries", "the set holds no needs (its queries, templates and included "
                               "sets are all empty): there is nothing to measure")
    meta = {"format": INSTANCE_FORMAT, "query_set": loaded.qset.name, "source": str(Path(set_path)),
            "set_checksum": file_checksum(loaded), "corpus": corpus.name,
            "corpus_checksum": corpus.checksum, "synthetic": corpus.manifest.synthetic}
    return Instantiated(needs, qrels, meta, details, subject_numbers(truth, rnum_of))


def subject_numbers(truth: Truth, rnum_of: Mapping[str, int]) -> np.ndarray:
    """Per record number, a number for the true person the record is mainly about (-1: none)."""
    return truth.subject_numbers(rnum_of)


def _written(rec: dict, mid: str) -> str:
    for key in ("people", "vehicles", "phones", "locations"):
        for m in rec[key]:
            if m["mid"] == mid:
                if key == "people":
                    return " ".join(x for x in (m["forename"], m["surname"], m["dob"] or "(no DOB)") if x)
                if key == "vehicles":
                    return m["vrm"]
                if key == "phones":
                    return m["number"]
                return f"{m['address']}, {m['postcode']}"
    return ""


def _record_kinds_asked(need: Need) -> set[str]:
    """The record-level kinds that can hide a record from this need: those about what it asks."""
    e = need.event
    if not e:
        return set()
    return ({"event_date_off", "event_date_missing"} if e.date_from or e.date_to else set()) | (
        {"offence_missing"} if e.types else set()) | ({"mo_not_recorded"} if e.terms else set())


def describe(need: Need, rel: dict[str, int], truth: Truth, records: Mapping[str, dict],
             rnum_of: Mapping[str, int]) -> dict[str, dict]:
    """For each relevant record: its record number, the corruption kinds on the mention that
    makes it relevant (and what the record as a whole lacks that the need asks for), its source
    system and how it was written."""
    shelved = {rid: records[rid] for rid in rel}  # each read once from the shelf
    out: dict[str, dict] = {rid: {"kinds": set(), "source": shelved[rid]["source"], "written": []} for rid in rel}
    entities = resolve_targets(need, truth) if any((need.person, need.vehicle, need.phone, need.association)) else ()
    if not entities:  # a place-and-time need: the record's place mention
        entities = tuple({truth.entities[truth.record_event[rid]]["address"] for rid in rel})
    unlinked = unrecorded_targets(need, truth)
    linked_rids: set[str] = set()
    for ent in entities:
        for m in truth.mentions.get(ent, ()):
            if m.rid in out:
                out[m.rid]["kinds"].update(m.kinds)
                out[m.rid]["written"].append(_written(shelved[m.rid], m.mid))
                if ent not in unlinked:
                    linked_rids.add(m.rid)
    if need.association:  # relevant only through ties no record shows
        for rid in set(out) - linked_rids:
            out[rid]["kinds"].add("link_not_recorded")
    asked = _record_kinds_asked(need)
    for rid in out:
        out[rid]["kinds"].update(k for k in truth.record_kinds.get(rid, ()) if k in asked)
    return {rid: {"rnum": rnum_of[rid], "kinds": sorted(d["kinds"]), "source": d["source"],
                  "written": "; ".join(d["written"])} for rid, d in out.items()}


def instance_dir(corpus: Corpus, set_name: str) -> Path:
    return corpus.root / "queries" / set_name


def current_instance(set_path: str | Path, corpus: Corpus) -> Path | None:
    """The instance folder of this query set on this corpus if it is up to date, else None."""
    loaded = load_query_set(set_path)
    d = instance_dir(corpus, loaded.qset.name)
    meta = d / "meta.json"
    if not meta.is_file():
        return None
    m = json.loads(meta.read_text())
    fresh = (m.get("set_checksum") == file_checksum(loaded) and m.get("corpus_checksum") == corpus.checksum
             and m.get("format") == INSTANCE_FORMAT)
    return d if fresh else None


def ensure_instance(set_path: str | Path, corpus: Corpus) -> Path:
    """The instance folder, made now if missing or stale."""
    d = current_instance(set_path, corpus)
    if d is None:
        inst = instantiate(set_path, corpus)
        d = instance_dir(corpus, inst.meta["query_set"])
        write_instance(d, inst)
    return d


def write_instance(out: Path, inst: Instantiated) -> None:
    with atomic_dir(out) as tmp:
        with open(tmp / "needs.jsonl", "w") as f:
            for n in inst.needs:
                f.write(n.model_dump_json(exclude_defaults=True) + "\n")
        with open(tmp / "qrels.txt", "w") as f:
            for qid, rel in inst.qrels.items():
                for rid in sorted(rel):
                    f.write(f"{qid} 0 {rid} {rel[rid]}\n")
        (tmp / "judgements.jsonl.gz").write_bytes(
            gz_lines([{"qid": qid, "records": d} for qid, d in inst.details.items()]))
        np.save(tmp / "subjects.npy", inst.subjects)
        write_json_atomic(tmp / "meta.json", {**inst.meta, NEEDS_SHA256: sha256_file(tmp / "needs.jsonl")})


def summary(inst: "Instantiated | Instance") -> dict[str, dict]:
    """Per kind: how many needs, and min / median / max relevant records."""
    kinds: dict[str, list[int]] = {}
    for n in inst.needs:
        kinds.setdefault(n.derived_kind(), []).append(len(inst.qrels[n.id]))
    return {k: {"queries": len(v), "min": min(v), "median": statistics.median(v), "max": max(v)}
            for k, v in sorted(kinds.items())}


@dataclass
class Instance:
    """An instantiated query set read back whole (a run reads it need by need: InstanceFiles)."""

    dir: Path
    needs: list[Need]
    qrels: dict[str, dict[str, int]]
    meta: dict
    details: dict[str, dict[str, dict]] = field(default_factory=dict)
    subjects: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))

    @classmethod
    def load(cls, d: Path) -> "Instance":
        files = InstanceFiles.open(d)
        inst = cls(d, [], {}, files.meta, {}, files.subjects)
        for judged in files:
            inst.needs.append(judged.need)
            inst.qrels[judged.need.id] = judged.qrels
            inst.details[judged.need.id] = judged.details
        return inst
