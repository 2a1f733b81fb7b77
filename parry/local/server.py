"""Local mode: Parry's own resources and a small sandbox account on moto, on 127.0.0.1.

`bootstrap` creates what the CDK app creates in a real account (an Object Lock evidence bucket, the
case table, the topic, the kill switch), but only against a local endpoint: it refuses anything
else, so a mistyped profile can never bootstrap a real account from the demo.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from parry.aws.clients import ClientFactory
from parry.store.schema import create_table
from parry.errors import ConfigError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
SIGNING_KEY_ALIAS = "alias/parry-local-manifest-signing"
DEFAULT_NAMES = {
    "PARRY_EVIDENCE_BUCKET": "parry-evidence-local",
    "PARRY_CASES_TABLE": "parry-cases",
    "PARRY_TOPIC_NAME": "parry-notifications",
    "PARRY_KILL_SWITCH_PARAMETER": "/parry/kill-switch",
}


def require_local_endpoint(endpoint: str | None = None) -> str:
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL", "")
    host = urlparse(endpoint).hostname if endpoint else None
    if host not in LOCAL_HOSTS:
        raise ConfigError(
            "local bootstrap only runs against a local endpoint: set AWS_ENDPOINT_URL=http://127.0.0.1:PORT "
            f"(it is {endpoint or 'unset'})"
        )
    return endpoint


def bootstrap(aws: ClientFactory, *, retention_days: int = 1) -> dict[str, str]:
    """Create Parry's resources in the local endpoint (idempotent); the PARRY_... settings."""
    endpoint = require_local_endpoint()
    return {"AWS_ENDPOINT_URL": endpoint, **provision(aws, retention_days=retention_days)}


def provision(aws: ClientFactory, *, retention_days: int = 1) -> dict[str, str]:
    """Parry's resources in whatever `aws` points at; callers make sure that is not a real account."""
    s3, ddb, sns, ssm = (aws.client(s) for s in ("s3", "dynamodb", "sns", "ssm"))
    bucket = DEFAULT_NAMES["PARRY_EVIDENCE_BUCKET"]
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        kwargs: dict[str, Any] = {"Bucket": bucket, "ObjectLockEnabledForBucket": True}
        if aws.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
        s3.create_bucket(**kwargs)
        s3.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": retention_days}},
            },
        )
    table = DEFAULT_NAMES["PARRY_CASES_TABLE"]
    if table not in ddb.list_tables()["TableNames"]:
        create_table(ddb, table)
    topic = sns.create_topic(Name=DEFAULT_NAMES["PARRY_TOPIC_NAME"])["TopicArn"]
    parameter = DEFAULT_NAMES["PARRY_KILL_SWITCH_PARAMETER"]
    ssm.put_parameter(Name=parameter, Value="off", Type="String", Overwrite=True)
    return {
        "PARRY_SIGNING_KEY_ID": _signing_key(aws.client("kms")),
        "AWS_REGION": aws.region,
        "PARRY_EVIDENCE_BUCKET": bucket,
        "PARRY_CASES_TABLE": table,
        "PARRY_TOPIC_ARN": topic,
        "PARRY_KILL_SWITCH_PARAMETER": parameter,
        "PARRY_LOCK_MODE": "GOVERNANCE",
        "PARRY_RETENTION_DAYS": str(retention_days),
    }


def _signing_key(kms: Any) -> str:
    """The manifest signing key (ECC_NIST_P256, as the CDK app creates it); made once, found by alias."""
    for alias in kms.list_aliases().get("Aliases", []):
        if alias["AliasName"] == SIGNING_KEY_ALIAS and alias.get("TargetKeyId"):
            return kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]["Arn"]
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description="Parry local manifest signing")
    kms.create_alias(AliasName=SIGNING_KEY_ALIAS, TargetKeyId=key["KeyMetadata"]["KeyId"])
    return key["KeyMetadata"]["Arn"]


def empty_cloudtrail_history() -> None:
    """Give the in-process moto a CloudTrail LookupEvents that answers "no events".

    moto 5.2 does not implement LookupEvents and answers HTTP 500, which the clients retry with
    back-off for half a minute. The sandbox account has no API history to look up, and an empty
    answer is exactly what CloudTrail gives for one; local mode only.
    """
    import json

    from moto.cloudtrail import responses

    if not hasattr(responses.CloudTrailResponse, "lookup_events"):
        responses.CloudTrailResponse.lookup_events = lambda self: json.dumps({"Events": []})  # type: ignore[attr-defined]


def sign_digests_like_kms() -> None:
    """Make the in-process moto sign a MessageType=DIGEST request as KMS does.

    moto 5.2 ignores MessageType and hashes the 32-byte digest again, so a manifest signed through
    it would never verify. Parry signs digests (KMS refuses RAW messages over 4 KB); this corrects
    moto's KMS for local mode and tests, and only there.
    """
    from moto.kms import responses

    if getattr(responses.KmsResponse.sign, "parry_digest_aware", False):
        return
    responses.KmsResponse.sign = digest_aware_sign(responses.KmsResponse.sign)


def digest_aware_sign(original: Any) -> Any:
    def sign(self: Any) -> str:
        import base64
        import json

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, utils
        from moto.kms.exceptions import ValidationException

        if self._get_param("MessageType") != "DIGEST":
            return original(self)
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        algorithm = self._get_param("SigningAlgorithm")
        digest = self._get_param("Message")
        if algorithm != "ECDSA_SHA_256" or len(digest) != 32:
            raise ValidationException("DIGEST signing here supports ECDSA_SHA_256 over a 32-byte digest only")
        signature = key.private_key.private_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return json.dumps({"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(), "SigningAlgorithm": algorithm})

    sign.parry_digest_aware = True  # type: ignore[attr-defined]
    return sign


def security_hub_findings_like_aws() -> None:
    """Give the in-process moto the Security Hub finding calls Parry makes, answered as Security Hub does.

    moto 5.2 has no BatchUpdateFindings (HTTP 404 "Not yet implemented"), its GetFindings ignores
    Filters (every finding matches any Id) and both answer for an account that never enabled
    Security Hub. This adds BatchUpdateFindings (workflow status and note), EQUALS/NOT_EQUALS
    filters on a finding's top-level strings and WorkflowStatus, and Security Hub's
    InvalidAccessException for an account that is not subscribed; local mode and tests only.
    """
    from moto.securityhub import responses, urls

    cls = responses.SecurityHubResponse
    if getattr(cls, "parry_findings_like_aws", False):
        return
    urls.url_paths["{0}/findings/batchupdate$"] = cls.dispatch
    cls.get_findings = _get_findings  # type: ignore[method-assign]
    cls.batch_update_findings = _batch_update_findings  # type: ignore[attr-defined]
    cls.batch_import_findings = _subscribed_only(cls.batch_import_findings)  # type: ignore[method-assign]
    cls.parry_findings_like_aws = True  # type: ignore[attr-defined]


def _hub(response: Any) -> Any:
    from moto.securityhub.exceptions import SecurityHubClientError

    backend = response.securityhub_backend
    if not backend.enabled:
        raise SecurityHubClientError(
            "InvalidAccessException", f"Account {response.current_account} is not subscribed to AWS Security Hub"
        )
    return backend


def _subscribed_only(original: Any) -> Any:
    def call(self: Any) -> str:
        _hub(self)
        return original(self)

    return call


def _matches(finding: dict[str, Any], filters: dict[str, list[dict[str, str]]]) -> bool:
    from moto.securityhub.exceptions import InvalidInputException

    for key, conditions in filters.items():
        value = finding.get("Workflow", {}).get("Status") if key == "WorkflowStatus" else finding.get(key)
        for condition in conditions:
            comparison = condition.get("Comparison")
            if not isinstance(value, (str, type(None))) or comparison not in ("EQUALS", "NOT_EQUALS"):
                raise InvalidInputException(
                    "GetFindings", f"the local Security Hub filters only strings by EQUALS/NOT_EQUALS, not {key}"
                )
            if (value == condition.get("Value")) != (comparison == "EQUALS"):
                return False
    return True


def _get_findings(self: Any) -> str:
    import json

    filters = self._get_param("Filters") or {}
    return json.dumps({"Findings": [f.as_dict() for f in _hub(self).findings if _matches(f.as_dict(), filters)]})


def _batch_update_findings(self: Any) -> str:
    import json
    from datetime import datetime, timezone

    from moto.securityhub.exceptions import InvalidInputException

    hub = _hub(self)
    body = json.loads(self.body or "{}")
    unsupported = set(body) - {"FindingIdentifiers", "Workflow", "Note"}
    if unsupported:
        raise InvalidInputException(
            "BatchUpdateFindings", f"the local Security Hub updates only Workflow and Note, not {sorted(unsupported)}"
        )
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    processed, unprocessed = [], []
    for ident in body.get("FindingIdentifiers", []):
        finding = next((f.data for f in hub.findings
                        if f.id == ident.get("Id") and f.data.get("ProductArn") == ident.get("ProductArn")), None)
        if finding is None:
            unprocessed.append({"FindingIdentifier": ident, "ErrorCode": "FindingNotFound", "ErrorMessage": "Finding Not Found"})
            continue
        if "Workflow" in body:
            finding["Workflow"] = {"Status": body["Workflow"]["Status"]}
        if "Note" in body:
            finding["Note"] = {**body["Note"], "UpdatedAt": now}
        processed.append(ident)
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


GUARDDUTY_RESOURCE_TYPES = {"AccessKey": "AwsIamAccessKey", "Instance": "AwsEc2Instance", "S3Bucket": "AwsS3Bucket",
                            "Lambda": "AwsLambdaFunction"}


def guardduty_finding_in_security_hub(aws: ClientFactory, event: dict[str, Any]) -> dict[str, Any]:
    """Put a GuardDuty event's finding into the local Security Hub, as GuardDuty's integration does; the ASFF finding.

    Shaped like GuardDuty's findings in Security Hub (see tests/events/securityhub/
    custom-action-guardduty-iam-console-login.json): Id is the finding ARN, ProductArn GuardDuty's
    product in the finding's region, GeneratorId the detector, workflow NEW. Enables the hub first.
    """
    detail = event["detail"]
    arn = detail["arn"]
    partition, region, account = arn.split(":")[1], arn.split(":")[3], detail.get("accountId") or arn.split(":")[4]
    severity = float(detail.get("severity", 0))
    label = "CRITICAL" if severity >= 9 else "HIGH" if severity >= 7 else "MEDIUM" if severity >= 4 else "LOW"
    resource = detail.get("resource") or {}
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": arn,
        "ProductArn": f"arn:{partition}:securityhub:{region}::product/aws/guardduty",
        "GeneratorId": arn.split("/finding/")[0],
        "AwsAccountId": account,
        "Types": [f"TTPs/{detail.get('type', 'GuardDuty').replace('/', '-')}"],
        "CreatedAt": detail.get("createdAt") or event.get("time"),
        "UpdatedAt": detail.get("updatedAt") or event.get("time"),
        "Severity": {"Label": label, "Product": severity, "Normalized": int(severity * 10)},
        "Title": detail.get("title") or detail.get("type", "GuardDuty finding"),
        "Description": detail.get("description") or detail.get("type", "GuardDuty finding"),
        "ProductFields": {"detectorId": (detail.get("service") or {}).get("detectorId", ""),
                          "aws/securityhub/ProductName": "GuardDuty", "aws/securityhub/CompanyName": "AWS"},
        "Resources": [{"Type": GUARDDUTY_RESOURCE_TYPES.get(resource.get("resourceType", ""), "Other"),
                       "Id": resource.get("resourceType", "unknown"), "Partition": partition, "Region": region}],
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
    }
    hub = aws.client("securityhub")
    try:
        hub.enable_security_hub(EnableDefaultStandards=False)
    except hub.exceptions.ResourceConflictException:
        pass  # already subscribed
    failed = hub.batch_import_findings(Findings=[finding])["FailedFindings"]
    if failed:
        raise ConfigError(f"the local Security Hub refused finding {arn}: {failed[0].get('ErrorMessage')}")
    return finding


@dataclass
class LocalServer:
    """A moto server on 127.0.0.1 and a free port, for the demo and the end-to-end tests."""

    server: Any
    endpoint: str

    @classmethod
    def start(cls) -> "LocalServer":
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto's own 500s are not ours to print
        sign_digests_like_kms()
        security_hub_findings_like_aws()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        return cls(server, f"http://127.0.0.1:{server._server.server_port}")

    def stop(self) -> None:
        self.server.stop()
