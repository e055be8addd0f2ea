"""The adapter file of the http backend: how the plans of a run become requests to a search
service, and how its answers become record ids. Documented by example in adapters/*.yaml
(loaded by the tests)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Literal

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bench.errors import TRANSIENT, PolebenchError
from bench.plans import CLAUSE_KINDS, NODE_KINDS
from bench.specio import load_model

CLAUSES = CLAUSE_KINDS
# What a service can be asked for: every plan node but entity resolution (the reference profile's
# own, made in polebench) and a filled-in form (a need-level adapter's, not a capability).
NODES = tuple(n for n in NODE_KINDS if n not in ("Resolve", "Form"))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _jmespath(v: str | None) -> str | None:
    if v is not None:
        try:
            jmespath.compile(v)
        except JMESPathError as e:
            raise ValueError(f"not a JMESPath expression: {e}") from None
    return v


class Request(Strict):
    """One HTTP request, every string a Jinja2 template (sandboxed) of the search it makes."""

    method: Literal["GET", "POST", "PUT"] = "POST"
    url: str = Field(description="path under base_url, or a whole URL on the same host; a template")
    params: dict[str, str] = Field(default_factory=dict, description="query string; values are templates")
    headers: dict[str, str] = Field(default_factory=dict, description="values are templates")
    body: str | None = Field(None, description="a template; JSON text where body_format is json")
    body_format: Literal["json", "form", "text"] = "json"


class Response(Strict):
    """Where the answer is, as JMESPath expressions over the JSON response."""

    ids: str = Field(description="the list of ids of the records on this page")
    id_kind: Literal["record_id", "record_number"] = Field("record_id", description=(
        "record_id: the polebench record id the export wrote; record_number: the record's position in the "
        "corpus, counted from 0 (for an index polebench's own indexer built)"))
    total: str | None = Field(None, description="the total the engine reports; checked against what was read")
    scores: str | None = Field(None, description="relevance score of each id, for profiles ordered by relevance")
    lat: str | None = Field(None, description="latitude of each hit (times geo_scale): polebench keeps only the hits "
                                              "within a radius search's distance, for engines that filter by a box")
    lon: str | None = None
    geo_scale: float = 1.0
    next: str | None = Field(None, description="cursor paging: the next page's cursor (none or empty: last page)")

    @field_validator("ids", "total", "scores", "lat", "lon", "next")
    @classmethod
    def _valid(cls, v: str | None) -> str | None:
        return _jmespath(v)


class Paging(Strict):
    """How pages are asked for: the templates see page.size, page.offset, page.number, page.cursor."""

    kind: Literal["none", "offset", "page", "cursor"] = "offset"
    size: int = Field(1000, ge=1)
    first_page: int = Field(1, description="page: the number of the first page")
    max_records: int = Field(100_000, ge=1, description=(
        "reading stops here; a list cut short is recorded as failed (its figures would not be the system's)"))


class Auth(Strict):
    """Credentials come from the environment only, named here by variable."""

    kind: Literal["none", "basic", "bearer", "client_cert"] = "none"
    user_env: str | None = None
    password_env: str | None = None
    token_env: str | None = None
    cert_env: str | None = Field(None, description="client_cert: variable holding the certificate file's path")
    key_env: str | None = Field(None, description="client_cert: variable holding the key file's path")

    @model_validator(mode="after")
    def _complete(self) -> "Auth":
        need = {"basic": ("user_env", "password_env"), "bearer": ("token_env",), "client_cert": ("cert_env",)}
        missing = [f for f in need.get(self.kind, ()) if getattr(self, f) is None]
        if missing:
            raise ValueError(f"auth {self.kind} needs {', '.join(missing)}")
        return self


class EnvVar(Strict):
    """A value a template may use, read from the environment; a secret one never appears in a
    log, an audit line, an error or a results file (*** in its place)."""

    var: str
    secret: bool = True
    default: str | None = None


class Capabilities(Strict):
    """What the service can be asked. A plan part outside these is dropped before the search and
    listed as lost, as a profile's compiler lists what it cannot express."""

    nodes: tuple[Literal[NODES], ...] = Field(  # type: ignore[valid-type]
        tuple(n for n in NODES if n != "Linked"),
        description="Linked (association needs) only with a co_mentioned request to follow links with")
    clauses: tuple[Literal[CLAUSES], ...] = CLAUSES  # type: ignore[valid-type]
    fields: tuple[str, ...] | None = Field(None, description="polebench fields it can search (bench/fields.py); "
                                                               "none: all")
    scopes: tuple[str, ...] | None = Field(None, description="record, person, vehicle, phone, location; none: all")


class FormField(Strict):
    """One field of a search form and where in the need its value comes from."""

    name: str = Field(description="the form's name for the field, as templates see it in form.<name>")
    need: str = Field(description="JMESPath over the need as written (e.g. person.surname, vehicle.vrm)")
    format: str | None = Field(None, description="for a date: the strftime format the form takes it in")

    @field_validator("need")
    @classmethod
    def _valid(cls, v: str) -> str:
        return _jmespath(v) or v


class Form(Strict):
    """A search form, filled in as the modelled analyst fills one (free_text.strategy's terms):
    all_criteria fills every field the need gives a value for; incremental fills the first, and
    while a search returns more than narrow_above records adds the next and searches again
    (every search issued is counted)."""

    strategy: Literal["all_criteria", "incremental"] = "all_criteria"
    narrow_above: int | None = Field(None, ge=0, description="incremental: search again with one more field "
                                                              "while more than this many records come back")
    fields: tuple[FormField, ...] = Field(min_length=1, description="in the order an analyst fills them in")

    @model_validator(mode="after")
    def _narrow(self) -> "Form":
        if (self.strategy == "incremental") != (self.narrow_above is not None):
            raise ValueError("narrow_above goes with strategy incremental, and incremental needs it")
        return self


class Adapter(Strict):
    """An http backend adapter. Examples: adapters/*.yaml (loaded by the tests)."""

    schema_version: Literal[1] = 1
    name: str
    description: str = ""
    base_url: str = Field(description="the service's address, never with credentials in it")
    base_url_env: str | None = Field(None, description="an environment variable that, when set, overrides base_url")
    level: Literal["clause", "need"] = Field("clause", description=(
        "clause: one request per scoped clause of each profile's plan; need: one request per need (per "
        "search of it), a search form filled in from the need as `form` says: the system itself is measured, "
        "whatever the profile"))
    form: Form | None = Field(None, description="level need: the search form")
    timeout_s: float = Field(30.0, gt=0)
    concurrency: int = Field(2, ge=1, description="requests in flight at once (the parts of one search)")
    rate_per_s: float | None = Field(None, gt=0, description="requests started per second, at most")
    attempts: int = Field(4, ge=1, description="tries of a request on a transient error")
    backoff_s: float = Field(0.5, ge=0, description="wait before the second try, doubled each time")
    retry_on: tuple[int, ...] = TRANSIENT
    verify_tls: bool = True
    ca_env: str | None = Field(None, description="variable holding the CA bundle's path, for https")
    auth: Auth = Auth()
    env: dict[str, EnvVar] = Field(default_factory=dict, description="values templates see as env.<name>")
    vars: dict[str, Any] = Field(default_factory=dict, description="constants templates see (any YAML value)")
    search: Request = Field(description="the request for one scoped clause (level clause) or one filled form (need)")
    response: Response
    paging: Paging = Paging()
    co_mentioned: Request | None = Field(None, description=(
        "the request for the people written in some records (needed for association needs: Linked)"))
    co_mentioned_response: Response | None = None
    capabilities: Capabilities = Capabilities()

    @model_validator(mode="after")
    def _consistent(self) -> "Adapter":
        if (self.level == "need") != (self.form is not None):
            raise ValueError("form goes with level need, and level need needs a form")
        if self.paging.kind == "cursor" and not self.response.next:
            raise ValueError("paging cursor needs response.next")
        if (self.co_mentioned is None) != (self.co_mentioned_response is None):
            raise ValueError("give co_mentioned and co_mentioned_response together")
        if "Linked" in self.capabilities.nodes and self.co_mentioned is None:
            raise ValueError("capabilities.nodes has Linked: give the co_mentioned request it needs")
        if (self.response.lat is None) != (self.response.lon is None):
            raise ValueError("give response.lat and response.lon together")
        return self


def load_adapter(path: Path) -> tuple[Adapter, str]:
    """The adapter and its checksum (which makes part of a run's id)."""
    return load_model(Adapter, path), hashlib.sha256(Path(path).read_bytes()).hexdigest()


def env_values(a: Adapter) -> tuple[dict[str, str], list[str]]:
    """What templates see as env.<name>, and the secret values among them (to redact)."""
    values, secrets = {}, []
    for name, e in a.env.items():
        v = os.environ.get(e.var, e.default)
        if v is None:
            raise PolebenchError(f"adapter {a.name}: env.{name}: set the environment variable {e.var}")
        values[name] = v
        if e.secret and v:
            secrets.append(v)
    return values, secrets
