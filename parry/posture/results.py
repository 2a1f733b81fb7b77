"""What a sweep reports: one `Result` per problem found, and the catalogue of checks that can find them.

A result carries names and identifiers only (a variable's name, a policy's ARN, a statement's Sid):
never a value read from the function, so it can go to a terminal, a log or Security Hub as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL = "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"
SEVERITIES = (CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL)
BEST_PRACTICES = "Software and Configuration Checks/AWS Security Best Practices"


@dataclass(frozen=True)
class Check:
    """A posture check: its stable id (the Security Hub GeneratorId), default severity and advice."""

    check_id: str
    severity: str
    title: str
    remediation: str
    asff_type: str  # the finding's Types entry in Security Hub (namespace/category/classifier)


@dataclass(frozen=True)
class Result:
    """One problem on one resource; `detail` holds names and identifiers, never a secret's value."""

    check_id: str
    severity: str
    resource_arn: str
    account: str
    region: str
    title: str
    remediation: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "severity": self.severity,
            "resource_arn": self.resource_arn,
            "account": self.account,
            "region": self.region,
            "title": self.title,
            "remediation": self.remediation,
            "detail": self.detail,
        }


def _check(check_id: str, severity: str, title: str, remediation: str, classifier: str) -> Check:
    return Check(check_id, severity, title, remediation, f"{BEST_PRACTICES}/{classifier}")


FUNCTION_URL_PUBLIC = _check(
    "PARRY-LAMBDA-1",
    HIGH,
    "Function URL with AuthType NONE",
    "Set the function URL's AuthType to AWS_IAM (or delete the URL) and sign callers' requests with SigV4.",
    "Public Function URL",
)
POLICY_PUBLIC = _check(
    "PARRY-LAMBDA-2",
    CRITICAL,
    "Resource policy lets anyone invoke or manage the function",
    "Remove the statement, or add an aws:SourceArn, aws:SourceAccount or aws:PrincipalOrgID condition.",
    "Public Resource Policy",
)
SECRET_IN_ENVIRONMENT = _check(
    "PARRY-LAMBDA-3",
    HIGH,
    "Environment variables look like secrets",
    "Move each named value to AWS Secrets Manager (or an SSM SecureString), read it at run time, and rotate it: "
    "anyone with lambda:GetFunctionConfiguration can read environment variables.",
    "Secrets in Environment",
)
ADMIN_ROLE = _check(
    "PARRY-LAMBDA-4",
    HIGH,
    "Execution role has administrator access",
    "Give the function a role with only the actions and resources it uses; detach AdministratorAccess and "
    'remove statements allowing Action "*".',
    "Administrator Role",
)
PASS_ANY_ROLE = _check(
    "PARRY-LAMBDA-5",
    HIGH,
    "Execution role may pass any role",
    "Limit iam:PassRole to the ARNs of the roles the function hands to services, with an iam:PassedToService "
    "condition.",
    "PassRole on Any Role",
)
DEPRECATED_RUNTIME = _check(
    "PARRY-LAMBDA-6",
    MEDIUM,
    "Runtime deprecated or soon deprecated",
    "Move the function to a supported runtime of the same language and redeploy it.",
    "Deprecated Runtime",
)
FOREIGN_LAYER = _check(
    "PARRY-LAMBDA-7",
    MEDIUM,
    "Function uses a layer from another account",
    "Publish the layer in your own account (after reviewing its content), or pin it to a version you have vetted.",
    "Foreign Layer",
)
LAYER_PUBLIC = _check(
    "PARRY-LAMBDA-8",
    HIGH,
    "Layer version shared with everyone",
    "Remove the layer version permission whose principal is *; share with named accounts or an organization.",
    "Public Layer",
)
FOREIGN_EVENT_SOURCE = _check(
    "PARRY-LAMBDA-9",
    MEDIUM,
    "Event source mapping reads another account's queue or stream",
    "Confirm the other account is yours and trusted; otherwise delete the event source mapping.",
    "Foreign Event Source",
)
NO_FAILURE_DESTINATION = _check(
    "PARRY-LAMBDA-10",
    INFORMATIONAL,
    "Asynchronous invocations that fail are dropped",
    "Configure a dead-letter queue or an on-failure destination, so failed asynchronous events are kept.",
    "No Failure Destination",
)

CHECKS: tuple[Check, ...] = (
    FUNCTION_URL_PUBLIC,
    POLICY_PUBLIC,
    SECRET_IN_ENVIRONMENT,
    ADMIN_ROLE,
    PASS_ANY_ROLE,
    DEPRECATED_RUNTIME,
    FOREIGN_LAYER,
    LAYER_PUBLIC,
    FOREIGN_EVENT_SOURCE,
    NO_FAILURE_DESTINATION,
)
CHECK_ID_PREFIX = "PARRY-LAMBDA-"


def result(
    check: Check, resource_arn: str, account: str, region: str, *, severity: str | None = None, **detail: Any
) -> Result:
    return Result(
        check.check_id,
        severity or check.severity,
        resource_arn,
        account,
        region,
        check.title,
        check.remediation,
        detail,
    )
