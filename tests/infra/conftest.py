"""Synthesize Parry's CDK app once per test session; every infra test reads that one synth.

Synthesis costs ~6-10 s (jsii starts Node, cdk-nag checks every resource), so the app is built
with a test context that switches every optional feature on (e-mails, protected patterns,
cross-account roles), synthesized once, and its templates loaded from the cloud assembly.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # app.py and stacks/ sit at the repo root, beside the installed package
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

SECURITY_ACCOUNT = "111111111111"
MEMBER_ACCOUNTS = ["222222222222", "333333333333"]
ORGANIZATION_ID = "o-abcdefghij"
EXTERNAL_ID = "parry-test-external-id"
EMAILS = ["soc@example.com", "oncall@example.com"]
PROTECTED = ["arn:aws:iam::*:role/BreakGlass*", "arn:aws:s3:::audit-*"]



def _stage_playbooks() -> Path:
    """The repository's playbooks plus one derived from them that sets what none of them does
    (reserved concurrency, not manual, GuardDuty archiving), so one synth covers every branch."""
    import yaml

    folder = Path(tempfile.mkdtemp(prefix="parry-infra-playbooks-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    sources = sorted((ROOT / "playbooks").glob("*.y*ml"))
    for src in sources:
        shutil.copyfile(src, folder / src.name)
    if sources:
        doc = yaml.safe_load(sources[0].read_text())
        doc.update(name=DERIVED_PLAYBOOK, manual=False, runner={"reserved_concurrency": 3})
        doc["steps"] = [
            *doc["steps"],
            {"id": "infra-archive-finding", "action": "guardduty.archive_finding", "on_error": "continue",
             "with": {"detector_id": "${event.detail.service.detectorId}", "finding_id": "${event.detail.id}"}},
        ]
        (folder / f"{DERIVED_PLAYBOOK}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return folder


DERIVED_PLAYBOOK = "infra-test-reserved"
PLAYBOOKS_DIR = _stage_playbooks()

TEST_CONTEXT = {
    "parry:playbooksDir": str(PLAYBOOKS_DIR),
    "parry:homeRegion": "eu-west-1",
    "parry:retentionDays": 400,
    "parry:lockMode": "COMPLIANCE",
    "parry:notificationEmails": EMAILS,
    "parry:protectedArnPatterns": PROTECTED,
    "parry:securityAccount": SECURITY_ACCOUNT,
    "parry:organizationId": ORGANIZATION_ID,
    "parry:externalId": EXTERNAL_ID,
    "parry:memberAccounts": MEMBER_ACCOUNTS,
}


@dataclass
class Synth:
    built: Any  # stacks.build.Built
    outdir: Path
    error: BaseException | None
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def responder(self) -> dict[str, Any]:
        return self.templates["Parry"]

    @property
    def member(self) -> dict[str, Any]:
        return self.templates["ParryMember"]

    def resources(self, stack: str, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.templates[stack]["Resources"].items() if v["Type"] == type_}


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
    for name in ("Parry", "ParryMember"):
        path = outdir / f"{name}.template.json"
        if path.is_file():
            templates[name] = json.loads(path.read_text())
    if set(templates) != {"Parry", "ParryMember"}:
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


def load_playbooks() -> list[Any]:
    """The playbooks the session synthesizes, for parametrizing (validation has its own tests)."""
    from parry.errors import ValidationError
    from parry.playbooks.validate import load_all

    try:
        return load_all([PLAYBOOKS_DIR])
    except ValidationError:
        return []


def statements_of_role(template: dict[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of every policy attached to a role (inline, separate or managed is refused)."""
    role = template["Resources"][role_logical_id]["Properties"]
    assert not role.get("ManagedPolicyArns"), "runner roles carry no managed policies"
    out = [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for res in template["Resources"].values():
        if res["Type"] == "AWS::IAM::Policy" and {"Ref": role_logical_id} in res["Properties"].get("Roles", []):
            out.extend(res["Properties"]["PolicyDocument"]["Statement"])
    return out


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def logical_id(template: dict[str, Any], type_: str, **props: Any) -> str:
    """The one resource of `type_` whose properties include `props` (never a hashed id in a test)."""
    hits = [
        k
        for k, v in template["Resources"].items()
        if v["Type"] == type_ and all(v.get("Properties", {}).get(p) == want for p, want in props.items())
    ]
    assert len(hits) == 1, f"expected one {type_} with {props}, found {hits}"
    return hits[0]
