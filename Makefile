# The two set-up commands: `make demo` and `make test`. Both create .venv if absent and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg setup.py | cksum | cut -d' ' -f1)
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test lint format bench install browser datasets clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.cfg setup.py | $(BIN)/python
	$(BIN)/python -m pip install --upgrade --quiet pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the web demo's browser test (installed when missing).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "Could not install chromium: the browser test will report it"; }

# Debian's Fashion-MNIST (the main benchmark data; read offline from /usr/share/datasets/fashion-mnist).
# `make demo` stops when it cannot be installed; `make test` says so and runs the suite, where the
# tests that need the data fail with the loader's message (they are never skipped).
FASHION_MNIST_DIR ?= $(or $(KERASCONV_FASHION_MNIST_DIR),/usr/share/datasets/fashion-mnist)
FASHION_MNIST_HELP := Could not install Debian's dataset-fashion-mnist. Run 'sudo apt-get install dataset-fashion-mnist', or put the four Fashion-MNIST IDX .gz files (https://github.com/zalandoresearch/fashion-mnist) in a folder and set KERASCONV_FASHION_MNIST_DIR to it; see docs/data.md.
datasets:
	@test -f $(FASHION_MNIST_DIR)/t10k-labels-idx1-ubyte.gz || { \
		echo "Installing Debian's dataset-fashion-mnist (Fashion-MNIST, offline)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null && test -f $(FASHION_MNIST_DIR)/t10k-labels-idx1-ubyte.gz) \
		|| (sudo -n apt-get update -qq && sudo -n DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null && test -f $(FASHION_MNIST_DIR)/t10k-labels-idx1-ubyte.gz) \
		|| { echo "$(FASHION_MNIST_HELP)$(if $(DATASETS_OPTIONAL), The tests that need it will fail with this message.)"; exit $(if $(DATASETS_OPTIONAL),0,1); }; }

demo: install datasets
	$(BIN)/kerasconv demo

lint: install
	$(BIN)/ruff check kerasconv apps tests benchmarks
	$(BIN)/ruff format --check kerasconv apps tests benchmarks

format: install
	$(BIN)/ruff format kerasconv apps tests benchmarks
	$(BIN)/ruff check --fix kerasconv apps tests benchmarks

test: install browser lint
	@$(MAKE) --no-print-directory datasets DATASETS_OPTIONAL=1
	$(BIN)/python -m pytest -q --durations=15

# The benchmark's peers (CleverHans, ART) come from the `bench` extra.
bench: install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf out .pytest_cache .ruff_cache

# Every Python example of README.md, docs/*.md and apps/README.md, the slow ones included (the
# suite runs each page up to its first <!-- slow --> block); see docs/contributing.md.
.PHONY: docs-check
docs-check: install datasets
	KERASCONV_DOCS_SLOW=1 $(BIN)/python -m pytest -q -rfEs --durations=15 tests/docs
