# Parry: `make run` shows the local demo, `make test` runs the whole suite. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: install run test synth bench clean

$(STAMP): pyproject.toml requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet -e '.[local]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/parry demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

synth: $(STAMP)
	CDK_OUTDIR=cdk.out $(BIN)/python app.py

bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .hypothesis
