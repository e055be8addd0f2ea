"""The http backend: a run's plans as requests to any search service, through an adapter file
(bench/backends/http_adapter.py; examples in adapters/). Each scoped clause of a plan becomes a
request rendered from the adapter's Jinja2 templates in the sandboxed environment; the answer's
record ids, total and next page are read with JMESPath, every page up to a cap. What the adapter
says the service cannot be asked is dropped from the plan before the search and listed as lost.

Credentials come from the environment only. Every request is audited (the URL with credentials
and the adapter's secrets replaced by ***, the need, the status, the records it returned), and
nothing the adapter marks secret is written anywhere."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import quote, quote_plus

import httpx
import jinja2
import jmespath
import numpy as np
from jinja2.sandbox import SandboxedEnvironment

from bench import fields as F
from bench.backends.base import Backend, Hits, bounding_box, corpus_record_table
from bench.backends.http_adapter import CLAUSES, NODES, Adapter, Request, Response, env_values, load_adapter
from bench.corpus.store import Corpus
from bench.errors import BackendError, PolebenchError, Unreachable
from bench.geo import distances_m
from bench.plans import (All, Any as AnyOf, Clause, Form, GeoRadius, Intersect, Linked, Lost, Node, Plan, Scoped,
                         Sequence, Text, Union_, geo_of, has_text)
from bench.redact import redact

RETRY_AFTER_MAX_S = 30.0  # a Retry-After longer than this is not waited for in full (assumed)


def clause_data(c: Clause) -> dict[str, Any]:
    """A plan clause as plain data for templates: its kind, its fields, and what a template
    cannot work out itself: a free-text clause's words as polebench's index splits them, and a
    radius search's bounding box in micro-degrees (the backends' own box-then-distance test)."""
    d: dict[str, Any] = {"kind": type(c).__name__}
    for f in dataclasses.fields(c):
        v = getattr(c, f.name)
        d[f.name] = [clause_data(x) for x in v] if f.name == "clauses" else list(v) if isinstance(v, tuple) else v
    if isinstance(c, Text):
        d["words"] = " ".join(F.query_words(c.text))
    if isinstance(c, GeoRadius):
        la0, la1, lo0, lo1 = bounding_box(c)
        d["box"] = {"lat_lo": la0, "lat_hi": la1, "lon_lo": lo0, "lon_hi": lo1}
    return d


class _Rate:
    """At most `per_s` request starts a second, across threads."""

    def __init__(self, per_s: float | None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.gap = 1.0 / per_s if per_s else 0.0
        self.next = 0.0
        self.lock = threading.Lock()
        self.clock, self.sleep = clock, sleep

    def wait(self) -> None:
        """Return at this caller's start time: a gap after the start before it."""
        if not self.gap:
            return
        with self.lock:
            now = self.clock()
            start = max(now, self.next)
            self.next = start + self.gap
        if start > now:
            self.sleep(start - now)


class HttpBackend(Backend):
    NAME = "http"
    # Every kind can be planned: what the adapter's service cannot run is dropped in adapt() and
    # listed as lost, since that is the measured system's own limit.
    SUPPORTS = frozenset(NODES + CLAUSES + ("Form",))

    @classmethod
    def check_run(cls, options: Mapping[str, object], profiles: list[str]) -> None:
        adapter, _ = load_adapter(_config(options))  # a bad adapter is named before anything runs
        if adapter.level == "need" and len(profiles) != 1:
            raise PolebenchError(f"--backend-config {options['config']}: a need-level adapter measures the system "
                                 f"itself, whatever the profile: give --profiles one name, which labels its results")

    def __init__(self, corpus: Corpus, **options: object):
        super().__init__(corpus, **options)
        path = _config(options)
        self.adapter, self.checksum = load_adapter(path)
        a = self.adapter
        self.env, self.secrets = env_values(a)
        url = (os.environ.get(a.base_url_env) if a.base_url_env else None) or a.base_url
        if not url.startswith(("http://", "https://")):
            raise PolebenchError(f"adapter {a.name}: base_url {self.hide(url)!r}: not an http:// or https:// address")
        if redact(url) != url:
            raise PolebenchError(f"adapter {a.name}: base_url {self.hide(url)}: credentials in a URL are refused; "
                                 f"give them in auth, from the environment")
        self.base_url = url.rstrip("/")
        auth, cert, headers = self._credentials()
        ca = os.environ.get(a.ca_env) if a.ca_env else None
        self.client = httpx.Client(base_url=self.base_url, timeout=a.timeout_s, auth=auth, cert=cert,
                                   headers=headers, verify=ca or a.verify_tls, follow_redirects=False,
                                   limits=httpx.Limits(max_connections=a.concurrency))
        self.templates = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
        # dates as days since 1970-01-01, as many stores (and polebench's own index) hold them
        self.templates.filters["epoch_days"] = lambda d: F.days(str(d))
        self.templates.filters["epoch_date"] = lambda n: (F.EPOCH + dt.timedelta(days=int(n))).isoformat()
        self.templates.filters["alnum"] = lambda v: F.norm(str(v))  # lower-case letters and digits
        # each template compiled once: compiling a recursive macro costs far more than rendering
        # it (55 ms against well under 1 on adapters/solr-export.yaml), and a run renders thousands
        self._compiled: dict[str, jinja2.Template] = {}
        self.rate = _Rate(a.rate_per_s)
        self.pool = ThreadPoolExecutor(a.concurrency, thread_name_prefix="http-backend")
        self._audit_lock = threading.Lock()
        self._fetched: dict[Scoped, Hits] | None = None

    # ---- credentials and secrets

    def _credentials(self) -> tuple[httpx.Auth | None, tuple[str, str] | str | None, dict[str, str]]:
        a = self.adapter.auth

        def var(name: str | None, secret: bool) -> str:
            v = os.environ.get(name or "")
            if not v:
                raise PolebenchError(f"adapter {self.adapter.name}: auth {a.kind}: set the environment variable {name}")
            if secret:
                self.secrets.append(v)
            return v
        if a.kind == "basic":
            return httpx.BasicAuth(var(a.user_env, True), var(a.password_env, True)), None, {}
        if a.kind == "bearer":
            return None, None, {"Authorization": f"Bearer {var(a.token_env, True)}"}
        if a.kind == "client_cert":
            cert = var(a.cert_env, False)
            return None, ((cert, var(a.key_env, False)) if a.key_env else cert), {}
        return None, None, {}

    def hide(self, text: str) -> str:
        """Text with URL credentials and every secret value replaced by ***."""
        text = redact(text)
        # as written, and as a URL carries it (a secret with / + = or spaces is percent-encoded there)
        forms = {f for s in self.secrets for f in (s, quote(s, safe=""), quote_plus(s))}
        for s in sorted(forms, key=len, reverse=True):
            text = text.replace(s, "***")
        return text

    # ---- index: the service holds the records; polebench needs their ids and dates

    def _prepare(self, progress: Callable[[int], None] | None) -> Sequence[str] | np.ndarray:
        rids, self.dates = corpus_record_table(self.corpus, progress)
        return rids

    @cached_property
    def rnum_of(self) -> dict[str, int]:
        """Record number by record id, made when a service first answers with record ids (one
        that answers with record numbers never needs it)."""
        return {r: i for i, r in enumerate(self.rids.tolist())}

    # ---- capabilities: what the service cannot be asked is dropped and listed as lost

    def adapt(self, plan: Plan, need: object = None) -> Plan:
        if self.adapter.level == "need":
            return self._form_plan(need)
        lost: list[Lost] = []
        root = self._node(plan.root, lost) if plan.root is not None else None
        narrower = self.adapt(plan.narrower) if plan.narrower is not None else None
        return dataclasses.replace(plan, root=root, narrower=narrower,
                                   lost=plan.lost + tuple(x for x in dict.fromkeys(lost) if x not in plan.lost))

    def _form_plan(self, need: Any) -> Plan:
        """The need as the form's fields filled in, in the form's order: all at once, or one more
        at each search while too many records come back; what no field takes is lost."""
        form = self.adapter.form
        assert form is not None
        data = need.model_dump(mode="json", exclude_defaults=True, exclude={"id", "description", "targets", "kind"})
        filled: list[tuple[str, str]] = []
        taken: list[str] = []
        for f in form.fields:
            v = _compiled(f.need).search(data)
            if v in (None, "", [], {}):
                continue
            if f.format and isinstance(v, str):
                v = dt.date.fromisoformat(v).strftime(f.format)
            filled.append((f.name, v if isinstance(v, str) else json.dumps(v)))
            taken.append(f.need)
        lost = tuple(Lost(path, "adapter", "dropped",  # type: ignore[arg-type]
                          f"{path}: the form of {self.adapter.name} has no field for it; left out")
                     for path in _leaves(data) if not any(path == t or path.startswith(t + ".") for t in taken))
        if not filled:
            return Plan(None, "relevance", None, lost)
        if form.strategy == "all_criteria":
            return Plan(Form(tuple(filled)), "relevance", None, lost)
        plan = None
        for k in range(len(filled), 0, -1):  # the widest search first, each narrower one behind it
            plan = Plan(Form(tuple(filled[:k])), "relevance", None, lost, plan,
                        form.narrow_above if plan is not None else None)
        assert plan is not None
        return plan

    def _lose(self, lost: list[Lost], criterion: str, what: str, effect: str = "dropped") -> None:
        lost.append(Lost(criterion, "adapter", effect,  # type: ignore[arg-type]
                         f"{criterion}: {self.adapter.name} cannot be asked {what}; left out of its request"))

    def _node(self, node: Node, lost: list[Lost]) -> Node | None:
        caps = self.adapter.capabilities
        kind = type(node).__name__
        if kind not in caps.nodes:
            self._lose(lost, _criterion(node), f"for {kind.rstrip('_').lower()} searches")
            return None
        if isinstance(node, Scoped):
            if caps.scopes is not None and node.scope not in caps.scopes:
                self._lose(lost, _criterion(node), f"about {node.scope} records")
                return None
            clause = self._clause(node.clause, node.scope, lost, False)
            return Scoped(node.scope, clause) if clause is not None else None
        if isinstance(node, (Intersect, Union_)):
            parts = tuple(p for p in (self._node(x, lost) for x in node.parts) if p is not None)
            return type(node)(parts) if parts else None
        if isinstance(node, Linked):
            seed = self._node(node.seed, lost)
            if not isinstance(seed, Scoped) or (caps.fields is not None and
                                                not set(node.match_on) <= set(caps.fields)):
                self._lose(lost, _criterion(node), "who is written with whom")
                return None
            return Linked(seed, node.hops, node.match_on)
        if isinstance(node, Sequence):
            plans = tuple(self.adapt(p) for p in node.plans)
            for before, after in zip(node.plans, plans):
                lost += [x for x in after.lost if x not in before.lost]
            return Sequence(plans)
        raise BackendError(f"backend http: unknown plan node {kind}")

    def _clause(self, c: Clause, scope: str, lost: list[Lost], in_any: bool) -> Clause | None:
        caps = self.adapter.capabilities
        kind = type(c).__name__
        field = getattr(c, "field", None)
        crit = f"{scope}.{field or kind.lower()}"
        effect = "weakened" if in_any else "dropped"  # an alternative less, or a criterion less
        if kind not in caps.clauses:
            self._lose(lost, crit, f"a {kind} search", effect)
            return None
        if field is not None and caps.fields is not None and field not in caps.fields:
            self._lose(lost, crit, f"for the field {field}", effect)
            return None
        if isinstance(c, (All, AnyOf)):
            parts = tuple(p for p in (self._clause(x, scope, lost, isinstance(c, AnyOf)) for x in c.clauses)
                          if p is not None)
            return type(c)(parts) if parts else None
        return c

    # ---- searching

    def _execute(self, node: Node) -> Hits:
        """The scoped clauses of a plan fetched side by side (up to the adapter's concurrency),
        then combined as every backend combines them."""
        if isinstance(node, Form):
            return self._fetch_form(node)
        if self._fetched is not None:  # inside a plan already being executed
            return super()._execute(node)
        leaves = list(dict.fromkeys(_scoped_leaves(node)))
        self._fetched = dict(zip(leaves, self.pool.map(self._fetch, leaves))) if len(leaves) > 1 else {}
        try:
            return super()._execute(node)
        finally:
            self._fetched = None

    def _scoped(self, node: Scoped) -> Hits:
        if self._fetched and node in self._fetched:
            return self._fetched[node]
        return self._fetch(node)

    def _fetch(self, node: Scoped) -> Hits:
        geo = geo_of(node.clause)
        got = self._read(self.adapter.search, self.adapter.response,
                         {"scope": node.scope, "clause": clause_data(node.clause), "scored": has_text(node.clause),
                          "geo": geo is not None}, fetch_geo=geo is not None)
        rnums = self._rnums(got["ids"])
        scores = np.asarray(got["scores"], np.float64) if got["scores"] is not None and has_text(node.clause) \
            else np.zeros(len(rnums))
        if geo is not None:
            scale = self.adapter.response.geo_scale
            keep = distances_m(geo.lat, geo.lon, np.asarray(got["lat"], np.float64) / scale,
                               np.asarray(got["lon"], np.float64) / scale) <= geo.radius_m
            rnums, scores = rnums[keep], scores[keep]
        return Hits.from_docs(rnums, scores, self.dates[rnums])

    def _fetch_form(self, node: Form) -> Hits:
        """The records in the order the system gave them (a score falling with each place)."""
        assert self.adapter.form is not None  # every field is there for templates, "" where not filled in
        form = {f.name: "" for f in self.adapter.form.fields} | dict(node.fields)
        got = self._read(self.adapter.search, self.adapter.response, {"form": form})
        rnums = self._rnums(got["ids"])
        return Hits.from_docs(rnums, -np.arange(len(rnums), dtype=np.float64), self.dates[rnums])

    def _co_mentioned(self, rnums: np.ndarray, exclude: Scoped, field: str) -> set[str]:
        if len(rnums) == 0:
            return set()
        assert self.adapter.co_mentioned is not None and self.adapter.co_mentioned_response is not None
        got = self._read(self.adapter.co_mentioned, self.adapter.co_mentioned_response,
                         {"record_numbers": [int(x) for x in rnums], "record_ids": self.rids[rnums].tolist(),
                          "exclude": clause_data(exclude.clause), "exclude_scope": exclude.scope, "field": field},
                         check_total=False)
        # person keys of people written with no name or date of birth are not links (as every backend)
        return {str(v) for v in got["ids"] if v and not str(v).startswith("|")}

    def _rnums(self, ids: list) -> np.ndarray:
        if self.adapter.response.id_kind == "record_number":
            out = np.asarray([int(x) for x in ids], np.int64)
            bad = out[(out < 0) | (out >= len(self.rids))]
            if len(bad):
                raise BackendError(f"{self.adapter.name} returned record number {bad[0]}, not in the corpus "
                                   f"({len(self.rids)} records)")
            return out
        try:
            return np.fromiter((self.rnum_of[str(x)] for x in ids), np.int64, len(ids))
        except KeyError as e:
            raise BackendError(self.hide(f"{self.adapter.name} returned record id {e.args[0]!r}, which is not in the "
                                         f"corpus {self.corpus.name}: does the service hold another export?")) from None

    def _read(self, req: Request, resp: Response, ctx: dict, fetch_geo: bool = False,
              check_total: bool = True) -> dict[str, Any]:
        """Every page of one search: ids (and scores and points where asked), up to the cap."""
        p = self.adapter.paging
        page = {"size": p.size, "offset": 0, "number": p.first_page, "cursor": None}
        # scores are read only for a search that scores (an engine sorting by a field gives none)
        scored = bool(resp.scores and ctx.get("scored"))
        out: dict[str, Any] = {"ids": [], "scores": [] if scored else None, "lat": [], "lon": []}
        total = None
        while True:
            ctx_page = {**ctx, "page": page}
            data, audit = self._request(req, ctx_page)
            ids = self._path(resp.ids, data, ctx_page) or []
            if not isinstance(ids, list):
                raise BackendError(f"{self.adapter.name}: response.ids gave a {type(ids).__name__}, not a list")
            self._audit({**audit, "records": len(ids)})
            out["ids"] += ids
            for key, expr in (("scores", resp.scores if scored else None), ("lat", resp.lat if fetch_geo else None),
                              ("lon", resp.lon if fetch_geo else None)):
                if expr:
                    vals = self._path(expr, data, ctx_page) or []
                    if len(vals) != len(ids):
                        raise BackendError(f"{self.adapter.name}: response.{key} gave {len(vals)} values for "
                                           f"{len(ids)} ids")
                    out[key] += vals
            if resp.total:
                total = self._path(resp.total, data, ctx_page)
            if p.kind == "none" or len(ids) < p.size or (total is not None and len(out["ids"]) >= total):
                break
            if len(out["ids"]) >= p.max_records:
                raise BackendError(f"{self.adapter.name}: more than paging.max_records ({p.max_records:,}) records for "
                                   f"one search{f' (the service reports {total:,})' if total else ''}; a list cut "
                                   f"short would not be the system's: raise max_records")
            if p.kind == "cursor":
                page["cursor"] = self._path(resp.next, data, ctx_page) if resp.next else None
                if not page["cursor"]:
                    break
            page["offset"] += len(ids)
            page["number"] += 1
        if fetch_geo and not resp.lat:
            raise BackendError(f"{self.adapter.name}: a radius search needs response.lat and response.lon, or "
                               f"GeoRadius left out of capabilities.clauses")
        if check_total and total is not None and total != len(out["ids"]):
            raise BackendError(f"{self.adapter.name} returned {len(out['ids'])} records of the {total} it reported")
        return out

    def _path(self, expr: str, data: Any, ctx: dict) -> Any:
        """A JMESPath expression (itself a template where it holds {{ }}) applied to the response."""
        if "{{" in expr:
            expr = self._render(expr, ctx)
        return _compiled(expr).search(data)

    def _render(self, template: str, ctx: dict) -> str:
        full = {**ctx, "vars": self.adapter.vars, "env": self.env,
                "corpus": {"name": self.corpus.name, "checksum": self.corpus.checksum}}
        try:
            compiled = self._compiled.get(template)
            if compiled is None:
                compiled = self._compiled[template] = self.templates.from_string(template)
            return compiled.render(full)
        except jinja2.TemplateError as e:
            raise PolebenchError(self.hide(f"adapter {self.adapter.name}: a template failed: "
                                           f"{type(e).__name__}: {e}")) from None

    def _request(self, req: Request, ctx: dict) -> tuple[Any, dict]:
        """One request, tried again after a wait on a transient error; its JSON answer and what
        the audit line says of it."""
        a = self.adapter
        body = self._render(req.body, ctx) if req.body is not None else None
        headers = {k: self._render(v, ctx) for k, v in req.headers.items()}
        if body is not None and req.body_format == "json":
            try:
                json.loads(body)
            except ValueError as e:
                raise PolebenchError(f"adapter {a.name}: the request body is not JSON ({e}): "
                                     f"{self.hide(body)[:300]}") from None
            headers.setdefault("Content-Type", "application/json")
        elif body is not None and req.body_format == "form":
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = self.client.build_request(req.method, self._render(req.url, ctx),
                                            params={k: self._render(v, ctx) for k, v in req.params.items()},
                                            headers=headers, content=body)
        shown = self.hide(str(request.url))
        delay = a.backoff_s
        for attempt in range(1, a.attempts + 1):
            self.rate.wait()
            t = time.perf_counter()
            status, error, wait = None, None, delay
            try:
                r = self.client.send(request)
                status = r.status_code
            except httpx.HTTPError as e:
                error = f"{type(e).__name__}: {e}"
            entry = {"method": req.method, "url": shown, "status": status, "attempt": attempt,
                     "ms": round((time.perf_counter() - t) * 1000, 1)}
            if status is not None and 200 <= status < 300:
                try:
                    return r.json(), entry
                except ValueError:
                    self._audit({**entry, "error": "not JSON"})
                    raise BackendError(f"{a.name}: {req.method} {shown}: HTTP {status} but the answer is not JSON: "
                                       f"{self.hide(r.text[:200])!r}") from None
            if status is not None:
                error = f"HTTP {status}"
                retry_after = r.headers.get("Retry-After", "")
                if retry_after.replace(".", "", 1).isdigit():
                    wait = min(float(retry_after), RETRY_AFTER_MAX_S)
            self._audit({**entry, "records": None, "error": self.hide(error or "")})
            if status is not None and status not in a.retry_on:
                raise BackendError(f"{a.name}: {req.method} {shown}: HTTP {status}: {self.hide(r.text[:300])}")
            if attempt == a.attempts:
                if status is None:
                    raise Unreachable(f"{a.name} at {self.hide(self.base_url)} is not reachable "
                                      f"({req.method} {shown}: {self.hide(error or '')}; {a.attempts} tries)")
                raise BackendError(f"{a.name}: {req.method} {shown}: HTTP {status} after {a.attempts} tries")
            time.sleep(wait)
            delay *= 2
        raise AssertionError("unreachable")

    def _audit(self, entry: dict) -> None:
        if self.on_request is None:
            return
        line = {"event": "request", "backend": self.NAME, "adapter": self.adapter.name, **self.context, **entry}
        with self._audit_lock:
            self.on_request(line)

    def close(self) -> None:
        self.pool.shutdown(wait=False)
        self.client.close()


def _config(options: Mapping[str, object]) -> Path:
    path = options.get("config")
    if not path:
        raise PolebenchError("--backend http needs --backend-config: an adapter YAML saying how needs become "
                             "requests to the search service (examples in adapters/)")
    return Path(str(path))


@lru_cache(maxsize=256)
def _compiled(expr: str) -> Any:
    return jmespath.compile(expr)


def _criterion(node: Node) -> str:
    if isinstance(node, Scoped):
        return f"{node.scope}.{getattr(node.clause, 'field', None) or type(node.clause).__name__.lower()}"
    if isinstance(node, Linked):
        return "association"
    return type(node).__name__.rstrip("_").lower()


def _leaves(data: Any, prefix: str = "") -> list[str]:
    """The dotted paths of a need's criteria (a list is one criterion)."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _leaves(v, f"{prefix}.{k}" if prefix else k)]
    return [prefix]


def _scoped_leaves(node: Node) -> list[Scoped]:
    """The scoped searches of a plan that can be made at once (a Linked seed's later hops and a
    Sequence's member plans are made as they come)."""
    if isinstance(node, Scoped):
        return [node]
    if isinstance(node, Linked):
        return [node.seed]
    return [x for p in getattr(node, "parts", ()) for x in _scoped_leaves(p)]
