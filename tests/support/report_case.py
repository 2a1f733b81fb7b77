"""A case as an auditor meets it, for the report's browser test and docs/case-report.png: the shipped
iam-credential-compromise playbook, its quarantine step made to wait for approval, run by the engine
on a real GuardDuty finding moved into the local account (so mark-finding's before/after holds the
finding's full ARN), approved by one person and undone by another who gave no reason."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from unittest import mock

from parry.local.sandbox import guardduty_finding_in_security_hub
from parry.playbooks.validate import load_yaml, validate_document
from parry.routing.events import wrap
from tests.support.events import IAM_FINDING, in_account
from tests.support.findings import registered
from tests.support.paths import EVENTS, ROOT

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory
    from parry.engine.run import Engine
    from parry.playbooks.model import Playbook

ACCOUNT = "123456789012"
APPROVER = f"arn:aws:sts::{ACCOUNT}:assumed-role/parry-approver/alice@example.com"
ONCALL = f"arn:aws:sts::{ACCOUNT}:assumed-role/parry-oncall/bob@example.com"


def compromised_user_event(aws: ClientFactory) -> dict[str, Any]:
    """The real finding, moved into the local account and pointed at a user with an active key, as
    GuardDuty and Security Hub hold it."""
    iam = aws.client("iam")
    iam.create_user(UserName="ci-deployer")
    key = iam.create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    event, _ = wrap(json.loads((EVENTS / IAM_FINDING).read_text()))
    event["account"] = event["detail"]["accountId"] = ACCOUNT
    event["region"] = event["detail"]["region"] = "us-east-1"
    event["detail"]["arn"] = in_account(event["detail"]["arn"], ACCOUNT, "us-east-1")
    event["detail"]["resource"]["accessKeyDetails"].update(userName="ci-deployer", accessKeyId=key)
    guardduty_finding_in_security_hub(aws, event)
    return registered(aws, event)


def playbook_with_approval() -> Playbook:
    """iam-credential-compromise as shipped, but quarantine-user waits for a person's approval."""
    path = ROOT / "playbooks" / "iam-credential-compromise.yaml"
    located = load_yaml(path.read_text(), path.name)
    doc = located.doc
    for step in doc["steps"]:
        if step["id"] == "quarantine-user":
            step["approval"] = "required"
    return validate_document(doc, path.name, located)


def run_case(engine: Engine, aws: ClientFactory) -> str:
    """Run, approve, resume and undo the case; its evidence prefix."""
    from parry.engine.undo import undo
    from tests.support.decisions import approve

    book = playbook_with_approval()
    paused = engine.run(book, compromised_user_event(aws))
    approve(engine, paused.case_id, who=APPROVER, reason="confirmed with the key's owner: not them")
    done = engine.resume(paused.case_id, book)
    undo(engine, done.case_id, step_id="mark-finding", who=ONCALL, reason="")
    return engine.store.get(done.case_id).evidence_prefix


@dataclass(frozen=True)
class Reports:
    pinned: str  # the page as `parry evidence report` writes it with the signing key pinned
    unpinned: str  # and without a pinned key
    finding_arn: str  # what mark-finding changed, which the page must show whole


def render_reports() -> Reports:
    """The case run on a fresh in-process moto (dummy credentials, Parry's resources provisioned as
    `parry local` does), and its report; the environment is as it was afterwards."""
    from moto import mock_aws

    from parry.aws.clients import ClientFactory
    from parry.config import Settings
    from parry.engine.run import Engine
    from parry.evidence.report import load_case, render_html
    from parry.evidence.sources import S3Source
    from parry.evidence.verify import verify_case
    from parry.evidence.writer import sha256_hex
    from parry.local import corrections
    from parry.local.bootstrap import provision
    from tests.support.kms import kms_digest_signing

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PARRY_", "AWS_"))}
    dummy = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    corrections.security_hub_findings_like_aws()  # as tests/conftest.py's moto fixture
    corrections.guardduty_findings_like_aws()
    with mock.patch.dict(os.environ, clean | dummy, clear=True), mock_aws(), kms_digest_signing():
        aws = ClientFactory(region="us-east-1")
        os.environ.update(provision(aws))
        prefix = run_case(Engine(aws, Settings.from_env()), aws)
        source = S3Source(aws.client("s3"), os.environ["PARRY_EVIDENCE_BUCKET"], prefix)
        key = aws.client("kms").get_public_key(KeyId=os.environ["PARRY_SIGNING_KEY_ID"])["PublicKey"]
        view = load_case(source)
        started = next(r for r in view.audit if r.get("kind") == "step_started" and r["step"] == "mark-finding")
        return Reports(
            pinned=render_html(view, verify_case(source, trusted_keys={sha256_hex(key)})),
            unpinned=render_html(view, verify_case(source)),
            finding_arn=started["params"]["finding_id"],
        )
