"""Synthesize Parry's CDK app once per test session; every infra test reads that one synth.

Synthesis costs ~6-10 s (jsii starts Node, cdk-nag checks every resource), so the app is built
with a test context that switches every optional feature on (e-mails, protected patterns,
cross-account roles), synthesized once, and its templates loaded from the cloud assembly.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.support.paths import ROOT
from tests.support.synth import TEST_CONTEXT, Synth

if str(ROOT) not in sys.path:  # app.py and stacks/ sit at the repo root, beside the installed package
    sys.path.insert(0, str(ROOT))
STACKS = ("Parry", "ParryMember", "ParryRegionalForwarder")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    from stacks.build import build

    outdir = tmp_path_factory.mktemp("cdk.out")
    built = build(context=TEST_CONTEXT, outdir=str(outdir))
    error: BaseException | None = None
    try:
        built.app.synth()
    except Exception as exc:  # reported by test_cdk_nag_passes; templates are still written
        error = exc
    templates = {}
    for name in STACKS:
        path = outdir / f"{name}.template.json"
        if path.is_file():
            templates[name] = json.loads(path.read_text())
    if set(templates) != set(STACKS):
        raise RuntimeError(f"synthesis wrote no templates: {error}")
    return Synth(built=built, outdir=outdir, error=error, templates=templates)


@pytest.fixture(scope="session")
def responder(synth: Synth):
    from aws_cdk.assertions import Template

    return Template.from_json(synth.responder)


@pytest.fixture(scope="session")
def member(synth: Synth):
    from aws_cdk.assertions import Template

    return Template.from_json(synth.member)
