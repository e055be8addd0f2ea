"""The http backend's operation, against a small search service run by the test on a loopback
port: paging, retries with backoff, timeouts, rate and concurrency limits, credentials from the
environment, nothing secret written anywhere, failed searches completed by --resume, and what an
adapter cannot ask listed as lost. (Results on a real engine: test_http_opensearch.py.)"""

from __future__ import annotations

import gzip
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlparse

import pytest

from bench.backends.http import HttpBackend, _Rate
from bench.cli.main import main
from bench.errors import BackendError, PolebenchError, Unreachable
from bench.plans import All, Intersect, Plan, Range, Scoped, Term, Terms

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t/k3y+93a1="  # characters a URL percent-encodes
TOKEN = "t0k3n-5b7e-44"


class Service:
    """A search service that answers every search with `ids` (offset paging), after whatever
    `before` says: (status, body) to answer with instead, or None to answer."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.before: Callable[[int, "Service"], tuple[int, str] | None] = lambda n, s: None
        self.seen: list[dict] = []
        self.in_flight = self.most_in_flight = 0
        self.hold = 0.0  # seconds each answer waits (to see requests overlap)
        self.ids_for: Callable[[str], list[str]] | None = None  # ids by request body, where given
        self.lock = threading.Lock()
        svc = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                q = parse_qs(urlparse(self.path).query)
                with svc.lock:
                    svc.seen.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                     "at": time.monotonic()})
                    n = len(svc.seen)
                    svc.in_flight += 1
                    svc.most_in_flight = max(svc.most_in_flight, svc.in_flight)
                try:
                    time.sleep(svc.hold)
                    instead = svc.before(n, svc)
                    if instead is not None:
                        status, text = instead
                    else:
                        off, size = int(q.get("offset", ["0"])[0]), int(q.get("size", ["1000"])[0])
                        ids = svc.ids_for(body) if svc.ids_for else svc.ids
                        status, text = 200, json.dumps({"total": len(ids), "hits": [
                            {"id": i, "score": 1.0} for i in ids[off:off + size]]})
                    data = text.encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    with svc.lock:
                        svc.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def service():
    s = Service()
    yield s
    s.server.shutdown()


def adapter(tmp_path: Path, url: str, **over) -> Path:
    """An adapter file (JSON is YAML) for the test service."""
    a = {"name": "test-service", "base_url": url, "backoff_s": 0.01,
         "env": {"key": {"var": "POLEBENCH_TEST_API_KEY", "secret": True}},
         "search": {"url": "/search", "params": {"offset": "{{ page.offset }}", "size": "{{ page.size }}",
                                                 "api_key": "{{ env.key }}"},
                    "body": "{{ {'scope': scope, 'clause': clause}|tojson }}"},
         "response": {"ids": "hits[].id", "total": "total", "scores": "hits[].score"},
         "paging": {"kind": "offset", "size": 1000}}
    for k, v in over.items():
        a[k] = {**a[k], **v} if isinstance(v, dict) and isinstance(a.get(k), dict) else v
    p = tmp_path / "adapter.yaml"
    p.write_text(json.dumps(a))
    return p


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("POLEBENCH_TEST_API_KEY", SECRET)


def backend(ci_corpus, path: Path) -> tuple[HttpBackend, list[dict]]:
    b = HttpBackend(ci_corpus, config=str(path))
    b.prepare()
    log: list[dict] = []
    b.on_request = log.append
    b.context = {"profile": "p", "need": "n1"}
    return b, log


SURNAME = Plan(Scoped("person", Term("surname", "smith")), "date_desc", None)


def test_every_page_is_read_and_mapped_to_records(ci_corpus, service, tmp_path):
    b, log = backend(ci_corpus, adapter(tmp_path, service.url))
    service.ids = list(b.rids[100:2600])
    res = b.search(SURNAME)
    assert sorted(res.rids) == sorted(service.ids) and res.total == 2500
    assert [(x["status"], x["records"]) for x in log] == [(200, 1000), (200, 1000), (200, 500)]
    offsets = [parse_qs(urlparse(s["path"]).query)["offset"][0] for s in service.seen]
    assert offsets == ["0", "1000", "2000"]
    assert json.loads(service.seen[0]["body"]) == {"scope": "person", "clause": {
        "kind": "Term", "field": "surname", "value": "smith"}}


def test_each_template_is_compiled_once_however_many_requests_render_it(ci_corpus, service, tmp_path, monkeypatch):
    """Compiling a recursive macro costs far more than rendering it: a run's thousands of
    requests render a handful of templates, each compiled on first use only."""
    from jinja2.sandbox import SandboxedEnvironment
    compiled: list[str] = []
    real = SandboxedEnvironment.from_string
    monkeypatch.setattr(SandboxedEnvironment, "from_string",
                        lambda self, source, *a, **k: (compiled.append(source), real(self, source, *a, **k))[1])
    b, log = backend(ci_corpus, adapter(tmp_path, service.url, paging={"size": 100}))
    service.ids = list(b.rids[:450])
    for value in ("smith", "jones"):
        b.search(Plan(Scoped("person", Term("surname", value)), "date_desc", None))
    assert len(log) == 10 and json.loads(service.seen[-1]["body"])["clause"]["value"] == "jones"
    # the url, the body and each query parameter: compiled once each, for ten requests
    assert sorted(compiled) == sorted(["/search", "{{ {'scope': scope, 'clause': clause}|tojson }}",
                                       "{{ page.offset }}", "{{ page.size }}", "{{ env.key }}"])


def test_a_list_longer_than_the_cap_fails_rather_than_being_cut(ci_corpus, service, tmp_path):
    b, _ = backend(ci_corpus, adapter(tmp_path, service.url, paging={"max_records": 1500}))
    service.ids = list(b.rids[:2500])
    with pytest.raises(BackendError, match="more than paging.max_records"):
        b.search(SURNAME)


def test_a_total_the_pages_do_not_add_up_to_is_an_error(ci_corpus, service, tmp_path):
    b, _ = backend(ci_corpus, adapter(tmp_path, service.url, response={"total": "`7`"}))
    service.ids = list(b.rids[:5])
    with pytest.raises(BackendError, match="returned 5 records of the 7"):
        b.search(SURNAME)


def test_an_id_the_corpus_does_not_hold_is_an_error(ci_corpus, service, tmp_path):
    b, _ = backend(ci_corpus, adapter(tmp_path, service.url))
    service.ids = [b.rids[0], "NOT-OURS-1"]
    with pytest.raises(BackendError, match="'NOT-OURS-1', which is not in the corpus"):
        b.search(SURNAME)


def test_transient_errors_are_retried_with_backoff_and_each_try_audited(ci_corpus, service, tmp_path):
    b, log = backend(ci_corpus, adapter(tmp_path, service.url, backoff_s=0.2))
    service.ids = list(b.rids[:3])
    service.before = lambda n, s: (503, "{}") if n <= 2 else None
    assert len(b.search(SURNAME).rnums) == 3
    assert [x["status"] for x in log] == [503, 503, 200] and [x["attempt"] for x in log] == [1, 2, 3]
    at = [s["at"] for s in service.seen]
    assert at[1] - at[0] >= 0.2 and at[2] - at[1] >= 0.4  # waits doubled


def test_a_transient_error_on_every_try_fails_the_search(ci_corpus, service, tmp_path):
    b, log = backend(ci_corpus, adapter(tmp_path, service.url, attempts=3))
    service.before = lambda n, s: (429, "{}")
    with pytest.raises(BackendError, match="HTTP 429 after 3 tries"):
        b.search(SURNAME)
    assert len(service.seen) == 3


def test_a_request_the_service_refuses_is_not_retried(ci_corpus, service, tmp_path):
    b, _ = backend(ci_corpus, adapter(tmp_path, service.url))
    service.before = lambda n, s: (400, '{"error": "bad query"}')
    with pytest.raises(BackendError, match="HTTP 400"):
        b.search(SURNAME)
    assert len(service.seen) == 1


def test_a_service_that_does_not_answer_in_time_is_unreachable(ci_corpus, service, tmp_path):
    b, log = backend(ci_corpus, adapter(tmp_path, service.url, timeout_s=0.2, attempts=2))
    service.hold = 1.0
    with pytest.raises(Unreachable, match="not reachable"):
        b.search(SURNAME)
    assert [x["status"] for x in log] == [None, None] and "Timeout" in log[0]["error"]


def test_the_rate_limit_spaces_request_starts_across_threads():
    """On a clock that stands still (no wall time measured), five callers at once are told to
    start a quarter of a second apart at 4 a second."""
    waits: list[float] = []
    rate = _Rate(4, clock=lambda: 100.0, sleep=waits.append)
    threads = [threading.Thread(target=rate.wait) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == [0.25, 0.5, 0.75, 1.0]  # the first starts at once
    assert _Rate(None, clock=lambda: 100.0, sleep=waits.append).wait() is None and len(waits) == 4


def test_requests_are_started_no_faster_than_the_rate_limit(ci_corpus, service, tmp_path):
    b, _ = backend(ci_corpus, adapter(tmp_path, service.url, rate_per_s=10, paging={"size": 1}))
    service.ids = list(b.rids[:6])
    asked = time.monotonic()
    b.search(SURNAME)
    at = [s["at"] for s in service.seen]
    # 6 starts at most 10 a second: the last starts 0.5 s after the first (without the limit, a
    # few ms), and the first not before the search was asked for. Measured from there, not from
    # the first request's arrival: that arrival lags its start by the connection's set-up, up to
    # 0.07 s seen on two loaded cores, which ate the 0.1 s a bound of 0.4 s between arrivals left.
    assert len(at) == 6 and at[-1] - asked >= 0.5 - 1e-3  # (the clocks' rounding)


@pytest.mark.parametrize("concurrency", [1, 2])
def test_the_parts_of_a_search_go_side_by_side_up_to_the_concurrency(ci_corpus, service, tmp_path, concurrency):
    b, _ = backend(ci_corpus, adapter(tmp_path, service.url, concurrency=concurrency))
    service.ids, service.hold = list(b.rids[:4]), 1.0  # long enough for the parts to overlap on a busy machine
    plan = Plan(Intersect((Scoped("person", Term("surname", "smith")), Scoped("person", Term("forename", "john")),
                           Scoped("vehicle", Term("vrm", "AB12CDE")))), "date_desc", None)
    assert len(b.search(plan).rnums) == 4
    assert len(service.seen) == 3 and service.most_in_flight == concurrency


def test_credentials_come_from_the_environment_and_no_secret_is_written(ci_corpus, service, tmp_path, monkeypatch,
                                                                         capsys):
    monkeypatch.setenv("POLEBENCH_TEST_TOKEN", TOKEN)
    path = adapter(tmp_path, service.url, auth={"kind": "bearer", "token_env": "POLEBENCH_TEST_TOKEN"})
    b, log = backend(ci_corpus, path)
    service.ids = list(b.rids[:2])
    b.search(SURNAME)
    assert service.seen[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert parse_qs(urlparse(service.seen[0]["path"]).query)["api_key"] == [SECRET]  # sent, as the adapter says
    assert "api_key=***" in log[0]["url"] and "k3y" not in log[0]["url"]
    # an error that echoes the request does not carry the secret out either
    service.before = lambda n, s: (500, json.dumps({"error": f"bad key {SECRET} for {TOKEN}"}))
    with pytest.raises(BackendError) as e:
        b.search(SURNAME)
    assert SECRET not in str(e.value) and TOKEN not in str(e.value) and "***" in str(e.value)
    assert not any(SECRET in json.dumps(x) or TOKEN in json.dumps(x) for x in log)
    monkeypatch.delenv("POLEBENCH_TEST_TOKEN")
    with pytest.raises(PolebenchError, match="set the environment variable POLEBENCH_TEST_TOKEN"):
        HttpBackend(ci_corpus, config=str(path))


def test_basic_auth_and_a_url_with_credentials_refused(ci_corpus, service, tmp_path, monkeypatch):
    monkeypatch.setenv("POLEBENCH_TEST_USER", "analyst")
    monkeypatch.setenv("POLEBENCH_TEST_PASSWORD", "pw-" + SECRET)
    b, log = backend(ci_corpus, adapter(tmp_path, service.url, auth={
        "kind": "basic", "user_env": "POLEBENCH_TEST_USER", "password_env": "POLEBENCH_TEST_PASSWORD"}))
    b.search(SURNAME)
    import base64
    assert service.seen[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(
        f"analyst:pw-{SECRET}".encode()).decode()
    with pytest.raises(PolebenchError, match="credentials in a URL are refused"):
        HttpBackend(ci_corpus, config=str(adapter(tmp_path, service.url.replace("//", "//u:p@"))))


def test_what_the_adapter_cannot_ask_is_dropped_and_listed_as_lost(ci_corpus, service, tmp_path):
    b, _ = backend(ci_corpus, adapter(tmp_path, service.url, capabilities={
        "clauses": ["Term", "All"], "fields": ["surname", "forename"]}))
    plan = Plan(Scoped("person", All((Term("surname", "smith"), Terms("forename_nick", ("bill", "william")),
                                      Range("dob", 1, 2)))), "date_desc", None)
    got = b.adapt(plan)
    assert got.root == Scoped("person", All((Term("surname", "smith"),)))
    assert [(x.criterion, x.capability, x.effect) for x in got.lost] == [
        ("person.forename_nick", "adapter", "dropped"), ("person.dob", "adapter", "dropped")]
    full, _ = backend(ci_corpus, adapter(tmp_path, service.url))
    assert full.adapt(plan) == plan  # an adapter that can ask everything changes nothing


def test_a_run_records_failed_searches_and_resume_completes_them(ci_corpus, service, tmp_path, write):
    """Through the CLI: every request in the run's audit log, failed searches kept for --resume,
    nothing secret anywhere in the results."""
    recs = [r for r in itertools.islice(ci_corpus.records(), 200) if r["vehicles"]]
    p = recs[0]["people"][0]
    qs = write("q.yaml", "schema_version: 1\nname: three\nqueries:\n"
                         f"  - {{id: a, description: d, person: {{surname: {p['surname']}}}}}\n"
                         f"  - {{id: b, description: d, vehicle: {{vrm: '{recs[0]['vehicles'][0]['vrm']}'}}}}\n"
                         f"  - {{id: c, description: d, person: {{surname: {p['surname']}, forename: {p['forename']}}}}}\n")
    corpus = tmp_path / "ci"
    import shutil
    shutil.copytree(ci_corpus.root, corpus, ignore=shutil.ignore_patterns("index", "queries"))
    path = adapter(tmp_path, service.url, attempts=1)
    service.ids = ["R00000001", "R00000002"]
    service.before = lambda n, s: (500, f'{{"error": "down; key {SECRET}"}}') if n <= 2 else None
    args = ["run", "--corpus", str(corpus), "--queries", str(qs), "--profiles", "crimint,connect",
            "--backend", "http", "--backend-config", str(path), "--results", str(tmp_path / "results")]
    assert main(args) == 3  # two searches failed, recorded
    assert main(args + ["--resume"]) == 0
    run_dir = next((tmp_path / "results").glob("three-ci-http-*"))
    lines = [json.loads(x) for x in (run_dir / "audit.jsonl").read_text().splitlines()]
    requests = [x for x in lines if x["event"] == "request"]
    assert len(requests) == len(service.seen) and {x["status"] for x in requests} == {500, 200}
    assert all(x["need"] in "abc" and x["profile"] in ("crimint", "connect") for x in requests)
    # the searches that say which criterion excluded a missed record are requests too, audited
    assert any(x.get("purpose") == "excluded_by" for x in requests)
    for f in run_dir.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert SECRET.encode() not in (gzip.decompress(data) if f.suffix == ".gz" else data), f
    assert SECRET.encode() not in (tmp_path / "results" / "audit.jsonl").read_bytes()


FORM = {"level": "need", "form": {"fields": [{"name": "surname", "need": "person.surname"},
                                              {"name": "forename", "need": "person.forename"},
                                              {"name": "born", "need": "person.dob", "format": "%d/%m/%Y"}]},
        "search": {"url": "/form", "params": {"offset": "{{ page.offset }}", "size": "{{ page.size }}"},
                   "body": "{{ form|dictsort|selectattr(1)|list|tojson }}"}}


def _need(**criteria):
    from bench.queries.model import Need
    return Need.model_validate({"id": "n", "description": "d", **criteria})


def test_a_form_is_filled_from_the_need_and_what_it_has_no_field_for_is_lost(ci_corpus, service, tmp_path):
    b, _ = backend(ci_corpus, adapter(tmp_path, service.url, **FORM))
    need = _need(person={"surname": "Smith", "forename": "John", "dob": "1990-02-03", "alias": "Jack Smith"},
                 vehicle={"vrm": "AB12CDE"})
    plan = b.adapt(None, need)
    assert plan.root.fields == (("surname", "Smith"), ("forename", "John"), ("born", "03/02/1990"))
    assert [x.criterion for x in plan.lost] == ["person.alias", "vehicle.vrm"] and plan.narrower is None
    service.ids = list(b.rids[[5, 3, 9]])
    res = b.search(plan)
    assert res.rids == service.ids  # the system's own order, not the corpus's
    assert json.loads(service.seen[0]["body"]) == [["born", "03/02/1990"], ["forename", "John"], ["surname", "Smith"]]
    assert b.adapt(None, _need(vehicle={"vrm": "AB12CDE"})).root is None  # nothing the form can take


def test_incremental_form_adds_a_field_while_too_many_records_come_back(ci_corpus, service, tmp_path):
    form = {**FORM, "form": {**FORM["form"], "strategy": "incremental", "narrow_above": 50}}
    b, log = backend(ci_corpus, adapter(tmp_path, service.url, **form))
    rids = list(b.rids[:200])
    service.ids_for = lambda body: rids[: {1: 120, 2: 60, 3: 7}[len(json.loads(body))]]
    res = b.search(b.adapt(None, _need(person={"surname": "Smith", "forename": "John", "dob": "1990-02-03"})))
    # 120 > 50: add forename; 60 > 50: add date of birth; 7 read
    assert [len(json.loads(x["body"])) for x in service.seen] == [1, 2, 3]
    assert res.searches == 3 and res.rids == rids[:7]
    res = b.search(b.adapt(None, _need(person={"surname": "Smith"})))
    assert res.searches == 1 and len(res.rids) == 120  # nothing more to add: the analyst reads 120


def test_scores_are_read_only_for_a_search_that_scores(ci_corpus, service, tmp_path):
    """An engine sorting by a field gives no scores (OpenSearch's _score is null): a structured
    search must not ask for them, a free-text one must have them."""
    from bench.plans import Text
    b, _ = backend(ci_corpus, adapter(tmp_path, service.url, response={"scores": "hits[].no_such_key"}))
    service.ids = list(b.rids[:3])
    assert len(b.search(SURNAME).rnums) == 3
    with pytest.raises(BackendError, match="response.scores gave 0 values for 3 ids"):
        b.search(Plan(Scoped("record", Text("all_text", "smith", "or")), "relevance", None))


def test_a_form_template_sees_every_field_empty_where_the_need_gives_none(ci_corpus, service, tmp_path):
    form = {**FORM, "search": {**FORM["search"], "body": '{"s": {{ form.surname|tojson }}, "b": {{ form.born|tojson }}}'}}
    b, _ = backend(ci_corpus, adapter(tmp_path, service.url, **form))
    b.search(b.adapt(None, _need(person={"surname": "Smith"})))
    assert json.loads(service.seen[0]["body"]) == {"s": "Smith", "b": ""}


def test_a_bad_adapter_is_named_by_file_line_and_field_before_anything_runs(ci_corpus, tmp_path, write, capsys):
    bad = write("bad.yaml", 'name: x\nbase_url: http://a\nsearch: {url: /s}\nresponse: {ids: "a[", totl: x}\n')
    args = ["run", "--corpus", str(ci_corpus.root), "--results", str(tmp_path / "r")]
    assert main(args + ["--backend", "http", "--backend-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:4:12: response.ids: Value error, not a JMESPath expression" in err
    assert "response.totl: unknown key; did you mean 'total'?" in err
    assert main(args + ["--backend", "http"]) == 2
    assert "--backend http needs --backend-config: an adapter YAML" in capsys.readouterr().err
    assert main(args + ["--backend", "embedded", "--backend-config", str(bad)]) == 2
    assert f"--backend-config {bad}: backend 'embedded' reads no config file" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_a_need_level_adapter_runs_under_one_profile_name(ci_corpus, tmp_path, capsys):
    args = ["run", "--corpus", str(ci_corpus.root), "--results", str(tmp_path / "r"), "--backend", "http",
            "--backend-config", str(ROOT / "adapters" / "person-form.yaml")]
    assert main(args + ["--profiles", "crimint,connect"]) == 2
    assert "give --profiles one name" in capsys.readouterr().err


def _rest_request(b: HttpBackend, req, ctx: dict) -> tuple[str, dict]:
    page = {"size": 10, "offset": 0, "number": 1, "cursor": None}
    return b._render(req.url, {**ctx, "page": page}).strip(), json.loads(b._render(req.body, {**ctx, "page": page}))


def test_the_rest_adapters_ask_what_the_native_opensearch_backend_asks(ci_corpus):
    """adapters/opensearch-rest.yaml and person-form.yaml search the index --backend opensearch
    builds: its name (index version), and for every kind of clause, scored or not, in either
    index, the query the native backend sends, sorted on fields that keep doc values. (On the node,
    test_http_opensearch.py compares their results; this catches drift where no JVM runs.)"""
    from bench.backends import opensearch as OS
    from bench.backends.http import clause_data
    from bench.plans import Any, Fuzzy, GeoRadius, Regex, Text
    b, _ = backend(ci_corpus, ROOT / "adapters" / "opensearch-rest.yaml")
    native = OS.OpenSearchBackend(ci_corpus)
    clauses = [("person", Term("surname", "smith")), ("person", Terms("forename", ("bill", "william"))),
               ("person", Fuzzy("surname", "smyth", 2)), ("vehicle", Regex("vrm", "lk..abc")),
               ("person", Range("dob", 7000, 7100)), ("record", GeoRadius(51.5, -0.12, 500.0)),
               ("record", Text("all_text", "knife point robbery", "or")), ("event", Text("narrative", "knife", "and")),
               ("person", All((Term("surname", "smith"), Any((Term("forename", "bill"), Fuzzy("forename", "bil", 1))))))]
    for scope, c in clauses:
        node = Scoped(scope, c)
        kind, query, scored = OS.scoped_query(node)
        url, body = _rest_request(b, b.adapter.search, {"scope": scope, "clause": clause_data(c), "scored": scored,
                                                        "geo": isinstance(c, GeoRadius)})
        assert url.split("?")[0] == f"/{native.index[kind]}/_search", c
        assert body["query"] == query, c
        assert body["sort"][-1] == {"doc_id": "asc"} and (body["sort"][0] == {"_score": "desc"}) == scored
        assert {"rnum", "doc_id"} | set(body["docvalue_fields"]) <= OS.DOC_VALUES
    url, body = _rest_request(b, b.adapter.co_mentioned, {"record_numbers": [3, 5], "exclude": clause_data(
        Term("surname", "smith")), "exclude_scope": "person", "field": "person_key"})
    assert url == f"/{native.index['mention']}/_search"
    assert body["query"]["constant_score"]["filter"]["bool"]["must_not"] == [OS.dsl(Term("surname", "smith"))]
    form, _ = backend(ci_corpus, ROOT / "adapters" / "person-form.yaml")
    url, body = _rest_request(form, form.adapter.search, {"form": {"surname": "O'Neil", "forename": "", "dob": ""}})
    assert url == f"/{native.index['mention']}/_search"
    assert body["sort"] == [{"rnum": "asc"}, {"doc_id": "asc"}]  # the record's date keeps no doc values
    assert {next(iter(s)) for s in body["sort"]} | set(body["docvalue_fields"]) <= OS.DOC_VALUES


def test_the_adapters_kinds_and_retries_are_the_plans_and_the_shared_ones():
    """An adapter names the plans' own node and clause kinds and the statuses every backend retries
    on, taken from where they are defined: a kind added to the plans is one an adapter can name."""
    from typing import get_args

    from bench import errors, plans
    from bench.backends import http_adapter
    assert http_adapter.CLAUSES is plans.CLAUSE_KINDS
    assert set(plans.CLAUSE_KINDS) == {t.__name__ for t in get_args(plans.Clause)}
    assert set(http_adapter.NODES) == {t.__name__ for t in get_args(plans.Node)} - {"Resolve", "Form"}
    assert http_adapter.Adapter.model_fields["retry_on"].default is errors.TRANSIENT
    assert set(plans.NODE_KINDS + plans.CLAUSE_KINDS) - {"Resolve"} <= HttpBackend.SUPPORTS


def test_the_record_table_is_read_from_the_corpus_once_and_kept_while_it_is_unchanged(ci_corpus, service, tmp_path,
                                                                                      monkeypatch):
    """The service holds the records; polebench needs their ids and dates. The corpus is parsed
    for them once and the table kept beside it (corpus/index/records-v1/), read from there by the
    next run; record ids are mapped to numbers only when the service answers with ids."""
    from bench.corpus.store import Corpus
    first, _ = backend(ci_corpus, adapter(tmp_path, service.url))
    table = ci_corpus.root / "index" / "records-v1"
    assert (table / "meta.json").is_file()

    def parsed(self):
        raise AssertionError("the corpus was parsed again")
    monkeypatch.setattr(Corpus, "records", parsed)
    again = HttpBackend(ci_corpus, config=str(adapter(tmp_path, service.url)))
    again.prepare()
    assert again.rids.tolist() == first.rids.tolist() and again.dates.tolist() == first.dates.tolist()
    assert "rnum_of" not in vars(again)  # not made until asked
    service.ids = [first.rids[5], first.rids[2]]
    assert sorted(again.search(SURNAME).rnums.tolist()) == [2, 5]
    assert "rnum_of" in vars(again)
    meta = json.loads((table / "meta.json").read_text())
    (table / "meta.json").write_text(json.dumps({**meta, "corpus_checksum": "0" * 64}))  # as if the corpus changed
    with pytest.raises(AssertionError, match="parsed again"):
        HttpBackend(ci_corpus, config=str(adapter(tmp_path, service.url))).prepare()
    monkeypatch.undo()
    monkeypatch.setenv("POLEBENCH_TEST_API_KEY", SECRET)
    HttpBackend(ci_corpus, config=str(adapter(tmp_path, service.url))).prepare()  # rebuilt
    assert json.loads((table / "meta.json").read_text())["corpus_checksum"] == ci_corpus.checksum
