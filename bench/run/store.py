"""Where a run lives. The run id is derived from its resolved inputs, so finished work is found
again and skipped; work in progress lives in a hidden partial folder, one JSON line per finished
(profile, need), so a killed run loses nothing finished and --resume picks up where it stopped."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import orjson

from bench.errors import PolebenchError

PARTIAL_PREFIX = ".partial-"


def run_key(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:12]


def is_complete(d: Path) -> bool:
    return (d / "run.json").is_file()


class Partial:
    """Append-only record of finished searches for one run."""

    def __init__(self, results_root: Path, run_id: str, resume: bool, force: bool):
        self.dir = results_root / f"{PARTIAL_PREFIX}{run_id}"
        if self.dir.exists() and not (resume or force):
            raise PolebenchError(f"an interrupted run exists at {self.dir}; "
                                 f"continue it with --resume or start again with --force")
        if force and self.dir.exists():
            for f in self.dir.glob("*.jsonl"):
                f.unlink()
        self.dir.mkdir(parents=True, exist_ok=True)

    def _file(self, profile: str) -> Path:
        return self.dir / f"{profile}.jsonl"

    def load(self, profile: str) -> dict[str, dict]:
        """The latest outcome per need; a line cut short by a kill is ignored (and redone)."""
        f = self._file(profile)
        out: dict[str, dict] = {}
        if not f.is_file():
            return out
        for line in f.read_bytes().splitlines():
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            out[row["qid"]] = row
        return out

    def open(self, profile: str):
        f = self._file(profile)
        if f.is_file():  # drop a torn last line before appending
            data = f.read_bytes()
            if data and not data.endswith(b"\n"):
                f.write_bytes(data[: data.rfind(b"\n") + 1])
        return open(f, "ab")
