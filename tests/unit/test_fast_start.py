"""What a run imports: the runner never needs the CLI's or authoring's packages, and `parry run` on a
playbook it has validated before imports neither PyYAML, jsonschema, rich nor the actions it does not use."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("typer", "pydantic", "rich", "jsonschema", "yaml")
REPORT = (
    "import sys; print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in " + repr(HEAVY) + "}"
    " | {m for m in sys.modules if m.startswith('parry.actions.')}))"
)


def loaded(code: str, **env: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{REPORT}"],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return ast.literal_eval(done.stdout.splitlines()[-1])


def test_the_runner_path_imports_no_cli_or_authoring_package():
    code = (
        "import parry.runtime.runner, parry.runtime.in_process, parry.engine.run\n"
        "from parry.actions import registry\n"
        "registry.get('iam.deactivate_access_key')"
    )

    expected = ["parry.actions._common", "parry.actions.base", "parry.actions.iam", "parry.actions.notify"]
    assert loaded(code) == [*expected, "parry.actions.registry"]  # notify: the engine quotes what it tells people


def test_parry_run_on_a_playbook_validated_before_loads_it_compiled(tmp_path: Path):
    book = ROOT / "playbooks" / "iam-credential-compromise.yaml"
    load = f"from parry.cli.common import load_playbook; import parry.runtime.in_process; load_playbook({str(book)!r})"
    first = loaded(load, PARRY_CACHE_DIR=str(tmp_path))
    again = loaded(load, PARRY_CACHE_DIR=str(tmp_path))

    assert {"yaml", "jsonschema"} <= set(first)  # validated the first time
    assert [m for m in again if "." not in m] == []
    assert "parry.actions.ec2" not in again


def test_an_edited_playbook_is_validated_again(tmp_path: Path, monkeypatch):
    from parry.cli import validated
    from parry.errors import ValidationError

    monkeypatch.setenv("PARRY_CACHE_DIR", str(tmp_path / "cache"))
    book = tmp_path / "book.yaml"
    text = (ROOT / "playbooks" / "iam-credential-compromise.yaml").read_text()
    book.write_text(text)
    assert validated.load(book).name == "iam-credential-compromise"
    book.write_text(text.replace("action: iam.deactivate_access_key", "action: iam.deactivate_access_keys"))

    try:
        validated.load(book)
    except ValidationError as exc:
        assert any("unknown action 'iam.deactivate_access_keys'" in p for p in exc.problems)
    else:
        raise AssertionError("an edited playbook was loaded from the cache")
