"""Subject access requests: seeded, stratified subjects, each phrased from what a requester
supplies (full name, any alias, date of birth, address), as a query-stage instance that the
ordinary run measures."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from bench.corpus.store import Corpus
from bench.errors import PolebenchError
from bench.queries.compact import TruthStore
from bench.queries.instantiate import INSTANCE_FORMAT, Instantiated, describe, subject_numbers
from bench.queries.records import RecordShelf
from bench.queries.judge import judge
from bench.queries.templates import sar_need
from bench.queries.truth import Truth
from bench.run.results import Estimate, RunResults

STRATA = ("common_name", "rare_name", "with_alias", "many_records")


def choose_subjects(truth: Truth, n: int, seed: int) -> list[tuple[Mapping, str]]:
    """N subjects, a quarter from each stratum (common names, rare names, with an alias, with many records)."""
    # a requester gives their name; an imported person whom no row names cannot be one
    t = truth.named_people()
    if not len(t.people):
        raise PolebenchError("the corpus has no named person with a record")
    # strata drawn over arrays, row for row with t.people (a million people at 1M records)
    _, surname = np.unique(t.surname, return_inverse=True)
    freq = np.bincount(surname.reshape(-1))  # people per distinct surname
    per = freq[surname.reshape(-1)]
    pools = {"common_name": np.flatnonzero(per >= np.sort(freq)[int(len(freq) * 0.9)]),
             "rare_name": np.flatnonzero(per == 1),
             "with_alias": np.flatnonzero(t.alias),
             "many_records": np.flatnonzero(t.records >= np.sort(t.records)[int(len(t.records) * 0.9)])}
    rng = random.Random(f"sar:{seed}")
    out: list[tuple[Mapping, str]] = []
    taken = np.zeros(len(t.people), bool)
    for i in range(n):
        stratum = STRATA[i % len(STRATA)]
        pool = pools[stratum][~taken[pools[stratum]]]
        if not len(pool):
            pool = np.flatnonzero(~taken)
        if not len(pool):
            raise PolebenchError(f"asked for {n} subjects but the corpus has {i} named people with records")
        k = int(rng.choice(pool))  # rows in corpus order, as the pools of people were
        taken[k] = True
        out.append((t.people[k], stratum))
    return out


def sar_subjects(corpus: Corpus, subjects: int | None = None, subject: str | None = None,
                 seed: int = 0) -> tuple[Truth, list[tuple[Mapping, str]]]:
    """The corpus's truth, and the people whose requests are measured with the stratum each was
    drawn from: `subject` alone, or `subjects` chosen by choose_subjects."""
    truth = TruthStore.load(corpus)  # the truth in columns: about 0.2 GB a million records, not 1.7
    if not subject:
        return truth, choose_subjects(truth, subjects or 20, seed)
    p = truth.entities.get(subject)
    if not p or p["kind"] != "person":
        raise PolebenchError(f"unknown subject {subject!r}: not a person in corpus {corpus.name}")
    if not truth.mentions.get(subject):
        raise PolebenchError(f"subject {subject} has no records in corpus {corpus.name}: nothing to disclose or erase")
    if not (p["forename"] or p["surname"]):
        raise PolebenchError(f"subject {subject} has no name in corpus {corpus.name} (no row of the imported "
                             f"file names them): a subject access request is made by name")
    return truth, [(p, "named")]


def sar_instance(corpus: Corpus, subjects: int | None = None, subject: str | None = None, seed: int = 0) -> Instantiated:
    truth, chosen = sar_subjects(corpus, subjects, subject, seed)
    records = RecordShelf(corpus)
    rnum_of = records.rnum_of
    needs, qrels, details = [], {}, {}
    for i, (p, stratum) in enumerate(chosen):
        need = sar_need(p, truth, f"sar-{i + 1:03d}", stratum.replace("_", " "))
        rel = judge(need, truth)
        needs.append(need)
        qrels[need.id] = rel
        details[need.id] = describe(need, rel, truth, records, rnum_of)
    key = hashlib.sha256(f"{subject}|{subjects}|{seed}".encode()).hexdigest()[:8]
    name = f"sar-{subject.lower()}" if subject else f"sar-{len(chosen)}-s{seed}"
    meta = {"format": INSTANCE_FORMAT, "query_set": name, "source": f"polebench sar ({key})",
            "set_checksum": key, "corpus": corpus.name, "corpus_checksum": corpus.checksum,
            "synthetic": corpus.manifest.synthetic,
            "subjects": {n.id: n.targets[0] for n in needs}}
    return Instantiated(needs, qrels, meta, details, subject_numbers(truth, rnum_of))


class SarFigures(BaseModel):
    """One profile's subject access requests, over the run's SAR needs (figures of run.json's
    by_kind.sar block, named as a disclosure officer reads them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: int = Field(description="subject access requests measured")
    completeness: Estimate = Field(description="share of the subject's records found, per request (recall)")
    false_inclusions: Estimate = Field(description="other people's records returned, per request")
    precision: Estimate
    hours: Estimate = Field(description="analyst-hours to sift one request's records (sift hours)")
    missed_total: int = Field(description="the subjects' records no search found, over every request")
    relevant_total: int = Field(description="the subjects' records held, over every request")


def sar_summary(run: RunResults) -> dict[str, SarFigures]:
    """Per profile that measured SAR needs: completeness, other people's records included, hours to compile."""
    out = {}
    for name in run.profile_order:
        block = run.profile(name).by_kind.get("sar")
        if not block:
            continue
        out[name] = SarFigures(requests=block.queries, completeness=block.mean["recall"],
                               false_inclusions=block.mean["false_inclusions"], precision=block.mean["precision"],
                               hours=block.mean["sift_hours"], missed_total=block.missed_total,
                               relevant_total=block.relevant_total)
    return out
