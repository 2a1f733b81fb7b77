"""Where moto differs from AWS in the calls Parry makes, and the corrections local mode and tests apply.

Each correction patches the in-process moto once (calling it again is a no-op) and answers as the
AWS service does: KMS signing a DIGEST message, CloudTrail LookupEvents for an account with no
history, Security Hub GetFindings filters and BatchUpdateFindings, GuardDuty GetFindings, an
instance's network interfaces keeping only their own security groups, an IAM Access Analyzer. Local mode and tests only;
the Lambda never imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parry.errors import ConfigError

if TYPE_CHECKING:
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    from moto.ec2.models.instances import Instance
    from moto.ec2.models.security_groups import SecurityGroup
    from moto.guardduty.responses import GuardDutyResponse
    from moto.kms.responses import KmsResponse
    from moto.securityhub.models import SecurityHubBackend
    from moto.securityhub.responses import SecurityHubResponse

    from parry.aws.clients import ClientFactory


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
    """Make the local GuardDuty or Security Hub hold the finding `event` delivers, as the service would.

    Parry re-reads every GuardDuty and Security Hub finding from its service before acting
    (parry.routing.findings): a finding brought in a file must first exist there. A GuardDuty
    finding goes into the caller's detector in the finding's region (created if there is none:
    the administrator's), an ASFF finding is imported into Security Hub (enabled if need be), an
    Access Analyzer finding goes into the analyzer the event names, in the caller's account.
    Any other event needs nothing.
    """
    import json

    detail = event.get("detail") or {}
    if event.get("source") == "aws.guardduty":
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
