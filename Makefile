# lakeport — every target creates what it needs; `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3.11
PYTHON39 ?= $(shell for p in $$HOME/.pyenv/versions/3.9*/bin/python3.9 $$(command -v python3.9); do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 9)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV ?= .venv
VENV39 ?= .venv39
TOOLS ?= .venv-tools
AWSCLI ?= .venv-awscli
BIN := $(VENV)/bin
export SPARK_LOCAL_IP ?= 127.0.0.1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv venv39 tools awscli demo test test-fast test39 lint typecheck package bench bench-spark bench-append docs clean

help:
	@echo "make demo      run the whole pipeline on the embedded AWS emulator"
	@echo "make test      install everything, then run every test tier, lint and type checks"
	@echo "make test39    run the engine tests under Python 3.9 (the Glue Python-shell runtime)"
	@echo "make package   build the wheel, the Glue jobs' dependency wheels and the Lambda package Terraform uploads"
	@echo "make bench     TPC-H lineitem benchmark (SF=1 by default)"
	@echo "make bench-spark  the same job: lakeport's Spark engine against a hand-written PySpark job"
	@echo "make bench-append one small append into a table of 10,000 files: Iceberg against the generation protocol"
	@echo "make docs      redraw docs/architecture.png and docs/state-machine.png (needs graphviz)"

$(BIN)/.installed: pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements/dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

venv: $(BIN)/.installed

$(VENV39)/bin/.installed: pyproject.toml requirements/py39.txt
	@test -n "$(PYTHON39)" || { echo "Python 3.9 not found: set PYTHON39=/path/to/python3.9"; exit 1; }
	$(PYTHON39) -m venv $(VENV39)
	$(VENV39)/bin/pip install -q --upgrade pip
	$(VENV39)/bin/pip install -q -r requirements/py39.txt
	$(VENV39)/bin/pip install -q --no-deps -e .
	touch $@

venv39: $(VENV39)/bin/.installed

$(TOOLS)/bin/.installed: requirements/tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --upgrade pip
	$(TOOLS)/bin/pip install -q -r requirements/tools.txt
	touch $@

tools: $(TOOLS)/bin/.installed

# The AWS CLI v1 pins its own botocore, older than ours: it gets a venv of its own.
$(AWSCLI)/bin/.installed: requirements/awscli.txt
	$(PYTHON) -m venv $(AWSCLI)
	$(AWSCLI)/bin/pip install -q --upgrade pip
	$(AWSCLI)/bin/pip install -q -r requirements/awscli.txt
	touch $@

awscli: $(AWSCLI)/bin/.installed

demo: venv
	$(BIN)/lakeport demo

lint: venv
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs

typecheck: venv
	$(BIN)/mypy

# Only the modules marked py39 are collected: the others import the CLI, which needs Python 3.11.
test39: venv39
	$(VENV39)/bin/pytest -q -p no:cacheprovider -m py39 $$(grep -rlE 'mark\.py39' tests/unit tests/functional | sort)

test: venv venv39 tools awscli
	$(MAKE) --no-print-directory lint typecheck
	PYTHON39="$(PYTHON39)" CHECKOV="$(CURDIR)/$(TOOLS)/bin/checkov" LAKEPORT_AWS_CLI="$(CURDIR)/$(AWSCLI)/bin/aws" $(BIN)/pytest -q
	$(MAKE) --no-print-directory test39

package: venv
	PYTHON39="$(PYTHON39)" $(BIN)/python -m lakeport.packaging --out dist

bench: venv
	$(BIN)/python benchmarks/lineitem.py --scale $${SF:-1}

bench-spark: venv
	$(BIN)/python benchmarks/spark_lineitem.py --scale $${SF:-1}

bench-append: venv
	$(BIN)/python benchmarks/iceberg_append.py

docs: venv
	$(BIN)/python docs/diagrams/architecture.py
	$(BIN)/python docs/diagrams/state_machine.py

clean:
	rm -rf $(VENV) $(VENV39) $(TOOLS) $(AWSCLI) dist build .pytest_cache .mypy_cache .ruff_cache
