"""Parameters an action accepts without any resource behind them: for checks that never reach AWS
(tests/reliability/test_protected.py and bench/reliability.py refuse every mutating action on a protected resource)."""

from __future__ import annotations

from typing import Any

from parry.actions import registry

DUMMY = {"string": "x", "integer": 1, "boolean": True, "number": 1.0, "array": [], "object": {}}
# parameters whose values the action checks beyond their JSON type
CHECKED = {"kind": "role", "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"}


def dummy_params(cls: Any) -> Any:
    """`cls.Params` with each required parameter given a value of its type (or one the action checks for)."""
    values = {}
    for name, schema, required, _ in registry.param_fields(cls):
        if required:
            values[name] = CHECKED.get(name, DUMMY.get(schema.get("type"), "x"))
    return cls.Params(**values)
