"""Bad input, as a careless or a hostile user gives it (issue 21): every case gets one clear
message naming the file or option and the field, a defined exit code, and leaves what was there
before as it was. One table, one row per case."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from bench.cli.main import main
from bench.corpus.generate import generate, load_spec

ROOT = Path(__file__).resolve().parents[1]
MAPPING = ROOT / "corpora" / "import-example.yaml"
PEOPLE = ("rec_id,given_name,surname,date_of_birth,street_number,address_1,address_2,suburb,postcode,phone_number\n"
          "rec-1-org,william,smith,19850304,12,high street,,hackney,E8 1AB,\n"
          "rec-1-dup-0,bill,smith,19850304,12,high st,,hackney,E8 1AB,\n")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A 2,000-record corpus, copied into each case's folder as `tiny/`."""
    spec = (ROOT / "corpora" / "ci.yaml").read_text().replace("name: ci", "name: tiny") \
        .replace("records: 20000", "records: 2000").replace("events: 9000", "events: 1000")
    d = tmp_path_factory.mktemp("tiny")
    (d / "tiny.yaml").write_text(spec)
    generate(load_spec(d / "tiny.yaml"), d / "tiny")
    return d


@dataclass
class Case:
    id: str
    setup: Callable[[Path], list[str]]  # writes what the case needs under its folder; returns argv
    code: int
    says: tuple[str, ...]  # the message names the file or option, and the field
    kept: Callable[[Path], bool] = field(default=lambda d: True)  # what was there is still there


def _results_with_audit(d: Path) -> None:
    (d / "results").mkdir()
    (d / "results" / "audit.jsonl").write_text('{"event": "run"}\n')


def _import(d: Path, *extra: str) -> list[str]:
    (d / "people.csv").write_text(PEOPLE)
    return ["import", str(d / "people.csv"), "--map", str(MAPPING), *extra]


def _user_folder(d: Path) -> list[str]:
    (d / "mine").mkdir()
    (d / "mine" / "thesis.txt").write_text("mine")
    return ["generate", str(d / "tiny.yaml"), "--out", str(d / "mine")]


def _manifest_name(d: Path, name: str) -> list[str]:
    m = json.loads((d / "tiny" / "manifest.json").read_text())
    m["name"] = name
    (d / "tiny" / "manifest.json").write_text(json.dumps(m))
    return ["run", "--corpus", str(d / "tiny"), "--queries", str(ROOT / "queries" / "example-written.yaml"),
            "--results", str(d / "results")]


CASES = [
    Case("generate --out over a folder of the user's", _user_folder, 2, ("mine", "did not write", "--force"),
         lambda d: (d / "mine" / "thesis.txt").read_text() == "mine"),
    Case("generate --out over a file", lambda d: (d / "some.yaml").write_text("keep: me\n") and
         ["generate", str(d / "tiny.yaml"), "--out", str(d / "some.yaml"), "--force"], 2, ("some.yaml", "is a file"),
         lambda d: (d / "some.yaml").read_text() == "keep: me\n"),
    Case("generate --out over a corpus of another name",
         lambda d: ["generate", str(d / "tiny.yaml"), "--out", str(d / "tiny")] if (
             d / "tiny.yaml").write_text((d / "tiny.yaml").read_text().replace("name: tiny", "name: other")) else [],
         2, ("--out", "tiny", "'tiny', not 'other'"), lambda d: json.loads(
             (d / "tiny" / "manifest.json").read_text())["name"] == "tiny"),
    Case("import --name ../results", lambda d: _results_with_audit(d) or _import(d, "--name", "../results"),
         2, ("--name", "'../results'"), lambda d: (d / "results" / "audit.jsonl").is_file()),
    Case("import --name ../../tmp/x", lambda d: _import(d, "--name", "../../tmp/x"), 2, ("--name", "../../tmp/x"),
         lambda d: not (d.parent.parent / "tmp" / "x").exists()),
    Case("import --out over a folder of the user's",
         lambda d: _user_folder(d) and _import(d, "--name", "t", "--out", str(d / "mine")), 2, ("mine", "did not write"),
         lambda d: (d / "mine" / "thesis.txt").is_file()),
    Case("import --name over a generated corpus of that name",
         lambda d: _import(d, "--name", "tiny", "--out", str(d / "tiny")), 2, ("tiny", "generated", "--force"),
         lambda d: json.loads((d / "tiny" / "manifest.json").read_text())["counts"]["records"] == 2000),
    # with no --out the folder is corpora/<name>: the message names the option the user gave
    Case("import --name over a generated corpus in corpora/",
         lambda d: (d / "corpora").mkdir() or shutil.copytree(d / "tiny", d / "corpora" / "tiny") and
         _import(d, "--name", "tiny"), 2, ("--name corpora/tiny", "generated", "--force"),
         lambda d: json.loads((d / "corpora" / "tiny" / "manifest.json").read_text())["counts"]["records"] == 2000),
    Case("generate --out over an imported corpus of that name",
         lambda d: main(_import(d, "--name", "tiny", "--out", str(d / "imp"))) == 0 and
         ["generate", str(d / "tiny.yaml"), "--out", str(d / "imp")], 2, ("imp", "imported (", "--force"),
         lambda d: json.loads((d / "imp" / "manifest.json").read_text())["generator"] == "polebench import"),
    Case("a manifest name with path separators", lambda d: _manifest_name(d, "../../escaped"), 2,
         ("manifest.json", "name", "pattern"), lambda d: not (d.parent / "escaped").exists()),
]


def _corrupt_manifest(d: Path, name: str, value: str | None) -> list[str]:
    m = json.loads((d / "tiny" / "manifest.json").read_text())
    if value is None:
        del m["files"][name]
    else:
        m["files"][name] = value
    (d / "tiny" / "manifest.json").write_text(json.dumps(m))
    return _manifest_name(d, "tiny")


def _edit_records(d: Path) -> list[str]:
    f = d / "tiny" / "records.jsonl.gz"
    data = bytearray(f.read_bytes())
    data[-20] ^= 1
    f.write_bytes(bytes(data))
    return _manifest_name(d, "tiny")


def _truncate(d: Path, name: str) -> list[str]:
    f = d / "tiny" / name
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    return ["queries", str(ROOT / "queries" / "example-written.yaml"), "--corpus", str(d / "tiny")]


def _mention_ids_past_int16(d: Path) -> list[str]:
    """The corpus's first truth row given 32,769 distinct mention ids, as a truth written by another
    tool could be (generate and import write a few), its checksum in the manifest made to match."""
    from bench.corpus.store import gz_lines, iter_jsonl, sha256_file
    f = d / "tiny" / "truth" / "mentions.jsonl.gz"
    rows = list(iter_jsonl(f))
    rows[0]["mentions"] = [{**rows[0]["mentions"][0], "mid": f"m{i}"} for i in range((1 << 15) + 1)]
    f.write_bytes(gz_lines(rows))
    m = json.loads((d / "tiny" / "manifest.json").read_text())
    m["files"]["truth/mentions.jsonl.gz"] = sha256_file(f)
    (d / "tiny" / "manifest.json").write_text(json.dumps(m))
    return ["queries", str(ROOT / "queries" / "example-written.yaml"), "--corpus", str(d / "tiny")]


CASES += [
    Case("a truncated records.jsonl.gz", lambda d: _truncate(d, "records.jsonl.gz"), 2,
         ("manifest.json", "files.records.jsonl.gz", "changed after it was written")),
    Case("a truncated entities.jsonl.gz", lambda d: _truncate(d, "truth/entities.jsonl.gz"), 2,
         ("manifest.json", "files.truth/entities.jsonl.gz", "changed after it was written")),
    Case("a missing truth file", lambda d: (d / "tiny" / "truth" / "mentions.jsonl.gz").unlink() or
         ["queries", str(ROOT / "queries" / "example-written.yaml"), "--corpus", str(d / "tiny")], 2,
         ("truth/mentions.jsonl.gz", "missing")),
    Case("the records checksum in the manifest zeroed", lambda d: _corrupt_manifest(d, "records.jsonl.gz", "0" * 64),
         2, ("manifest.json", "files.records.jsonl.gz", "says SHA-256 0000")),
    Case("the truth checksum missing from the manifest",
         lambda d: _corrupt_manifest(d, "truth/mentions.jsonl.gz", None), 2,
         ("manifest.json", "files.truth/mentions.jsonl.gz", "missing")),
    Case("records changed after they were written", _edit_records, 2, ("manifest.json", "files.records.jsonl.gz",
                                                                        "changed after it was written")),
    Case("a truth row past 32,768 distinct mention ids", _mention_ids_past_int16, 2,
         ("truth/mentions.jsonl.gz: row 1 (record 'R00000000'): mentions[32768].mid 'm32768'", "at most 32,768")),
]


def _yaml(d: Path, data: bytes) -> list[str]:
    (d / "bad.yaml").write_bytes(data)
    return ["generate", str(d / "bad.yaml")]


LAUGHS = "\n".join(["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
    f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]) + "\n"

CASES += [
    Case("YAML in Latin-1", lambda d: _yaml(d, b"name: ci\ndescription: caf\xe9\n"), 2,
         ("bad.yaml:2:17", "not UTF-8")),
    Case("YAML with a NUL", lambda d: _yaml(d, b"name: ci\nseed: 1\x00\n"), 2, ("bad.yaml:2:8", "NUL")),
    Case("YAML with a control character", lambda d: _yaml(d, b"name: ci\nseed: \x07\n"), 2,
         ("bad.yaml", "not valid YAML")),
    Case("YAML billion laughs", lambda d: _yaml(d, LAUGHS.encode()), 2, ("bad.yaml", "aliases")),
    Case("a huge YAML file", lambda d: _yaml(d, b"".join(b"k%d: %d\n" % (i, i) for i in range(200_000))), 2,
         ("bad.yaml", "may hold at most")),
]


def _import_file(d: Path, name: str, data: bytes) -> list[str]:
    (d / name).write_bytes(data)
    return ["import", str(d / name), "--map", str(MAPPING), "--name", "t", "--out", str(d / "t")]


def _gz(data: bytes) -> bytes:
    import gzip
    return gzip.compress(data, mtime=0)


def _spec(d: Path, old: str, new: str) -> list[str]:
    (d / "tiny.yaml").write_text((d / "tiny.yaml").read_text().replace(old, new))
    return ["generate", str(d / "tiny.yaml"), "--out", str(d / "new")]


def _written(d: Path, body: str) -> list[str]:
    (d / "set.yaml").write_text("schema_version: 1\nname: mine\n" + body)
    return ["queries", str(d / "set.yaml"), "--corpus", str(d / "tiny")]


ROWS = PEOPLE.encode()
BIG = ROWS + b"".join(b"rec-%d-org,ann,jones,19800101,1,a street,,hackney,E8 1AB,\n" % i for i in range(2, 30000))
RUN = ["run", "--queries", str(ROOT / "queries" / "example-written.yaml")]


def _profile(d: Path) -> list[str]:
    (d / "p.yaml").write_text("schema_version: 1\nname: x\nlabel: X\nkind: structured\nresult_cpa: 3\n"
                              "fields:\n  person.surname: {modes: [exact]}\n")
    return RUN + ["--profiles", f"crimint,{d / 'p.yaml'}"]


def _union(d: Path, name: str, members: str) -> Path:
    (d / f"{name}.yaml").write_text(f"schema_version: 1\nname: {name}\nlabel: {name}\nkind: union\n"
                                   f"union_of: {members}\n")
    return d / f"{name}.yaml"


def _behaviour(d: Path) -> list[str]:
    text = (ROOT / "bench" / "analyst" / "behaviour.yaml").read_text().replace("  page_size: 20", "  page_sise: 20")
    (d / "b.yaml").write_text(text)
    return RUN + ["--behaviour", str(d / "b.yaml")]
CASES += [
    Case("import a Latin-1 file", lambda d: _import_file(d, "p.csv", ROWS.replace(b"william", b"andr\xe9")), 2,
         ("p.csv: row 2: ", "not UTF-8 text (byte 0xe9, 15 bytes into the line)")),
    Case("import a Latin-1 header", lambda d: _import_file(d, "p.csv", b"r\xe9c_id," + ROWS), 2,
         ("p.csv:1:2", "not UTF-8")),
    Case("import a UTF-16 file", lambda d: _import_file(d, "p.csv", PEOPLE.encode("utf-16")), 2, ("p.csv", "UTF-16")),
    Case("import a binary file", lambda d: _import_file(d, "p.csv", bytes(range(256)) * 8), 2, ("p.csv:1", "NUL")),
    Case("import a bad first JSON line", lambda d: _import_file(d, "p.jsonl", b'{"rec_id": "rec-1-org", \n'), 2,
         ("p.jsonl:1", "not JSON")),
    Case("import an array first JSON line", lambda d: _import_file(d, "p.jsonl", b'["rec_id", "surname"]\n'), 2,
         ("p.jsonl:1", "JSON list, not an object")),
    Case("import a truncated .gz (header whole)", lambda d: _import_file(d, "p.csv.gz", _gz(BIG)[:20000]), 2,
         ("p.csv.gz", "not a whole gzip file")),
    Case("import a truncated .gz", lambda d: _import_file(d, "p.csv.gz", _gz(ROWS)[:30]), 2,
         ("p.csv.gz", "not a whole gzip file")),
    Case("import a fake .gz", lambda d: _import_file(d, "p.csv.gz", ROWS), 2, ("p.csv.gz", "not a whole gzip file")),
    Case("import a NUL byte in a value", lambda d: _import_file(d, "p.csv", ROWS.replace(b"bill", b"bi\0ll")), 2,
         ("p.csv", "row 3", "given_name", "NUL")),
    Case("records: 10^12", lambda d: _spec(d, "records: 2000", "records: 1000000000000"), 2,
         # the line of `records:` in the shipped ci spec, counted rather than written in
         (f"tiny.yaml:{(ROOT / 'corpora' / 'ci.yaml').read_text().splitlines().index('records: 20000') + 1}",
          "records", "less than or equal")),
    Case("an empty queries: []", lambda d: _written(d, "queries: []\n"), 2, ("set.yaml", "queries", "no needs")),
    # names name files joined with others: refused at the field, not as "File name too long" at `run`
    Case("a corpus spec's name of 240 characters", lambda d: _spec(d, "name: tiny", "name: " + "a" * 240), 2,
         (f"tiny.yaml:{(ROOT / 'corpora' / 'ci.yaml').read_text().splitlines().index('name: ci') + 1}:1: name",
          "at most 64 characters")),
    Case("import --name of 240 characters", lambda d: _import(d, "--name", "a" * 240), 2,
         ("--name", "at most 64 characters")),
    Case("a query set's name of 240 characters", lambda d: _written(d, "queries: []\n") and (d / "set.yaml").write_text(
        (d / "set.yaml").read_text().replace("name: mine", "name: " + "a" * 240)) and
        ["queries", str(d / "set.yaml"), "--corpus", str(d / "tiny")], 2, ("set.yaml:2:1: name", "at most 64 characters")),
    Case("a profile's name of 240 characters", lambda d: RUN + ["--corpus", str(d / "tiny"), "--profiles", "crimint,"
                                                               + str(_union(d, "a" * 240, "[crimint, iip]"))], 2,
         ("name", "at most 64 characters")),
    Case("sar --subjects -3", lambda d: ["sar", "--corpus", str(d / "tiny"), "--subjects", "-3"], 2,
         ("--subjects", "at least 1")),
    Case("sar --subjects 0", lambda d: ["sar", "--corpus", str(d / "tiny"), "--subjects", "0"], 2,
         ("--subjects", "at least 1")),
    Case("sar on a corpus changed after it was written", lambda d: _edit_records(d) and
         ["sar", "--corpus", str(d / "tiny"), "--subjects", "2"], 2, ("manifest.json", "files.records.jsonl.gz")),
    Case("vocab on a corpus whose truth changed after it was written",
         lambda d: _corrupt_manifest(d, "truth/entities.jsonl.gz", "0" * 64) and ["vocab", "--corpus", str(d / "tiny")],
         2, ("manifest.json", "files.truth/entities.jsonl.gz")),
    Case("sar --subject ../../x", lambda d: ["sar", "--corpus", str(d / "tiny"), "--subject", "../../x"], 2,
         ("unknown subject", "../../x")),
    Case("--seconds-per-record -5", lambda d: RUN + ["--corpus", str(d / "tiny"), "--seconds-per-record", "-5"], 2,
         ("--seconds-per-record", "above 0")),
    Case("--seconds-per-record nan", lambda d: RUN + ["--corpus", str(d / "tiny"), "--seconds-per-record", "nan"], 2,
         ("--seconds-per-record", "finite")),
    Case("--seconds-per-record 1e308", lambda d: RUN + ["--corpus", str(d / "tiny"), "--seconds-per-record", "1e308"],
         2, ("--seconds-per-record", "more than a day")),
    Case("sar --seconds-per-record 1e308", lambda d: ["sar", "--corpus", str(d / "tiny"), "--seconds-per-record",
                                                      "1e308"], 2, ("--seconds-per-record", "more than a day")),
    Case("run --seed -1", lambda d: RUN + ["--corpus", str(d / "tiny"), "--seed", "-1"], 2, ("--seed", "at least 0")),
    Case("--profiles with no name", lambda d: RUN + ["--corpus", str(d / "tiny"), "--profiles", ",,,"], 2,
         ("--profiles", "no profile named")),
    Case("an OpenSearch URL that is no URL", lambda d: RUN + ["--corpus", str(d / "tiny"), "--backend", "opensearch",
                                                              "--opensearch-url", "notaurl"], 2,
         ("--opensearch-url", "'notaurl'", "not an http")),
    Case("--backend-option without =", lambda d: RUN + ["--corpus", str(d / "tiny"), "--backend", "opensearch",
                                                         "--backend-option", "shards"], 2,
         ("--backend-option 'shards'", "KEY=VALUE"), lambda d: not (d / "tiny" / "queries").exists()),
    Case("--backend-option the backend does not take", lambda d: RUN + ["--corpus", str(d / "tiny"), "--backend",
                                                                        "opensearch", "--backend-option", "colour=red"], 2,
         ("--backend-option colour=red", "takes shards", "replicas")),
    Case("--backend-option shards=0", lambda d: RUN + ["--corpus", str(d / "tiny"), "--backend", "opensearch",
                                                       "--backend-option", "replicas=1", "shards=0"], 2,
         ("--backend-option shards=0", "at least 1")),
    Case("--backend-option on the embedded backend", lambda d: RUN + ["--corpus", str(d / "tiny"),
                                                                      "--backend-option", "shards=2"], 2,
         ("--backend-option shards=2", "'embedded' takes no options")),
    Case("an unknown --backend", lambda d: RUN + ["--corpus", str(d / "tiny"), "--backend", "elastic"], 2,
         ("--backend", "'elastic'", "known: embedded")),
    # a profile's mistake is named before the query set is instantiated (minutes on a large corpus)
    Case("a misspelt key in a profile", lambda d: _profile(d) + ["--corpus", str(d / "tiny")], 2,
         ("p.yaml:5:1: result_cpa", "did you mean 'result_cap'"), lambda d: not (d / "tiny" / "queries").exists()),
    Case("a union profile that holds itself", lambda d: RUN + ["--corpus", str(d / "tiny"), "--profiles", "crimint,iip,"
                                                              + str(_union(d, "loop", "[loop, iip]"))], 2,
         ("--profiles: loop: union_of: loop -> loop", "cannot hold itself")),
    Case("a misspelt key in a behaviour file", lambda d: _behaviour(d) + ["--corpus", str(d / "tiny")], 2,
         ("b.yaml", "central.page_sise", "did you mean 'page_size'"), lambda d: not (d / "tiny" / "queries").exists()),
]


FEW = ("schema_version: 1\nname: few\nseed: 1\ntemplates:\n  - template: person_name_dob\n    id_prefix: p\n"
       "    count: 3\n    params: {with_dob: true, dob_tolerance_days: 0}\n")


def _run_of_tiny(d: Path, *extra: str) -> list[str]:
    (d / "few.yaml").write_text(FEW)
    return ["run", "--corpus", str(d / "tiny"), "--queries", str(d / "few.yaml"), "--profiles", "crimint",
            "--results", str(d / "results"), *extra]


def _damaged_run(d: Path, name: str, damage: Callable[[bytes], bytes], *then: str) -> list[str]:
    """A finished run on the case's tiny corpus (crimint on three needs) with one file damaged;
    then `report` on it, or the same run again with `then`'s options."""
    assert main(_run_of_tiny(d)) == 0
    [run_dir] = [p.parent for p in (d / "results").glob("*/run.json")]
    f = run_dir / name
    f.write_bytes(damage(f.read_bytes()))
    return ["report", str(run_dir)] if then == ("report",) else _run_of_tiny(d, *then[1:])


def _half(b: bytes) -> bytes:
    return b[: len(b) // 2]


def _no_last_line(b: bytes) -> bytes:
    return b"".join(b.splitlines(keepends=True)[:-1])


def _no_report(d: Path) -> bool:
    """No report was presented from the damaged run folder."""
    [run_dir] = [p.parent for p in (d / "results").glob("*/run.json")]
    return not (run_dir / "report.md").exists() and not (run_dir / "explorer.html").exists()


def _gone(d: Path, name: str = "runs/crimint.run") -> list[str]:
    argv = _damaged_run(d, name, bytes, "report")
    (Path(argv[1]) / name).unlink()
    return argv


def _cut_instance(d: Path) -> list[str]:
    argv = _run_of_tiny(d)
    assert main(["queries", str(d / "few.yaml"), "--corpus", str(d / "tiny")]) == 0
    needs = d / "tiny" / "queries" / "few" / "needs.jsonl"
    needs.write_bytes(_no_last_line(needs.read_bytes()))
    return argv


def _nan_gate(d: Path) -> list[str]:
    argv = _damaged_run(d, "run.json", lambda b: b, "report")  # a whole run, nothing damaged
    (d / "g.yaml").write_text("schema_version: 1\ngates:\n  - name: recall\n    profile: crimint\n"
                              "    metric: recall\n    op: \">=\"\n    value: .nan\n")
    return ["gate", argv[1], "--gates", str(d / "g.yaml")]


def _no_records_subject(d: Path) -> str:
    import gzip
    people = {json.loads(line)["id"] for line in gzip.open(d / "tiny" / "truth" / "entities.jsonl.gz")
              if json.loads(line)["id"].startswith("P")}
    named = {m["entity"] for line in gzip.open(d / "tiny" / "truth" / "mentions.jsonl.gz")
             for m in json.loads(line)["mentions"]}
    return min(people - named)


CASES += [
    Case("run --resume on a run whose run.json is cut short", lambda d: _damaged_run(d, "run.json", _half, "run",
                                                                                      "--resume"), 2,
         ("run.json", "not valid JSON", "--force")),
    Case("report on a run whose run.json is cut short", lambda d: _damaged_run(d, "run.json", _half, "report"), 2,
         ("run.json", "not valid JSON", "--force")),
    Case("report on a run whose per_query.csv is cut mid-row", lambda d: _damaged_run(d, "per_query.csv", _half,
                                                                                       "report"), 2,
         ("per_query.csv:", "a row cut short", "--force"), _no_report),
    Case("report on a run whose per_query.csv lost its last row",
         lambda d: _damaged_run(d, "per_query.csv", _no_last_line, "report"), 2,
         ("per_query.csv", "2 rows, where the run's needs and profiles make 3", "--force"),
         _no_report),
    Case("report on a run whose run file is cut mid-line", lambda d: _damaged_run(d, "runs/crimint.run", _half,
                                                                                   "report"), 2,
         ("runs/crimint.run:", "not a TREC run line", "--force"), _no_report),
    Case("report on a run whose run file lost its last line",
         lambda d: _damaged_run(d, "runs/crimint.run", _no_last_line, "report"), 2,
         ("runs/crimint.run", "where per_query.csv says the search returned", "--force"),
         _no_report),
    Case("report on a run whose run file is gone", _gone, 2, ("runs/crimint.run", "missing", "--force"), _no_report),
    Case("report on a run whose outcomes file is gone", lambda d: _gone(d, "outcomes/crimint.jsonl.gz"), 2,
         ("outcomes/crimint.jsonl.gz", "missing", "--force"), _no_report),
    Case("report on a run whose outcomes file is cut short",
         lambda d: _damaged_run(d, "outcomes/crimint.jsonl.gz", _half, "report"), 2,
         ("outcomes/crimint.jsonl.gz", "damaged"), _no_report),
    Case("run on an instantiated set whose needs.jsonl lost its last need", _cut_instance, 2,
         ("few/meta.json", "needs_sha256", "polebench queries"), lambda d: not list((d / "results").glob("*/run.json"))),
    Case("a gate threshold of .nan", _nan_gate, 2, ("g.yaml:7:5: gates[0].value", "finite number")),
    Case("erase a subject with no records", lambda d: ["erase", "--corpus", str(d / "tiny"), "--subject",
                                                       _no_records_subject(d), "--profile", "connect"], 2,
         ("has no records", "nothing to disclose or erase")),
    Case("generate --out under a file", lambda d: (d / "some.yaml").write_text("keep: me\n") and
         ["generate", str(d / "tiny.yaml"), "--out", str(d / "some.yaml" / "ci")], 2,
         ("some.yaml", "a file is in the way"), lambda d: (d / "some.yaml").read_text() == "keep: me\n"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_a_clear_message_and_keeps_what_was_there(case, tiny, tmp_path, monkeypatch, capsys):
    d = tmp_path / "case"
    d.mkdir()
    shutil.copy(tiny / "tiny.yaml", d / "tiny.yaml")
    shutil.copytree(tiny / "tiny", d / "tiny")
    monkeypatch.chdir(d)
    argv = case.setup(d)
    try:
        code = main(argv)
    except SystemExit as e:  # an option argparse refuses
        code = e.code
    err = capsys.readouterr().err
    assert code == case.code, err
    assert len(err.strip().splitlines()) >= 1 and "Traceback" not in err
    for s in case.says:
        assert s in err, (s, err)
    assert case.kept(d)


def test_force_replaces_a_folder_of_the_users_as_asked(tiny, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "old.txt").write_text("x")
    assert main(["generate", str(tiny / "tiny.yaml"), "--out", str(tmp_path / "mine"), "--force"]) == 0
    assert not (tmp_path / "mine" / "old.txt").exists() and (tmp_path / "mine" / "manifest.json").is_file()


def test_a_corpus_of_the_same_name_is_generated_again_in_place(tiny, tmp_path):
    shutil.copytree(tiny / "tiny", tmp_path / "tiny")
    (tmp_path / "tiny" / "index").mkdir()  # polebench's own: may go with the corpus
    assert main(["generate", str(tiny / "tiny.yaml"), "--out", str(tmp_path / "tiny")]) == 0


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b"not gzip", lambda b: b"\0" * 64,
                                    lambda b: __import__("gzip").compress(b'{"a": 1}\n{bad\n')],
                         ids=["truncated", "not gzip", "NUL bytes", "bad JSON line"])
def test_a_damaged_gzip_lines_file_is_named_not_a_traceback(damage, tmp_path):
    from bench.corpus.store import gz_lines, iter_jsonl
    from bench.errors import PolebenchError
    f = tmp_path / "judgements.jsonl.gz"
    f.write_bytes(damage(gz_lines([{"qid": f"q{i}", "x": "y" * 40} for i in range(3000)])))
    with pytest.raises(PolebenchError, match=r"judgements\.jsonl\.gz: damaged"):
        list(iter_jsonl(f))


def test_opensearch_node_status_without_a_node_is_not_a_failed_gate(tmp_path, monkeypatch, capsys):
    from bench import opensearch_node
    monkeypatch.setattr(opensearch_node, "status", lambda *a, **k: None)
    assert main(["opensearch-node", "status"]) == 3 and "not running" in capsys.readouterr().out
