# Two commands do everything on a fresh machine:
#   make demo   set up .venv and run the whole benchmark on the embedded engine
#   make test   set up .venv and run the test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/polebench: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,opensearch]'
	touch $@

.PHONY: setup demo test test-cluster bench clean
setup: $(BIN)/polebench

demo: setup
	$(BIN)/polebench demo

# The explorer's browser test drives Debian's chromium (Playwright's own browser download is not
# needed): installed here when missing, where we are root on a machine with apt-get (a CI runner).
test: setup
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; fi
	$(BIN)/pytest -q

# The OpenSearch integration tests again, on a three-node cluster on loopback (a shard per node,
# a replica of each), and a node killed mid-run. CI runs it after `make test` (a few minutes).
# The node-killing test starts a cluster of its own: it goes first, so that it has stopped that
# cluster before the other tests start theirs (three JVMs at most, not six: about 3 GB, not 6).
test-cluster: setup
	POLEBENCH_TEST_OPENSEARCH_NODES=3 $(BIN)/pytest -q -k opensearch \
		tests/backends/test_opensearch_cluster.py tests/backends/test_opensearch_node.py tests/access/test_access.py

bench: setup
	$(BIN)/polebench bench

# Only what polebench wrote: its corpora and run folders (the audit log and anything of yours stay).
clean:
	if [ -x $(BIN)/polebench ]; then $(BIN)/polebench clean; fi
	rm -rf $(VENV)
