"""A malicious object as GuardDuty Malware Protection for S3 leaves it, and the published scan result about it."""

from __future__ import annotations

from typing import Any

from parry.aws.clients import ClientFactory
from tests.support.routing import load

SCAN = "guardduty/malware-protection-object-scan-result-threat-found-ca-central-1.eventbridge.json"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"  # the antivirus test file


def scanned_object(aws: ClientFactory, bucket: str = "uploads", key: str = "in/eicar.com") -> dict[str, Any]:
    """A versioned bucket in ca-central-1 holding an object GuardDuty tagged THREATS_FOUND, and the
    DefinitelyTyped sample scan result (ca-central-1) pointed at it."""
    s3 = aws.client("s3", "ca-central-1")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put = s3.put_object(Bucket=bucket, Key=key, Body=EICAR, ChecksumAlgorithm="SHA256")
    s3.put_object_tagging(
        Bucket=bucket,
        Key=key,
        VersionId=put["VersionId"],
        Tagging={"TagSet": [{"Key": "GuardDutyMalwareScanStatus", "Value": "THREATS_FOUND"}]},
    )
    event = load(SCAN)
    event["detail"]["s3ObjectDetails"].update(
        bucketName=bucket, objectKey=key, versionId=put["VersionId"], eTag=put["ETag"].strip('"')
    )
    return {"s3": s3, "event": event, "version": put["VersionId"]}


def object_tags(scanned: dict[str, Any], bucket: str = "uploads", key: str = "in/eicar.com") -> dict[str, str]:
    found = scanned["s3"].get_object_tagging(Bucket=bucket, Key=key, VersionId=scanned["version"])
    return {t["Key"]: t["Value"] for t in found["TagSet"]}
