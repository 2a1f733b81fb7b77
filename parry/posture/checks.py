"""The posture checks: one pure function per check, over what `reader.py` read; each returns its results."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from parry.posture import results as r
from parry.posture.reader import FunctionFacts, LayerVersionFacts, Policy
from parry.posture.results import Result
from parry.posture.runtimes import deprecation

# A condition on any of these keys ties a public principal to one source, account or organization.
SCOPING_KEYS = ("aws:sourcearn", "aws:sourceaccount", "aws:principalorgid", "aws:sourceorgid", "aws:principalaccount")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _public_principal(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in _listed(principal.get("AWS", []))


def _scoped(statement: dict[str, Any]) -> bool:
    """Whether a condition limits who may use the statement (a SourceArn, an account, an organization)."""
    for operator, conditions in (statement.get("Condition") or {}).items():
        if operator.startswith("Null") or not isinstance(conditions, dict):
            continue
        if any(key.lower() in SCOPING_KEYS for key in conditions):
            return True
    return False


def _url_without_auth(statement: dict[str, Any]) -> bool:
    """The statement a function URL with AuthType NONE needs: reported by function_url_public instead."""
    return any(
        isinstance(conditions, dict) and str(conditions.get("lambda:FunctionUrlAuthType", "")).upper() == "NONE"
        for conditions in (statement.get("Condition") or {}).values()
    )


def _public_statements(statements: Iterable[dict[str, Any]]) -> list[str]:
    return [
        str(s.get("Sid", f"statement {i}"))
        for i, s in enumerate(statements)
        if s.get("Effect") == "Allow" and _public_principal(s) and not _scoped(s) and not _url_without_auth(s)
    ]


def function_url_public(f: FunctionFacts, today: date) -> list[Result]:
    urls = [url for url, auth in f.url_auth_types if auth == "NONE"]
    return [r.result(r.FUNCTION_URL_PUBLIC, f.arn, f.account, f.region, urls=urls)] if urls else []


def policy_public(f: FunctionFacts, today: date) -> list[Result]:
    sids = _public_statements(f.policy_statements)
    return [r.result(r.POLICY_PUBLIC, f.arn, f.account, f.region, statements=sids)] if sids else []


def secret_in_environment(f: FunctionFacts, today: date) -> list[Result]:
    if not f.secret_variables:
        return []
    found = [{"name": hit.name, "detector": hit.detector} for hit in f.secret_variables]
    return [r.result(r.SECRET_IN_ENVIRONMENT, f.arn, f.account, f.region, variables=found)]


def _allows(policy: Policy, wanted: Callable[[str], bool], resource_star: bool = False) -> bool:
    for statement in policy.statements:
        if statement.get("Effect") != "Allow" or "Action" not in statement:
            continue
        if resource_star and "*" not in _listed(statement.get("Resource", [])):
            continue
        if any(isinstance(action, str) and wanted(action) for action in _listed(statement["Action"])):
            return True
    return False


def _star_action(action: str) -> bool:
    return action == "*"


def _pass_role(action: str) -> bool:
    return fnmatch.fnmatch("iam:passrole", action.lower())


def admin_role(f: FunctionFacts, today: date) -> list[Result]:
    admin = [p.name for p in f.role_policies if p.administrator_access or _allows(p, _star_action)]
    return [r.result(r.ADMIN_ROLE, f.arn, f.account, f.region, role=f.role_arn, policies=admin)] if admin else []


def pass_any_role(f: FunctionFacts, today: date) -> list[Result]:
    policies = [
        p.name
        for p in f.role_policies
        if not p.administrator_access and not _allows(p, _star_action) and _allows(p, _pass_role, resource_star=True)
    ]
    return (
        [r.result(r.PASS_ANY_ROLE, f.arn, f.account, f.region, role=f.role_arn, policies=policies)] if policies else []
    )


def deprecated_runtime(f: FunctionFacts, today: date) -> list[Result]:
    found = deprecation(f.runtime or "", today)
    if found is None:
        return []
    when, past = found
    return [
        r.result(
            r.DEPRECATED_RUNTIME,
            f.arn,
            f.account,
            f.region,
            severity=r.HIGH if past else r.MEDIUM,
            runtime=f.runtime,
            deprecation_date=when.isoformat(),
            deprecated=past,
        )
    ]


def _arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else ""


def foreign_layer(f: FunctionFacts, today: date) -> list[Result]:
    foreign = [layer for layer in f.layers if _arn_account(layer) not in ("", f.account)]
    return [r.result(r.FOREIGN_LAYER, f.arn, f.account, f.region, layers=foreign)] if foreign else []


def foreign_event_source(f: FunctionFacts, today: date) -> list[Result]:
    found = []
    for mapping in f.event_sources:
        source_account = _arn_account(mapping["source_arn"])
        if source_account and source_account != f.account:
            resource = mapping["arn"] or f.arn
            found.append(
                r.result(
                    r.FOREIGN_EVENT_SOURCE,
                    resource,
                    f.account,
                    f.region,
                    function=f.arn,
                    mapping=mapping["uuid"],
                    event_source=mapping["source_arn"],
                    source_account=source_account,
                )
            )
    return found


def no_failure_destination(f: FunctionFacts, today: date) -> list[Result]:
    if f.has_dead_letter_queue or f.has_on_failure_destination:
        return []
    return [r.result(r.NO_FAILURE_DESTINATION, f.arn, f.account, f.region)]


FUNCTION_CHECKS: tuple[Callable[[FunctionFacts, date], list[Result]], ...] = (
    function_url_public,
    policy_public,
    secret_in_environment,
    admin_role,
    pass_any_role,
    deprecated_runtime,
    foreign_layer,
    foreign_event_source,
    no_failure_destination,
)


def layer_public(layer: LayerVersionFacts) -> list[Result]:
    sids = _public_statements(layer.statements)
    return [r.result(r.LAYER_PUBLIC, layer.arn, layer.account, layer.region, statements=sids)] if sids else []


def check_function(f: FunctionFacts, today: date) -> list[Result]:
    return [found for check in FUNCTION_CHECKS for found in check(f, today)]
