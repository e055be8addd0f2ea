"""load-export into OpenSearch replaces only an index it made: a mistyped --index on a shared
cluster must never delete someone else's index (it used to DELETE whatever had the name)."""

from __future__ import annotations

import httpx

from bench.cli.main import main
from test_solr_node import ROWS, _export  # the small export those tests load


def test_an_index_polebench_did_not_make_is_refused_and_kept_and_its_own_is_replaced(opensearch_url, tmp_path, capsys):
    theirs = "someone-elses-index"
    httpx.put(f"{opensearch_url}/{theirs}").raise_for_status()
    httpx.put(f"{opensearch_url}/{theirs}/_doc/1", params={"refresh": "true"}, json={"case": "keep me"}).raise_for_status()
    export = _export(tmp_path / "export")
    assert main(["load-export", str(export), "--url", opensearch_url, "--index", theirs]) == 2
    assert "not made by polebench" in capsys.readouterr().err
    assert httpx.get(f"{opensearch_url}/{theirs}/_doc/1").json()["_source"] == {"case": "keep me"}
    # an index load-export made is replaced: loading twice leaves one copy of the rows
    for _ in range(2):
        assert main(["load-export", str(export), "--url", opensearch_url, "--index", "ours-export"]) == 0
    assert httpx.get(f"{opensearch_url}/ours-export/_count").json()["count"] == len(ROWS)
    httpx.delete(f"{opensearch_url}/{theirs}")
