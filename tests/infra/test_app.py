"""The app as a whole: cdk-nag, cfn-lint, the shared Lambda asset, and failing on bad playbooks."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.synth import Synth, load_playbooks

pytestmark = pytest.mark.xdist_group("synth")


def test_cdk_nag_aws_solutions_passes(synth: Synth):
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    failing = [
        f"{v['ruleName']} at {c['constructPath']}"
        for plugin in report["pluginReports"]
        if plugin["conclusion"] != "success"
        for v in plugin["violations"]
        for c in v["violatingConstructs"]
    ]
    assert synth.error is None and not failing, "\n".join(failing) or str(synth.error)
    nag = next(p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions")
    # every acknowledgement carries its reason
    assert all(s.get("reason", "").strip() for s in nag.get("suppressedViolations", []))


@pytest.mark.parametrize("stack", ["Parry", "ParryMember"])
def test_cfn_lint_passes(synth: Synth, stack: str):
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(
        synth.outdir / f"{stack}.template.json",
        ManualArgs(regions=["eu-west-1", "us-east-1"], ignore_checks=["W3005"]),
    )
    assert not matches, "\n".join(str(m) for m in matches)


def _asset_dir(synth: Synth) -> Path:
    functions = synth.resources("Parry", "AWS::Lambda::Function")
    keys = {
        f["Properties"]["Code"]["S3Key"] for f in functions.values() if f["Properties"]["Handler"] == "handler.handler"
    }
    assert len(keys) == 1, "every runner shares one asset"
    return synth.outdir / f"asset.{keys.pop().removesuffix('.zip')}"


def test_one_asset_holds_handler_engine_and_compiled_playbooks(synth: Synth):
    from stacks.asset import StagedAsset

    asset = _asset_dir(synth)
    # the S3 key the functions name is the hash of exactly what is in the assembly's folder
    assert StagedAsset(path=asset, has_handler=True).content_hash == asset.name.removeprefix("asset.")
    assert (asset / "parry" / "playbooks" / "model.py").is_file() and (
        asset / "parry" / "runtime" / "runner.py"
    ).is_file()
    for module in ("handler.py", "maintenance.py"):
        assert (asset / module).read_text() == (ROOT / "functions" / "runner" / module).read_text()
    books = load_playbooks()
    assert sorted(p.stem for p in (asset / "playbooks").glob("*.json")) == sorted(b.name for b in books)
    for book in books:
        compiled = json.loads((asset / "playbooks" / f"{book.name}.json").read_text())
        assert compiled == json.loads(json.dumps(book.compiled()))
    assert not list(asset.rglob("*.yaml")) and not list(asset.rglob("*.yml")), "compiled JSON only, no YAML"
    assert not (asset / "parry" / "cli").exists() and not (asset / "parry" / "__main__.py").exists()
    assert not (asset / "parry" / "playbooks" / "validate.py").exists(), "validation needs PyYAML and jsonschema"
    assert not (asset / "parry" / "local").exists(), "local mode needs moto"
    assert synth.built.asset.has_handler
    # the front door's entry point, under control/ (its handler.py is not the runners')
    control = ROOT / "functions" / "control" / "handler.py"
    assert synth.built.asset.has_control_handler == control.is_file() == (asset / "control" / "handler.py").is_file()
    if control.is_file():
        assert (asset / "control" / "handler.py").read_text() == control.read_text()


BLOCK_CLI_PACKAGES = 'import sys\nfor name in ("yaml", "jsonschema", "typer", "rich", "moto", "aws_cdk"):\n    sys.modules[name] = None\n'


def test_the_assets_handler_loads_its_compiled_playbook_and_rejects_a_bad_event_without_cli_packages(synth: Synth):
    """The runner as Lambda starts it (`handler.handler` from the asset's root): it finds its
    playbook in the asset's playbooks/ and refuses a malformed event by name, with none of the
    packages the asset leaves out importable."""
    asset = _asset_dir(synth)
    book = load_playbooks()[0].name
    script = BLOCK_CLI_PACKAGES + textwrap.dedent(
        f"""
        sys.path[:0] = [{str(asset)!r}]
        import handler
        from parry.errors import EventError
        try:
            handler.handler({{"source": "aws.guardduty", "detail-type": "GuardDuty Finding"}}, None)
        except EventError as exc:
            print("refused:", exc)
        """
    )
    env = {"PARRY_PLAYBOOK": book, "POWERTOOLS_METRICS_DISABLED": "true", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, cwd=asset, env=env)
    assert result.returncode == 0, result.stderr
    assert "refused: not an EventBridge event: missing detail" in result.stdout, result.stdout


def test_asset_imports_without_yaml_jsonschema_typer_rich(synth: Synth):
    """Import every module of the asset with the CLI-only packages made unimportable."""
    asset = _asset_dir(synth)
    modules = sorted(
        ".".join(p.relative_to(asset).with_suffix("").parts).removesuffix(".__init__") for p in asset.rglob("*.py")
    )
    script = BLOCK_CLI_PACKAGES + textwrap.dedent(
        f"""
        sys.path[:0] = [{str(asset)!r}]
        import importlib
        for module in {modules!r}:
            importlib.import_module(module)
        from parry.playbooks.model import load_compiled
        import pathlib
        for f in sorted(pathlib.Path({str(asset)!r}, "playbooks").glob("*.json")):
            load_compiled(f).permissions()
        """
    )
    result = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, cwd=asset)
    assert result.returncode == 0, result.stderr


def test_invalid_playbook_fails_synth_naming_file_and_line(tmp_path: Path, monkeypatch, capsys):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: broken\ntrigger: {source: [aws.guardduty]}\nsteps:\n  - id: x\n    action: no.such_action\n")
    monkeypatch.setenv("PARRY_PLAYBOOKS_DIR", str(tmp_path))
    sys.path.insert(0, str(ROOT))
    import app

    assert app.main() == 1
    err = capsys.readouterr().err
    assert f"{bad}:5:" in err or f"{bad}:4:" in err, err
