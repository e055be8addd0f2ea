"""The Solr node polebench starts (bench/solr_node.py, tools/solr-node) and the Solr loader of
load-export (bench/corpus/load_solr.py), on a real node: rows in the configset's fields, dates in
Solr's form, letters-and-digits twins, a JSON Lines export as well as CSV; what the schema lacks
and a core polebench did not make refused, naming them; nothing deleted that polebench did not
write; a node stopped and started again still holds its cores. (The standard set through the
shipped adapter: test_http_export.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from bench import solr_node as node
from bench.cli.main import main
from bench.corpus.export_mapping import load_export_mapping
from bench.errors import PolebenchError

ROOT = Path(__file__).resolve().parents[2]
ROWS = [  # two people written in one crime report, as export-example.yaml lays them out (a row each)
    {"polebench_id": "R00000001", "system": "CRIS", "record_type": "crime_report", "created": "03/10/2021",
     "occurred": "02/10/2021", "offence": "robbery", "vrm": "PP73 YFA", "make": "Audi", "postcode": "E1W 4EB",
     "lat": 51.507265, "lon": -0.020535, "person_no": 1, "row_id": "R00000001-1", "forename": "Inaya",
     "surname": "O'Ball", "dob": "04/10/1985", "sex": "F", "narrative": "Suspect Inaya in a orange Audi."},
    {"polebench_id": "R00000001", "system": "CRIS", "record_type": "crime_report", "created": "03/10/2021",
     "person_no": 2, "row_id": "R00000001-2", "forename": "Isaac", "surname": "Parkin", "dob": None},
]


def _export(folder: Path, fmt: str = "jsonl", rename: dict[str, str] | None = None) -> Path:
    """A small export in the shape polebench export writes (export.json and one file)."""
    m = load_export_mapping(ROOT / "corpora" / "export-example.yaml").model_dump(mode="json")
    m["format"] = fmt
    rows = ROWS
    for old, new in (rename or {}).items():
        m[old] = new
        rows = [{new if k == old else k: v for k, v in r.items()} for r in rows]
    folder.mkdir()
    name = f"CRIS.{fmt}"
    if fmt == "jsonl":
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        cols = list(rows[0])
        (folder / name).write_text(",".join(cols) + "\n" + "".join(
            ",".join(str(r.get(c) or "") for c in cols) + "\n" for r in rows))
    (folder / "export.json").write_text(json.dumps({"mapping": m, "files": {name: {"rows": len(rows)}}}))
    return folder


def _select(url: str, core: str, q: str) -> list[dict]:
    r = httpx.get(f"{url}/{core}/select", params={"q": q, "wt": "json", "sort": "id asc", "fl": "*"})
    r.raise_for_status()
    return r.json()["response"]["docs"]


def test_a_folder_holding_what_polebench_did_not_write_is_refused_as_a_solr_home(tmp_path):
    own = tmp_path / "notes"
    own.mkdir()
    (own / "mine.txt").write_text("keep me")
    with pytest.raises(PolebenchError, match="polebench did not write"):
        node.prepare_home(own)
    assert sorted(p.name for p in own.iterdir()) == ["mine.txt"]
    assert node.stop(own) is False and (own / "mine.txt").read_text() == "keep me"
    node.prepare_home(tmp_path / "new")  # a new folder, and one polebench made, are taken
    node.prepare_home(tmp_path / "new")
    assert (tmp_path / "new" / "solr.xml").is_file()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_is_loaded_into_a_core_of_the_shipped_configset(solr_node, tmp_path, fmt):
    url = solr_node.url
    assert main(["load-export", str(_export(tmp_path / "export", fmt)), "--engine", "solr", "--url", url,
                 "--index", f"tiny-{fmt}"]) == 0
    docs = _select(url, f"tiny-{fmt}", "*:*")
    assert [d["id"] for d in docs] == ["R00000001-1", "R00000001-2"]
    first = docs[0]
    assert (first["dob"], first["created"], first["lat"]) == ("1985-10-04T00:00:00Z", "2021-10-03T00:00:00Z", 51.507265)
    assert (first["surname__alnum"], first["vrm__alnum"], first["postcode__alnum"]) == ("oball", "pp73yfa", "e1w4eb")
    assert "dob" not in docs[1]  # an empty cell is no value
    # a free-text search sees each column as the record wrote it: the date of birth as 04/10/1985
    assert [d["id"] for d in _select(url, f"tiny-{fmt}", 'all_text:"04/10/1985"')] == ["R00000001-1"]
    assert [d["id"] for d in _select(url, f"tiny-{fmt}", "narrative:(+orange +audi)")] == ["R00000001-1"]
    assert node.cores(url)[f"tiny-{fmt}"] == 2
    # loaded again: the core is replaced, not added to
    assert main(["load-export", str(_export(tmp_path / "again", fmt)), "--engine", "solr", "--url", url,
                 "--index", f"tiny-{fmt}"]) == 0
    assert node.cores(url)[f"tiny-{fmt}"] == 2


def test_a_column_the_schema_lacks_is_named_and_nothing_is_left_loaded(solr_node, tmp_path, capsys):
    export = _export(tmp_path / "export", rename={"weapon": "knife_or_gun"})
    assert main(["load-export", str(export), "--engine", "solr", "--url", solr_node.url, "--index", "odd"]) == 2
    err = capsys.readouterr().err
    assert "knife_or_gun" in err and "schema.xml" in err
    assert "odd" not in node.cores(solr_node.url)


def test_a_core_polebench_did_not_make_is_refused_and_kept(solr_node, tmp_path, capsys):
    if not solr_node.home:
        pytest.skip("the node was given by POLEBENCH_SOLR_URL: its home is not ours to write a core into")
    conf = Path(solr_node.home) / "theirs" / "conf"
    conf.mkdir(parents=True)
    shipped = node.CONFIGSETS / "polebench-export" / "conf"
    (conf / "solrconfig.xml").write_text((shipped / "solrconfig.xml").read_text())
    (conf / "schema.xml").write_text((shipped / "schema.xml").read_text().replace(
        'name="polebench-export"', 'name="someone-elses"'))
    r = httpx.get(f"{solr_node.url}/admin/cores", params={"action": "CREATE", "name": "theirs",
                                                          "instanceDir": "theirs", "wt": "json"})
    assert r.status_code == 200, r.text
    export = _export(tmp_path / "export")
    assert main(["load-export", str(export), "--engine", "solr", "--url", solr_node.url, "--index", "theirs"]) == 2
    assert "not made by polebench" in capsys.readouterr().err
    assert node.cores(solr_node.url)["theirs"] == 0 and (conf / "schema.xml").is_file()


def test_a_node_stopped_and_started_again_still_holds_its_cores(solr_node, tmp_path):
    if not solr_node.home:
        pytest.skip("the node was given by POLEBENCH_SOLR_URL: not ours to stop")
    home = Path(solr_node.home)
    assert main(["load-export", str(_export(tmp_path / "export")), "--engine", "solr", "--url", solr_node.url,
                 "--index", "kept"]) == 0
    assert main(["solr-node", "status", "--home", str(home)]) == 0
    port = int(solr_node.url.split(":")[-1].split("/")[0])
    assert node.stop(home) and node.status(home) is None
    assert main(["solr-node", "status", "--home", str(home)]) == 3
    again = node.start(home, port=port)  # the same address: later tests of the session use it
    assert again.url == solr_node.url and node.cores(again.url)["kept"] == 2
