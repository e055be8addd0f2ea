"""The example CI workflows in docs/ci/ are the README's "In CI" commands, and those commands work:
run twice in a fresh folder, as two CI jobs would (the second gates against the first)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## In CI\n"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S)[1]
    return [line for line in block.splitlines() if line.strip()]


def github_commands() -> list[str]:
    wf = YAML(typ="safe").load((ROOT / "docs" / "ci" / "github-actions.yml").read_text())
    steps = wf["jobs"]["benchmark"]["steps"]
    # the report goes into the job summary, a GitHub feature of its own, not a README command
    return [s["run"] for s in steps if "run" in s and "GITHUB_STEP_SUMMARY" not in s["run"]]


def gitlab_commands() -> list[str]:
    return YAML(typ="safe").load((ROOT / "docs" / "ci" / "gitlab-ci.yml").read_text())["polebench"]["script"]


def test_the_workflows_steps_are_the_readmes_commands():
    assert github_commands() == readme_commands()
    assert gitlab_commands() == readme_commands()


def test_the_readmes_ci_commands_run_as_two_jobs(tmp_path):
    work = tmp_path / "checkout"
    (work / "corpora").mkdir(parents=True)
    shutil.copy(ROOT / "corpora" / "ci.yaml", work / "corpora" / "ci.yaml")
    shutil.copytree(ROOT / "queries", work / "queries")
    shutil.copy(ROOT / "gates.example.yaml", work)
    # `make setup` makes .venv/bin/polebench; here it is the tree under test
    (work / "Makefile").write_text(
        "setup:\n\tmkdir -p .venv/bin\n\tprintf '#!/bin/sh\\nexec %s -m bench.cli.main \"$$@\"\\n' > .venv/bin/polebench\n"
        "\tchmod +x .venv/bin/polebench\n" % sys.executable)
    env = {"CI": "true", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    for job in (1, 2):
        for cmd in readme_commands():
            r = subprocess.run(["bash", "-e", "-c", cmd], cwd=work, env=env, capture_output=True, text=True)
            assert r.returncode == 0, f"job {job}: {cmd}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
            if job == 1 and cmd.startswith(".venv/bin/polebench run"):  # the second reuses the run
                # progress in the log: stage, done/total, rate
                assert re.search(r"^profile crimint: \d[\d,]*/[\d,]+.* - done in ", r.stderr, re.M), r.stderr
        run_dir = work / (work / "run-dir.txt").read_text().strip()
        assert run_dir.parent.name == "results" and (run_dir / "run.json").is_file()
        assert (run_dir / "report.html").is_file()
        junit = (work / "junit.xml").read_text()
        if job == 1:
            assert "no --previous run to compare with" in junit  # the first job has no last good run
        else:
            assert "no --previous run" not in junit and 'failures="0"' in junit
        assert (work / "last-good-run" / "run.json").is_file()
