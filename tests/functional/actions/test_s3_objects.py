"""S3 object actions on moto: capture without content, quarantine in place, release."""

from __future__ import annotations

import json

import pytest

from parry.actions.s3_objects import QUARANTINE_SID, QUARANTINE_TAG
from tests.support.actions import assert_contract, assert_missing, assert_refused, run, run_undo


@pytest.fixture
def s3(aws):
    client = aws.client("s3")
    client.create_bucket(Bucket="inbox")
    return client


def tags_of(s3, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket="inbox", Key=key)["TagSet"]}


def test_quarantine_of_an_unversioned_object_keeps_its_tags_and_release_gives_them_back(ctx, s3):
    s3.put_object(Bucket="inbox", Key="a.bin", Body=b"x", Tagging="team=blue")

    first = assert_contract(ctx, "s3.quarantine_object", bucket="inbox", key="a.bin")

    assert tags_of(s3, "a.bin") == {"team": "blue", QUARANTINE_TAG: "case-1"}
    assert first.before["tagged"] is False and first.after == {**first.after, "tagged": True, "statement": True}
    undone = run_undo(ctx, first)
    assert undone.status == "succeeded", undone.error
    assert tags_of(s3, "a.bin") == {"team": "blue"}
    assert run_undo(ctx, first).status == "noop"


def test_one_statement_per_bucket_for_every_quarantined_object(ctx, s3):
    for key in ("a.bin", "b.bin"):
        s3.put_object(Bucket="inbox", Key=key, Body=b"x")
        assert run(ctx, "s3.quarantine_object", bucket="inbox", key=key).status == "succeeded"

    statements = json.loads(s3.get_bucket_policy(Bucket="inbox")["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == [QUARANTINE_SID]


def test_forensics_readers_are_excepted_from_the_deny(ctx, s3):
    s3.put_object(Bucket="inbox", Key="a.bin", Body=b"x")
    reader = "arn:aws:iam::123456789012:role/forensics"

    assert run(ctx, "s3.quarantine_object", bucket="inbox", key="a.bin", readers=[reader]).status == "succeeded"

    (statement,) = json.loads(s3.get_bucket_policy(Bucket="inbox")["Policy"])["Statement"]
    assert statement["Condition"]["ArnNotLike"] == {"aws:PrincipalArn": [reader]}


def test_an_object_with_ten_tags_is_not_quarantined_and_the_step_says_why(ctx, s3):
    s3.put_object(Bucket="inbox", Key="full.bin", Body=b"x", Tagging="&".join(f"t{i}=v" for i in range(10)))
    assert_missing(ctx, "s3.quarantine_object", "already has 10 tags", bucket="inbox", key="full.bin")


def test_a_protected_object_is_refused(ctx, s3):
    s3.put_object(Bucket="inbox", Key="keep.bin", Body=b"x", Tagging="parry:protected=true")
    assert_refused(ctx, "s3.quarantine_object", bucket="inbox", key="keep.bin")
    assert QUARANTINE_TAG not in tags_of(s3, "keep.bin")


def test_a_missing_object_fails_by_name(ctx, s3):
    assert_missing(ctx, "s3.quarantine_object", "s3://inbox/gone.bin does not exist", bucket="inbox", key="gone.bin")
    assert_missing(
        ctx, "evidence.capture_s3_object", "s3://inbox/gone.bin does not exist", bucket="inbox", key="gone.bin"
    )


def test_capture_stores_metadata_and_checksum_but_not_the_content(ctx, s3, evidence_store):
    s3.put_object(Bucket="inbox", Key="a.bin", Body=b"secret-payload-bytes", ChecksumAlgorithm="SHA256")

    result = run(ctx, "evidence.capture_s3_object", bucket="inbox", key="a.bin")

    assert result.status == "succeeded", result.error
    body = s3.get_object(Bucket="parry-evidence", Key=result.output["artifact"]["key"])["Body"].read()
    assert b"secret-payload-bytes" not in body
    head = json.loads(body)["head"]
    assert head["ContentLength"] == 20 and head["ChecksumSHA256"] and head["ETag"]
    assert run(ctx, "evidence.capture_s3_object", bucket="inbox", key="a.bin").status == "noop"
