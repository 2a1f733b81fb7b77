"""The action contract and the registry of actions by dotted name.

An action is a class registered with `@register`. It declares, as class attributes, everything the
rest of Parry derives from it: typed parameters (a frozen dataclass, from which the playbook JSON
Schema is generated), IAM permissions (from which the CDK role is generated), whether it mutates,
a one-line plan summary, and its undo action or why there is none.

Behaviour is split so that the engine, not each action, guarantees idempotence, the
protected-resource check and before/after evidence:

- `observe` reads the current state (read-only API calls only) and says whether the desired end
  state already holds (`done`);
- `calls` lists the API calls `apply` would make from that state (the plan shows them);
- `apply` makes the change (only called when not `done`);
- `undo_params` turns what was observed before into the parameters of the undo action.
"""

from __future__ import annotations

import abc
import dataclasses
import string
import types
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from parry.errors import ActionError

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory
    from parry.evidence.writer import CaseEvidence


# The template fields a member account's role can fill: a permission whose resources use only
# these acts on the case's account; one naming Parry's own resources ({topic_arn}, ...) cannot.
MEMBER_TEMPLATE_FIELDS = frozenset({"partition", "region", "account"})


def template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Permission:
    """IAM actions and the resources they apply to.

    Resource strings are ARN templates; `{partition}`, `{region}` and `{account}` are filled in by
    the CDK app. Use "*" only where the API supports no resource-level permissions.

    Where the calls are made follows from the templates (see `member`): in the case's account
    through the member role, or in the security account with the runner's own credentials.
    `security_account=True` keeps a permission whose templates would fit a member account in the
    security account, for an API that must be called from the administrator account (GuardDuty
    archives only there; Security Hub aggregates there).
    """

    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)
    security_account: bool = False

    @property
    def member(self) -> bool:
        """Whether the member-account role holds this permission and the engine makes these calls
        through it for a case in a member account."""
        if self.security_account:
            return False
        return all(template_fields(r) <= MEMBER_TEMPLATE_FIELDS for r in self.resources)


@dataclass(frozen=True)
class ApiCall:
    """One AWS API call an action would make: shown by `parry plan`."""

    operation: str  # "iam:UpdateAccessKey"
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.operation}({args})"


@dataclass
class Observation:
    """What an action saw of its resource: recorded as the step's before or after state."""

    state: dict[str, Any]
    arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    done: bool = False  # the desired end state already holds: running again is a no-op


@dataclass
class ActionContext:
    """What an action may use: clients, the case it runs in, and where to put evidence."""

    aws: "ClientFactory"
    case_id: str
    step_id: str
    playbook: str
    account: str
    region: str
    event: dict[str, Any] = field(default_factory=dict)
    evidence: "CaseEvidence | None" = None
    settings: dict[str, Any] = field(default_factory=dict)
    # results of earlier steps of the same case, by step id (e.g. to prove a key was captured)
    prior: dict[str, dict[str, Any]] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.aws.client(service)


class Action(abc.ABC):
    """Base of every action. Subclasses set the class attributes and implement the abstract methods."""

    name: ClassVar[str]
    Params: ClassVar[type]
    permissions: ClassVar[tuple[Permission, ...]]
    mutating: ClassVar[bool]
    summary: ClassVar[str]  # plan text; formatted with the parameters, e.g. "Deactivate key {access_key_id}"
    undo: ClassVar[str | None] = None
    no_undo_reason: ClassVar[str] = ""  # required when a mutating action has no undo

    @abc.abstractmethod
    def observe(self, ctx: ActionContext, params: Any) -> Observation:
        """Read the current state (read-only calls only) and whether the end state already holds."""

    @abc.abstractmethod
    def calls(self, ctx: ActionContext, params: Any, seen: Observation) -> list[ApiCall]:
        """The API calls `apply` would make from this state: what `parry plan` shows."""

    @abc.abstractmethod
    def apply(self, ctx: ActionContext, params: Any, seen: Observation) -> dict[str, Any]:
        """Make the change; return anything worth recording beyond the after-state."""

    def noop_output(self, ctx: ActionContext, params: Any, seen: Observation) -> dict[str, Any]:
        """What a run that found the end state already in place records as its output."""
        return {}

    def undo_params(self, params: Any, seen: Observation) -> dict[str, Any]:
        """Parameters for the undo action, from this step's parameters and before-state."""
        return dataclasses.asdict(params)

    def describe(self, params: Any) -> str:
        return self.summary.format(**dataclasses.asdict(params))


def acts_in_member_account(action: type[Action]) -> bool:
    """Whether the engine runs `action` in the case's account (through the member role) when the
    case is in a member account; otherwise it runs in the security account. An action's
    permissions are all of one kind (a registry test checks it), so this is the same rule the
    member-account stack applies to each permission."""
    return bool(action.permissions) and all(p.member for p in action.permissions)


_REGISTRY: dict[str, type[Action]] = {}


def register(cls: type[Action]) -> type[Action]:
    """Class decorator: add an action to the registry under its dotted name."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"action {cls.name} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    # Importing the package imports every action module, which registers its actions.
    import parry.actions  # noqa: F401


def get(name: str) -> type[Action]:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ActionError(f"unknown action {name!r}") from None


def names() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def all_actions() -> dict[str, type[Action]]:
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


def param_fields(action: type[Action]) -> list[tuple[str, dict[str, Any], bool, str]]:
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


def params_schema(action: type[Action]) -> dict[str, Any]:
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


def build_params(action: type[Action], values: dict[str, Any]) -> Any:
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
