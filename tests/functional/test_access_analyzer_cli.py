"""access-analyzer-external-access through the `parry` command on a local endpoint (moto server on 127.0.0.1).

The published "Access Analyzer Finding" event, moved into the local account, on an SQS queue and a
KMS key whose policies grant account 999988887777: `parry run` captures and waits for approval,
`parry approve` removes only that statement, and `parry undo` (approved by a second person, as
giving access back needs) puts the exact policy text back, each read back from the service.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.local_endpoint import bootstrapped, endpoint_client, run_parry

ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "tests/events/access-analyzer/access-analyzer-finding-s3-cross-account.eventbridge.json"
ACCOUNT, REGION = "123456789012", "us-east-1"
OUTSIDER = "arn:aws:iam::999988887777:root"

pytestmark = pytest.mark.xdist_group("access-analyzer-cli")  # one local endpoint for the module


@pytest.fixture(scope="module")
def local():
    with bootstrapped(REGION) as endpoint:
        yield endpoint


def parry(local, *args: str) -> tuple[int, str, str]:
    out = run_parry(local, *args)
    return out.returncode, out.stdout, out.stderr


client = endpoint_client


def event_file(tmp_path, finding_id: str, resource: str, resource_type: str, actions: list[str]) -> str:
    event = json.loads(EVENT.read_text())
    event["account"], event["region"] = ACCOUNT, REGION
    event["resources"] = [f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/MyAnalyzer"]
    event["detail"].update(
        id=finding_id, accountId=ACCOUNT, region=REGION, resource=resource, resourceType=resource_type, action=actions
    )
    path = tmp_path / f"{finding_id}.json"
    path.write_text(json.dumps(event))
    return str(path)


def statement(sid: str, who: str, action: str, resource: str) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": who}, "Action": action, "Resource": resource}


def contain_then_undo(local, path: str, read_policy) -> None:
    before = read_policy()
    code, out, err = parry(local, "run", "access-analyzer-external-access", "--event", path, "--json")
    assert code == 0, err
    case = json.loads(out)
    assert case["status"] == "AWAITING_APPROVAL", case
    assert read_policy() == before  # nothing changed before approval

    code, out, err = parry(
        local, "approve", case["case_id"], "--as", "parry-approver", "--reason", "unknown account", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["status"] == "SUCCEEDED"
    assert [s["Sid"] for s in json.loads(read_policy())["Statement"]] == ["Own"]

    code, out, err = parry(local, "undo", case["case_id"], "--reason", "a partner we forgot", "--json")
    assert code == 0, err
    assert json.loads(out)["undo_request"]["state"] == "awaiting approval"  # the grant comes back on approval
    code, out, err = parry(local, "approve", case["case_id"], "--as", "parry-approver", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "UNDONE"
    assert read_policy() == before


def test_an_sqs_queue_grant_is_removed_on_approval_and_undone(local, tmp_path):
    sqs = client(local, "sqs")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            statement("Own", f"arn:aws:iam::{ACCOUNT}:root", "sqs:*", arn),
            statement("Outsider", OUTSIDER, "sqs:SendMessage", arn),
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    path = event_file(tmp_path, "11111111-0000-4444-aaaa-000000000001", arn, "AWS::SQS::Queue", ["sqs:SendMessage"])

    contain_then_undo(
        local, path, lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )


def test_a_kms_key_grant_is_removed_on_approval_and_undone(local, tmp_path):
    kms = client(local, "kms")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            statement("Own", f"arn:aws:iam::{ACCOUNT}:root", "kms:*", "*"),
            statement("Outsider", OUTSIDER, "kms:Decrypt", "*"),
        ],
    }
    arn = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
    path = event_file(tmp_path, "11111111-0000-4444-aaaa-000000000002", arn, "AWS::KMS::Key", ["kms:Decrypt"])

    contain_then_undo(local, path, lambda: kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])
