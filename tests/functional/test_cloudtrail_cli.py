"""A CloudTrail-triggered playbook through the `parry` command on a local endpoint (moto server on 127.0.0.1).

`parry run` on a local endpoint records the call in the endpoint's CloudTrail history first, as
CloudTrail would have, and the runner's re-read finds it there: the key is deactivated, read back
from IAM. A call recorded in one region is not confirmed in another.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from tests.support.local_endpoint import bootstrapped, run_parry

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(scope="module")
def local():
    with bootstrapped(REGION) as endpoint:
        yield endpoint


parry = run_parry


def test_a_key_made_for_another_user_is_deactivated_through_the_command(local, tmp_path):
    iam = boto3.client(
        "iam", endpoint_url=local["endpoint"], region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    iam.create_user(UserName="cli-user2")
    key = iam.create_access_key(UserName="cli-user2")["AccessKey"]["AccessKeyId"]
    record = json.loads((ROOT / "tests/events/cloudtrail/iam-createaccesskey.bare.json").read_text())
    record.update(recipientAccountId=ACCOUNT, eventID="cli-createaccesskey")
    record["requestParameters"]["userName"] = "cli-user2"
    record["responseElements"]["accessKey"].update(userName="cli-user2", accessKeyId=key)
    path = tmp_path / "call.json"
    path.write_text(json.dumps(record))

    out = parry(local, "run", "iam-access-key-for-another-user", "--event", str(path), "--json")

    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "SUCCEEDED"
    assert iam.list_access_keys(UserName="cli-user2")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    trail = boto3.client(
        "cloudtrail",
        endpoint_url=local["endpoint"],
        region_name=REGION,
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    lookup = [{"AttributeKey": "EventId", "AttributeValue": "cli-createaccesskey"}]
    (held,) = trail.lookup_events(LookupAttributes=lookup)["Events"]
    assert json.loads(held["CloudTrailEvent"])["responseElements"]["accessKey"]["accessKeyId"] == key
    elsewhere = boto3.client(
        "cloudtrail",
        endpoint_url=local["endpoint"],
        region_name="eu-west-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    assert elsewhere.lookup_events(LookupAttributes=lookup)["Events"] == []  # each region its own history
