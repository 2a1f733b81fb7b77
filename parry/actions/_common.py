"""Small helpers shared by the action modules: tags and inline deny policies."""

from __future__ import annotations

from typing import Any

PARRY_CASE_TAG = "parry:case"


def tag_dict(tags: list[dict[str, str]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """AWS's `[{"Key": k, "Value": v}]` as `{k: v}`."""
    return {t[key]: t[value] for t in tags or []}


def deny_all(condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """An explicit deny of every action on every resource (optionally under a condition)."""
    statement: dict[str, Any] = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}
