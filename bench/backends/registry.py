"""An explicit registry of backends: name -> module and class, imported lazily so an engine's
library is needed only when that backend is used."""

from __future__ import annotations

import importlib

from bench.backends.base import Backend
from bench.corpus.store import Corpus
from bench.errors import BackendError, PolebenchError

BACKENDS: dict[str, tuple[str, str, str]] = {
    # name: (module, class, how to install its engine)
    "embedded": ("bench.backends.embedded", "EmbeddedBackend", "pip install tantivy"),
    "bm25-ref": ("bench.backends.bm25_ref", "Bm25RefBackend", "pip install rank-bm25"),
    "opensearch": ("bench.backends.opensearch", "OpenSearchBackend", "pip install 'polebench[opensearch]'"),
    "http": ("bench.backends.http", "HttpBackend", "pip install httpx jmespath jinja2"),
}


def register(name: str, module: str, cls: str, install: str) -> None:
    if name in BACKENDS:
        raise ValueError(f"backend {name!r} is already registered")
    BACKENDS[name] = (module, cls, install)


def backend_class(name: str) -> type[Backend]:
    """The class of a backend, its engine library imported: what it supports is known before
    any index is built or any search made."""
    if name not in BACKENDS:  # a misspelt option (exit 2), not an engine that is down (3)
        raise PolebenchError(f"--backend {name!r}: unknown backend; known: {', '.join(BACKENDS)}")
    module, cls, install = BACKENDS[name]
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise BackendError(f"backend {name!r} needs a library that is not installed ({e.name}): {install}") from e
    return getattr(mod, cls)


def open_backend(name: str, corpus: Corpus, **options: object) -> Backend:
    return backend_class(name)(corpus, **options)
