"""What the local search-engine nodes polebench starts have in common (an OpenSearch node or
cluster, bench/opensearch_node.py; a Solr node, bench/solr_node.py): a launcher under tools/
built once with Maven from the engine's published artifacts, a JVM started in a session of its
own on loopback, and stopped with SIGTERM (SIGKILL only after a grace period)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench.errors import BackendError

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def missing_tools() -> list[str]:
    return [t for t in ("java", "mvn") if shutil.which(t) is None]


def _stamp(tool: Path) -> str:
    h = hashlib.sha256()
    for f in sorted([tool / "pom.xml", *tool.glob("src/**/*.*")]):
        h.update(f.read_bytes())
    return h.hexdigest()


def build(tool: Path, what: str) -> list[str]:
    """Compile the launcher in `tool` and resolve its classpath (Maven fetches the engine's
    artifacts the first time), once per launcher version; return the classpath."""
    if missing_tools():
        raise BackendError(f"the {what} needs {' and '.join(missing_tools())} on PATH")
    target = tool / "target"
    stamp = target / "polebench.stamp"
    cp_file = target / "classpath.txt"
    if not (stamp.is_file() and stamp.read_text() == _stamp(tool) and cp_file.is_file()):
        r = subprocess.run(["mvn", "-B", "-q", "-f", str(tool / "pom.xml"), "compile", "dependency:build-classpath",
                            f"-Dmdep.outputFile={cp_file}"], capture_output=True, text=True)
        if r.returncode:
            raise BackendError(f"building the {what} failed:\n{(r.stdout + r.stderr)[-3000:]}")
        stamp.write_text(_stamp(tool))
    return [str(target / "classes"), cp_file.read_text().strip()]


def launch(classpath: list[str], main: str, args: list[str], log: Path, jvm: list[str]) -> subprocess.Popen:
    """The JVM in a session of its own (so that stopping it stops all it started), its output
    to `log`."""
    with open(log, "wb") as out:
        return subprocess.Popen(["java", *jvm, "-cp", os.pathsep.join(classpath), main, *args],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` ports free on loopback, all different: each is held until all are chosen, since a port
    let go is one the next bind may be given again (about 1 in 14,000 on Linux, which draws them
    at random from the odd half of its ephemeral range): two nodes given the same port, the
    second cannot start."""
    with contextlib.ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def signal_group(pid: int, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(pid, sig)
    except OSError:
        pass


def terminate(pid: int, grace: float = 30.0) -> None:
    """SIGTERM to the JVM's session, and SIGKILL if it is still there after `grace` seconds."""
    signal_group(pid)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and alive(pid):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.2)
    if alive(pid):
        signal_group(pid, signal.SIGKILL)


def tail(log: str | Path) -> str:
    try:
        return Path(log).read_text(errors="replace")[-3000:]
    except OSError:
        return "(no log)"
