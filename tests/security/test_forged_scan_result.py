"""Attack: invoke the s3-malware-object runner directly with a scan result GuardDuty never sent.

A scan result is no finding: there is nothing to GetFindings. The attacker names an object to deny
reading (a business file, another account's object, one GuardDuty found clean, one in a bucket
whose plan does not tag) hoping the runner quarantines it. The runner reads GuardDuty's
GuardDutyMalwareScanStatus tag from the object (parry.routing.scan_results): every forgery is
refused, nothing changes (no tag, no bucket policy, no case), and a security event is logged.
"""

from __future__ import annotations

import copy

import pytest

from parry.actions.s3_objects import QUARANTINE_TAG
from tests.support.control import Context, emf, fresh_runner, lines
from tests.support.scan_results import scanned_object

BOOK = "s3-malware-object"


@pytest.fixture
def runner(monkeypatch, tmp_path, parry_env):
    return fresh_runner(monkeypatch, tmp_path, BOOK)


@pytest.fixture
def scanned(aws):
    found = scanned_object(aws)
    found["s3"].put_object(Bucket="uploads", Key="board/minutes.pdf", Body=b"%PDF-1.7 minutes")  # never scanned
    clean = found["s3"].put_object(Bucket="uploads", Key="in/clean.txt", Body=b"hello")
    found["s3"].put_object_tagging(
        Bucket="uploads",
        Key="in/clean.txt",
        VersionId=clean["VersionId"],
        Tagging={"TagSet": [{"Key": "GuardDutyMalwareScanStatus", "Value": "NO_THREATS_FOUND"}]},
    )
    found["clean_version"] = clean["VersionId"]
    return found


def untagged_business_file(event: dict, scanned: dict) -> dict:
    event["detail"]["s3ObjectDetails"].update(objectKey="board/minutes.pdf", versionId=None)
    return event


def object_guardduty_found_clean(event: dict, scanned: dict) -> dict:
    event["detail"]["s3ObjectDetails"].update(objectKey="in/clean.txt", versionId=scanned["clean_version"])
    return event


def invented_version(event: dict, scanned: dict) -> dict:
    event["detail"]["s3ObjectDetails"]["versionId"] = "invented-version"
    return event


def another_accounts_bucket(event: dict, scanned: dict) -> dict:
    event["account"] = "210987654321"  # the bucket is not that account's: ExpectedBucketOwner refuses
    return event


@pytest.mark.parametrize(
    "forge, named",
    [
        (untagged_business_file, "carries no GuardDutyMalwareScanStatus tag"),
        (object_guardduty_found_clean, "GuardDuty tagged it 'NO_THREATS_FOUND'"),
        (invented_version, "not confirmed by S3"),
        (another_accounts_bucket, "not confirmed"),
    ],
    ids=["never-scanned", "found-clean", "invented-version", "another-account"],
)
def test_a_forged_scan_result_is_refused_changes_nothing_and_is_a_security_event(
    runner, aws, parry_env, scanned, capsys, forge, named
):
    lines(capsys)  # what the fixtures printed
    event = forge(copy.deepcopy(scanned["event"]), scanned)

    result = runner.handler(event, Context())

    assert result["status"] == "REFUSED" and named in result["error"]
    s3 = scanned["s3"]
    for key in ("board/minutes.pdf", "in/clean.txt", "in/eicar.com"):
        tags = s3.get_object_tagging(Bucket="uploads", Key=key)["TagSet"]
        assert QUARANTINE_TAG not in {t["Key"] for t in tags}
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="uploads")
    assert aws.client("dynamodb").scan(TableName=parry_env["PARRY_CASES_TABLE"], Select="COUNT")["Count"] == 0
    records = lines(capsys)
    (logged,) = [r for r in records if r.get("message") == "security event"]
    assert logged["security_event"] is True and named in logged["reason"]
    assert emf(records) == {"SecurityRejections": [1.0]}


def test_the_scan_result_guardduty_confirmed_is_quarantined(runner, aws, parry_env, scanned):
    result = runner.handler(scanned["event"], Context())

    assert result["status"] == "SUCCEEDED", result
    tags = scanned["s3"].get_object_tagging(Bucket="uploads", Key="in/eicar.com")["TagSet"]
    assert QUARANTINE_TAG in {t["Key"] for t in tags}
