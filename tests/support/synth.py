"""The CDK app as the infra tests synthesize it: a context that switches every optional feature on,
the playbooks it deploys, and the templates it wrote."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT

SECURITY_ACCOUNT = "111111111111"
MEMBER_ACCOUNTS = ["222222222222", "333333333333"]
ORGANIZATION_ID = "o-abcdefghij"
EXTERNAL_ID = "parry-test-external-id"
EMAILS = ["soc@example.com", "oncall@example.com"]
PROTECTED = ["arn:aws:iam::*:role/BreakGlass*", "arn:aws:s3:::audit-*"]
ON_CALL_ROLES = ["arn:aws:iam::111111111111:role/SecurityOnCall", "arn:aws:iam::111111111111:role/soc/Responder"]
INSTANCE_ROLES = "instances/*"
APPROVER_ROLES = ["arn:aws:iam::111111111111:role/SecurityLead", "arn:aws:iam::111111111111:role/SecurityOnCall"]
BREAK_GLASS_ROLE = "arn:aws:iam::111111111111:role/ParryBreakGlass"
# as `-c` gives it; the home region (eu-west-1) is not listed and comes first all the same
REGIONS = "us-east-1, eu-central-1"


def _stage_playbooks() -> Path:
    """The repository's playbooks plus one derived from them that sets what none of them does
    (reserved concurrency, not manual, GuardDuty archiving), so one synth covers every branch."""
    import yaml

    from parry.playbooks.validate import load_yaml

    folder = Path(tempfile.mkdtemp(prefix="parry-infra-playbooks-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    sources = sorted((ROOT / "playbooks").glob("*.y*ml"))
    for src in sources:
        shutil.copyfile(src, folder / src.name)
    if sources:
        doc = load_yaml(sources[0].read_text(), sources[0].name).doc
        doc.update(name=DERIVED_PLAYBOOK, manual=False, runner={"reserved_concurrency": 3})
        doc["steps"] = [
            *doc["steps"],
            {
                "id": "infra-archive-finding",
                "action": "guardduty.archive_finding",
                "on_error": "continue",
                "with": {"detector_id": "${event.detail.service.detectorId}", "finding_id": "${event.detail.id}"},
            },
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
    "parry:instanceRoles": INSTANCE_ROLES,
    "parry:memberAccounts": MEMBER_ACCOUNTS,
    "parry:onCallRoles": ON_CALL_ROLES,
    "parry:approverRoles": APPROVER_ROLES,
    "parry:breakGlassRole": BREAK_GLASS_ROLE,
    "parry:regions": REGIONS,
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

    @property
    def forwarder(self) -> dict[str, Any]:
        return self.templates["ParryRegionalForwarder"]

    def warnings(self, stack: str) -> dict[str, list[str]]:
        """The synth's warning annotations on `stack`, by construct path."""
        metadata = json.loads((self.outdir / f"{stack}.metadata.json").read_text())
        found = {
            path: [e["data"] for e in entries if e["type"] == "aws:cdk:warning"] for path, entries in metadata.items()
        }
        return {path: texts for path, texts in found.items() if texts}

    def resources(self, stack: str, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.templates[stack]["Resources"].items() if v["Type"] == type_}


def load_playbooks() -> list[Any]:
    """The playbooks the session synthesizes, for parametrizing (validation has its own tests)."""
    from parry.errors import ValidationError
    from parry.playbooks.validate import load_all

    try:
        return load_all([PLAYBOOKS_DIR])
    except ValidationError:
        return []
