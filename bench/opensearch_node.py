"""A real OpenSearch node for machines without Docker: built once from OpenSearch's Maven
artifacts (tools/opensearch-node), started in the background on a free loopback port, waited
for until healthy (yellow is normal for one node), and stopped cleanly."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BackendError

TOOL = Path(__file__).resolve().parents[1] / "tools" / "opensearch-node"
STATE = Path(os.environ.get("POLEBENCH_STATE", Path.home() / ".cache" / "polebench")) / "opensearch-node"
JVM_OPTS = ["-Xms512m", "-Xmx1g", "-Dopensearch.set.netty.runtime.available.processors=false"]


@dataclass
class NodeInfo:
    pid: int
    url: str
    home: str
    log: str


def missing_tools() -> list[str]:
    return [t for t in ("java", "mvn") if shutil.which(t) is None]


def _stamp() -> str:
    h = hashlib.sha256()
    for f in sorted([TOOL / "pom.xml", *TOOL.glob("src/**/*.*")]):
        h.update(f.read_bytes())
    return h.hexdigest()


def build() -> list[str]:
    """Compile the launcher and resolve its classpath, once per launcher version; return the classpath."""
    if missing_tools():
        raise BackendError(f"the OpenSearch node needs {' and '.join(missing_tools())} on PATH")
    target = TOOL / "target"
    stamp = target / "polebench.stamp"
    cp_file = target / "classpath.txt"
    if not (stamp.is_file() and stamp.read_text() == _stamp() and cp_file.is_file()):
        r = subprocess.run(["mvn", "-B", "-q", "-f", str(TOOL / "pom.xml"), "compile", "dependency:build-classpath",
                            f"-Dmdep.outputFile={cp_file}"], capture_output=True, text=True)
        if r.returncode:
            raise BackendError(f"building the OpenSearch node failed:\n{(r.stdout + r.stderr)[-3000:]}")
        stamp.write_text(_stamp())
    return [str(target / "classes"), cp_file.read_text().strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(url: str, timeout: float = 2.0) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/_cluster/health", timeout=timeout) as r:
            return json.loads(r.read())["status"]
    except Exception:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def start(port: int | None = None, timeout: float = 180.0, state: Path = STATE) -> NodeInfo:
    """Start a node with a fresh data folder and wait until it answers yellow or green."""
    current = status(state)
    if current:
        return current
    cp = build()
    port = port or free_port()
    home = Path(tempfile.mkdtemp(prefix="polebench-opensearch-"))
    log = home / "node.log"
    ready = home / "ready"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["java", *JVM_OPTS, "-cp", os.pathsep.join(cp), "polebench.PolebenchNode",
                                 str(home), str(port), str(ready)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    info = NodeInfo(proc.pid, f"http://127.0.0.1:{port}", str(home), str(log))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BackendError(f"the OpenSearch node exited during start-up:\n{log.read_text()[-3000:]}")
        if ready.exists() and health(info.url) in ("yellow", "green"):
            state.mkdir(parents=True, exist_ok=True)
            (state / "node.json").write_text(json.dumps(info.__dict__))
            return info
        time.sleep(0.5)
    _terminate(proc.pid)
    raise BackendError(f"the OpenSearch node did not become healthy in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def status(state: Path = STATE) -> NodeInfo | None:
    f = state / "node.json"
    if not f.is_file():
        return None
    info = NodeInfo(**json.loads(f.read_text()))
    if _alive(info.pid) and health(info.url):
        return info
    return None


def _terminate(pid: int, grace: float = 30.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(pid):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.2)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)


def stop(state: Path = STATE) -> bool:
    f = state / "node.json"
    if not f.is_file():
        return False
    info = NodeInfo(**json.loads(f.read_text()))
    _terminate(info.pid)
    shutil.rmtree(info.home, ignore_errors=True)
    f.unlink()
    return True
