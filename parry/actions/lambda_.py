"""Lambda containment: stop a function running, close what exposes it, and put it all back on undo."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.registry import register
from parry.errors import ResourceNotFound

FUNCTION_ARN = "arn:{partition}:lambda:{region}:{account}:function:*"
QUARANTINE_TAG = "parry:quarantined"
READ = ("lambda:GetFunction", "lambda:GetPolicy")
# ListEventSourceMappings has no resource-level permissions; the mappings are named by UUID
MAPPINGS_LIST = Permission(("lambda:ListEventSourceMappings",))
MAPPING_ARN = "arn:{partition}:lambda:{region}:{account}:event-source-mapping:*"


def get_function(ctx: ActionContext, name: str) -> dict[str, Any]:
    """GetFunction's answer; ResourceNotFound if there is no such function."""
    lam = ctx.client("lambda")
    try:
        return lam.get_function(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException as exc:
        raise ResourceNotFound(f"Lambda function {name} does not exist") from exc


def policy_statements(ctx: ActionContext, name: str) -> list[dict[str, Any]]:
    lam = ctx.client("lambda")
    try:
        return json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
    except lam.exceptions.ResourceNotFoundException:
        return []


def principal(statement: dict[str, Any]) -> str:
    """A statement's principal as AddPermission takes it: "*", an account, an ARN or a service."""
    value = statement.get("Principal", "")
    if isinstance(value, dict):
        value = value.get("AWS") or value.get("Service") or ""
    return str(value)


def _condition(statement: dict[str, Any], key: str) -> str | None:
    for block in (statement.get("Condition") or {}).values():
        for k, v in block.items():
            if k.lower() == key.lower():
                return str(v)
    return None


def _principal_account(who: str) -> str:
    """The account of an account id or an IAM ARN (arn:partition:iam::ACCOUNT:...)."""
    return who.split(":")[4] if who.startswith("arn:") and who.count(":") >= 5 else who


def is_foreign(statement: dict[str, Any], account: str) -> bool:
    """True when a statement lets anyone, or a principal outside `account`, invoke the function."""
    value = statement.get("Principal")
    if isinstance(value, dict) and isinstance(value.get("AWS"), list):  # not from AddPermission, but possible
        return any(is_foreign({**statement, "Principal": {"AWS": who}}, account) for who in value["AWS"])
    who = principal(statement)
    if who == "*":
        # "*" narrowed to this account's own resources (e.g. an S3 bucket) is not an exposure
        return _condition(statement, "AWS:SourceAccount") != account
    if who.endswith(".amazonaws.com"):
        source_account = _condition(statement, "AWS:SourceAccount")
        return source_account is not None and source_account != account
    return _principal_account(who) != account


def add_permission_args(statement: dict[str, Any], function_name: str) -> dict[str, Any]:
    """The AddPermission parameters that recreate a resource-policy statement."""
    args: dict[str, Any] = {
        "FunctionName": function_name,
        "StatementId": statement["Sid"],
        "Action": statement["Action"],
        "Principal": principal(statement),
    }
    resource = str(statement.get("Resource", ""))
    if resource.count(":") == 7:  # ...:function:name:qualifier
        args["Qualifier"] = resource.rsplit(":", 1)[1]
    for key, arg in (
        ("AWS:SourceArn", "SourceArn"),
        ("AWS:SourceAccount", "SourceAccount"),
        ("aws:PrincipalOrgID", "PrincipalOrgID"),
        ("lambda:EventSourceToken", "EventSourceToken"),
        ("lambda:FunctionUrlAuthType", "FunctionUrlAuthType"),
    ):
        value = _condition(statement, key) or statement.get(arg)
        if value:
            args[arg] = value
    return args


def restore_statements(ctx: ActionContext, function_name: str, statements: list[dict[str, Any]]) -> None:
    present = {s.get("Sid") for s in policy_statements(ctx, function_name)}
    for statement in statements:
        if statement["Sid"] not in present:
            ctx.client("lambda").add_permission(**add_permission_args(statement, function_name))


@dataclass(frozen=True)
class FunctionParams(ActionParams):
    function_name: str = field(metadata={"doc": "Lambda function name or ARN"})


def _exposure(ctx: ActionContext, params: FunctionParams) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    fn = get_function(ctx, params.function_name)
    statements = policy_statements(ctx, params.function_name)
    return fn, [s for s in statements if is_foreign(s, ctx.account)]


@register
class RemovePublicPermissions(Action[FunctionParams]):
    """Remove the resource-policy statements that let anyone, or another account, invoke a function.

    ```yaml
    - id: close-function
      action: lambda.remove_public_permissions
      with: {function_name: "${target.function}"}
    ```
    """

    name = "lambda.remove_public_permissions"
    Params = FunctionParams
    mutating = True
    summary = "Remove public and cross-account statements from the policy of Lambda function {function_name}"
    undo = "lambda.add_permissions"
    permissions = (Permission(READ + ("lambda:RemovePermission",), (FUNCTION_ARN,)),)

    def observe(self, ctx: ActionContext, params: FunctionParams) -> Observation:
        fn, foreign = _exposure(ctx, params)
        cfg = fn["Configuration"]
        state = {"function_name": cfg["FunctionName"], "foreign_statements": foreign}
        return Observation(state=state, arn=cfg["FunctionArn"], tags=fn.get("Tags") or {}, done=not foreign)

    def calls(self, ctx: ActionContext, params: FunctionParams, seen: Observation) -> list[ApiCall]:
        return [
            ApiCall("lambda:RemovePermission", {"FunctionName": params.function_name, "StatementId": s["Sid"]})
            for s in seen.state["foreign_statements"]
        ]

    def apply(self, ctx: ActionContext, params: FunctionParams, seen: Observation) -> dict[str, Any]:
        for statement in seen.state["foreign_statements"]:
            ctx.client("lambda").remove_permission(FunctionName=params.function_name, StatementId=statement["Sid"])
        return {}

    def undo_params(self, params: FunctionParams, seen: Observation) -> dict[str, Any]:
        return {"function_name": params.function_name, "statements": seen.state["foreign_statements"]}


@dataclass(frozen=True)
class AddPermissionsParams(ActionParams):
    function_name: str = field(metadata={"doc": "Lambda function name or ARN"})
    statements: list[dict[str, Any]] = field(metadata={"doc": "resource-policy statements to put back"})


@register
class AddPermissions(Action[AddPermissionsParams]):
    """Put resource-policy statements back: the undo of `lambda.remove_public_permissions`.

    ```yaml
    - id: reopen-function
      action: lambda.add_permissions
      with:
        function_name: my-function
        statements: [{Sid: public, Action: "lambda:InvokeFunction", Principal: "*"}]
    ```
    """

    name = "lambda.add_permissions"
    restores_access = True
    Params = AddPermissionsParams
    mutating = True
    summary = "Add resource-policy statements back to Lambda function {function_name}"
    no_undo_reason = "it is itself the undo of lambda.remove_public_permissions"
    permissions = (Permission(READ + ("lambda:AddPermission",), (FUNCTION_ARN,)),)

    def observe(self, ctx: ActionContext, params: AddPermissionsParams) -> Observation:
        fn = get_function(ctx, params.function_name)
        sids = sorted(s.get("Sid", "") for s in policy_statements(ctx, params.function_name))
        missing = [s["Sid"] for s in params.statements if s["Sid"] not in sids]
        cfg = fn["Configuration"]
        state = {"function_name": cfg["FunctionName"], "statement_ids": sids}
        return Observation(state=state, arn=cfg["FunctionArn"], tags=fn.get("Tags") or {}, done=not missing)

    def calls(self, ctx: ActionContext, params: AddPermissionsParams, seen: Observation) -> list[ApiCall]:
        return [
            ApiCall("lambda:AddPermission", add_permission_args(s, params.function_name))
            for s in params.statements
            if s["Sid"] not in seen.state["statement_ids"]
        ]

    def apply(self, ctx: ActionContext, params: AddPermissionsParams, seen: Observation) -> dict[str, Any]:
        restore_statements(ctx, params.function_name, params.statements)
        return {}


# ---- quarantine ----------------------------------------------------------------------------------


def reserved_concurrency(ctx: ActionContext, name: str) -> int | None:
    return ctx.client("lambda").get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")


def mappings(ctx: ActionContext, name: str) -> list[dict[str, str]]:
    pages = ctx.client("lambda").get_paginator("list_event_source_mappings").paginate(FunctionName=name)
    return [
        {"uuid": m["UUID"], "state": m["State"], "source": m.get("EventSourceArn", "")}
        for page in pages
        for m in page["EventSourceMappings"]
    ]


def function_state(ctx: ActionContext, name: str) -> tuple[dict[str, Any], Observation]:
    fn, foreign = _exposure(ctx, FunctionParams(name))
    cfg, tags = fn["Configuration"], fn.get("Tags") or {}
    state = {
        "function_name": cfg["FunctionName"],
        "reserved_concurrency": reserved_concurrency(ctx, name),
        "foreign_statements": foreign,
        "event_source_mappings": mappings(ctx, name),
        "quarantine_tag": tags.get(QUARANTINE_TAG),
    }
    return cfg, Observation(state=state, arn=cfg["FunctionArn"], tags=tags)


def _enabled(state: dict[str, Any]) -> list[str]:
    return [m["uuid"] for m in state["event_source_mappings"] if m["state"] in ("Enabled", "Enabling", "Updating")]


@register
class QuarantineFunction(Action[FunctionParams]):
    """Stop a function from running and from being reached, keeping everything needed to undo it.

    Reserved concurrency 0 (no invocation runs), public and cross-account policy statements
    removed, event source mappings disabled, and the tag `parry:quarantined=<case id>`.

    ```yaml
    - id: quarantine-function
      action: lambda.quarantine_function
      with: {function_name: "${target.function}"}
    ```
    """

    name = "lambda.quarantine_function"
    Params = FunctionParams
    mutating = True
    summary = "Quarantine Lambda function {function_name}: concurrency 0, public access removed, triggers disabled"
    undo = "lambda.unquarantine_function"
    permissions = (
        Permission(
            READ
            + (
                "lambda:GetFunctionConcurrency",
                "lambda:PutFunctionConcurrency",
                "lambda:RemovePermission",
                "lambda:TagResource",
            ),
            (FUNCTION_ARN,),
        ),
        MAPPINGS_LIST,
        Permission(("lambda:UpdateEventSourceMapping",), (MAPPING_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: FunctionParams) -> Observation:
        _, seen = function_state(ctx, params.function_name)
        s = seen.state
        closed = not s["foreign_statements"] and not _enabled(s)
        seen.done = closed and s["reserved_concurrency"] == 0 and s["quarantine_tag"] is not None
        return seen

    def calls(self, ctx: ActionContext, params: FunctionParams, seen: Observation) -> list[ApiCall]:
        name = params.function_name
        out = []
        if seen.state["reserved_concurrency"] != 0:
            out.append(
                ApiCall("lambda:PutFunctionConcurrency", {"FunctionName": name, "ReservedConcurrentExecutions": 0})
            )
        out += [
            ApiCall("lambda:RemovePermission", {"FunctionName": name, "StatementId": s["Sid"]})
            for s in seen.state["foreign_statements"]
        ]
        out += [ApiCall("lambda:UpdateEventSourceMapping", {"UUID": u, "Enabled": False}) for u in _enabled(seen.state)]
        if seen.state["quarantine_tag"] != ctx.case_id:
            out.append(ApiCall("lambda:TagResource", {"Resource": seen.arn, "Tags": {QUARANTINE_TAG: ctx.case_id}}))
        return out

    def apply(self, ctx: ActionContext, params: FunctionParams, seen: Observation) -> dict[str, Any]:
        """Only what does not hold yet, so a run interrupted between these calls is finished without repeats."""
        lam, s = ctx.client("lambda"), seen.state
        if s["reserved_concurrency"] != 0:
            lam.put_function_concurrency(FunctionName=params.function_name, ReservedConcurrentExecutions=0)
        for statement in s["foreign_statements"]:
            lam.remove_permission(FunctionName=params.function_name, StatementId=statement["Sid"])
        for uuid in _enabled(s):
            lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        if s["quarantine_tag"] != ctx.case_id:
            lam.tag_resource(Resource=seen.arn, Tags={QUARANTINE_TAG: ctx.case_id})
        return {}

    def undo_params(self, params: FunctionParams, seen: Observation) -> dict[str, Any]:
        return {
            "function_name": params.function_name,
            "reserved_concurrency": seen.state["reserved_concurrency"],
            "statements": seen.state["foreign_statements"],
            "mapping_uuids": _enabled(seen.state),
        }


@dataclass(frozen=True)
class UnquarantineParams(ActionParams):
    function_name: str = field(metadata={"doc": "Lambda function name or ARN"})
    reserved_concurrency: int | None = field(default=None, metadata={"doc": "concurrency to restore; none: unreserved"})
    statements: list[dict[str, Any]] = field(default_factory=list, metadata={"doc": "policy statements to put back"})
    mapping_uuids: list[str] = field(default_factory=list, metadata={"doc": "event source mappings to enable"})


@register
class UnquarantineFunction(Action[UnquarantineParams]):
    """Undo `lambda.quarantine_function`: concurrency, policy statements and triggers as they were.

    ```yaml
    - id: release-function
      action: lambda.unquarantine_function
      with: {function_name: my-function, reserved_concurrency: 5}
    ```
    """

    name = "lambda.unquarantine_function"
    restores_access = True
    Params = UnquarantineParams
    mutating = True
    summary = "Release Lambda function {function_name} from quarantine"
    no_undo_reason = "it is itself the undo of lambda.quarantine_function"
    permissions = (
        Permission(
            READ
            + (
                "lambda:GetFunctionConcurrency",
                "lambda:PutFunctionConcurrency",
                "lambda:DeleteFunctionConcurrency",
                "lambda:AddPermission",
                "lambda:UntagResource",
            ),
            (FUNCTION_ARN,),
        ),
        MAPPINGS_LIST,
        Permission(("lambda:UpdateEventSourceMapping",), (MAPPING_ARN,)),
    )

    def _todo(self, state: dict[str, Any], params: UnquarantineParams) -> tuple[list[str], list[dict[str, Any]]]:
        enabled = _enabled(state)
        mappings_off = [u for u in params.mapping_uuids if u not in enabled]
        missing = [s for s in params.statements if s["Sid"] not in state["statement_ids"]]
        return mappings_off, missing

    def observe(self, ctx: ActionContext, params: UnquarantineParams) -> Observation:
        _, seen = function_state(ctx, params.function_name)
        seen.state["statement_ids"] = sorted(s.get("Sid", "") for s in policy_statements(ctx, params.function_name))
        off, missing = self._todo(seen.state, params)
        seen.done = (
            seen.state["reserved_concurrency"] == params.reserved_concurrency
            and not off
            and not missing
            and seen.state["quarantine_tag"] is None
        )
        return seen

    def calls(self, ctx: ActionContext, params: UnquarantineParams, seen: Observation) -> list[ApiCall]:
        name = params.function_name
        off, missing = self._todo(seen.state, params)
        if params.reserved_concurrency is None:
            out = [ApiCall("lambda:DeleteFunctionConcurrency", {"FunctionName": name})]
        else:
            concurrency = {"FunctionName": name, "ReservedConcurrentExecutions": params.reserved_concurrency}
            out = [ApiCall("lambda:PutFunctionConcurrency", concurrency)]
        out += [ApiCall("lambda:AddPermission", add_permission_args(s, name)) for s in missing]
        out += [ApiCall("lambda:UpdateEventSourceMapping", {"UUID": u, "Enabled": True}) for u in off]
        out.append(ApiCall("lambda:UntagResource", {"Resource": seen.arn, "TagKeys": [QUARANTINE_TAG]}))
        return out

    def apply(self, ctx: ActionContext, params: UnquarantineParams, seen: Observation) -> dict[str, Any]:
        lam = ctx.client("lambda")
        name = params.function_name
        if params.reserved_concurrency is None:
            lam.delete_function_concurrency(FunctionName=name)
        else:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=params.reserved_concurrency)
        off, missing = self._todo(seen.state, params)
        restore_statements(ctx, name, missing)
        for uuid in off:
            lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        lam.untag_resource(Resource=seen.arn, TagKeys=[QUARANTINE_TAG])
        return {}
