"""The deploy commands the README and docs/deploy.md give work as written from a clone after `make install`:
the CDK CLI runs cdk.json's app without an activated venv, and every document names the CLI version the
Makefile pins."""

from __future__ import annotations

import json
import os
import re
import subprocess

from tests.support.paths import ROOT

CDK_PIN = re.compile(r"aws-cdk@(\S+?)[`\s]")


def _makefile_cdk_version() -> str:
    found = re.search(r"^CDK_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert found, "the Makefile pins no CDK_VERSION"
    return found.group(1)


def test_the_cdk_json_app_synthesizes_without_an_activated_venv(tmp_path):
    """As `npx aws-cdk deploy` runs it: the app string through a shell, from the repository root, with a
    PATH that holds no venv (a fresh shell after `make install`)."""
    app = json.loads((ROOT / "cdk.json").read_text())["app"]
    env = {
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "PATH": "/usr/bin:/bin",
        "CDK_OUTDIR": str(tmp_path),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    run = subprocess.run(app, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"cdk.json's app {app!r} failed (is there a `make install` venv?): {run.stderr}"
    artifacts = json.loads((tmp_path / "manifest.json").read_text())["artifacts"]
    assert {"Parry", "ParryMember"} <= set(artifacts)
    assert "Warning" not in run.stderr, run.stderr


def test_every_documented_cdk_cli_is_the_version_the_makefile_pins():
    pinned = _makefile_cdk_version()
    documents = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {(doc.name, version) for doc in documents for version in CDK_PIN.findall(doc.read_text())}
    assert named, "no document names the CDK CLI"
    assert {version for _, version in named} == {pinned}, sorted(named)


def test_make_deploy_runs_the_pinned_cli_with_its_arguments():
    dry = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "-o",
            ".venv/.installed",
            "deploy",
            "ARGS=Parry -c parry:homeRegion=eu-west-1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dry.returncode == 0, dry.stderr
    assert (
        dry.stdout.strip() == f"npx --yes aws-cdk@{_makefile_cdk_version()} deploy Parry -c parry:homeRegion=eu-west-1"
    )
