"""Credentials never leave the process: a URL's user and password (`http://user:pass@host`) are
replaced by `***` in everything polebench logs, prints or writes."""

from __future__ import annotations

import re

# scheme://userinfo@ - userinfo runs to the last @ before the path (a password may hold an @)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#]*@")


def redact(text: str) -> str:
    """`text` with the user and password of every URL in it replaced by ***."""
    return _USERINFO.sub(r"\1***@", text)


def has_credentials(url: str) -> bool:
    return redact(url) != url
