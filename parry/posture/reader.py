"""What a sweep reads about each Lambda function, through the account's ClientFactory, paging everything.

Everything read is kept as data for the pure checks in `checks.py`, with one exception: environment
variable values are classified (`secrets.classify`) the moment a page of functions arrives and only
the names of suspicious variables are kept. A function deleted while it is read (ResourceNotFound)
is skipped; any other refusal is recorded as a problem on that function, and the sweep goes on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from parry.aws.errors import error_code
from parry.posture.secrets import SecretVariable, classify

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory

ADMINISTRATOR_ACCESS = (
    "AdministratorAccess"  # the AWS managed policy, arn:<partition>:iam::aws:policy/AdministratorAccess
)
NOT_FOUND = "ResourceNotFoundException"


@dataclass(frozen=True)
class Policy:
    """One IAM policy of a role: its name or ARN, whether it is AWS's AdministratorAccess, its statements."""

    name: str
    administrator_access: bool
    statements: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class FunctionFacts:
    """What the checks need about one function; no environment variable value is kept."""

    arn: str
    name: str
    account: str
    region: str
    runtime: str | None
    role_arn: str
    layers: tuple[str, ...]
    secret_variables: tuple[SecretVariable, ...]
    url_auth_types: tuple[tuple[str, str], ...]  # (function URL, AuthType), one per URL (function or alias)
    policy_statements: tuple[dict[str, Any], ...]
    event_sources: tuple[dict[str, str], ...]  # each {"uuid", "arn", "source_arn"}
    has_dead_letter_queue: bool
    has_on_failure_destination: bool
    role_policies: tuple[Policy, ...] = ()


@dataclass(frozen=True)
class LayerVersionFacts:
    arn: str
    account: str
    region: str
    statements: tuple[dict[str, Any], ...]


@dataclass
class RegionRead:
    """One (account, region): its functions, its layer versions, and what could not be read."""

    account: str
    region: str
    functions: list[FunctionFacts] = field(default_factory=list)
    layer_versions: list[LayerVersionFacts] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # resources whose findings a sweep must not resolve
    complete: bool = True  # False when the region's listing itself failed


def _not_found(exc: BaseException) -> bool:
    return error_code(exc) == NOT_FOUND


def _statements(policy_json: str | dict[str, Any]) -> tuple[dict[str, Any], ...]:
    document = json.loads(policy_json) if isinstance(policy_json, str) else policy_json
    statements = document.get("Statement", [])
    return tuple(statements if isinstance(statements, list) else [statements])


class RoleReader:
    """The policies of each execution role in one account, read once per sweep (roles are shared)."""

    def __init__(self, aws: ClientFactory):
        self._iam = aws.client("iam")
        self._roles: dict[str, tuple[Policy, ...]] = {}
        self._documents: dict[str, Policy] = {}
        self._lock = threading.Lock()

    def policies(self, role_arn: str) -> tuple[Policy, ...]:
        with self._lock:
            if role_arn not in self._roles:
                self._roles[role_arn] = self._read(role_arn.rsplit("/", 1)[-1])
            return self._roles[role_arn]

    def _read(self, role_name: str) -> tuple[Policy, ...]:
        iam = self._iam
        found: list[Policy] = []
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
            found.extend(self._managed(attached["PolicyArn"]) for attached in page["AttachedPolicies"])
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
            for name in page["PolicyNames"]:
                document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
                found.append(Policy(f"{role_name}/{name}", False, _statements(document)))
        return tuple(found)

    def _managed(self, policy_arn: str) -> Policy:
        if policy_arn not in self._documents:
            aws_managed = policy_arn.split(":")[4] == "aws"
            admin = aws_managed and policy_arn.endswith(f":policy/{ADMINISTRATOR_ACCESS}")
            version = self._iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
            document = self._iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]
            self._documents[policy_arn] = Policy(policy_arn, admin, _statements(document["Document"]))
        return self._documents[policy_arn]


def reduce_environment(config: dict[str, Any]) -> None:
    """Replace a configuration's environment variables with the names of the suspicious ones, in place."""
    config["ParrySecretVariables"] = classify(config.pop("Environment", {}).get("Variables", {}))


def function_configs(lam: Any) -> Iterator[dict[str, Any]]:
    """Each function's configuration with its environment variables already reduced to the suspicious names."""
    for page in lam.get_paginator("list_functions").paginate():
        for config in page["Functions"]:
            reduce_environment(config)  # the generator is suspended between functions: keep no value alive in it
            yield config


def event_sources_by_function(lam: Any, function_name: str | None = None) -> dict[str, list[dict[str, str]]]:
    """Every event source mapping of the region (or of one function), by function ARN: one paged listing."""
    by_function: dict[str, list[dict[str, str]]] = {}
    only = {"FunctionName": function_name} if function_name else {}
    for page in lam.get_paginator("list_event_source_mappings").paginate(**only):
        for mapping in page["EventSourceMappings"]:
            function_arn = mapping.get("FunctionArn", "").split(":$LATEST")[0]
            by_function.setdefault(function_arn, []).append(
                {
                    "uuid": mapping["UUID"],
                    "arn": mapping.get("EventSourceMappingArn", ""),
                    "source_arn": mapping.get("EventSourceArn", ""),
                }
            )
    return by_function


def _policy(lam: Any, name: str) -> tuple[dict[str, Any], ...]:
    from botocore.exceptions import ClientError

    try:
        return _statements(lam.get_policy(FunctionName=name)["Policy"])
    except ClientError as exc:
        if _not_found(exc):  # no resource policy at all
            return ()
        raise


def _url(lam: Any, name: str, qualifier: str | None = None) -> list[tuple[str, str]]:
    from botocore.exceptions import ClientError

    try:
        config = lam.get_function_url_config(FunctionName=name, **({"Qualifier": qualifier} if qualifier else {}))
    except ClientError as exc:
        if _not_found(exc):  # no URL on this function or alias
            return []
        raise
    return [(config["FunctionUrl"], config["AuthType"])]


def _urls(lam: Any, name: str) -> tuple[tuple[str, str], ...]:
    """The function's URL and each alias's (GetFunctionUrlConfig: what Lambda and local moto both answer)."""
    urls = _url(lam, name)
    for page in lam.get_paginator("list_aliases").paginate(FunctionName=name):
        for alias in page["Aliases"]:
            urls.extend(_url(lam, name, alias["Name"]))
    return tuple(urls)


def _on_failure(lam: Any, name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        config = lam.get_function_event_invoke_config(FunctionName=name)
    except ClientError as exc:
        if _not_found(exc):  # no asynchronous invocation configuration
            return False
        raise
    return bool(config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"))


def read_function(
    lam: Any, roles: RoleReader, config: dict[str, Any], event_sources: list[dict[str, str]], account: str, region: str
) -> FunctionFacts:
    name, arn = config["FunctionName"], config["FunctionArn"]
    return FunctionFacts(
        arn=arn,
        name=name,
        account=account,
        region=region,
        runtime=config.get("Runtime"),
        role_arn=config["Role"],
        layers=tuple(layer["Arn"] for layer in config.get("Layers", [])),
        secret_variables=config["ParrySecretVariables"],
        url_auth_types=_urls(lam, name),
        policy_statements=_policy(lam, name),
        event_sources=tuple(event_sources),
        has_dead_letter_queue=bool(config.get("DeadLetterConfig", {}).get("TargetArn")),
        has_on_failure_destination=_on_failure(lam, name),
        role_policies=roles.policies(config["Role"]),
    )


def read_layer_versions(lam: Any, account: str, region: str) -> Iterator[LayerVersionFacts]:
    """Each version of each layer the account owns in the region, with its permissions."""
    from botocore.exceptions import ClientError

    for page in lam.get_paginator("list_layers").paginate():
        for layer in page["Layers"]:
            for versions in lam.get_paginator("list_layer_versions").paginate(LayerName=layer["LayerName"]):
                for version in versions["LayerVersions"]:
                    try:
                        policy = lam.get_layer_version_policy(
                            LayerName=layer["LayerName"], VersionNumber=version["Version"]
                        )["Policy"]
                    except ClientError as exc:
                        if _not_found(exc):  # shared with no one
                            continue
                        raise
                    yield LayerVersionFacts(version["LayerVersionArn"], account, region, _statements(policy))
