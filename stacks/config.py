"""Deployment settings, read from CDK context (cdk.json, `-c key=value`) and checked once.

Every setting has a default in cdk.json; `-c` values arrive as strings, so lists accept a
comma-separated string and numbers accept digits.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from constructs import Construct

from parry.aws.arns import partition
from parry.config import DEFAULT_MAX_CASES_PER_HOUR

LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
ACCOUNT_RE = re.compile(r"^\d{12}$")
ORG_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An IAM role ARN, path allowed, no wildcard: Lambda resource policies name principals exactly.
ROLE_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")
# Roles iam:PassRole may pass back to an instance: a name or path pattern IAM matches ("web-*",
# "instances/*"); "*" (the default) is any role of the account, still to EC2 only.
INSTANCE_ROLES_RE = re.compile(r"^([\w+=,.@*-]+/)*[\w+=,.@*-]{1,64}$")
# The accounts AWS publishes Powertools for AWS Lambda (Python) v3 layers from: one for the commercial
# partition, one per region elsewhere (China: cn-north-1 only). Never taken from context: a layer is
# code every Parry function runs with its role.
POWERTOOLS_PUBLISHERS = {
    "aws": "017000801446",
    "cn-north-1": "498634801083",
    "us-gov-east-1": "165087284144",
    "us-gov-west-1": "165093116878",
}
# Layer version 27 of AWSLambdaPowertoolsPythonV3-python313-arm64 in the commercial partition carries
# Powertools 3.23.0, the version requirements.lock pins for the tests (tests/infra/test_supply_chain.py).
POWERTOOLS_LAYER_VERSION = 27
POWERTOOLS_VERSION = "3.23.0"


def powertools_publisher(region: str) -> str | None:
    """AWS's publishing account of the Powertools layer in `region`; None where AWS publishes none."""
    if region.startswith(("cn-", "us-gov-")):
        return POWERTOOLS_PUBLISHERS.get(region)
    return POWERTOOLS_PUBLISHERS["aws"]


# a storm of cases bounded per hour and per runner; 0 reserved concurrency: none reserved (Lambda
# reserves only while the account keeps 100 unreserved, so small accounts may need 0)
DEFAULT_RUNNER_RESERVED_CONCURRENCY = 5


class ConfigError(ValueError):
    """A context value that cannot be deployed; the message names the key."""


def _layer_problems(account: Any, home_region: str) -> list[str]:
    problems = []
    if account:
        problems.append("parry:powertoolsLayerAccount: no longer read; the layer comes from AWS's publisher")
    if REGION_RE.match(home_region) and not powertools_publisher(home_region):
        problems.append(f"parry:homeRegion: AWS publishes no Powertools layer in {home_region}")
    return problems


def _partition_of(region: str) -> str | None:
    """The region's partition from botocore's endpoint data (parry.aws.arns), None for a name none claims."""
    from botocore.exceptions import UnknownRegionError

    try:
        return partition(region)
    except UnknownRegionError:
        return None


def _regions(listed: tuple[str, ...], home_region: str, problems: list[str]) -> tuple[str, ...]:
    """parry:regions, the home region first and each once: a forwarder can only deliver to a bus of
    its own partition, so a region of another partition is refused by name."""
    home_partition = _partition_of(home_region) if REGION_RE.match(home_region) else None
    for region in listed:
        if not REGION_RE.match(region) or not (region_partition := _partition_of(region)):
            problems.append(f"parry:regions: {region!r} is not a region name")
        elif home_partition and region_partition != home_partition:
            problems.append(
                f"parry:regions: {region} is not in the partition of the home region {home_region} ({home_partition})"
            )
    return tuple(dict.fromkeys((home_region, *listed)))


@dataclass(frozen=True)
class ParryConfig:
    playbooks_dir: str = "playbooks"
    home_region: str = "us-east-1"
    retention_days: int = 365
    lock_mode: str = "COMPLIANCE"
    protected_arn_patterns: tuple[str, ...] = ()
    notification_emails: tuple[str, ...] = ()
    security_account: str | None = None
    organization_id: str | None = None
    external_id: str | None = None
    member_accounts: tuple[str, ...] = ()
    # the SSM parameter /aws/service/powertools/python/arm64/python3.13/latest names the newest
    powertools_layer_version: int = POWERTOOLS_LAYER_VERSION
    log_retention_days: int = 365
    security_hub_actions: bool = True
    # who may use the front door: on-call roles start, undo and resume; approver roles decide
    on_call_roles: tuple[str, ...] = ()
    approver_roles: tuple[str, ...] = ()
    instance_roles: str = "*"
    # the one role, beside the deployment's, that may delete, disable or re-key Parry's keys and
    # rewrite the evidence buckets' policies (docs/deploy.md)
    break_glass_role: str | None = None
    # storms: every playbook's cases together per hour before each waits for approval (the runners'
    # PARRY_MAX_CASES_PER_HOUR), and each runner's reserved concurrency unless its playbook sets one
    max_cases_per_hour: int = DEFAULT_MAX_CASES_PER_HOUR
    runner_reserved_concurrency: int = DEFAULT_RUNNER_RESERVED_CONCURRENCY
    # the regions Parry acts in, the home region first: the forwarder stack is meant for each of
    # them, and the runners refuse resources elsewhere (PARRY_REGIONS)
    regions: tuple[str, ...] = ("us-east-1",)

    @classmethod
    def from_context(cls, scope: Construct) -> ParryConfig:
        def get(key: str) -> Any:
            return scope.node.try_get_context(f"parry:{key}")

        problems: list[str] = []

        def integer(key: str, default: int, low: int, high: int) -> int:
            raw = get(key)
            if raw in (None, ""):
                return default
            try:
                value = int(raw)
            except (TypeError, ValueError):
                problems.append(f"parry:{key}: {raw!r} is not a whole number")
                return default
            if not low <= value <= high:
                problems.append(f"parry:{key}: {value} is outside {low}..{high}")
            return value

        def strings(key: str) -> tuple[str, ...]:
            raw = get(key)
            if raw in (None, ""):
                return ()
            if isinstance(raw, str):
                raw = raw.split(",")
            if not isinstance(raw, list):
                problems.append(f"parry:{key}: expected a list or a comma-separated string")
                return ()
            return tuple(str(v).strip() for v in raw if str(v).strip())

        def optional(key: str, pattern: re.Pattern[str], what: str) -> str | None:
            raw = get(key)
            if raw in (None, ""):
                return None
            value = str(raw)
            if not pattern.match(value):
                problems.append(f"parry:{key}: {value!r} is not {what}")
            return value

        lock_mode = str(get("lockMode") or "COMPLIANCE").upper()
        if lock_mode not in LOCK_MODES:
            problems.append(f"parry:lockMode: {lock_mode!r} is not one of {', '.join(LOCK_MODES)}")
        home_region = str(get("homeRegion") or os.environ.get("CDK_DEFAULT_REGION") or "us-east-1")
        if not REGION_RE.match(home_region):
            problems.append(f"parry:homeRegion: {home_region!r} is not a region name")
        emails = strings("notificationEmails")
        problems.extend(
            f"parry:notificationEmails: {e!r} is not an e-mail address" for e in emails if not EMAIL_RE.match(e)
        )
        members = strings("memberAccounts")
        problems.extend(
            f"parry:memberAccounts: {a!r} is not a 12-digit account id" for a in members if not ACCOUNT_RE.match(a)
        )
        regions = _regions(strings("regions"), home_region, problems)
        roles = {key: strings(key) for key in ("onCallRoles", "approverRoles")}
        problems.extend(
            f"parry:{key}: {arn!r} is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)"
            for key, arns in roles.items()
            for arn in arns
            if not ROLE_ARN_RE.match(arn)
        )
        external_id = get("externalId")
        if external_id and not re.match(r"^[\w+=,.@:/-]{2,1224}$", str(external_id)):
            problems.append("parry:externalId: must be 2-1224 characters of [A-Za-z0-9+=,.@:/-_]")
        config = cls(
            playbooks_dir=os.environ.get("PARRY_PLAYBOOKS_DIR") or str(get("playbooksDir") or "playbooks"),
            home_region=home_region,
            retention_days=integer("retentionDays", 365, 1, 36500),
            lock_mode=lock_mode,
            protected_arn_patterns=strings("protectedArnPatterns"),
            notification_emails=emails,
            security_account=optional("securityAccount", ACCOUNT_RE, "a 12-digit account id"),
            organization_id=optional("organizationId", ORG_RE, "an organization id (o-...)"),
            external_id=str(external_id) if external_id else None,
            member_accounts=members,
            powertools_layer_version=integer("powertoolsLayerVersion", POWERTOOLS_LAYER_VERSION, 1, 100000),
            log_retention_days=integer("logRetentionDays", 365, 1, 3653),
            security_hub_actions=str(get("securityHubActions")).lower() not in ("false", "0", "no", "off"),
            on_call_roles=tuple(dict.fromkeys(roles["onCallRoles"])),
            approver_roles=tuple(dict.fromkeys(roles["approverRoles"])),
            instance_roles=optional("instanceRoles", INSTANCE_ROLES_RE, "an IAM role name or path pattern") or "*",
            break_glass_role=optional(
                "breakGlassRole", ROLE_ARN_RE, "an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)"
            ),
            max_cases_per_hour=integer("maxCasesPerHour", DEFAULT_MAX_CASES_PER_HOUR, 1, 100000),
            runner_reserved_concurrency=integer(
                "runnerReservedConcurrency", DEFAULT_RUNNER_RESERVED_CONCURRENCY, 0, 1000
            ),
            regions=regions,
        )
        problems.extend(_layer_problems(get("powertoolsLayerAccount"), home_region))
        if problems:
            raise ConfigError("\n".join(problems))
        return config

    @property
    def powertools_layer_account(self) -> str:
        """AWS's account publishing the Powertools layer in the home region (checked at load)."""
        return powertools_publisher(self.home_region) or ""

    @property
    def cross_account(self) -> bool:
        """Runners may assume their member-account role (member accounts or an organization given)."""
        return bool(self.member_accounts or self.organization_id)
