"""A real Apache Solr 9.10 node for machines without a Solr install: built once from Solr's
Maven artifacts (tools/solr-node: Solr's own embedded Jetty runner in one JVM), started in the
background on a loopback port, standalone, with its cores in a Solr home folder of its own that
outlives the node (a core loaded once is there at the next start), and stopped cleanly.

The Solr home holds what polebench wrote only: solr.xml, a marker file, the node's log and state,
and the cores `polebench load-export --engine solr` made. A folder that holds anything else and
no marker is refused, and stopping the node deletes nothing."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from bench import jvm_node as jvm
from bench.errors import BackendError, PolebenchError

TOOL = jvm.TOOLS / "solr-node"
CONFIGSETS = TOOL / "configsets"
HOME = Path(os.environ.get("POLEBENCH_SOLR_HOME") or TOOL.parents[1] / "solr-data")
MARKER = ".polebench-solr-home"
HEAP = ["-Xms256m", "-Xmx1g"]
# Solr's own start script sets where it logs and where it is installed; the launcher binds Jetty to
# 127.0.0.1 itself (JettySolrRunner), and the node has none of Solr's modules: for local benchmarking
JVM_OPTS = ["-Dsolr.log.dir={home}", "-Dsolr.install.dir={tool}", "-Dlog4j2.formatMsgNoLookups=true"]
SOLR_XML = """<?xml version="1.0" encoding="UTF-8"?>
<!-- written by polebench solr-node: a standalone node whose cores take their configuration from
     the configsets that ship with polebench (tools/solr-node/configsets, read only) -->
<solr>
  <str name="configSetBaseDir">{configsets}</str>
  <str name="allowPaths">{configsets}</str>
  <int name="maxBooleanClauses">100000</int>
</solr>
"""


@dataclass
class SolrInfo:
    pid: int
    url: str
    home: str
    log: str


def missing_tools() -> list[str]:
    return jvm.missing_tools()


def build() -> list[str]:
    return jvm.build(TOOL, "Solr node")


def ping(url: str, timeout: float = 2.0) -> dict | None:
    """The node's system information, or None where it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/admin/info/system?wt=json", timeout=timeout) as r:
            return json.loads(r.read())
    except Exception:
        return None


def cores(url: str) -> dict[str, int]:
    """Each core the node holds and how many documents it has."""
    try:
        with urllib.request.urlopen(f"{url}/admin/cores?action=STATUS&wt=json", timeout=10) as r:
            status = json.loads(r.read())["status"]
    except Exception as e:
        raise BackendError(f"the Solr node at {url} did not list its cores: {e}") from None
    return {name: c.get("index", {}).get("numDocs", 0) for name, c in sorted(status.items())}


def prepare_home(home: Path) -> None:
    """A Solr home of polebench's own: made, or one it made before; anything else is refused."""
    home = home.resolve()
    if home.exists() and not home.is_dir():
        raise PolebenchError(f"{home}: not a folder (the Solr node's home)")
    if home.is_dir() and any(home.iterdir()) and not (home / MARKER).is_file():
        raise PolebenchError(f"{home}: holds files polebench did not write; give the Solr node an empty or new "
                             f"folder (--home, or POLEBENCH_SOLR_HOME)")
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("a Solr home polebench solr-node made: its cores are polebench's\n")
    (home / "solr.xml").write_text(SOLR_XML.format(configsets=escape(str(CONFIGSETS))))


def start(home: Path = HOME, port: int | None = None, timeout: float = 180.0) -> SolrInfo:
    """Start the node on `home` and wait until it answers; a node already running there is
    returned as it is."""
    current = status(home)
    if current:
        return current
    prepare_home(home)
    home = home.resolve()
    cp = build()
    ready, log = home / "ready", home / "node.log"
    ready.unlink(missing_ok=True)
    opts = [o.format(home=home, tool=TOOL) for o in JVM_OPTS]
    proc = jvm.launch(cp, "polebench.PolebenchSolrNode", [str(home), str(port or 0), str(ready)], log, HEAP + opts)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BackendError(f"the Solr node exited during start-up (log {log}):\n{jvm.tail(log)}")
        if ready.is_file() and ready.read_text().strip():
            info = SolrInfo(proc.pid, f"http://127.0.0.1:{int(ready.read_text())}/solr", str(home), str(log))
            if ping(info.url):
                (home / "node.json").write_text(json.dumps(asdict(info)))
                return info
        time.sleep(0.5)
    jvm.terminate(proc.pid)
    raise BackendError(f"the Solr node did not answer in {timeout:.0f} s (log {log}):\n{jvm.tail(log)}")


def status(home: Path = HOME) -> SolrInfo | None:
    """The node running on `home`, while it is alive and answers."""
    f = home / "node.json"
    if not f.is_file():
        return None
    info = SolrInfo(**json.loads(f.read_text()))
    return info if jvm.alive(info.pid) and ping(info.url) else None


def stop(home: Path = HOME) -> bool:
    """Stop the node running on `home` (its cores stay in the folder for the next start)."""
    f = home / "node.json"
    if not f.is_file():
        return False
    info = SolrInfo(**json.loads(f.read_text()))
    jvm.terminate(info.pid)
    f.unlink()
    (home / "ready").unlink(missing_ok=True)
    return True
