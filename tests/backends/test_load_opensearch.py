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


def test_load_export_signs_in_as_the_backend_does(tmp_path, monkeypatch):
    """A secured cluster: load-export takes the user and password from the same environment
    variables as the OpenSearch backend (it sent none, and every request was refused)."""
    import base64
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[tuple[str, str | None]] = []

    class Secured(BaseHTTPRequestHandler):
        def log_message(self, *a) -> None:
            pass

        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append((f"{self.command} {self.path}", self.headers.get("Authorization")))
            want = "Basic " + base64.b64encode(b"analyst:pa55").decode()
            if self.headers.get("Authorization") != want:
                status, body = 401, {"error": "unauthorised"}
            elif self.command == "GET":  # the index's mapping: no such index yet
                status, body = 404, {"error": {"type": "index_not_found_exception"}}
            else:
                status, body = 200, {"errors": False, "items": []}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Secured)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("POLEBENCH_OPENSEARCH_USER", "analyst")
        monkeypatch.setenv("POLEBENCH_OPENSEARCH_PASSWORD", "pa55")
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert main(["load-export", str(_export(tmp_path / "export")), "--url", url, "--index", "ci-export"]) == 0
    finally:
        server.shutdown()
    assert [r for r, _ in seen] == ["GET /ci-export/_mapping", "PUT /ci-export", "POST /_bulk", "POST /ci-export/_refresh"]
    assert all(auth and auth.startswith("Basic ") for _, auth in seen)
