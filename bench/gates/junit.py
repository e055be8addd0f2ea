"""Gate outcomes as JUnit XML (via junitparser), one test case per gate, for any CI server."""

from __future__ import annotations

from pathlib import Path

from junitparser import Failure, JUnitXml, Skipped, TestCase, TestSuite

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
    tmp = path.with_name(f".{path.name}.tmp")
    xml.write(str(tmp), pretty=True)
    tmp.replace(path)
