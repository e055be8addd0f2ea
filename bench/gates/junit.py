"""Gate outcomes as JUnit XML (via junitparser), one test case per gate, for any CI server."""

from __future__ import annotations

from pathlib import Path

from junitparser import Failure, JUnitXml, Skipped, TestCase, TestSuite

from bench.errors import PolebenchError
from bench.gates.rules import Outcome


def write(path: Path, outcomes: list[Outcome], suite_name: str) -> None:
    suite = TestSuite(suite_name)
    for o in outcomes:
        case = TestCase(o.gate.name, classname=f"polebench.gates.{o.gate.profile}")
        case.system_out = o.message
        if o.status == "failed":
            case.result = [Failure(o.message)]
        elif o.status == "skipped":
            case.result = [Skipped(o.message)]
        suite.add_testcase(case)
    xml = JUnitXml()
    xml.add_testsuite(suite)
    if path.is_dir():
        raise PolebenchError(f"--junit {path}: is a folder; give the path of the XML file to write")
    path.parent.mkdir(parents=True, exist_ok=True)  # a CI job's report folder may not exist yet
    tmp = path.with_name(f".{path.name}.tmp")
    xml.write(str(tmp), pretty=True)
    tmp.replace(path)
