"""Credentials never leave the process: a URL's user and password (`http://user:pass@host`) are
replaced by `***` in everything polebench logs, prints or writes."""

from __future__ import annotations

import os
import re

from bench.errors import PolebenchError

# scheme://userinfo@ - userinfo runs to the last @ before the path (a password may hold an @)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#]*@")


def redact(text: str) -> str:
    """`text` with the user and password of every URL in it replaced by ***."""
    return _USERINFO.sub(r"\1***@", text)


def has_credentials(url: str) -> bool:
    return redact(url) != url


def check_engine_url(url: str, source: str) -> str:
    """An engine's address as given (`source`: the option or variable it came from): http(s), and
    without credentials, which would end up in logs, audit lines and messages."""
    if not url.startswith(("http://", "https://")):
        raise PolebenchError(f"{source} {redact(url)!r}: not an http:// or https:// address")
    if has_credentials(url):
        raise PolebenchError(f"{source} {redact(url)}: credentials in a URL are refused; set "
                             f"POLEBENCH_OPENSEARCH_USER and POLEBENCH_OPENSEARCH_PASSWORD instead")
    return url


def opensearch_credentials() -> tuple[tuple[str, str] | None, str | None]:
    """(user, password) and the CA file for an OpenSearch that asks for them, from the environment
    only (POLEBENCH_OPENSEARCH_USER / _PASSWORD / _CA): the backend and load-export read the same."""
    user = os.environ.get("POLEBENCH_OPENSEARCH_USER")
    auth = (user, os.environ.get("POLEBENCH_OPENSEARCH_PASSWORD", "")) if user else None
    return auth, os.environ.get("POLEBENCH_OPENSEARCH_CA") or None
