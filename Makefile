# Parry: `make run` shows the local demo, `make test` runs the whole suite. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# The CDK CLI, pinned like every other dependency; docs/deploy.md's commands name the same version.
CDK_VERSION := 2.1148.1
CDK := npx --yes aws-cdk@$(CDK_VERSION)

.PHONY: install run test lint format lock synth bootstrap diff deploy bench clean

# Exact versions with hashes from requirements.lock; the project itself is installed editable, without deps.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/parry demo

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=15

# Lint, format check, types (3.11 here, 3.13 as in the Lambda; the two mypy runs side by side, one a core)
# and the import contracts.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --python-version 3.13 & types313=$$!; $(BIN)/mypy && wait $$types313
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the lockfile: newest versions the ranges in pyproject.toml and requirements-dev.in allow.
# Run `make test` after it, and commit the lockfile only if the suite passes.
lock: $(STAMP)
	$(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 --extra local \
		pyproject.toml requirements-dev.in -o requirements.lock

synth: $(STAMP)
	CDK_OUTDIR=cdk.out $(BIN)/python app.py
	@echo "wrote the CloudFormation templates to cdk.out/: $$(cd cdk.out && ls *.template.json | tr '\n' ' ')"

# The CDK CLI on cdk.json's app (.venv/bin/python app.py), with what follows in ARGS, e.g.
# make deploy ARGS="Parry -c parry:homeRegion=eu-west-1" (docs/deploy.md).
bootstrap diff deploy: $(STAMP)
	$(CDK) $@ $(ARGS)

# Every bench script; bench/peers_*.py are the parts bench/peers.py runs (its contenders and their world).
bench: $(STAMP)
	for b in $(filter-out bench/peers_%.py,$(wildcard bench/*.py)); do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .hypothesis .mypy_cache .ruff_cache
