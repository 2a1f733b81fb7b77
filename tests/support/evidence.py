"""The evidence tests' world: the test bucket and account, and a sealed case as the engine leaves it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from parry.evidence.writer import CaseEvidence, EvidenceStore

BUCKET = "parry-evidence-test"
ACCOUNT = "111122223333"
OPENED = datetime(2026, 11, 3, 14, 5, 9, tzinfo=UTC)


def create_bucket(s3: Any, *, mode: str = "GOVERNANCE", days: int = 30) -> None:
    """The evidence bucket as the stack deploys it: Object Lock with a default retention (the
    retention the verifier expects when the auditor gives none)."""
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=BUCKET,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}},
        },
    )


@dataclass
class Env:
    s3: Any
    kms: Any
    key_id: str
    store: EvidenceStore

    def new_key(self) -> str:
        return self.kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]

    def public_key_der(self, key_id: str | None = None) -> bytes:
        return self.kms.get_public_key(KeyId=key_id or self.key_id)["PublicKey"]


def build_case(
    env: Env,
    case_id: str = "case-0001",
    *,
    account: str = ACCOUNT,
    opened_at: datetime = OPENED,
    playbook: str = "iam-credential-exfiltration",
    sign: bool = True,
    approval: bool = False,
) -> CaseEvidence:
    """A closed case as the engine leaves it: event, playbook, two steps with before/after, audit log, seal."""
    case = env.store.case(case_id=case_id, account=account, opened_at=opened_at)
    event = {
        "id": f"evt-{case_id}",
        "source": "aws.guardduty",
        "detail-type": "GuardDuty Finding",
        "account": account,
        "detail": {"type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "severity": 8},
    }
    case.put("event.json", event)
    case.put(
        "playbook.json", {"sha256": "ab" * 32, "playbook": {"name": playbook, "steps": [{"id": "deactivate-key"}]}}
    )
    case.audit(
        "case_opened", {"case_id": case_id, "playbook": playbook, "playbook_sha256": "ab" * 32, "event_id": event["id"]}
    )
    case.audit(
        "step_started",
        {"step": "capture-user", "action": "evidence.capture_iam_user", "params": {"user_name": "mallory"}},
    )
    case.artifact(
        "capture-user",
        "user.json",
        {
            "arn": "arn:aws:iam::111122223333:user/mallory",
            "access_keys": [{"AccessKeyId": "AKIAEXAMPLE", "Status": "Active"}],
        },
    )
    case.audit("step_finished", {"step": "capture-user", "result": {"status": "succeeded", "summary": "captured"}})
    case.audit(
        "step_started",
        {
            "step": "deactivate-key",
            "action": "iam.deactivate_access_key",
            "params": {"user_name": "mallory", "access_key_id": "AKIAEXAMPLE"},
        },
    )
    case.artifact(
        "deactivate-key",
        "state.json",
        {
            "before": {"AccessKeyId": "AKIAEXAMPLE", "Status": "Active"},
            "after": {"AccessKeyId": "AKIAEXAMPLE", "Status": "Inactive"},
        },
    )
    case.audit(
        "step_finished",
        {"step": "deactivate-key", "result": {"status": "succeeded", "summary": "deactivated AKIAEXAMPLE"}},
    )
    if approval:
        case.audit(
            "approval_requested", {"step": "revoke-sessions", "reason": "step revoke-sessions requires approval"}
        )
        case.seal(kms=env.kms if sign else None, key_id=env.key_id if sign else None)
        case.audit(
            "approved",
            {"step": "revoke-sessions", "by": "alice@example.com", "reason": "confirmed with the user's manager"},
        )
    case.audit("case_closed", {"status": "succeeded"})
    case.seal(kms=env.kms if sign else None, key_id=env.key_id if sign else None)
    return case
