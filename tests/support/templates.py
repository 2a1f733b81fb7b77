"""Reading synthesized CloudFormation templates: a resource by its properties, a role's statements."""

from __future__ import annotations

import json
import re
from typing import Any


def statements_of_role(template: dict[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of every policy attached to a role (inline, separate or managed is refused)."""
    role = template["Resources"][role_logical_id]["Properties"]
    assert not role.get("ManagedPolicyArns"), "runner roles carry no managed policies"
    out = [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for res in template["Resources"].values():
        if res["Type"] == "AWS::IAM::Policy" and {"Ref": role_logical_id} in res["Properties"].get("Roles", []):
            out.extend(res["Properties"]["PolicyDocument"]["Statement"])
    return out


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def logical_id(template: dict[str, Any], type_: str, **props: Any) -> str:
    """The one resource of `type_` whose properties include `props` (never a hashed id in a test)."""
    hits = [
        k
        for k, v in template["Resources"].items()
        if v["Type"] == type_ and all(v.get("Properties", {}).get(p) == want for p, want in props.items())
    ]
    assert len(hits) == 1, f"expected one {type_} with {props}, found {hits}"
    return hits[0]


def pinned_to_an_account(statement: dict[str, Any], resource: Any) -> bool:
    """The resource is this account's (its ARN names it, or the statement's aws:ResourceAccount
    condition does), one named account's, or one of the stack's own resources."""
    text = json.dumps(resource)
    condition = statement.get("Condition", {}).get("StringEquals", {}).get("aws:ResourceAccount")
    return (
        "AWS::AccountId" in text
        or condition == {"Ref": "AWS::AccountId"}
        or re.search(r":\d{12}:", text) is not None
        or "Fn::GetAtt" in text
        or re.search(r'"Ref": "(?!AWS::)', text) is not None
    )
