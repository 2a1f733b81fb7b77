"""The registry of actions by dotted name, and their typed parameters: schema and building.

An action (see `parry.actions.base`) is added with `@register`; importing `parry.actions` imports
every action module, so `get`, `names` and `all_actions` see them all. A playbook step's `with:`
block is checked against the JSON Schema derived from the action's parameters dataclass, and
`build_params` turns its resolved values into that dataclass.
"""

from __future__ import annotations

import dataclasses
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


def _load_all() -> None:
    # Importing the package imports every action module, which registers its actions.
    import parry.actions  # noqa: F401


def get(name: str) -> type[Action[ActionParams]]:
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
