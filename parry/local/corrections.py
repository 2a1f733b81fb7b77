"""Where moto differs from AWS in the calls Parry makes, and the corrections local mode and tests apply.

Each correction patches the in-process moto once (calling it again is a no-op) and answers as the
AWS service does: KMS signing a DIGEST message, CloudTrail LookupEvents from the events local mode
recorded, Security Hub GetFindings filters and BatchUpdateFindings, Security Hub v2's GetFindingsV2
and BatchUpdateFindingsV2, GuardDuty GetFindings (per account and region, as GuardDuty's detectors
are), Inspector ListFindings by finding ARN, an IAM Access Analyzer, an instance's network interfaces keeping only their own
security groups, ECS tasks in awsvpc mode. Local mode and tests only;
the Lambda never imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parry.errors import ConfigError
from parry.routing.cloudtrail import CLOUDTRAIL_DETAIL_TYPES
from parry.routing.scan_results import is_scan_result

if TYPE_CHECKING:
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    from moto.ec2.models.instances import Instance
    from moto.ec2.models.security_groups import SecurityGroup
    from moto.guardduty.responses import GuardDutyResponse
    from moto.kms.responses import KmsResponse
    from moto.securityhub.models import SecurityHubBackend
    from moto.securityhub.responses import SecurityHubResponse

    from parry.aws.clients import ClientFactory


# The operation local mode records a CloudTrail event with (LookupEvents then answers with it); no AWS API.
RECORD_TARGET = "CloudTrail_20131101.RecordLocalEvent"
# LookupEvents' attributes, and where each is in a CloudTrail record, as the local history answers them.
LOOKUP_PATHS: dict[str, tuple[str, ...]] = {
    "EventId": ("eventID",),
    "EventName": ("eventName",),
    "EventSource": ("eventSource",),
    "Username": ("userIdentity", "userName"),
    "AccessKeyId": ("userIdentity", "accessKeyId"),
}


def cloudtrail_history_like_aws() -> None:
    """Give the in-process moto CloudTrail's LookupEvents, answered from the events local mode recorded.

    moto 5.2 does not implement LookupEvents and answers HTTP 500, which the clients retry with
    back-off for half a minute. Here each account and region keeps the records `record_cloudtrail_event`
    put there (none until then: an empty answer, as CloudTrail gives an account with no history), and
    LookupEvents answers those matching its one attribute and time window, newest first, with each
    record as the JSON string `CloudTrailEvent`, as CloudTrail does. Local mode and tests only.
    """
    from moto.cloudtrail import responses

    cls = responses.CloudTrailResponse
    if getattr(cls, "parry_history_like_aws", False):
        return
    cls.lookup_events = _lookup_events  # type: ignore[attr-defined]
    cls.record_local_event = _record_local_event  # type: ignore[attr-defined]
    cls.parry_history_like_aws = True  # type: ignore[attr-defined]


def _history(response: Any) -> list[dict[str, Any]]:
    backend = response.cloudtrail_backend
    history: list[dict[str, Any]] = backend.__dict__.setdefault("parry_history", [])
    return history


def _lookup_events(self: Any) -> str:
    import json
    from datetime import datetime

    from moto.cloudtrail.exceptions import InvalidParameterCombinationException

    attributes = self._get_param("LookupAttributes") or []
    if len(attributes) > 1 or any(a.get("AttributeKey") not in LOOKUP_PATHS for a in attributes):
        raise InvalidParameterCombinationException(
            f"the local CloudTrail looks up one attribute of {', '.join(LOOKUP_PATHS)}, not {attributes}"
        )

    def value(record: dict[str, Any], path: tuple[str, ...]) -> Any:
        for key in path:
            record = record.get(key) if isinstance(record, dict) else None  # type: ignore[assignment]
        return record

    def when(record: dict[str, Any]) -> float:
        return datetime.fromisoformat(str(record.get("eventTime")).replace("Z", "+00:00")).timestamp()

    start, end = self._get_param("StartTime"), self._get_param("EndTime")
    found = [
        r
        for r in _history(self)
        if all(value(r, LOOKUP_PATHS[a["AttributeKey"]]) == a.get("AttributeValue") for a in attributes)
        and (start is None or when(r) >= float(start))
        and (end is None or when(r) <= float(end))
    ]
    found.sort(key=when, reverse=True)
    events = [
        {
            "EventId": r["eventID"],
            "EventName": r.get("eventName"),
            "EventTime": when(r),
            "EventSource": r.get("eventSource"),
            "Username": value(r, LOOKUP_PATHS["Username"]),
            "CloudTrailEvent": json.dumps(r),
        }
        for r in found[: int(self._get_param("MaxResults") or 50)]
    ]
    return json.dumps({"Events": events})


def _record_local_event(self: Any) -> str:
    import json

    record = json.loads(self.body or "{}")
    history = _history(self)
    history[:] = [r for r in history if r.get("eventID") != record.get("eventID")]
    history.append(record)
    return "{}"


def record_cloudtrail_event(aws: ClientFactory, record: dict[str, Any]) -> None:
    """Put a CloudTrail record in the local CloudTrail history of its account (`aws`'s) and region.

    Sent to the local endpoint (or the in-process moto) as CloudTrail's own JSON protocol, signed
    with `aws`'s credentials so it lands in their account; an operation only local mode has.
    """
    import json

    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    from parry.aws.endpoints import is_local

    if not is_local() and not _in_process_moto():
        raise ConfigError("CloudTrail events are recorded in a local CloudTrail only: set AWS_ENDPOINT_URL")
    region = str(record.get("awsRegion") or aws.region)
    url = aws.client("cloudtrail", region).meta.endpoint_url
    request = AWSRequest(
        method="POST",
        url=url,
        data=json.dumps(record),
        headers={"X-Amz-Target": RECORD_TARGET, "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(aws.session.get_credentials(), "cloudtrail", region).add_auth(request)
    answer = requests.post(url, data=request.body, headers=dict(request.headers.items()), timeout=30)
    if answer.status_code != 200:
        raise ConfigError(f"the local CloudTrail did not record event {record.get('eventID')}: {answer.text[:300]}")


def _in_process_moto() -> bool:
    """Whether moto's in-process mock is active (tests): it answers the request `record_cloudtrail_event` sends."""
    from moto.core.models import MockAWS

    return MockAWS._nested_count > 0


def sign_digests_like_kms() -> None:
    """Make the in-process moto sign a MessageType=DIGEST request as KMS does.

    moto 5.2 ignores MessageType and hashes the 32-byte digest again, so a manifest signed through
    it would never verify. Parry signs digests (KMS refuses RAW messages over 4 KB); this corrects
    moto's KMS for local mode and tests, and only there.
    """
    from moto.kms import responses

    if getattr(responses.KmsResponse.sign, "parry_digest_aware", False):
        return
    responses.KmsResponse.sign = digest_aware_sign(responses.KmsResponse.sign)  # type: ignore[method-assign, assignment]


def digest_aware_sign(original: Callable[[KmsResponse], str]) -> Callable[[KmsResponse], str]:
    """KMS Sign that signs a DIGEST message as the digest it is; any other request goes to `original`."""

    def sign(self: KmsResponse) -> str:
        import base64
        import json

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, utils
        from moto.kms.exceptions import ValidationException
        from moto.kms.utils import ECDSAPrivateKey

        if self._get_param("MessageType") != "DIGEST":
            return original(self)
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        algorithm = self._get_param("SigningAlgorithm")
        digest = self._get_param("Message")
        if algorithm != "ECDSA_SHA_256" or len(digest) != 32 or not isinstance(key.private_key, ECDSAPrivateKey):
            raise ValidationException("DIGEST signing here supports ECDSA_SHA_256 over a 32-byte digest only")
        signature = key.private_key.private_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return json.dumps(
            {"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(), "SigningAlgorithm": algorithm}
        )

    sign.parry_digest_aware = True  # type: ignore[attr-defined]
    return sign


def network_interface_groups_like_aws() -> None:
    """Make the in-process moto keep an instance's security groups on its network interfaces, as EC2 does.

    moto 5.2 reports an attached interface's groups as the union of its own and the instance's
    launch-time groups (RunInstances SecurityGroupIds), so ModifyNetworkInterfaceAttribute(Groups=...)
    never takes the launch groups away: an isolated instance stays in `web`. In EC2 an instance's
    groups are its interfaces' groups: each interface has exactly the groups last set on it, the
    instance reports those of its interfaces (DescribeInstances, its group filters, groupSet), and
    ModifyInstanceAttribute(Groups=...) sets those of its primary interface. Local mode and tests only.
    """
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    from moto.ec2.models.instances import Instance

    if getattr(NetworkInterface, "parry_groups_like_aws", False):
        return
    NetworkInterface.group_set = property(_interface_groups)  # type: ignore[assignment, method-assign]
    Instance.security_groups = property(_instance_groups, _set_instance_groups)  # type: ignore[assignment]
    NetworkInterface.parry_groups_like_aws = True  # type: ignore[attr-defined]


def _interface_groups(eni: NetworkInterface) -> list[SecurityGroup]:
    return list(eni._group_set)


def _instance_groups(instance: Instance) -> list[SecurityGroup]:
    """The groups of the instance's attached interfaces, in device order; the launch groups until it has any."""
    nics = instance.__dict__.get("nics") or {}
    if not nics:
        return list(instance.__dict__.get("parry_launch_groups", []))
    groups: list[SecurityGroup] = []
    for index in sorted(nics):
        groups += [g for g in nics[index]._group_set if g not in groups]
    return groups


def _set_instance_groups(instance: Instance, groups: list[SecurityGroup]) -> None:
    """At launch, the groups its interfaces are created with; afterwards, its primary interface's groups."""
    nics = instance.__dict__.get("nics") or {}
    if 0 in nics:
        nics[0]._group_set = list(groups)
    else:
        instance.__dict__["parry_launch_groups"] = list(groups)


def ecs_task_interfaces_like_aws() -> None:
    """Let the in-process moto run an `awsvpc` task: its RunTask reads a private DNS name moto's interfaces lack.

    moto 5.2's RunTask with a network configuration fails on `NetworkInterface.private_dns_name`. EC2
    names an interface's private address `ip-<address with dashes>.<region>.compute.internal` (in
    us-east-1 `ec2.internal`), and ECS reports it as the task attachment's `privateDnsName`.
    """
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    if hasattr(NetworkInterface, "private_dns_name"):
        return
    NetworkInterface.private_dns_name = property(_private_dns_name)  # type: ignore[assignment]


def _private_dns_name(eni: NetworkInterface) -> str:
    region = eni.ec2_backend.region_name
    domain = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return f"ip-{str(eni.private_ip_address).replace('.', '-')}.{domain}"


def object_tag_conditions_like_aws() -> None:
    """Make the in-process moto leave bucket-policy statements conditioned on object tags to AWS.

    moto 5.2 checks every request on an object (GetObjectTagging included) as s3:GetObject against
    the bucket policy and ignores conditions, so a deny conditioned on `s3:ExistingObjectTag/...`
    (s3.quarantine_object's) denies every request on every object, tag reads too. S3 evaluates the
    condition on the object's tags and never applies a GetObject statement to GetObjectTagging.
    moto cannot evaluate those conditions: the correction leaves such statements out of its check
    (tests read the statement back instead). Local mode and tests only.
    """
    from moto.s3.models import FakeBucket

    if getattr(FakeBucket, "parry_tag_conditions_like_aws", False):
        return
    original = FakeBucket.get_permission

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        import json

        if self.policy is None:
            return original(self, action, resource)
        policy = json.loads(self.policy)
        statements = policy.get("Statement", [])
        kept = [s for s in ([statements] if isinstance(statements, dict) else statements) if not _on_object_tags(s)]
        held, self.policy = self.policy, json.dumps({**policy, "Statement": kept}).encode()
        try:
            return original(self, action, resource)
        finally:
            self.policy = held

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
    FakeBucket.parry_tag_conditions_like_aws = True  # type: ignore[attr-defined]


def expected_bucket_owner_like_aws() -> None:
    """Make the in-process moto refuse a request whose ExpectedBucketOwner is not the bucket's account.

    S3 answers 403 AccessDenied when the `x-amz-expected-bucket-owner` header names another account
    than the bucket's owner; moto 5.2 ignores the header. Parry sets it on every call on a scanned
    object, so an event naming the wrong account cannot act on another account's bucket. Local mode
    and tests only.
    """
    from moto.s3.responses import S3Response

    if getattr(S3Response, "parry_expected_owner_like_aws", False):
        return
    S3Response._key_response = _owner_checked(S3Response._key_response)  # type: ignore[method-assign]
    S3Response._bucket_response = _owner_checked(S3Response._bucket_response)  # type: ignore[method-assign]
    S3Response.parry_expected_owner_like_aws = True  # type: ignore[attr-defined]


def _owner_checked(original: Callable[..., Any]) -> Callable[..., Any]:
    def checked(self: Any, request: Any, full_url: str) -> Any:
        from moto.s3.exceptions import S3ClientError

        expected = self.headers.get("x-amz-expected-bucket-owner")
        if expected:
            try:
                bucket = self.backend.get_bucket(self.parse_bucket_name_from_url(request, full_url))
            except S3ClientError:
                bucket = None
            if bucket is not None and bucket.account_id != expected:
                denied = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                return 403, {"Content-Type": "application/xml"}, f'<?xml version="1.0" encoding="UTF-8"?>{denied}'
        return original(self, request, full_url)

    return checked


def _on_object_tags(statement: dict[str, Any]) -> bool:
    conditions = statement.get("Condition") or {}
    return any("s3:ExistingObjectTag/" in key for keys in conditions.values() for key in keys)


def security_hub_findings_like_aws() -> None:
    """Give the in-process moto the Security Hub finding calls Parry makes, answered as Security Hub does.

    moto 5.2 has no BatchUpdateFindings (HTTP 404 "Not yet implemented"), its GetFindings ignores
    Filters (every finding matches any Id) and both answer for an account that never enabled
    Security Hub. This adds BatchUpdateFindings (workflow status and note), EQUALS/NOT_EQUALS
    filters on a finding's top-level strings and WorkflowStatus, and Security Hub's
    InvalidAccessException for an account that is not subscribed, and Security Hub v2's finding
    calls (`security_hub_v2_findings_like_aws`); local mode and tests only.
    """
    from moto.securityhub import responses, urls

    security_hub_v2_findings_like_aws()
    cls = responses.SecurityHubResponse
    if getattr(cls, "parry_findings_like_aws", False):
        return
    urls.url_paths["{0}/findings/batchupdate$"] = cls.dispatch
    cls.get_findings = _get_findings  # type: ignore[method-assign]
    cls.batch_update_findings = _batch_update_findings  # type: ignore[attr-defined]
    cls.batch_import_findings = _subscribed_only(cls.batch_import_findings)  # type: ignore[method-assign, assignment]
    cls.parry_findings_like_aws = True  # type: ignore[attr-defined]


def _hub(response: SecurityHubResponse) -> SecurityHubBackend:
    from moto.securityhub.exceptions import SecurityHubClientError

    backend = response.securityhub_backend
    if not backend.enabled:
        raise SecurityHubClientError(
            "InvalidAccessException", f"Account {response.current_account} is not subscribed to AWS Security Hub"
        )
    return backend


def _subscribed_only(original: Callable[[SecurityHubResponse], str]) -> Callable[[SecurityHubResponse], str]:
    def call(self: SecurityHubResponse) -> str:
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


def _get_findings(self: SecurityHubResponse) -> str:
    import json

    filters = self._get_param("Filters") or {}
    return json.dumps({"Findings": [f.as_dict() for f in _hub(self).findings if _matches(f.as_dict(), filters)]})


def _batch_update_findings(self: SecurityHubResponse) -> str:
    import json
    from datetime import UTC, datetime

    from moto.securityhub.exceptions import InvalidInputException

    hub = _hub(self)
    body = json.loads(self.body or "{}")
    unsupported = set(body) - {"FindingIdentifiers", "Workflow", "Note"}
    if unsupported:
        raise InvalidInputException(
            "BatchUpdateFindings", f"the local Security Hub updates only Workflow and Note, not {sorted(unsupported)}"
        )
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    processed, unprocessed = [], []
    for ident in body.get("FindingIdentifiers", []):
        finding = next(
            (
                f.data
                for f in hub.findings
                if f.id == ident.get("Id") and f.data.get("ProductArn") == ident.get("ProductArn")
            ),
            None,
        )
        if finding is None:
            unprocessed.append(
                {"FindingIdentifier": ident, "ErrorCode": "FindingNotFound", "ErrorMessage": "Finding Not Found"}
            )
            continue
        if "Workflow" in body:
            finding["Workflow"] = {"Status": body["Workflow"]["Status"]}
        if "Note" in body:
            finding["Note"] = {**body["Note"], "UpdatedAt": now}
        processed.append(ident)
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


# OCSF status_id as Security Hub v2 names it (BatchUpdateFindingsV2 StatusId)
OCSF_STATUSES = {0: "Unknown", 1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved", 5: "Archived", 99: "Other"}


def security_hub_v2_findings_like_aws() -> None:
    """Give the in-process moto Security Hub v2's GetFindingsV2 and BatchUpdateFindingsV2.

    moto 5.2 has neither. Each account and region keeps the OCSF findings registered in it
    (`register_finding`, as Security Hub holds the findings it imports there); GetFindingsV2 answers
    with those whose fields match every EQUALS/NOT_EQUALS string filter of an AND composite filter;
    BatchUpdateFindingsV2 sets a finding's comment, severity_id and status_id, as Security Hub does
    before it sends `Findings Imported V2` again. Local mode and tests only.
    """
    from moto.securityhub import responses, urls

    cls = responses.SecurityHubResponse
    if getattr(cls, "parry_v2_like_aws", False):
        return
    urls.url_paths["{0}/findingsv2$"] = cls.dispatch
    urls.url_paths["{0}/findingsv2/batchupdatev2$"] = cls.dispatch
    cls.get_findings_v2 = _get_findings_v2  # type: ignore[attr-defined]
    cls.batch_update_findings_v2 = _batch_update_findings_v2  # type: ignore[attr-defined]
    cls.parry_v2_like_aws = True  # type: ignore[attr-defined]


def _ocsf_held(response: SecurityHubResponse) -> dict[str, dict[str, Any]]:
    held: dict[str, dict[str, Any]] = response.securityhub_backend.__dict__.setdefault("parry_ocsf_findings", {})
    return held


def _ocsf_field(finding: dict[str, Any], name: str) -> Any:
    value: Any = finding
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _ocsf_matches(finding: dict[str, Any], filters: dict[str, Any]) -> bool:
    from moto.securityhub.exceptions import InvalidInputException

    for composite in filters.get("CompositeFilters", []):
        if set(composite) - {"StringFilters", "Operator"} or composite.get("Operator", "AND") != "AND":
            raise InvalidInputException(
                "GetFindingsV2", "the local Security Hub filters only by AND composites of string filters"
            )
        for condition in composite.get("StringFilters", []):
            comparison = condition["Filter"].get("Comparison")
            if comparison not in ("EQUALS", "NOT_EQUALS"):
                raise InvalidInputException("GetFindingsV2", f"the local Security Hub does not compare by {comparison}")
            equal = _ocsf_field(finding, condition["FieldName"]) == condition["Filter"].get("Value")
            if equal != (comparison == "EQUALS"):
                return False
    return True


def _get_findings_v2(self: SecurityHubResponse) -> str:
    import json

    filters = json.loads(self.body or "{}").get("Filters") or {}
    return json.dumps({"Findings": [f for f in _ocsf_held(self).values() if _ocsf_matches(f, filters)]})


def _batch_update_findings_v2(self: SecurityHubResponse) -> str:
    import json
    from datetime import UTC, datetime

    body = json.loads(self.body or "{}")
    held = _ocsf_held(self)
    now = datetime.now(UTC)
    processed, unprocessed = [], []
    wanted = [(uid, {"MetadataUid": uid}) for uid in body.get("MetadataUids", [])] + [
        (
            next(
                (
                    uid
                    for uid, f in held.items()
                    if _ocsf_field(f, "finding_info.uid") == ident.get("FindingInfoUid")
                    and _ocsf_field(f, "cloud.account.uid") == ident.get("CloudAccountUid")
                    and _ocsf_field(f, "metadata.product.uid") == ident.get("MetadataProductUid")
                ),
                "",
            ),
            {"FindingIdentifier": ident},
        )
        for ident in body.get("FindingIdentifiers", [])
    ]
    for uid, named in wanted:
        finding = held.get(uid)
        if finding is None:
            unprocessed.append({**named, "ErrorCode": "ResourceNotFoundException", "ErrorMessage": "Finding Not Found"})
            continue
        if "Comment" in body:
            finding["comment"] = body["Comment"]
        if "StatusId" in body:
            finding["status_id"], finding["status"] = body["StatusId"], OCSF_STATUSES.get(body["StatusId"], "Other")
        if "SeverityId" in body:
            finding["severity_id"] = body["SeverityId"]
        info = finding.setdefault("finding_info", {})
        info["modified_time"] = int(now.timestamp() * 1000)
        info["modified_time_dt"] = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        processed.append(named)
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


# A finding type that is a whole finding (a JSON object) rather than a type name: local mode's
# CreateSampleFindings stores it as GuardDuty stores the findings it produces.
WHOLE_FINDING_PREFIX = "{"


def guardduty_findings_like_aws() -> None:
    """Give the in-process moto GuardDuty's GetFindings, and a CreateSampleFindings that registers findings.

    moto 5.2 implements neither. Here each detector keeps the findings registered in it (as the
    administrator's detector holds its members' findings): GetFindings answers with those of the
    ids asked that it holds (an unknown id is simply absent, as in GuardDuty), in GuardDuty's wire
    format; CreateSampleFindings takes, as each "finding type", a whole finding in that wire format
    (`register_finding` sends it), since a sample of a named type would not be the finding a test
    or the demo means. Local mode and tests only.
    """
    from moto.guardduty import responses, urls

    cls = responses.GuardDutyResponse
    if getattr(cls, "parry_findings_like_aws", False):
        return
    urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/findings/get$"] = cls.dispatch
    urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/findings/create$"] = cls.dispatch
    cls.get_findings = _guardduty_get_findings  # type: ignore[attr-defined]
    cls.create_sample_findings = _guardduty_create_sample_findings  # type: ignore[attr-defined]
    cls.parry_findings_like_aws = True  # type: ignore[attr-defined]


def _detector_findings(response: GuardDutyResponse) -> dict[str, Any]:
    """The findings registered in the request's detector (BadRequestException for a detector not the caller's)."""
    from moto.guardduty.exceptions import DetectorNotFoundException

    detector_id = response.path.split("/")[2]
    backend = response.guardduty_backend
    if detector_id not in backend.detectors:
        raise DetectorNotFoundException()
    store: dict[str, dict[str, Any]] = backend.__dict__.setdefault("parry_findings", {})
    return store.setdefault(detector_id, {})


def _guardduty_get_findings(self: GuardDutyResponse) -> str:
    import json

    held = _detector_findings(self)
    ids = json.loads(self.body or "{}").get("findingIds", [])
    return json.dumps({"findings": [held[i] for i in ids if i in held]})


def _guardduty_create_sample_findings(self: GuardDutyResponse) -> str:
    import json

    from moto.guardduty.exceptions import GuardDutyException

    held = _detector_findings(self)
    for kind in json.loads(self.body or "{}").get("findingTypes", []):
        finding = json.loads(kind) if kind.startswith(WHOLE_FINDING_PREFIX) else None
        if not isinstance(finding, dict) or not isinstance(finding.get("id"), str):
            raise GuardDutyException(
                "BadRequestException", "the local GuardDuty registers whole findings (JSON with an id), not type names"
            )
        held[finding["id"]] = finding
    return "{}"


def inspector_findings_like_aws() -> None:
    """Give the in-process moto Inspector's ListFindings filtered on findingArn, as Inspector answers it.

    moto 5.2 answers ListFindings from a queue of canned results, whatever the filter. Here each
    (account, region) keeps the findings registered in it: `register_finding` queues them through
    moto's own API (/moto-api/static/inspector2/findings-results, so a separate `parry local` server
    receives them too) and ListFindings takes the queue in, keyed by findingArn, then answers with
    those a findingArn EQUALS criterion names (all of them without one). Local mode and tests only.
    """
    from moto.inspector2 import responses

    cls = responses.Inspector2Response
    if getattr(cls, "parry_findings_like_aws", False):
        return
    cls.list_findings = _inspector_list_findings  # type: ignore[method-assign]
    cls.parry_findings_like_aws = True  # type: ignore[attr-defined]


def _inspector_list_findings(self: Any) -> str:
    import json

    backend = self.inspector2_backend
    held: dict[str, dict[str, Any]] = backend.__dict__.setdefault("parry_findings", {})
    for queued in backend.findings_queue:
        held.update({f["findingArn"]: f for f in queued if isinstance(f, dict) and "findingArn" in f})
    backend.findings_queue.clear()
    wanted = [
        c["value"]
        for c in (self._get_param("filterCriteria") or {}).get("findingArn", [])
        if c.get("comparison") == "EQUALS"
    ]
    return json.dumps({"findings": [f for arn, f in held.items() if not wanted or arn in wanted]})


def as_detection(detail: dict[str, Any]) -> dict[str, Any]:
    """A GuardDuty finding without the sample mark (`service.additionalInfo.sample`) AWS's published
    samples carry: the demo's and the tests' findings stand for real detections, which carry none,
    and the shipped triggers route no sample finding."""
    info = (detail.get("service") or {}).get("additionalInfo")
    if not isinstance(info, dict) or "sample" not in info:
        return detail
    kept = {k: v for k, v in info.items() if k != "sample"}
    return {**detail, "service": {**detail["service"], "additionalInfo": kept}}


def register_finding(aws: ClientFactory, event: dict[str, Any]) -> None:
    """Make the local GuardDuty, Security Hub or CloudTrail hold the finding or call `event` delivers.

    Parry re-reads every GuardDuty and Security Hub finding from its service before acting
    (parry.routing.findings): a finding brought in a file must first exist there. A GuardDuty
    finding goes into the caller's detector in the finding's region (created if there is none:
    the administrator's), an ASFF finding is imported into Security Hub (enabled if need be), an
    OCSF one is kept by the local Security Hub v2 of the event's region, a CloudTrail record goes into
    the CloudTrail history of `aws`'s account, an Inspector finding is held by the local Inspector of
    its account and region, an Access Analyzer finding goes into the analyzer the event names, in the
    caller's account. Any other event needs nothing.
    """
    import json

    detail = event.get("detail") or {}
    if event.get("detail-type") in CLOUDTRAIL_DETAIL_TYPES:
        record_cloudtrail_event(aws, detail)
    elif event.get("source") == "aws.securityhub" and event.get("detail-type") == "Findings Imported V2":
        register_ocsf_findings(aws.session.client("sts").get_caller_identity()["Account"], event)
    elif event.get("source") == "aws.guardduty" and not is_scan_result(event):  # a scan result is no finding
        gd = aws.client("guardduty", str(detail.get("region") or event.get("region") or aws.region))
        detectors = gd.list_detectors()["DetectorIds"] or [gd.create_detector(Enable=True)["DetectorId"]]
        gd.create_sample_findings(DetectorId=detectors[0], FindingTypes=[json.dumps(as_detection(detail))])
    elif event.get("source") == "aws.securityhub" and isinstance(detail.get("findings"), list):
        hub = aws.client("securityhub", str(event.get("region") or aws.region))
        try:
            hub.enable_security_hub(EnableDefaultStandards=False)
        except hub.exceptions.ResourceConflictException:
            pass  # already subscribed
        failed = hub.batch_import_findings(Findings=detail["findings"])["FailedFindings"]
        if failed:
            raise ConfigError(
                f"the local Security Hub refused finding {failed[0].get('Id')}: {failed[0].get('ErrorMessage')}"
            )
    elif event.get("source") == "aws.inspector2" and isinstance(detail.get("findingArn"), str):
        _queue_inspector_finding(detail)
    elif event.get("source") == "aws.access-analyzer":
        register_access_analyzer_finding(aws, event)


def access_analyzer_like_aws() -> None:
    """Give the in-process moto an IAM Access Analyzer (parry.local.access_analyzer), for both the
    in-process mock and the local server.

    moto 5.2 has no Access Analyzer at all. No AWS API creates a finding: as with GuardDuty's
    CreateSampleFindings above, the local StartResourceScan takes a whole finding (JSON) as its
    "resource" and registers it (`register_finding` sends it). Local mode and tests only.
    """
    import re

    import moto.backend_index
    import moto.backends

    from parry.local.access_analyzer import ACCESS_ANALYZER_URL, access_analyzer_backends

    if getattr(moto.backends, "parry_access_analyzer", False):
        return
    original = moto.backends.get_backend

    def get_backend(name: str) -> Any:
        return access_analyzer_backends if name == "access-analyzer" else original(name)  # type: ignore[call-overload]

    moto.backends.get_backend = get_backend
    moto.backend_index.backend_url_patterns.append(("access-analyzer", re.compile(ACCESS_ANALYZER_URL)))
    moto.backends.parry_access_analyzer = True  # type: ignore[attr-defined]


def register_access_analyzer_finding(aws: ClientFactory, event: dict[str, Any]) -> None:
    """Make the local analyzer the event names (created in the caller's account if need be) hold the
    event's finding as GetFinding answers it: the resource's owner as `resourceOwnerAccount`, no
    account or region keys. Through the API, so a `parry local serve` in another process gets it."""
    import json

    detail = dict(event.get("detail") or {})
    region = str(event.get("region") or aws.region)
    client = aws.client("accessanalyzer", region)
    named = (event.get("resources") or ["analyzer/local"])[0].rsplit("/", 1)[-1]
    held = {a["name"]: a["arn"] for a in client.list_analyzers()["analyzers"]}
    analyzer = held.get(named) or client.create_analyzer(analyzerName=named, type="ACCOUNT")["arn"]
    finding_id = detail.pop("findingId", None) or detail.get("id")
    detail["resourceOwnerAccount"] = detail.pop("accountId", None)
    for key in ("region", "version", "isDeleted", "previousStatus"):
        detail.pop(key, None)
    client.start_resource_scan(analyzerArn=analyzer, resourceArn=json.dumps({**detail, "id": finding_id}))


def register_ocsf_findings(account: str, event: dict[str, Any]) -> None:
    """Keep the event's OCSF findings in the in-process Security Hub v2 of `account` and the event's region.

    There is no API that imports an OCSF finding (Security Hub makes them from its sources), so this
    writes into the in-process moto directly; a local endpoint runs in this process (`parry local serve`).
    """
    import copy

    from moto.securityhub.models import securityhub_backends

    security_hub_v2_findings_like_aws()
    held = securityhub_backends[account][str(event.get("region"))].__dict__.setdefault("parry_ocsf_findings", {})
    for finding in (event.get("detail") or {}).get("findings", []):
        held[str(finding["metadata"]["uid"])] = copy.deepcopy(finding)


def _queue_inspector_finding(detail: dict[str, Any]) -> None:
    """Hand the local Inspector a finding through moto's API: the local endpoint's, else in-process moto's
    (which intercepts `requests`, moto's own dependency)."""
    import os

    import requests

    from parry.aws.endpoints import is_local

    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    base = endpoint.rstrip("/") if is_local(endpoint) else "http://motoapi.amazonaws.com"
    body = {
        "results": [[detail]],
        "account_id": str(detail.get("awsAccountId")),
        "region": detail["findingArn"].split(":")[3],
    }
    requests.post(f"{base}/moto-api/static/inspector2/findings-results", json=body, timeout=10).raise_for_status()


def moto_like_aws() -> None:
    """Every correction above but the digest signing (which tests also apply on their own), and moto's KMS
    made fast: what local mode's endpoints and the tests' in-process moto run with."""
    from parry.local.moto_speed import kms_key_pairs_on_first_use

    security_hub_findings_like_aws()  # moto has no BatchUpdateFindings
    guardduty_findings_like_aws()  # nor GuardDuty GetFindings
    inspector_findings_like_aws()  # nor Inspector ListFindings by finding ARN
    access_analyzer_like_aws()  # nor any IAM Access Analyzer
    network_interface_groups_like_aws()  # and unions an instance's launch groups into its interfaces'
    cloudtrail_history_like_aws()  # nor CloudTrail LookupEvents
    object_tag_conditions_like_aws()  # and applies object-tag-conditioned bucket policy denies to everything
    expected_bucket_owner_like_aws()  # and ignores ExpectedBucketOwner
    ecs_task_interfaces_like_aws()  # and cannot run an awsvpc task
    kms_key_pairs_on_first_use()  # and makes an RSA pair for every KMS key, HMAC ones too
