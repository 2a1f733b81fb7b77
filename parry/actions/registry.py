"""The registry of actions by dotted name, and their typed parameters: schema and building.

An action (see `parry.actions.base`) is added with `@register` in its module. A run imports only the
modules of the actions it uses: `get` finds an action's module in `MODULES` (a test keeps that table
equal to what the modules register) and imports it on first use, so a one-step playbook does not pay
for forty actions. `names` and `all_actions` (the schema, `parry actions`, a playbook's permissions)
import every module of the package, found on disk, so a new module is never missed. A playbook step's `with:`
block is checked against the JSON Schema derived from the action's parameters dataclass, and
`build_params` turns its resolved values into that dataclass.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import types
import typing
from typing import Any, cast

from parry.actions.base import Action, ActionParams, P
from parry.errors import ActionError

_REGISTRY: dict[str, type[Action[ActionParams]]] = {}


def register(cls: type[Action[P]]) -> type[Action[P]]:
    """Class decorator: add an action to the registry under its dotted name."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"action {cls.name} registered twice")
    # The registry forgets each action's own parameters type. Whoever takes an action from it builds
    # the parameters with `build_params(cls, ...)`, which makes exactly `cls.Params`, so they fit.
    _REGISTRY[cls.name] = cast("type[Action[ActionParams]]", cls)
    return cls


# The module (in parry.actions) that registers each action; tests/unit/test_registry.py checks it is exact.
MODULES: dict[str, str] = {
    "cloudtrail.start_logging": "cloudtrail",
    "ec2.associate_instance_profile": "ec2",
    "ec2.detach_instance_profile": "ec2",
    "ec2.isolate_instance": "ec2",
    "ec2.unisolate_instance": "ec2",
    "ecs.isolate_task": "ecs",
    "ecs.stop_task": "ecs",
    "ecs.unisolate_task": "ecs",
    "evidence.capture_bucket": "evidence",
    "evidence.capture_cloudtrail": "evidence",
    "evidence.capture_db_instance": "rds",
    "evidence.capture_ecs_task": "ecs",
    "evidence.capture_eks_cluster": "eks",
    "evidence.capture_iam_role": "evidence",
    "evidence.capture_iam_user": "evidence",
    "evidence.capture_instance": "evidence_compute",
    "evidence.capture_lambda": "evidence_compute",
    "evidence.capture_lambda_versions": "lambda_versions",
    "evidence.capture_layer_version": "lambda_sources",
    "evidence.capture_resource_policy": "resource_policies",
    "evidence.capture_s3_object": "s3_objects",
    "evidence.snapshot_db": "rds",
    "evidence.snapshot_volumes": "evidence_compute",
    "guardduty.archive_finding": "guardduty",
    "guardduty.unarchive_finding": "guardduty",
    "iam.activate_access_key": "iam",
    "iam.add_user_to_groups": "iam",
    "iam.attach_policy": "iam_policies",
    "iam.deactivate_access_key": "iam",
    "iam.delete_access_key": "iam",
    "iam.delete_login_profile": "iam",
    "iam.detach_policy": "iam_policies",
    "iam.detach_role_policies": "iam_roles",
    "iam.quarantine_user": "iam",
    "iam.remove_user_from_groups": "iam",
    "iam.restore_role_policies": "iam_roles",
    "iam.restore_role_sessions": "iam_roles",
    "iam.revoke_role_sessions": "iam_roles",
    "iam.unquarantine_user": "iam",
    "lambda.add_layer_permission": "lambda_sources",
    "lambda.add_permissions": "lambda_",
    "lambda.allow_public_url": "lambda_urls",
    "lambda.disable_event_source_mapping": "lambda_sources",
    "lambda.enable_event_source_mapping": "lambda_sources",
    "lambda.quarantine_function": "lambda_",
    "lambda.remove_layer_permission": "lambda_sources",
    "lambda.remove_public_permissions": "lambda_",
    "lambda.require_url_auth": "lambda_urls",
    "lambda.restore_tags": "lambda_tags",
    "lambda.tag_function": "lambda_tags",
    "lambda.unquarantine_function": "lambda_",
    "notify.sns": "notify",
    "policy.remove_grant": "resource_policies",
    "policy.restore": "resource_policies",
    "posture.recheck": "posture",
    "s3.block_public_access": "s3",
    "s3.quarantine_object": "s3_objects",
    "s3.release_object": "s3_objects",
    "s3.restore_public_access_block": "s3",
    "securityhub.update_finding": "securityhub",
    "sequence.contain": "sequence",
    "sequence.release": "sequence",
}


def _import(module: str) -> None:
    importlib.import_module(f"parry.actions.{module}")


def _load_all() -> None:
    """Import every action module of the package, each registering its actions."""
    import parry.actions

    for info in pkgutil.iter_modules(parry.actions.__path__):
        if info.name not in ("base", "registry") and not info.name.startswith("_"):
            _import(info.name)


def get(name: str) -> type[Action[ActionParams]]:
    """The action named `name`, its module imported on first use (all modules, for a name not in `MODULES`)."""
    if name not in _REGISTRY:
        if name in MODULES:
            _import(MODULES[name])
        if name not in _REGISTRY:
            _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ActionError(f"unknown action {name!r}") from None


def names() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def all_actions() -> dict[str, type[Action[ActionParams]]]:
    _load_all()
    return dict(sorted(_REGISTRY.items()))


# ---- typed parameters ---------------------------------------------------------------------------

_JSON_TYPES: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    bool: {"type": "boolean"},
    float: {"type": "number"},
}


def _type_schema(tp: Any) -> tuple[dict[str, Any], bool]:
    """JSON Schema for one parameter type, and whether None is allowed."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        schema, _ = _type_schema(args[0])
        return schema, True
    if origin is list:
        (item,) = typing.get_args(tp)
        return {"type": "array", "items": _type_schema(item)[0]}, False
    if origin is dict:
        _, value = typing.get_args(tp)
        return {"type": "object", "additionalProperties": _type_schema(value)[0]}, False
    if tp is typing.Any:
        return {}, False
    if tp in _JSON_TYPES:
        return dict(_JSON_TYPES[tp]), False
    raise TypeError(f"unsupported parameter type {tp!r}")


def param_fields(action: type[Action[P]]) -> list[tuple[str, dict[str, Any], bool, str]]:
    """(name, JSON schema, required, doc) for each parameter of an action."""
    hints = typing.get_type_hints(action.Params)
    out = []
    for f in dataclasses.fields(action.Params):
        schema, nullable = _type_schema(hints[f.name])
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        doc = f.metadata.get("doc", "")
        if doc:
            schema["description"] = doc
        out.append((f.name, schema, required and not nullable, doc))
    return out


def params_schema(action: type[Action[P]]) -> dict[str, Any]:
    """The JSON Schema of an action's `with:` block. Values may also be `${...}` strings."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for name, schema, req, _ in param_fields(action):
        props[name] = {"anyOf": [schema, {"type": "string", "pattern": r"^\$\{.+\}$"}]} if schema else {}
        if req:
            required.append(name)
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def build_params(action: type[Action[P]], values: dict[str, Any]) -> P:
    """Typed parameters from resolved values; raises ActionError naming the bad parameter."""
    hints = typing.get_type_hints(action.Params)
    known = {f.name for f in dataclasses.fields(action.Params)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ActionError(f"{action.name}: unknown parameter(s) {', '.join(unknown)}")
    for name, schema, required, _ in param_fields(action):
        if name not in values or values[name] is None:
            if required:
                raise ActionError(f"{action.name}: parameter {name} is required but resolved to nothing")
            continue
        if not _conforms(values[name], hints[name]):
            raise ActionError(
                f"{action.name}: parameter {name} must be {schema.get('type', 'a value')}, "
                f"got {type(values[name]).__name__}"
            )
    return action.Params(**{k: v for k, v in values.items() if v is not None})


def _conforms(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is typing.Any:
        return True
    if origin is list:
        (item,) = typing.get_args(tp)
        return isinstance(value, list) and all(_conforms(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, tp)
