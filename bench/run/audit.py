"""The audit log: searching personal data must be logged (DPA 2018 s62), so every run appends
who ran what, when, on which data. The data are synthetic; the habit starts here anyway."""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import json
import os
import socket
import sys
from pathlib import Path

from bench.redact import redact


@functools.cache  # one process, one user; looked up for every search line otherwise
def who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return str(os.getuid())


def append(log: Path, event: str, **fields: object) -> None:
    """One JSON line per event, appended and flushed (O_APPEND: concurrent runs do not interleave)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    line = {"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "event": event,
            "user": who(), "host": socket.gethostname(), "command": redact(" ".join(sys.argv)), **fields}
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps(line, sort_keys=True, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())


def search_entry(profile: str, backend: str, need, row: dict) -> dict:
    """One line per search issued on a profile's behalf: who, when, which profile and backend,
    what was asked (the need, as the analyst wrote it) and how many records came back."""
    return {"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"), "event": "search",
            "operation": "consultation", "user": who(), "profile": profile, "backend": backend,
            "need": need.id, "query": need.model_dump(mode="json", exclude_defaults=True,
                                                      exclude={"id", "description", "targets", "kind"}),
            "returned": row["returned"], "searches": row.get("searches", 1), "error": row["error"]}


def request_entry(entry: dict) -> dict:
    """One line per request a backend makes of a search service on a need's behalf: when, who,
    the URL (with credentials and secrets already replaced by ***), status and records."""
    return {"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"), "operation": "consultation",
            "user": who(), **entry, "url": redact(str(entry.get("url", "")))}
