# needleplan: the two commands of the README, and the steps behind them.
PYTHON ?= python3
STAMP := .setup-done

.PHONY: demo test test-core test-gui lint lint-imports setup samples bench clean

# Installs what is missing (system packages, Python packages) once; re-run with `make setup`.
$(STAMP): pyproject.toml plugins/needleplan-napari/pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

setup:
	bash scripts/setup.sh
	touch $(STAMP)

# The main job on the bundled sample: what the image says, then the safety check of its plan.
demo: $(STAMP)
	bash scripts/demo.sh

# Every test: the checkers (import layers, ruff lint and format, mypy), the headless core, then the napari plugin
# under a virtual display.
test: $(STAMP)
	lint-imports
	ruff check .
	ruff format --check .
	mypy
	$(PYTHON) -m pytest -q -m "not gui" tests src
	xvfb-run -a -s "-screen 0 1600x1000x24" $(PYTHON) -m pytest -q plugins/needleplan-napari/tests plugins/needleplan-napari/src

test-core: $(STAMP)
	$(PYTHON) -m pytest -q -m "not gui" tests src

# The import-linter contracts of pyproject.toml (core layers, no GUI toolkit in the core).
lint-imports: $(STAMP)
	lint-imports

# The static checkers alone, as `make test` runs them first (configured in pyproject.toml).
lint: $(STAMP)
	lint-imports
	ruff check .
	ruff format --check .
	mypy

samples: $(STAMP)
	$(PYTHON) scripts/make_samples.py

bench: $(STAMP)
	$(PYTHON) benchmarks/run_all.py

clean:
	rm -f $(STAMP)
