"""What feeds and extends a function from outside: event source mappings and shared layer versions.

An event source mapping reading another account's queue or stream lets that account decide what the
function processes: disabling it (UpdateEventSourceMapping Enabled=false) stops that without losing
the mapping, and undo enables it again. A layer version shared with `*` lets anyone download its code:
removing that one statement (RemoveLayerVersionPermission) closes it, and undo adds it back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.evidence import Capture
from parry.actions.lambda_ import FUNCTION_ARN, MAPPING_ARN
from parry.actions.registry import register
from parry.errors import ResourceNotFound

LAYER_VERSION_ARN = "arn:{partition}:lambda:{region}:{account}:layer:*:*"
# UpdateEventSourceMapping's states: a mapping that is turning off, or on, counts as off or on
OFF_STATES = ("Disabled", "Disabling")
ON_STATES = ("Enabled", "Enabling")
ORG_CONDITION = "aws:PrincipalOrgID"


# ---- event source mappings -----------------------------------------------------------------------


@dataclass(frozen=True)
class MappingParams(ActionParams):
    uuid: str = field(metadata={"doc": "the event source mapping's UUID"})


def get_mapping(ctx: ActionContext, uuid: str) -> dict[str, Any]:
    """GetEventSourceMapping's answer (without ResponseMetadata); ResourceNotFound if there is none."""
    lam = ctx.client("lambda")
    try:
        mapping = lam.get_event_source_mapping(UUID=uuid)
    except lam.exceptions.ResourceNotFoundException as exc:
        raise ResourceNotFound(f"event source mapping {uuid} does not exist") from exc
    mapping.pop("ResponseMetadata", None)
    return mapping


class _SetMappingEnabled(Action[MappingParams]):
    """Turn an event source mapping off or on; the subclasses name which."""

    enabled: ClassVar[bool]
    Params = MappingParams
    mutating = True
    # the function's tags are what the protection check reads: a protected function keeps its triggers
    permissions = (
        Permission(("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"), (MAPPING_ARN,)),
        Permission(("lambda:GetFunction",), (FUNCTION_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: MappingParams) -> Observation:
        mapping = get_mapping(ctx, params.uuid)
        function = ctx.client("lambda").get_function(FunctionName=mapping["FunctionArn"])
        arn = mapping.get("EventSourceMappingArn") or mapping["FunctionArn"]
        done = mapping.get("State") in (ON_STATES if self.enabled else OFF_STATES)
        return Observation(state={"mapping": mapping}, arn=arn, tags=function.get("Tags") or {}, done=done)

    def calls(self, ctx: ActionContext, params: MappingParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("lambda:UpdateEventSourceMapping", {"UUID": params.uuid, "Enabled": self.enabled})]

    def apply(self, ctx: ActionContext, params: MappingParams, seen: Observation) -> dict[str, Any]:
        answer = ctx.client("lambda").update_event_source_mapping(UUID=params.uuid, Enabled=self.enabled)
        return {"state": answer.get("State")}


@register
class DisableEventSourceMapping(_SetMappingEnabled):
    """Stop an event source mapping from invoking its function, keeping the mapping to enable again.

    ```yaml
    - id: disable-mapping
      action: lambda.disable_event_source_mapping
      approval: required
      with: {uuid: 14e0db71-5d35-4eb5-b481-8945cf9d10c2}
    ```
    """

    name = "lambda.disable_event_source_mapping"
    enabled = False
    summary = "Disable event source mapping {uuid}: its queue or stream no longer invokes the function"
    undo = "lambda.enable_event_source_mapping"


@register
class EnableEventSourceMapping(_SetMappingEnabled):
    """Let an event source mapping invoke its function again: the undo of `lambda.disable_event_source_mapping`.

    ```yaml
    - id: enable-mapping
      action: lambda.enable_event_source_mapping
      with: {uuid: 14e0db71-5d35-4eb5-b481-8945cf9d10c2}
    ```
    """

    name = "lambda.enable_event_source_mapping"
    enabled = True
    restores_access = True
    summary = "Enable event source mapping {uuid} again"
    no_undo_reason = "it is itself the undo of lambda.disable_event_source_mapping"


# ---- layer version permissions -------------------------------------------------------------------


@dataclass(frozen=True)
class LayerVersionParams(ActionParams):
    layer_name: str = field(metadata={"doc": "the layer's name or ARN"})
    version_number: int = field(metadata={"doc": "the layer version"})


def layer_version(ctx: ActionContext, params: LayerVersionParams) -> dict[str, Any]:
    """GetLayerVersion's answer without the code's pre-signed URL (a credential); ResourceNotFound if none."""
    lam = ctx.client("lambda")
    try:
        answer = lam.get_layer_version(LayerName=params.layer_name, VersionNumber=params.version_number)
    except lam.exceptions.ResourceNotFoundException as exc:
        raise ResourceNotFound(f"layer {params.layer_name} has no version {params.version_number}") from exc
    answer.pop("ResponseMetadata", None)
    answer["Content"] = {k: v for k, v in (answer.get("Content") or {}).items() if k != "Location"}
    return answer


def layer_statements(ctx: ActionContext, params: LayerVersionParams) -> list[dict[str, Any]]:
    lam = ctx.client("lambda")
    try:
        policy = lam.get_layer_version_policy(LayerName=params.layer_name, VersionNumber=params.version_number)
    except lam.exceptions.ResourceNotFoundException:
        return []  # a layer version nobody else may use has no policy
    return list(json.loads(policy["Policy"]).get("Statement", []))


def is_public(statement: dict[str, Any]) -> bool:
    """Shared with everyone: principal `*` (or {"AWS": "*"}) not narrowed to an organization."""
    who = statement.get("Principal")
    if isinstance(who, dict):
        who = who.get("AWS")
    conditions = statement.get("Condition") or {}
    in_org = any(k.lower() == ORG_CONDITION.lower() for block in conditions.values() for k in block)
    return who == "*" and statement.get("Effect", "Allow") == "Allow" and not in_org


@dataclass(frozen=True)
class LayerPermissionParams(LayerVersionParams):
    statement_id: str = field(metadata={"doc": "the permission's StatementId"})


@register
class RemoveLayerPermission(Action[LayerPermissionParams]):
    """Remove a statement that shares a layer version with everyone, by its StatementId.

    A statement with that id that no longer shares with everyone (replaced since) is left alone.

    ```yaml
    - id: unshare-layer
      action: lambda.remove_layer_permission
      approval: required
      with: {layer_name: my-layer, version_number: 3, statement_id: public}
    ```
    """

    name = "lambda.remove_layer_permission"
    Params = LayerPermissionParams
    mutating = True
    summary = "Remove statement {statement_id} sharing version {version_number} of layer {layer_name} with everyone"
    undo = "lambda.add_layer_permission"
    permissions = (
        Permission(
            ("lambda:GetLayerVersion", "lambda:GetLayerVersionPolicy", "lambda:RemoveLayerVersionPermission"),
            (LAYER_VERSION_ARN,),
        ),
    )

    def observe(self, ctx: ActionContext, params: LayerPermissionParams) -> Observation:
        arn = layer_version(ctx, params)["LayerVersionArn"]
        found = [s for s in layer_statements(ctx, params) if s.get("Sid") == params.statement_id]
        statement = found[0] if found else None
        state = {"layer_version_arn": arn, "statement": statement}
        return Observation(state=state, arn=arn, done=statement is None or not is_public(statement))

    def calls(self, ctx: ActionContext, params: LayerPermissionParams, seen: Observation) -> list[ApiCall]:
        args = {"LayerName": params.layer_name, "VersionNumber": params.version_number}
        return [ApiCall("lambda:RemoveLayerVersionPermission", {**args, "StatementId": params.statement_id})]

    def apply(self, ctx: ActionContext, params: LayerPermissionParams, seen: Observation) -> dict[str, Any]:
        ctx.client("lambda").remove_layer_version_permission(
            LayerName=params.layer_name, VersionNumber=params.version_number, StatementId=params.statement_id
        )
        return {}

    def undo_params(self, params: LayerPermissionParams, seen: Observation) -> dict[str, Any]:
        statement = seen.state["statement"] or {}
        action = statement.get("Action", "lambda:GetLayerVersion")
        return {
            "layer_name": params.layer_name,
            "version_number": params.version_number,
            "statement_id": params.statement_id,
            "action": action[0] if isinstance(action, list) else action,
        }


@dataclass(frozen=True)
class AddLayerPermissionParams(LayerPermissionParams):
    action: str = field(default="lambda:GetLayerVersion", metadata={"doc": "the action the statement allows"})


@register
class AddLayerPermission(Action[AddLayerPermissionParams]):
    """Share a layer version with everyone again: the undo of `lambda.remove_layer_permission`.

    ```yaml
    - id: reshare-layer
      action: lambda.add_layer_permission
      with: {layer_name: my-layer, version_number: 3, statement_id: public}
    ```
    """

    name = "lambda.add_layer_permission"
    Params = AddLayerPermissionParams
    mutating = True
    restores_access = True
    summary = "Share version {version_number} of layer {layer_name} with everyone again (statement {statement_id})"
    no_undo_reason = "it is itself the undo of lambda.remove_layer_permission"
    permissions = (
        Permission(
            ("lambda:GetLayerVersion", "lambda:GetLayerVersionPolicy", "lambda:AddLayerVersionPermission"),
            (LAYER_VERSION_ARN,),
        ),
    )

    def observe(self, ctx: ActionContext, params: AddLayerPermissionParams) -> Observation:
        arn = layer_version(ctx, params)["LayerVersionArn"]
        sids = sorted(str(s.get("Sid")) for s in layer_statements(ctx, params))
        state = {"layer_version_arn": arn, "statement_ids": sids}
        return Observation(state=state, arn=arn, done=params.statement_id in sids)

    def _args(self, params: AddLayerPermissionParams) -> dict[str, Any]:
        return {
            "LayerName": params.layer_name,
            "VersionNumber": params.version_number,
            "StatementId": params.statement_id,
            "Action": params.action,
            "Principal": "*",
        }

    def calls(self, ctx: ActionContext, params: AddLayerPermissionParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("lambda:AddLayerVersionPermission", self._args(params))]

    def apply(self, ctx: ActionContext, params: AddLayerPermissionParams, seen: Observation) -> dict[str, Any]:
        ctx.client("lambda").add_layer_version_permission(**self._args(params))
        return {}


@register
class CaptureLayerVersion(Capture[LayerVersionParams]):
    """Store a layer version's description (its CodeSha256, never the code's URL) and its permissions.

    ```yaml
    - id: capture-layer
      action: evidence.capture_layer_version
      with: {layer_name: my-layer, version_number: 3}
    ```
    """

    name = "evidence.capture_layer_version"
    Params = LayerVersionParams
    summary = "Capture version {version_number} of layer {layer_name}: description, code hash and permissions"
    artifact_name = "layer-version.json"
    permissions = (Permission(("lambda:GetLayerVersion", "lambda:GetLayerVersionPolicy"), (LAYER_VERSION_ARN,)),)

    def observe(self, ctx: ActionContext, params: LayerVersionParams) -> Observation:
        version = layer_version(ctx, params)
        state = {"layer_version": version, "permissions": layer_statements(ctx, params)}
        return Observation(state=state, arn=version["LayerVersionArn"], done=self.stored(ctx))
