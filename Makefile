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

.PHONY: setup demo test bench clean
setup: $(BIN)/polebench

demo: setup
	$(BIN)/polebench demo

test: setup
	$(BIN)/pytest -q

bench: setup
	$(BIN)/polebench bench

clean:
	rm -rf $(VENV) results corpora/*/
