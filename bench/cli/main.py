"""The `polebench` command: one subcommand per stage of the pipeline."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import sys
import tempfile
import traceback
from pathlib import Path

from bench import __version__
from bench.errors import PolebenchError
from bench.redact import redact

# Stages in data-flow order; each module has add_parser() and a run(args) -> exit code.
SUBCOMMANDS = ("generate", "importer", "export", "load_export", "queries", "vocab", "schema", "run", "report", "gate", "sar", "erase", "sweep", "demo", "bench",
               "opensearch_node", "solr_node", "clean")

DESCRIPTION = """\
polebench measures how well police intelligence search finds what analysts need.
It generates synthetic POLE corpora with known truth, instantiates analyst query sets,
runs them through models of CRIMINT, CONNECT, IIP and CONNECT+IIP search on a real
engine, and reports precision, recall, result volume, volume inflation, sift cost and
lost capability. All data it makes is SYNTHETIC.

Exit codes: 0 ok, 1 a gate failed, 2 bad input, 3 backend unavailable, 4 a fault of
polebench itself (its traceback is written to a file the message names), 5 another
polebench process is running the same run, 130 interrupted, 141 the output pipe was closed."""

# A crash must never read as "a gate failed" (1) or "bad input" (2): CI tells them apart.
CRASH_EXIT = 4


# The command each module adds (`polebench import` is bench.cli.importer).
COMMANDS = {("import" if m == "importer" else m.replace("_", "-")): m for m in SUBCOMMANDS}


class _Parser(argparse.ArgumentParser):
    """argparse's own errors quote what was given (`unrecognized arguments: --opensearch-url
    http://user:pass@host`): redacted like every other message. Subcommands' parsers are of this
    class too (add_subparsers makes them of the parent's)."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, redact(f"{self.prog}: error: {message}\n"))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `only` (a module of SUBCOMMANDS) that command's alone:
    each module imports what its command needs, and all of them together held about 150 MB
    (polars, tantivy, the run and report stacks) in every process, `generate`'s forked
    workers included."""
    parser = _Parser(prog="polebench", description=DESCRIPTION,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"polebench {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in SUBCOMMANDS:
        if only is not None and name != only:
            continue
        try:
            module = importlib.import_module(f"bench.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"bench.cli.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    # The command is the first word that is no option (the top level takes no option values);
    # anything else (no command, help, a mistyped command) gets every command, to list them.
    first = next((a for a in args_in if not a.startswith("-")), None)
    parser = build_parser(COMMANDS.get(first))
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except PolebenchError as e:
        print(f"polebench: error: {redact(str(e))}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("polebench: interrupted; nothing half-written was kept (a run's searches so far are, "
              "for --resume)", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `polebench ... | head`: the reader left; nothing more to say to it
        try:  # so that flushing stdout at exit does not raise again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is no file (captured)
            pass
        return 141
    except Exception as e:
        if isinstance(e, OSError) and e.filename is not None:
            # the machine refused a file (a missing folder, no permission, a full disk): the user's to fix
            in_the_way = isinstance(e, (FileExistsError, NotADirectoryError)) and Path(e.filename).is_file()
            why = "a file is in the way of a folder of that name" if in_the_way else e.strerror or e
            print(redact(f"polebench: error: {e.filename}: {why}"), file=sys.stderr)
            return 2
        # a fault of ours: one line here, the whole traceback in a file
        where = write_traceback()
        print(redact(f"polebench: internal error: {type(e).__name__}: {e}")[:500]
              + f" (full traceback: {where}; please report it)", file=sys.stderr)
        return CRASH_EXIT


def write_traceback() -> Path:
    """The current exception's traceback in a file of its own, in the temp folder (the results
    folder may be what failed)."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    fd, name = tempfile.mkstemp(prefix=f"polebench-crash-{stamp}-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"polebench {__version__}; argv: {redact(' '.join(sys.argv))}\n\n")
        f.write(redact(traceback.format_exc()))
    return Path(name)


if __name__ == "__main__":
    sys.exit(main())
