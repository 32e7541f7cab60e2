# `make demo` and `make test` work on a fresh machine: they create .venv and install first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev,onnx]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/neocog demo

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check core apps datasets tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
