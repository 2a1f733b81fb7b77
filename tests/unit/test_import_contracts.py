"""The import contracts of pyproject.toml ([tool.importlinter]) hold on this tree, and break, by
name, on a copy of it that makes one forbidden import: the Lambda asset leaves the CLI, playbook
validation and local mode out, and the layers keep the engine free of its front ends."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
LAMBDA = "What the Lambda runs never needs the command line, playbook validation, local mode or their packages"
LAYERS = "Imports go down: front ends, the engine, its parts, then AWS, config and errors"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the `parry` package and pyproject.toml found in `root`."""
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "400"}  # one contract per line of the summary
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{LAMBDA} KEPT" in result.stdout and f"{LAYERS} KEPT" in result.stdout


@pytest.mark.parametrize(
    "module, addition, broken, kept",
    [
        # an import inside a function counts: the Lambda would fail the first time it ran that function
        ("runtime/runner.py", "def _report():\n    import rich\n", LAMBDA, LAYERS),
        ("evidence/writer.py", "def _load():\n    import yaml\n", LAMBDA, LAYERS),
        ("aws/clients.py", "def _engine():\n    from parry.engine import run\n", LAYERS, LAMBDA),
    ],
)
def test_one_forbidden_import_breaks_its_contract(tmp_path: Path, module: str, addition: str, broken: str, kept: str):
    shutil.copytree(ROOT / "parry", tmp_path / "parry", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    source = tmp_path / "parry" / module
    source.write_text(source.read_text() + "\n\n" + addition)

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{broken} BROKEN" in result.stdout and f"{kept} KEPT" in result.stdout, result.stdout
    assert "Contracts: 1 kept, 1 broken." in result.stdout
