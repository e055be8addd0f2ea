"""polebench erase: delete a subject's records the way a profile's system does, then verify."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from bench.access.erase import COPIES, cleanup, erase
from bench.access.sar import sar_instance
from bench.cli.common import console
from bench.corpus.store import Corpus, write_json_atomic
from bench.errors import PolebenchError
from bench.profiles.model import ProfileSet
from bench.run import audit

HELP = "erase a subject on a copy of the index as a profile's system would, and verify it is really gone"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("erase", help=HELP, description=HELP + (
        ". Works on a copy of the index (tantivy, or OpenSearch with --backend opensearch), made in a work "
        "folder under <corpus>/index and removed when done; the corpus and the shared index are never "
        "changed. Verifies from truth which of the subject's records any profile still finds, which the SAR "
        "search missed, and whether the erased records are still physically in the index files. A copy left "
        "by an erasure that was killed is removed by the next one, or by --cleanup."))
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--subject", help="the subject's true entity id, e.g. P0000008 (required unless --cleanup)")
    p.add_argument("--profile", help="the profile whose deletion is tested, e.g. connect (required unless --cleanup)")
    p.add_argument("--verify-with", default="crimint,connect,iip,connect+iip",
                   help="profiles whose searches check what is still findable (default: %(default)s)")
    p.add_argument("--backend", choices=sorted(COPIES), default="embedded")
    p.add_argument("--opensearch-url", help="default: $POLEBENCH_OPENSEARCH_URL or http://127.0.0.1:9200")
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--cleanup", action="store_true",
                   help="erase nothing: remove the copies (work folders, and their OpenSearch indexes) that killed "
                        "erasures of this corpus left; with --backend opensearch also any erasure copy of this "
                        "corpus on the node that no work folder here claims")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    corpus = Corpus(args.corpus)
    if args.cleanup:
        done = cleanup(corpus, url=args.opensearch_url, backend=args.backend)
        for line in done:
            console.print(line)
        console.print(f"{len(done) or 'nothing'} left by killed erasures of {corpus.name} "
                      f"{'removed' if done else 'found'}")
        if done:
            audit.append(args.results / "audit.jsonl", "erase-cleanup", corpus=corpus.name, removed=done)
        return 0
    missing = [o for o in ("subject", "profile") if not getattr(args, o)]
    if missing:
        raise PolebenchError(f"erase: {' and '.join('--' + o for o in missing)} required "
                             f"(or --cleanup to remove what killed erasures left)")
    names = [p.strip() for p in args.verify_with.split(",") if p.strip()]
    if args.profile not in names:
        names.insert(0, args.profile)
    profiles = ProfileSet(names)
    inst = sar_instance(corpus, subject=args.subject)
    rep = erase(corpus, inst, args.profile, profiles, backend=args.backend, url=args.opensearch_url)
    out = args.results / f"erase-{corpus.name}-{args.subject}-{args.profile}-{args.backend}.json"
    write_json_atomic(out, {**dataclasses.asdict(rep), "verdict": rep.verdict, "synthetic": corpus.manifest.synthetic})
    audit.append(args.results / "audit.jsonl", "erase", operation="erasure", corpus=corpus.name,
                 subject=args.subject, profile=args.profile, deletion=rep.deletion, erased=len(rep.erased),
                 never_erased=len(rep.never_erased), present_after=rep.present_after,
                 still_findable={k: len(v) for k, v in rep.still_findable.items()}, verdict=rep.verdict)
    tag = corpus.manifest.provenance.short
    console.print(f"subject {rep.subject} ({tag}): {rep.records_about_subject} records about them")
    for s in rep.steps:
        console.print(f"  {s}")
    console.print(f"  never erased (missed by the SAR search): {len(rep.never_erased)}")
    for name, rids in rep.still_findable.items():
        console.print(f"  still findable by {name}: {len(rids)}")
    console.print(f"  erased records still in the index files: {rep.present_after} of {rep.present_before}")
    console.print(f"[bold]{rep.verdict}[/]\nwrote {out}")
    return 0
