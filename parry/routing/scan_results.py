"""Malware Protection for S3 scan results authenticated: the object must carry GuardDuty's own verdict tag.

A "GuardDuty Malware Protection Object Scan Result" event is not a GuardDuty finding: GuardDuty
holds no copy to re-read (GetFindings knows nothing of it). What GuardDuty does leave is its
effect on the object: with tagging enabled on the protection plan it tags the scanned object
version `GuardDutyMalwareScanStatus` with the verdict. So Parry reads that tag from the object
version the event names, in the bucket's region and with ExpectedBucketOwner set to the
account the event names, and acts only when it says THREATS_FOUND. An object that does not exist
as delivered, or an untagged object (a plan without tagging: Parry cannot confirm its verdict),
is refused with FindingNotAuthentic; the event then carries the verdict the tag holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parry.errors import FindingNotAuthentic, MemberAccountUnavailable
from parry.routing.events import ACCOUNT_ID, REGION

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory

SCAN_RESULT = "GuardDuty Malware Protection Object Scan Result"
VERDICT_TAG = "GuardDutyMalwareScanStatus"
THREATS_FOUND = "THREATS_FOUND"
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
MAX_KEY_BYTES = 1024  # S3's limit on an object key


def is_scan_result(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.guardduty" and event.get("detail-type") == SCAN_RESULT


def authentic_scan_result(event: dict[str, Any], in_account: Callable[[str], ClientFactory]) -> dict[str, Any]:
    """`event` once the scanned object version confirms it: its verdict replaced by the one GuardDuty tagged.

    `in_account`: the clients reading what an account holds (Parry's own, or the member role in the
    bucket owner's account).

    Raises FindingNotAuthentic naming what does not confirm it; a throttled or failing S3 raises
    its ClientError: a retry can succeed.
    """
    detail = event.get("detail") or {}
    obj = detail.get("s3ObjectDetails")
    if not isinstance(obj, dict):
        raise FindingNotAuthentic("the scan result names no object in detail.s3ObjectDetails")
    bucket, key, version = obj.get("bucketName"), obj.get("objectKey"), obj.get("versionId")
    account, region = event.get("account"), event.get("region")
    if not isinstance(bucket, str) or not BUCKET_NAME.fullmatch(bucket):
        raise FindingNotAuthentic("the scan result's s3ObjectDetails.bucketName is not an S3 bucket name")
    if not isinstance(key, str) or not key or len(key.encode()) > MAX_KEY_BYTES:
        raise FindingNotAuthentic("the scan result's s3ObjectDetails.objectKey is not an S3 object key")
    if version is not None and not isinstance(version, str):
        raise FindingNotAuthentic("the scan result's s3ObjectDetails.versionId is not a version id")
    if not isinstance(account, str) or not ACCOUNT_ID.fullmatch(account):
        raise FindingNotAuthentic("the scan result's account is not the 12-digit account of the bucket's owner")
    if not isinstance(region, str) or not REGION.fullmatch(region):
        raise FindingNotAuthentic("the scan result's region is not an AWS region name")
    where = f"s3://{bucket}/{key[:300]}" + (f" version {version[:100]}" if version else "")
    try:
        owner = in_account(account)
    except MemberAccountUnavailable as exc:  # a bucket Parry cannot read cannot confirm the result
        raise FindingNotAuthentic(f"{where}: not confirmed, the bucket owner's account cannot be read: {exc}") from exc
    verdict = _verdict(owner.client("s3", region), bucket, key, version, account, where)
    if verdict is None:
        raise FindingNotAuthentic(
            f"{where} carries no {VERDICT_TAG} tag: Parry cannot confirm the scan result. Enable tagging "
            "on the bucket's Malware Protection plan (Tagging: ENABLED) so GuardDuty tags each scanned object"
        )
    if verdict != THREATS_FOUND:
        raise FindingNotAuthentic(f"{where}: GuardDuty tagged it {verdict[:100]!r}, not {THREATS_FOUND}")
    delivered = detail.get("scanResultDetails")
    results: dict[str, Any] = delivered if isinstance(delivered, dict) else {}
    return {**event, "detail": {**detail, "scanResultDetails": {**results, "scanResultStatus": verdict}}}


def _verdict(s3: Any, bucket: str, key: str, version: str | None, account: str, where: str) -> str | None:
    """The object version's GuardDutyMalwareScanStatus tag, or None when it has none."""
    from botocore.exceptions import ClientError

    from parry.aws.errors import refusal

    try:
        tags = s3.get_object_tagging(
            Bucket=bucket, Key=key, ExpectedBucketOwner=account, **({"VersionId": version} if version else {})
        )["TagSet"]
    except ClientError as exc:
        refused = refusal(exc)
        if refused is None or refused.status >= 500 or "Throttl" in refused.code or "SlowDown" in refused.code:
            raise
        if refused.code in ("NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404", "InvalidArgument"):
            raise FindingNotAuthentic(f"not confirmed by S3: {where} does not exist in account {account}") from exc
        raise FindingNotAuthentic(
            f"not confirmed: S3 refused reading the tags of {where} with {refused.code}: {refused.message} "
            "(the runner reads them with its own credentials: s3:GetObjectVersionTagging, which the "
            "s3.quarantine_object action grants in Parry's account)"
        ) from exc
    return next((t["Value"] for t in tags if t.get("Key") == VERDICT_TAG), None)
