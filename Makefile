# From Perceptron to Qubit: build, test and run the book.
#
#   make book     build the HTML book strictly into _build/html
#   make test     unit tests, every chapter under nbval, the book and browser tests,
#                 all with networking disabled (tools/offline)
#
# Every target installs what it needs into .venv first; pip runs again only when
# a requirements file, constraints.txt or pyproject.toml has changed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Prefer Python 3.11 (the version constraints.txt was resolved for).
PYTHON_BOOT ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed-requirements
REQ_FILES   := requirements.txt requirements-dev.txt constraints.txt pyproject.toml

TORCH_VERSION := 2.13.0
TORCH_INDEX   := https://download.pytorch.org/whl/cpu

HTML_DIR := _build/html
JB_FLAGS := -W -n --keep-going

# Test run: two workers, whole files per worker (a notebook's cells share a kernel).
PYTEST_FLAGS := -n 2 --dist loadfile \
	--nbval --nbval-current-env --nbval-cell-timeout 300 \
	--nbval-sanitize-with tests/nbval_sanitize.cfg

# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-x -k perceptron"`.
PYTEST_ARGS ?=

# `make execute CHAPTERS="chapters/03_activations.ipynb"` runs only those.
CHAPTERS ?=

# Kernels, jupyter-book and subprocesses find the venv's tools first.
export PATH := $(abspath $(VENV))/bin:$(PATH)
# Silence debugpy's frozen-modules notice that would otherwise land on stderr.
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# One BLAS/OpenMP thread per process: `make test` runs two workers on two cores, and
# `make execute` must use the same thread count as the tests, because it changes the
# order of floating-point sums and so the last digits of stored outputs.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
# Training loops report progress as text lines, not a widget, in stored outputs (see nblib/torch_train.py).
export NBLIB_PROGRESS := text

.PHONY: help venv install assets book test report lab execute bench clean distclean

help:
	@echo "make book       build the HTML book strictly (installs and fetches assets first)"
	@echo "make test       run unit tests, nbval over chapters/, and the book/browser tests, offline"
	@echo "make report     write book/execution_report.md from the last make test run"
	@echo "make lab        open JupyterLab on chapters/"
	@echo "make execute    re-execute chapters in place (CHAPTERS=... to pick some)"
	@echo "make bench      benchmarks: autograd MLP and im2col conv vs torch, explorer latencies"
	@echo "make venv       create .venv and install the pinned requirements"
	@echo "make assets     download the pinned MathJax and widget scripts into book/_static/vendor/"
	@echo "make clean      remove build outputs, artifacts and vendored assets (keeps .venv)"
	@echo "make distclean  clean, and remove .venv too"

$(PY):
	@test -n "$(PYTHON_BOOT)" || { echo "error: no python3.11 or python3 on PATH" >&2; exit 1; }
	$(PYTHON_BOOT) -m venv $(VENV)

# torch first, from the CPU index when it answers (the CUDA build from PyPI is
# gigabytes). --no-deps: its dependencies then come, pinned, with the next step.
$(STAMP): $(REQ_FILES) | $(PY)
	@if $(PY) tools/url_reachable.py $(TORCH_INDEX)/ --timeout 5; then \
		echo "==> PyTorch CPU index reachable: installing torch==$(TORCH_VERSION) from it"; \
		$(PY) -m pip install --no-deps "torch==$(TORCH_VERSION)" --index-url $(TORCH_INDEX); \
	else \
		echo "==> PyTorch CPU index not reachable: torch comes from the default index"; \
	fi
	$(PY) -m pip install -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --no-deps -e .
	@touch $@

venv install: $(STAMP)

assets:
	@$(PYTHON_BOOT) book/vendor_assets.py

book: $(STAMP) assets
	rm -rf _build
	$(VENV)/bin/jupyter-book build . --path-output . $(JB_FLAGS)
	@echo
	@echo "The book is at $(abspath $(HTML_DIR))/index.html"
	@echo "Open that file in a browser, or serve it and visit http://127.0.0.1:8000/:"
	@echo "    $(PY) -m http.server -d $(HTML_DIR) --bind 127.0.0.1 8000"

# Offline from here on: tools/offline runs pytest (and so every chapter's kernel and
# the browser) in a network namespace with only loopback, where the machine allows it.
test: $(STAMP) assets
	@mkdir -p .artifacts
	tools/offline $(PY) -m pytest $(PYTEST_FLAGS) $(PYTEST_ARGS) tests chapters

# The execution report page, from the records the last `make test` left in .artifacts/.
report: $(STAMP)
	$(PY) tools/execution_report.py

# Jupyter refuses to run as root unless told; containers often run as root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=chapters $(LAB_ARGS)

execute: $(STAMP)
	$(PY) tools/execute_chapters.py $(CHAPTERS)

bench: $(STAMP)
	$(PY) bench/all.py

clean:
	rm -rf _build .artifacts book/_static/vendor .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
