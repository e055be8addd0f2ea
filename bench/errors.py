"""The project's exceptions. The CLI turns each into one message and an exit code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


# HTTP statuses of a service that is busy or restarting (too many requests, bad gateway, service
# unavailable, gateway timeout): a request is tried again after a wait, not failed at once.
TRANSIENT = (429, 502, 503, 504)


class PolebenchError(Exception):
    """Base of every error a user can cause; carries the CLI exit code."""

    exit_code = 2


@dataclass(frozen=True)
class Location:
    """Where in an input file a problem is: path, 1-based line and column, dotted field."""

    path: str
    line: int | None
    column: int | None
    field: str

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.field}" if self.field else where


class SpecError(PolebenchError):
    """One or more problems in an input file, all reported together."""

    def __init__(self, problems: list[tuple[Location, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{loc}: {msg}" for loc, msg in problems))

    @classmethod
    def single(cls, path: str | Path, field: str, message: str,
               line: int | None = None, column: int | None = None) -> "SpecError":
        return cls([(Location(str(path), line, column, field), message)])


class BackendError(PolebenchError):
    """A search engine is unavailable or failed; names backend and what was being run."""

    exit_code = 3


class Unreachable(BackendError):
    """The engine did not answer at all (connection refused, reset, timed out): not one search's
    problem, so a run stops after a few of these in a row rather than retrying every search."""


class Incomplete(PolebenchError):
    """A run with failed searches, asked for figures as if it were complete."""


class GateFailed(PolebenchError):
    """A CI gate threshold was crossed."""

    exit_code = 1
