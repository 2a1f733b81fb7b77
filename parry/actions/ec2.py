"""EC2 containment: cut an instance off the network and from its role, keeping it for forensics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions._common import tag_dict
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.registry import register
from parry.aws.arns import partition
from parry.aws.errors import error_code
from parry.errors import ResourceNotFound

INSTANCE_ARN = "arn:{partition}:ec2:{region}:{account}:instance/*"
SG_ARN = "arn:{partition}:ec2:{region}:{account}:security-group/*"
ENI_ARN = "arn:{partition}:ec2:{region}:{account}:network-interface/*"
VPC_ARN = "arn:{partition}:ec2:{region}:{account}:vpc/*"
ASG_ARN = "arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/*"
TG_ARN = "arn:{partition}:elasticloadbalancing:{region}:{account}:targetgroup/*/*"
ISOLATION_GROUP = "parry-isolation"
ISOLATION_TAG = "parry:isolation"
# Describe* calls of EC2, Auto Scaling and ELB have no resource-level permissions
DESCRIBE = Permission(
    (
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceAttribute",
        "ec2:DescribeSecurityGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    )
)


def describe_instance(ctx: ActionContext, instance_id: str) -> dict[str, Any]:
    """DescribeInstances for one instance; ResourceNotFound when it does not exist."""
    ec2 = ctx.client("ec2")
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except ec2.exceptions.ClientError as exc:
        if error_code(exc).startswith("InvalidInstanceID"):
            raise ResourceNotFound(f"EC2 instance {instance_id} does not exist") from exc
        raise
    instances = [i for r in reservations for i in r["Instances"]]
    if not instances or instances[0]["State"]["Name"] == "terminated":
        raise ResourceNotFound(f"EC2 instance {instance_id} does not exist")
    return instances[0]


def instance_arn(ctx: ActionContext, instance_id: str) -> str:
    return f"arn:{partition(ctx.region)}:ec2:{ctx.region}:{ctx.account}:instance/{instance_id}"


def isolation_group(ctx: ActionContext, vpc_id: str) -> dict[str, Any] | None:
    groups = ctx.client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [ISOLATION_GROUP]}]
    )["SecurityGroups"]
    return groups[0] if groups else None


def isolation_group_calls(state: dict[str, Any]) -> list[ApiCall]:
    """The calls `ensure_isolation_group` makes for the VPC's group as `state` saw it (`isolation_group`,
    `isolation_group_rules`, `vpc_id`)."""
    if not state["isolation_group"]:
        return [
            ApiCall("ec2:CreateSecurityGroup", {"GroupName": ISOLATION_GROUP, "VpcId": state["vpc_id"]}),
            # a new group allows all egress by default: that rule goes at once
            ApiCall("ec2:RevokeSecurityGroupEgress", {"GroupId": f"<new {ISOLATION_GROUP} group>"}),
        ]
    if state["isolation_group_rules"]:
        return [
            ApiCall(f"ec2:RevokeSecurityGroup{direction}", {"GroupId": state["isolation_group"]})
            for direction in ("Egress", "Ingress")
        ]
    return []


def ensure_isolation_group(ctx: ActionContext, vpc_id: str) -> str:
    """The VPC's isolation group: created once, tagged, and kept free of every rule."""
    ec2 = ctx.client("ec2")
    group = isolation_group(ctx, vpc_id)
    if group is None:
        group_id = ec2.create_security_group(
            GroupName=ISOLATION_GROUP,
            Description="Parry isolation: no inbound or outbound traffic",
            VpcId=vpc_id,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": ISOLATION_TAG, "Value": "true"}]}],
        )["GroupId"]
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    if group.get("IpPermissionsEgress"):  # a new group allows all egress by default
        ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"])
    if group.get("IpPermissions"):
        ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=group["IpPermissions"])
    return group["GroupId"]


def target_groups_of(ctx: ActionContext, instance_id: str, vpc_id: str) -> list[dict[str, Any]]:
    """The ELB target groups (of the instance's VPC) the instance is registered in, with its port."""
    elb = ctx.client("elbv2")
    out = []
    for page in elb.get_paginator("describe_target_groups").paginate():
        for tg in page["TargetGroups"]:
            if tg.get("TargetType", "instance") != "instance" or tg.get("VpcId") != vpc_id:
                continue
            health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
            for target in health:
                if target["Target"]["Id"] == instance_id:
                    out.append({"arn": tg["TargetGroupArn"], "port": target["Target"].get("Port")})
    return sorted(out, key=lambda t: (t["arn"], t["port"] or 0))


def network_state(ctx: ActionContext, instance_id: str) -> tuple[Observation, dict[str, Any]]:
    """What isolation changes, as one observation (the isolation group's id included)."""
    inst = describe_instance(ctx, instance_id)
    ec2 = ctx.client("ec2")
    attr = ec2.describe_instance_attribute
    asg = ctx.client("autoscaling").describe_auto_scaling_instances(InstanceIds=[instance_id])["AutoScalingInstances"]
    group = isolation_group(ctx, inst["VpcId"])
    state = {
        "instance_id": instance_id,
        "vpc_id": inst["VpcId"],
        "isolation_group": group["GroupId"] if group else None,
        "isolation_group_rules": len(group.get("IpPermissions", []) + group.get("IpPermissionsEgress", []))
        if group
        else 0,
        "network_interfaces": {
            eni["NetworkInterfaceId"]: sorted(g["GroupId"] for g in eni["Groups"]) for eni in inst["NetworkInterfaces"]
        },
        "group_names": {
            g["GroupId"]: g.get("GroupName", "") for eni in inst["NetworkInterfaces"] for g in eni["Groups"]
        },
        "termination_protection": attr(InstanceId=instance_id, Attribute="disableApiTermination")[
            "DisableApiTermination"
        ]["Value"],
        "shutdown_behavior": attr(InstanceId=instance_id, Attribute="instanceInitiatedShutdownBehavior")[
            "InstanceInitiatedShutdownBehavior"
        ]["Value"],
        "auto_scaling_group": asg[0]["AutoScalingGroupName"] if asg else None,
        "target_groups": target_groups_of(ctx, instance_id, inst["VpcId"]),
    }
    seen = Observation(state=state, arn=instance_arn(ctx, instance_id), tags=tag_dict(inst.get("Tags")))
    return seen, inst


def isolation_gaps(s: dict[str, Any]) -> list[str]:
    """What keeps the instance of network state `s` from being isolated, one item per open path."""
    iid, iso, names = s["instance_id"], s["isolation_group"], s.get("group_names", {})
    if not iso:
        return [f"{s['vpc_id']} has no {ISOLATION_GROUP} security group"]
    gaps = [f"{iso} ({ISOLATION_GROUP}) has {s['isolation_group_rules']} rule(s)"] if s["isolation_group_rules"] else []
    for eni, groups in s["network_interfaces"].items():
        gaps += [f"{eni} still in {g} ({names.get(g) or 'unnamed'})" for g in groups if g != iso]
        if iso not in groups:
            gaps.append(f"{eni} not in {iso} ({ISOLATION_GROUP})")
    if not s["termination_protection"]:
        gaps.append(f"{iid} has no termination protection")
    if s["shutdown_behavior"] != "stop":
        gaps.append(f"an OS shutdown would {s['shutdown_behavior']} {iid}, not stop it")
    if s["auto_scaling_group"]:
        gaps.append(f"{iid} still in Auto Scaling group {s['auto_scaling_group']}")
    gaps += [f"{iid} still registered in target group {t['arn']}" for t in s["target_groups"]]
    return gaps


def network_calls(
    iid: str,
    enis: dict[str, list[str]],
    attrs: tuple[bool, str] | None,
    asg: tuple[str, str | None],
    targets: tuple[str, list[dict[str, Any]]],
) -> list[ApiCall]:
    """The plan of an isolation or its undo: groups per interface, attributes, ASG, target groups."""
    out = [
        ApiCall("ec2:ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": e, "Groups": g}) for e, g in enis.items()
    ]
    if attrs:
        for name, value in zip(("DisableApiTermination", "InstanceInitiatedShutdownBehavior"), attrs, strict=True):
            out.append(ApiCall("ec2:ModifyInstanceAttribute", {"InstanceId": iid, name: value}))
    operation, group = asg
    if group:
        out.append(ApiCall(operation, {"AutoScalingGroupName": group, "InstanceIds": [iid]}))
    verb, groups = targets
    out += [ApiCall(f"elasticloadbalancing:{verb}Targets", {"TargetGroupArn": t["arn"], "Id": iid}) for t in groups]
    return out


def set_instance_attributes(ctx: ActionContext, instance_id: str, protect: bool, shutdown: str) -> None:
    ec2 = ctx.client("ec2")
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": protect})
    ec2.modify_instance_attribute(InstanceId=instance_id, Attribute="instanceInitiatedShutdownBehavior", Value=shutdown)


@dataclass(frozen=True)
class InstanceParams(ActionParams):
    instance_id: str = field(metadata={"doc": "EC2 instance id (i-...)"})


@register
class IsolateInstance(Action[InstanceParams]):
    """Cut an instance off the network, keeping it running for forensics.

    Every network interface moves to the VPC's `parry-isolation` security group (no rules at all,
    created once and reused); termination protection goes on and an OS shutdown only stops it; it
    leaves its Auto Scaling group (which launches a replacement) and its ELB target groups. The
    before-state keeps every previous group, so the undo puts it all back.

    ```yaml
    - id: isolate
      action: ec2.isolate_instance
      with: {instance_id: "${target.instance}"}
    ```
    """

    name = "ec2.isolate_instance"
    Params = InstanceParams
    mutating = True
    summary = "Isolate EC2 instance {instance_id}: isolation security group, termination protection, out of ASG and ELB"
    undo = "ec2.unisolate_instance"
    permissions = (
        DESCRIBE,
        Permission(("ec2:CreateSecurityGroup",), (SG_ARN, VPC_ARN)),
        Permission(("ec2:CreateTags",), (SG_ARN,)),
        Permission(("ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress"), (SG_ARN,)),
        Permission(("ec2:ModifyNetworkInterfaceAttribute",), (ENI_ARN, SG_ARN)),
        Permission(("ec2:ModifyInstanceAttribute",), (INSTANCE_ARN,)),
        Permission(("autoscaling:DetachInstances",), (ASG_ARN,)),
        Permission(("elasticloadbalancing:DeregisterTargets",), (TG_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: InstanceParams) -> Observation:
        seen, _ = network_state(ctx, params.instance_id)
        seen.done = not isolation_gaps(seen.state)
        return seen

    def unmet(self, ctx: ActionContext, params: InstanceParams, after: Observation) -> list[str]:
        return isolation_gaps(after.state)

    def calls(self, ctx: ActionContext, params: InstanceParams, seen: Observation) -> list[ApiCall]:
        s = seen.state
        out = isolation_group_calls(s)
        iso = s["isolation_group"] or f"<new {ISOLATION_GROUP} group>"
        enis = {eni: [iso] for eni, groups in s["network_interfaces"].items() if groups != [iso]}
        detach = ("autoscaling:DetachInstances", s["auto_scaling_group"])
        out += network_calls(params.instance_id, enis, None, detach, ("Deregister", s["target_groups"]))
        iid = params.instance_id
        if not s["termination_protection"]:
            out.append(ApiCall("ec2:ModifyInstanceAttribute", {"InstanceId": iid, "DisableApiTermination": True}))
        if s["shutdown_behavior"] != "stop":
            out.append(
                ApiCall("ec2:ModifyInstanceAttribute", {"InstanceId": iid, "InstanceInitiatedShutdownBehavior": "stop"})
            )
        return out

    def apply(self, ctx: ActionContext, params: InstanceParams, seen: Observation) -> dict[str, Any]:
        """Only what does not hold yet: a run interrupted part-way (a crash between these calls) is
        finished by the next without repeating what it did."""
        s, iid = seen.state, params.instance_id
        iso = ensure_isolation_group(ctx, s["vpc_id"])
        ec2 = ctx.client("ec2")
        for eni, groups in s["network_interfaces"].items():
            if groups != [iso]:
                ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[iso])
        if not s["termination_protection"]:
            ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": True})
        if s["shutdown_behavior"] != "stop":
            ec2.modify_instance_attribute(InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior", Value="stop")
        if s["auto_scaling_group"]:
            ctx.client("autoscaling").detach_instances(
                InstanceIds=[iid], AutoScalingGroupName=s["auto_scaling_group"], ShouldDecrementDesiredCapacity=False
            )
        for tg in s["target_groups"]:
            target = {"Id": iid, **({"Port": tg["port"]} if tg["port"] else {})}
            ctx.client("elbv2").deregister_targets(TargetGroupArn=tg["arn"], Targets=[target])
        return {"isolation_group": iso}

    def undo_params(self, params: InstanceParams, seen: Observation) -> dict[str, Any]:
        keys = (
            "network_interfaces",
            "termination_protection",
            "shutdown_behavior",
            "auto_scaling_group",
            "target_groups",
        )
        return {"instance_id": params.instance_id, **{k: seen.state[k] for k in keys}}


@dataclass(frozen=True)
class UnisolateParams(ActionParams):
    instance_id: str = field(metadata={"doc": "EC2 instance id (i-...)"})
    network_interfaces: dict[str, list[str]] = field(
        metadata={"doc": "network interface id: its previous security groups"}
    )
    termination_protection: bool = field(default=False, metadata={"doc": "previous termination protection"})
    shutdown_behavior: str = field(default="stop", metadata={"doc": "previous instance-initiated shutdown behaviour"})
    auto_scaling_group: str | None = field(default=None, metadata={"doc": "Auto Scaling group to re-attach to"})
    target_groups: list[dict[str, Any]] = field(
        default_factory=list, metadata={"doc": "target groups ({arn, port}) to re-register in"}
    )


@register
class UnisolateInstance(Action[UnisolateParams]):
    """Undo `ec2.isolate_instance`: previous security groups, attributes, ASG and target groups.

    Re-attaching to the Auto Scaling group raises its desired capacity by one.

    ```yaml
    - id: release-instance
      action: ec2.unisolate_instance
      with:
        instance_id: i-0123456789abcdef0
        network_interfaces: {eni-0123456789abcdef0: [sg-0123456789abcdef0]}
    ```
    """

    name = "ec2.unisolate_instance"
    restores_access = True
    Params = UnisolateParams
    mutating = True
    summary = "Release EC2 instance {instance_id} from isolation"
    no_undo_reason = "it is itself the undo of ec2.isolate_instance"
    permissions = (
        DESCRIBE,
        Permission(("ec2:ModifyNetworkInterfaceAttribute",), (ENI_ARN, SG_ARN)),
        Permission(("ec2:ModifyInstanceAttribute",), (INSTANCE_ARN,)),
        Permission(("autoscaling:AttachInstances",), (ASG_ARN,)),
        Permission(("elasticloadbalancing:RegisterTargets",), (TG_ARN,)),
    )

    def _todo(self, s: dict[str, Any], p: UnisolateParams) -> dict[str, Any]:
        current = s["network_interfaces"]
        asg = p.auto_scaling_group
        return {
            "enis": {e: g for e, g in p.network_interfaces.items() if sorted(current.get(e, [])) != sorted(g)},
            "attrs": (s["termination_protection"], s["shutdown_behavior"])
            != (p.termination_protection, p.shutdown_behavior),
            "asg": asg if asg and s["auto_scaling_group"] != asg else None,
            "tgs": [t for t in p.target_groups if t not in s["target_groups"]],
        }

    def observe(self, ctx: ActionContext, params: UnisolateParams) -> Observation:
        seen, _ = network_state(ctx, params.instance_id)
        seen.done = not any(self._todo(seen.state, params).values())
        return seen

    def calls(self, ctx: ActionContext, params: UnisolateParams, seen: Observation) -> list[ApiCall]:
        todo = self._todo(seen.state, params)
        attrs = (params.termination_protection, params.shutdown_behavior) if todo["attrs"] else None
        attach = ("autoscaling:AttachInstances", todo["asg"])
        return network_calls(params.instance_id, todo["enis"], attrs, attach, ("Register", todo["tgs"]))

    def apply(self, ctx: ActionContext, params: UnisolateParams, seen: Observation) -> dict[str, Any]:
        todo, iid = self._todo(seen.state, params), params.instance_id
        for eni, groups in todo["enis"].items():
            ctx.client("ec2").modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=groups)
        if todo["attrs"]:
            set_instance_attributes(ctx, iid, params.termination_protection, params.shutdown_behavior)
        if todo["asg"]:
            ctx.client("autoscaling").attach_instances(InstanceIds=[iid], AutoScalingGroupName=todo["asg"])
        for tg in todo["tgs"]:
            target = {"Id": iid, **({"Port": tg["port"]} if tg.get("port") else {})}
            ctx.client("elbv2").register_targets(TargetGroupArn=tg["arn"], Targets=[target])
        return {}


# ---- instance profile ----------------------------------------------------------------------------


def profile_associations(ctx: ActionContext, instance_id: str) -> list[dict[str, Any]]:
    assocs = ctx.client("ec2").describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance_id]}]
    )["IamInstanceProfileAssociations"]
    return [a for a in assocs if a["State"] in ("associating", "associated")]


def _profile_observation(ctx: ActionContext, instance_id: str) -> Observation:
    inst = describe_instance(ctx, instance_id)
    assocs = profile_associations(ctx, instance_id)
    state = {
        "instance_id": instance_id,
        "instance_profile_arn": assocs[0]["IamInstanceProfile"]["Arn"] if assocs else None,
        "association_id": assocs[0]["AssociationId"] if assocs else None,
    }
    return Observation(state=state, arn=instance_arn(ctx, instance_id), tags=tag_dict(inst.get("Tags")))


@register
class DetachInstanceProfile(Action[InstanceParams]):
    """Take the instance profile (and so its role's credentials) away from an instance.

    Credentials already taken from the instance metadata stay valid until they expire: pair this
    with `iam.revoke_role_sessions` on the profile's role.

    ```yaml
    - id: detach-profile
      action: ec2.detach_instance_profile
      with: {instance_id: "${target.instance}"}
    ```
    """

    name = "ec2.detach_instance_profile"
    Params = InstanceParams
    mutating = True
    summary = "Disassociate the IAM instance profile from EC2 instance {instance_id}"
    undo = "ec2.associate_instance_profile"
    permissions = (
        Permission(("ec2:DescribeInstances", "ec2:DescribeIamInstanceProfileAssociations")),
        Permission(("ec2:DisassociateIamInstanceProfile",), (INSTANCE_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: InstanceParams) -> Observation:
        seen = _profile_observation(ctx, params.instance_id)
        seen.done = seen.state["association_id"] is None
        return seen

    def calls(self, ctx: ActionContext, params: InstanceParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("ec2:DisassociateIamInstanceProfile", {"AssociationId": seen.state["association_id"]})]

    def apply(self, ctx: ActionContext, params: InstanceParams, seen: Observation) -> dict[str, Any]:
        ctx.client("ec2").disassociate_iam_instance_profile(AssociationId=seen.state["association_id"])
        return {}

    def undo_params(self, params: InstanceParams, seen: Observation) -> dict[str, Any]:
        return {"instance_id": params.instance_id, "instance_profile_arn": seen.state["instance_profile_arn"]}


@dataclass(frozen=True)
class AssociateProfileParams(ActionParams):
    instance_id: str = field(metadata={"doc": "EC2 instance id (i-...)"})
    instance_profile_arn: str = field(metadata={"doc": "IAM instance profile ARN to associate"})


@register
class AssociateInstanceProfile(Action[AssociateProfileParams]):
    """Give an instance its instance profile back: the undo of `ec2.detach_instance_profile`.

    ```yaml
    - id: restore-profile
      action: ec2.associate_instance_profile
      with: {instance_id: i-0123456789abcdef0, instance_profile_arn: "arn:aws:iam::123456789012:instance-profile/web"}
    ```
    """

    name = "ec2.associate_instance_profile"
    restores_access = True
    Params = AssociateProfileParams
    mutating = True
    summary = "Associate instance profile {instance_profile_arn} with EC2 instance {instance_id}"
    no_undo_reason = "it is itself the undo of ec2.detach_instance_profile"
    permissions = (
        Permission(("ec2:DescribeInstances", "ec2:DescribeIamInstanceProfileAssociations")),
        Permission(("ec2:AssociateIamInstanceProfile",), (INSTANCE_ARN,)),
        # only to EC2, and only roles the deployer names (parry:instanceRoles): the profile's role
        # is known from the case, not at synth (docs/security.md, "Passing roles")
        Permission(
            ("iam:PassRole",),
            ("arn:{partition}:iam::{account}:role/{instance_roles}",),
            conditions=(("StringEquals", "iam:PassedToService", ("ec2.amazonaws.com",)),),
        ),
    )

    def observe(self, ctx: ActionContext, params: AssociateProfileParams) -> Observation:
        seen = _profile_observation(ctx, params.instance_id)
        seen.done = seen.state["instance_profile_arn"] == params.instance_profile_arn
        return seen

    def calls(self, ctx: ActionContext, params: AssociateProfileParams, seen: Observation) -> list[ApiCall]:
        return [
            ApiCall(
                "ec2:AssociateIamInstanceProfile",
                {"InstanceId": params.instance_id, "IamInstanceProfile": {"Arn": params.instance_profile_arn}},
            )
        ]

    def apply(self, ctx: ActionContext, params: AssociateProfileParams, seen: Observation) -> dict[str, Any]:
        ctx.client("ec2").associate_iam_instance_profile(
            InstanceId=params.instance_id, IamInstanceProfile={"Arn": params.instance_profile_arn}
        )
        return {}
