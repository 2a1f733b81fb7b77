"""An attack sequence's resources, each contained in its own account and region by the action for its kind.

GuardDuty Extended Threat Detection names several resources in one finding (access keys, users,
roles, instances, buckets, ECS tasks, EKS clusters), each with its own `accountId` and `region`. A
playbook has no loops, so one step takes the list (`finding.resources`) and runs, per resource, the
action Parry has for its kind, through the engine (`ActionContext.run`): each part is idempotent,
refuses protected resources, records its before and after state and checks its post-condition as a
step would. Its undo is the list of its parts' undos, each in its own place.

A resource outside the regions Parry acts in, or in an account Parry has no role in, is refused by
name; the others are still contained, and the step reports the refusal as not contained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions import ec2, ecs, eks, iam, iam_roles, s3
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.registry import build_params, get, register
from parry.aws.errors import describe_error
from parry.errors import ActionError, ParryError

# what Parry does to a resource of each kind an attack sequence names
CONTAINS: dict[str, type[Action[Any]]] = {
    "AwsIamAccessKey": iam.DeactivateAccessKey,
    "AwsIamUser": iam.QuarantineUser,
    "AwsIamRole": iam_roles.RevokeRoleSessions,
    "AwsEc2Instance": ec2.IsolateInstance,
    "AwsS3Bucket": s3.BlockPublicAccess,
    "AwsEcsTask": ecs.IsolateEcsTask,
    "AwsEksCluster": eks.CaptureEksCluster,  # captured and reported: AWS APIs do not reach its pods
}
KEY_OWNER = Permission(("iam:GetAccessKeyLastUsed",), (iam.USER_ARN,))


def _union(actions: list[type[Action[Any]]]) -> tuple[Permission, ...]:
    found: list[Permission] = []
    for action in actions:
        found += [p for p in action.permissions if p not in found]
    return tuple(found)


def _last(ident: str) -> str:
    """A name from an ARN (`arn:...:instance/i-0abc` is `i-0abc`) or the name itself."""
    return ident.rsplit("/", 1)[-1] if ident.startswith("arn:") else ident


def _params(ctx: ActionContext, kind: str, ident: str) -> dict[str, Any]:
    """The parameters of `CONTAINS[kind]` for resource `ident`; ActionError when it cannot be contained so."""
    if kind == "AwsIamAccessKey":
        if ident.startswith("ASIA"):
            raise ActionError("temporary credentials of a role session: contained through the role, not the key")
        user = ctx.client("iam").get_access_key_last_used(AccessKeyId=ident).get("UserName")
        if not user:
            raise ActionError("IAM names no user for this key")
        return {"user_name": user, "access_key_id": ident}
    if kind == "AwsIamUser":
        return {"user_name": _last(ident)}
    if kind == "AwsIamRole":
        return {"role_name": _last(ident)}
    if kind == "AwsEc2Instance":
        return {"instance_id": _last(ident)}
    if kind == "AwsS3Bucket":
        return {"bucket": ident.removeprefix("arn:aws:s3:::").split(":::")[-1]}
    if kind == "AwsEcsTask":
        parts = ident.split(":task/", 1)[-1].split("/")
        if len(parts) != 2:
            raise ActionError("the task's ARN does not name its cluster")
        return {"cluster": parts[0], "task": ident}
    return {"cluster": _last(ident)}


@dataclass(frozen=True)
class SequenceParams(ActionParams):
    resources: list[dict[str, Any]] = field(
        metadata={"doc": "the finding's resources (`${finding.resources}`): type, id, account, region"}
    )


def _part(ctx: ActionContext, index: int, resource: dict[str, Any]) -> dict[str, Any]:
    """What one resource is, where, and what Parry would do to it as things are (read-only)."""
    kind, ident = str(resource.get("type", "")), str(resource.get("id", ""))
    entry: dict[str, Any] = {
        "type": kind,
        "id": ident,
        "account": resource.get("account"),
        "region": resource.get("region"),
    }
    action = CONTAINS.get(kind)
    if action is None:
        entry["reason"] = f"{kind or 'a resource'} is not a kind Parry contains: left to the on-call"
        return entry
    if ctx.elsewhere is None:
        raise ActionError("sequence.contain runs only in a case (the engine places each resource)")
    try:
        sub = ctx.elsewhere(entry["account"], entry["region"], str(index))
        params = _params(sub, kind, ident)
        seen = action().observe(sub, build_params(action, params))
    except ParryError as exc:
        entry["refused"] = str(exc)
        return entry
    except Exception as exc:  # an AWS error while reading: named, the other resources go on
        entry["refused"] = describe_error(exc)
        return entry
    entry |= {"action": action.name, "params": params, "state": seen.state, "done": seen.done}
    if action.mutating and action.undo and not seen.done:
        entry["undo"] = {"action": action.undo, "params": action().undo_params(build_params(action, params), seen)}
    return entry


def _where(entry: dict[str, Any]) -> str:
    return f"{entry['type']} {entry['id'][:200]} ({entry['account']}, {entry['region']})"


def _run_parts(ctx: ActionContext, parts: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each part through the engine in its own place: its result (status, before, after, unmet)."""
    if ctx.run is None or ctx.elsewhere is None:
        raise ActionError("sequence actions run only in a case")
    results = []
    for index, entry in parts:
        action = get(entry["action"])
        sub = ctx.elsewhere(entry["account"], entry["region"], str(index))
        result = ctx.run(action(), sub, build_params(action, entry["params"]))
        results.append(
            {"resource": _where(entry), **{k: result.get(k) for k in ("status", "summary", "error", "unmet")}}
        )
    return results


def _part_calls(ctx: ActionContext, entries: list[dict[str, Any]]) -> list[ApiCall]:
    """The calls the parts still to do would make, each from the state it was seen in."""
    out = []
    for index, entry in enumerate(entries):
        if "action" in entry and "refused" not in entry and not entry["done"] and ctx.elsewhere is not None:
            action = get(entry["action"])
            sub = ctx.elsewhere(entry["account"], entry["region"], str(index))
            out += action().calls(sub, build_params(action, entry["params"]), Observation(state=entry["state"]))
    return out


@register
class ContainSequence(Action[SequenceParams]):
    """Contain each resource of an attack sequence in its own account and region, with the action for its kind.

    Access keys are deactivated, IAM users quarantined, roles' sessions revoked, instances and ECS
    tasks isolated, buckets' public access blocked, EKS clusters captured (their pods are beyond AWS
    APIs). Other kinds, and temporary keys, are listed for the on-call. Put it behind
    `approval: required`: it changes several resources at once.

    ```yaml
    - id: contain
      action: sequence.contain
      approval: required
      on_error: continue
      with: {resources: "${finding.resources}"}
    ```
    """

    name = "sequence.contain"
    Params = SequenceParams
    mutating = True
    summary = "Contain each resource of the attack sequence in its own account and region"
    undo = "sequence.release"
    permissions = (KEY_OWNER, *_union(list(CONTAINS.values())))

    def observe(self, ctx: ActionContext, params: SequenceParams) -> Observation:
        parts = [_part(ctx, i, r) for i, r in enumerate(params.resources)]
        return Observation(state={"resources": parts}, done=all(p["done"] for p in parts if "action" in p))

    def calls(self, ctx: ActionContext, params: SequenceParams, seen: Observation) -> list[ApiCall]:
        return _part_calls(ctx, seen.state["resources"])

    def apply(self, ctx: ActionContext, params: SequenceParams, seen: Observation) -> dict[str, Any]:
        todo = [(i, e) for i, e in enumerate(seen.state["resources"]) if "action" in e and not e["done"]]
        left = [{"resource": _where(e), "why": e["reason"]} for e in seen.state["resources"] if "reason" in e]
        return {"parts": _run_parts(ctx, todo), "left_to_the_on_call": left}

    def unmet(self, ctx: ActionContext, params: SequenceParams, after: Observation) -> list[str]:
        gaps = []
        for entry in after.state["resources"]:
            if "refused" in entry:
                gaps.append(f"{_where(entry)} refused: {entry['refused']}")
            elif "action" in entry and not entry["done"]:
                gaps.append(f"{_where(entry)}: {entry['action']} not in effect after the change")
        return gaps

    def undo_params(self, params: SequenceParams, seen: Observation) -> dict[str, Any]:
        steps = [
            {k: e[k] for k in ("type", "id", "account", "region")} | e["undo"]
            for e in seen.state["resources"]
            if "undo" in e
        ]
        return {"steps": steps}


@dataclass(frozen=True)
class ReleaseParams(ActionParams):
    steps: list[dict[str, Any]] = field(metadata={"doc": "each part's undo: type, id, account, region, action, params"})


@register
class ReleaseSequence(Action[ReleaseParams]):
    """Undo `sequence.contain`: each part's own undo, in that resource's account and region.

    ```yaml
    - id: release
      action: sequence.release
      with:
        steps:
          - {type: AwsIamAccessKey, id: AKIAEXAMPLE, account: "123456789012", region: global,
             action: iam.activate_access_key, params: {user_name: alice, access_key_id: AKIAEXAMPLE}}
    ```
    """

    name = "sequence.release"
    Params = ReleaseParams
    mutating = True
    restores_access = True
    summary = "Undo the containment of the attack sequence's resources, each in its own account and region"
    no_undo_reason = "it is the undo of sequence.contain"
    permissions = _union(
        [
            iam.ActivateAccessKey,
            iam.UnquarantineUser,
            iam_roles.RestoreRoleSessions,
            ec2.UnisolateInstance,
            s3.RestorePublicAccessBlock,
            ecs.UnisolateEcsTask,
        ]
    )

    def observe(self, ctx: ActionContext, params: ReleaseParams) -> Observation:
        parts = []
        for index, step in enumerate(params.steps):
            entry = dict(step)
            try:
                if ctx.elsewhere is None:
                    raise ActionError("sequence actions run only in a case")
                action = get(step["action"])
                sub = ctx.elsewhere(step.get("account"), step.get("region"), str(index))
                seen = action().observe(sub, build_params(action, step["params"]))
                entry |= {"state": seen.state, "done": seen.done}
            except ParryError as exc:
                entry["refused"] = str(exc)
            parts.append(entry)
        return Observation(state={"resources": parts}, done=all(p["done"] for p in parts if "refused" not in p))

    def calls(self, ctx: ActionContext, params: ReleaseParams, seen: Observation) -> list[ApiCall]:
        return _part_calls(ctx, seen.state["resources"])

    def apply(self, ctx: ActionContext, params: ReleaseParams, seen: Observation) -> dict[str, Any]:
        todo = [(i, e) for i, e in enumerate(seen.state["resources"]) if "refused" not in e and not e["done"]]
        return {"parts": _run_parts(ctx, todo)}

    def unmet(self, ctx: ActionContext, params: ReleaseParams, after: Observation) -> list[str]:
        return ContainSequence().unmet(ctx, ContainSequence.Params(resources=[]), after)
