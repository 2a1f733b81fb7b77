"""ECS containment: capture a task and its definition, cut its network interface off, stop it.

A task on Fargate (and any task in `awsvpc` mode) has one network interface of its own, so it is
isolated as an instance is: its interface moves to the VPC's `parry-isolation` security group (no
rules at all). Stopping is the last resort, for a person to approve: ECS cannot restart a stopped
task, it can only start a new one from the definition, and a service does that by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions._common import tag_dict
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.ec2 import (
    ENI_ARN,
    ISOLATION_GROUP,
    SG_ARN,
    VPC_ARN,
    ensure_isolation_group,
    isolation_group,
    isolation_group_calls,
)
from parry.actions.evidence import Capture
from parry.actions.registry import register
from parry.errors import ResourceNotFound

TASK_ARN = "arn:{partition}:ecs:{region}:{account}:task/*"
DESCRIBE_TASKS = Permission(("ecs:DescribeTasks",), (TASK_ARN,))
# DescribeTaskDefinition and EC2's Describe* calls have no resource-level permissions
DESCRIBE_DEFINITION = Permission(("ecs:DescribeTaskDefinition",))
DESCRIBE_NETWORK = Permission(("ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups"))


@dataclass(frozen=True)
class TaskParams(ActionParams):
    cluster: str = field(metadata={"doc": "ECS cluster name or ARN"})
    task: str = field(metadata={"doc": "ECS task ARN (or id)"})


def describe_task(ctx: ActionContext, cluster: str, task: str) -> dict[str, Any]:
    """DescribeTasks for one task, with its tags; ResourceNotFound when ECS does not know it."""
    found = ctx.client("ecs").describe_tasks(cluster=cluster, tasks=[task], include=["TAGS"])
    if not found.get("tasks"):
        raise ResourceNotFound(f"ECS task {task} does not exist in cluster {cluster}")
    return found["tasks"][0]


def task_interface(task: dict[str, Any]) -> str | None:
    """The task's own network interface (awsvpc mode); None for a task on its host's network, or stopped."""
    for attachment in task.get("attachments") or []:
        if attachment.get("type") == "ElasticNetworkInterface" and attachment.get("status") != "DELETED":
            for detail in attachment.get("details") or []:
                if detail.get("name") == "networkInterfaceId":
                    return str(detail["value"])
    return None


def _task_observation(ctx: ActionContext, params: TaskParams) -> tuple[Observation, dict[str, Any]]:
    task = describe_task(ctx, params.cluster, params.task)
    tags = tag_dict(task.get("tags"), "key", "value")
    return Observation(state={}, arn=task["taskArn"], tags=tags), task


@register
class CaptureEcsTask(Capture[TaskParams]):
    """Store an ECS task's description and its task definition as evidence.

    ```yaml
    - id: capture-task
      action: evidence.capture_ecs_task
      with: {cluster: "${target.cluster}", task: "${target.task}"}
    ```
    """

    name = "evidence.capture_ecs_task"
    Params = TaskParams
    summary = "Capture ECS task {task} and its task definition: containers, images, network, role"
    artifact_name = "task.json"
    permissions = (DESCRIBE_TASKS, DESCRIBE_DEFINITION)

    def observe(self, ctx: ActionContext, params: TaskParams) -> Observation:
        seen, task = _task_observation(ctx, params)
        definition = ctx.client("ecs").describe_task_definition(
            taskDefinition=task["taskDefinitionArn"], include=["TAGS"]
        )
        definition.pop("ResponseMetadata", None)
        seen.state = {"task": task, "task_definition": definition}
        seen.done = self.stored(ctx)
        return seen


def _network_state(ctx: ActionContext, params: TaskParams) -> Observation:
    """The task's interface, its groups and the VPC's isolation group, as one observation."""
    seen, task = _task_observation(ctx, params)
    eni = task_interface(task)
    state: dict[str, Any] = {"task": task["taskArn"], "last_status": task.get("lastStatus"), "network_interface": eni}
    if eni is not None:
        interface = ctx.client("ec2").describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
        group = isolation_group(ctx, interface["VpcId"])
        state |= {
            "vpc_id": interface["VpcId"],
            "groups": sorted(g["GroupId"] for g in interface["Groups"]),
            "isolation_group": group["GroupId"] if group else None,
            "isolation_group_rules": len(group.get("IpPermissions", []) + group.get("IpPermissionsEgress", []))
            if group
            else 0,
        }
    seen.state = state
    return seen


def task_isolation_gaps(s: dict[str, Any]) -> list[str]:
    """What keeps the task of network state `s` from being isolated, one item per open path."""
    if s["network_interface"] is None:
        return [] if s["last_status"] == "STOPPED" else [f"task {s['task']} has no network interface of its own"]
    gaps = []
    if not s["isolation_group"] or s["groups"] != [s["isolation_group"]]:
        others = [g for g in s["groups"] if g != s["isolation_group"]]
        gaps.append(f"{s['network_interface']} still in {', '.join(others) or 'no isolation group'}")
    if s["isolation_group_rules"]:
        gaps.append(f"{s['isolation_group']} ({ISOLATION_GROUP}) has {s['isolation_group_rules']} rule(s)")
    return gaps


@register
class IsolateEcsTask(Action[TaskParams]):
    """Cut a task's network interface off: it moves to the VPC's `parry-isolation` group (no rules).

    The task keeps running for forensics (its memory and processes), as an isolated instance does. A
    task without an interface of its own (bridge or host network mode on EC2) cannot be isolated
    alone: the step says so, and the host instance is the one to isolate.

    ```yaml
    - id: isolate-task
      action: ecs.isolate_task
      with: {cluster: "${target.cluster}", task: "${target.task}"}
    ```
    """

    name = "ecs.isolate_task"
    Params = TaskParams
    mutating = True
    summary = "Isolate ECS task {task}: its network interface into the isolation security group"
    undo = "ecs.unisolate_task"
    permissions = (
        DESCRIBE_TASKS,
        DESCRIBE_NETWORK,
        Permission(("ec2:CreateSecurityGroup",), (SG_ARN, VPC_ARN)),
        Permission(("ec2:CreateTags",), (SG_ARN,)),
        Permission(("ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress"), (SG_ARN,)),
        Permission(("ec2:ModifyNetworkInterfaceAttribute",), (ENI_ARN, SG_ARN)),
    )

    def observe(self, ctx: ActionContext, params: TaskParams) -> Observation:
        seen = _network_state(ctx, params)
        seen.done = seen.state["network_interface"] is not None and not task_isolation_gaps(seen.state)
        return seen

    def unmet(self, ctx: ActionContext, params: TaskParams, after: Observation) -> list[str]:
        return task_isolation_gaps(after.state)

    def calls(self, ctx: ActionContext, params: TaskParams, seen: Observation) -> list[ApiCall]:
        s = seen.state
        if s["network_interface"] is None:
            return []
        iso = s["isolation_group"] or f"<new {ISOLATION_GROUP} group>"
        return isolation_group_calls(s) + [
            ApiCall(
                "ec2:ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": s["network_interface"], "Groups": [iso]}
            )
        ]

    def apply(self, ctx: ActionContext, params: TaskParams, seen: Observation) -> dict[str, Any]:
        s = seen.state
        if s["network_interface"] is None:
            return {}  # nothing to move: unmet names it
        iso = ensure_isolation_group(ctx, s["vpc_id"])
        ctx.client("ec2").modify_network_interface_attribute(NetworkInterfaceId=s["network_interface"], Groups=[iso])
        return {"isolation_group": iso}

    def undo_params(self, params: TaskParams, seen: Observation) -> dict[str, Any]:
        return {"cluster": params.cluster, "task": params.task, "groups": seen.state.get("groups") or []}


@dataclass(frozen=True)
class UnisolateTaskParams(TaskParams):
    groups: list[str] = field(default_factory=list, metadata={"doc": "the security groups the interface had"})


@register
class UnisolateEcsTask(Action[UnisolateTaskParams]):
    """Put a task's network interface back in the groups it had (the undo of `ecs.isolate_task`).

    A task stopped since has no interface any more: there is nothing to put back, and the step is a no-op.

    ```yaml
    - id: unisolate-task
      action: ecs.unisolate_task
      with: {cluster: "${target.cluster}", task: "${target.task}", groups: [sg-0123456789abcdef0]}
    ```
    """

    name = "ecs.unisolate_task"
    Params = UnisolateTaskParams
    mutating = True
    restores_access = True
    summary = "Put ECS task {task}'s network interface back in {groups}"
    no_undo_reason = "it is the undo of ecs.isolate_task"
    permissions = (
        DESCRIBE_TASKS,
        DESCRIBE_NETWORK,
        Permission(("ec2:ModifyNetworkInterfaceAttribute",), (ENI_ARN, SG_ARN)),
    )

    def observe(self, ctx: ActionContext, params: UnisolateTaskParams) -> Observation:
        seen = _network_state(ctx, params)
        s = seen.state
        seen.done = s["network_interface"] is None or s["groups"] == sorted(params.groups)
        return seen

    def calls(self, ctx: ActionContext, params: UnisolateTaskParams, seen: Observation) -> list[ApiCall]:
        eni = seen.state["network_interface"]
        return [ApiCall("ec2:ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": eni, "Groups": params.groups})]

    def apply(self, ctx: ActionContext, params: UnisolateTaskParams, seen: Observation) -> dict[str, Any]:
        eni = seen.state["network_interface"]
        ctx.client("ec2").modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=params.groups)
        return {}


@dataclass(frozen=True)
class StopTaskParams(TaskParams):
    reason: str | None = field(default=None, metadata={"doc": "why, as ECS records it (default: the case id)"})


@register
class StopEcsTask(Action[StopTaskParams]):
    """Stop an ECS task: its containers get SIGTERM, then SIGKILL after their stop timeout.

    Put it behind `approval: required`: what ran in memory is gone once it stops, so capture and
    isolate first. A task a service runs is replaced by the service with a new task from the same
    definition (and the same image, if that is what was compromised).

    ```yaml
    - id: stop-task
      action: ecs.stop_task
      approval: required
      with: {cluster: "${target.cluster}", task: "${target.task}"}
    ```
    """

    name = "ecs.stop_task"
    Params = StopTaskParams
    mutating = True
    summary = "Stop ECS task {task} in cluster {cluster}"
    no_undo_reason = (
        "a stopped task cannot be restarted: ECS can only start a new task (a new id, fresh containers) "
        "from its definition"
    )
    permissions = (DESCRIBE_TASKS, Permission(("ecs:StopTask",), (TASK_ARN,)))

    def observe(self, ctx: ActionContext, params: StopTaskParams) -> Observation:
        seen, task = _task_observation(ctx, params)
        seen.state = {
            "task": task["taskArn"],
            "last_status": task.get("lastStatus"),
            "desired_status": task.get("desiredStatus"),
        }
        seen.done = "STOPPED" in (task.get("lastStatus"), task.get("desiredStatus"))
        return seen

    def _reason(self, ctx: ActionContext, params: StopTaskParams) -> str:
        return (params.reason or f"Parry case {ctx.case_id}")[:255]

    def calls(self, ctx: ActionContext, params: StopTaskParams, seen: Observation) -> list[ApiCall]:
        return [
            ApiCall(
                "ecs:StopTask", {"cluster": params.cluster, "task": params.task, "reason": self._reason(ctx, params)}
            )
        ]

    def apply(self, ctx: ActionContext, params: StopTaskParams, seen: Observation) -> dict[str, Any]:
        ctx.client("ecs").stop_task(cluster=params.cluster, task=params.task, reason=self._reason(ctx, params))
        return {}
