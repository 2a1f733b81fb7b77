"""The action contract: what an action declares and implements, and what it is given to run.

An action is a class (registered with `parry.actions.registry.register`). It declares, as class
attributes, everything the rest of Parry derives from it: typed parameters (a frozen dataclass
deriving from `ActionParams`, from which the playbook JSON Schema is generated), IAM permissions
(from which the CDK role is generated), whether it mutates, a one-line plan summary, and its undo
action or why there is none.

Behaviour is split so that the engine, not each action, guarantees idempotence, the
protected-resource check and before/after evidence:

- `observe` reads the current state (read-only API calls only) and says whether the desired end
  state already holds (`done`);
- `calls` lists the API calls `apply` would make from that state (the plan shows them);
- `apply` makes the change (only called when not `done`);
- `undo_params` turns what was observed before into the parameters of the undo action;
- `unmet` is a mutating action's post-condition: what the fresh observe after `apply` shows still
  open (the engine records NOT_CONTAINED when it names anything);
- `missing` is what a capture lists but could not take, from its output (the engine records PARTIAL).
"""

from __future__ import annotations

import abc
import dataclasses
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory
    from parry.evidence.writer import CaseEvidence


# The template fields a member account's role can fill: a permission whose resources use only
# these acts on the case's account; one naming Parry's own resources ({topic_arn}, ...) cannot.
# {instance_roles} is a deployment setting (parry:instanceRoles) both stacks fill alike.
MEMBER_TEMPLATE_FIELDS = frozenset({"partition", "region", "account", "instance_roles"})


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

    `conditions` narrow the grant further, as (operator, key, value templates) triples: IAM's
    Condition block, such as iam:PassedToService on iam:PassRole.
    """

    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)
    security_account: bool = False
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

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


@dataclass(frozen=True)
class ActionParams:
    """Base of every action's parameters: a frozen dataclass, so the engine can record them as JSON
    and the registry can derive their JSON Schema from the fields."""


class Downloader(Protocol):
    """Fetches a URL's body within a timeout, refusing more than `max_bytes` (ActionError)."""

    def __call__(self, url: str, *, timeout: float, max_bytes: int) -> bytes: ...


@dataclass
class ActionContext:
    """What an action may use: clients, the case it runs in, and where to put evidence."""

    aws: ClientFactory
    case_id: str
    step_id: str
    playbook: str
    account: str
    region: str
    event: dict[str, Any] = field(default_factory=dict)
    evidence: CaseEvidence | None = None
    # the case's target values (playbook `target:`), which a notification names
    target: dict[str, Any] = field(default_factory=dict)
    # Parry's own topic (PARRY_TOPIC_ARN): where notify.sns publishes unless a step names another
    topic_arn: str | None = None
    # ARN patterns configured as protected (PARRY_PROTECTED_ARNS): the engine refuses to change them
    protected_arns: tuple[str, ...] = ()
    # how evidence.capture_lambda fetches a code package; None: over HTTPS (tests serve it locally)
    downloader: Downloader | None = None
    # results of earlier steps of the same case, by step id (e.g. to prove a key was captured)
    prior: dict[str, dict[str, Any]] = field(default_factory=dict)
    # for a step on resources in several places (sequence.contain), set by the engine: the context
    # of part PART in (account, region, PART), and the engine's run of one action in such a context
    elsewhere: Callable[[str | None, str | None, str], ActionContext] | None = None
    run: Callable[[Action[Any], ActionContext, ActionParams], dict[str, Any]] | None = None
    # what the case's earlier reads in this invocation found, for what no step of a case changes (an IAM
    # user's ARN and tags): the steps of one case share it, so each reads that once
    reads: dict[tuple[str, ...], Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.aws.client(service)


P = TypeVar("P", bound=ActionParams)


class Action(abc.ABC, Generic[P]):
    """Base of every action, generic in its parameters' type. Subclasses set the class attributes
    and implement the abstract methods."""

    name: ClassVar[str]
    Params: type[P]  # the parameters' dataclass (a class attribute; ClassVar cannot name P)
    permissions: ClassVar[tuple[Permission, ...]]
    mutating: ClassVar[bool]
    summary: ClassVar[str]  # plan text; formatted with the parameters, e.g. "Deactivate key {access_key_id}"
    undo: ClassVar[str | None] = None
    no_undo_reason: ClassVar[str] = ""  # required when a mutating action has no undo
    # gives access back (reactivates a key, adds a permission, attaches a profile, lifts a quarantine):
    # as an undo it needs a second person's approval, since it could hand an attacker a way back in
    restores_access: ClassVar[bool] = False

    @abc.abstractmethod
    def observe(self, ctx: ActionContext, params: P) -> Observation:
        """Read the current state (read-only calls only) and whether the end state already holds."""

    @abc.abstractmethod
    def calls(self, ctx: ActionContext, params: P, seen: Observation) -> list[ApiCall]:
        """The API calls `apply` would make from this state: what `parry plan` shows."""

    @abc.abstractmethod
    def apply(self, ctx: ActionContext, params: P, seen: Observation) -> dict[str, Any]:
        """Make the change; return anything worth recording beyond the after-state."""

    def noop_output(self, ctx: ActionContext, params: P, seen: Observation) -> dict[str, Any]:
        """What a run that found the end state already in place records as its output."""
        return {}

    def planned_output(self, ctx: ActionContext, params: P, seen: Observation) -> dict[str, Any] | None:
        """The output a read-only step will record, known from its observation alone, so `parry plan`
        decides the later steps that depend on it as the run will; None: known only once it runs."""
        return None

    def unmet(self, ctx: ActionContext, params: P, after: Observation) -> list[str]:
        """What still does not hold after `apply`, read from the fresh observe `after`; [] when contained.

        The default trusts `done`; an action whose end state has parts a responder must hear about
        one by one names each part that is still open.
        """
        return [] if after.done else [f"{self.describe(params)}: not in effect after the change"]

    def missing(self, output: dict[str, Any]) -> list[str]:
        """What a capture lists but did not store, read from its `apply` output; [] when it took it all."""
        return []

    def undo_params(self, params: P, seen: Observation) -> dict[str, Any]:
        """Parameters for the undo action, from this step's parameters and before-state."""
        return dataclasses.asdict(params)

    def describe(self, params: P) -> str:
        return self.summary.format(**dataclasses.asdict(params))


def acts_in_member_account(action: type[Action[P]]) -> bool:
    """Whether the engine runs `action` in the case's account (through the member role) when the
    case is in a member account; otherwise it runs in the security account. An action's
    permissions are all of one kind (a registry test checks it), so this is the same rule the
    member-account stack applies to each permission."""
    return bool(action.permissions) and all(p.member for p in action.permissions)
