"""EC2 actions on moto: isolation (security groups, attributes, ASG, ELB) and the instance profile.

The instances are launched with SecurityGroupIds, as most are; moto needs local mode's correction of
its interface groups for that (parry.local.corrections), which the `moto` fixture installs.
"""

from __future__ import annotations

import json

import pytest
from botocore.awsrequest import AWSResponse

from parry.actions.ec2 import ISOLATION_GROUP
from tests.support.actions import PROTECTED, assert_contract, assert_missing, assert_refused, launch, run, run_undo


@pytest.fixture
def in_service(aws, ec2, net):
    """An instance behind a target group, and in an Auto Scaling group."""
    iid = launch(ec2, net)
    elb = aws.client("elbv2")
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=net["vpc"], TargetType="instance")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": iid, "Port": 8080}])
    asg = aws.client("autoscaling")
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=net["ami"], InstanceType="t3.micro")
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchConfigurationName="lc",
        MinSize=0,
        MaxSize=5,
        DesiredCapacity=0,
        VPCZoneIdentifier=net["subnet"],
    )
    asg.attach_instances(InstanceIds=[iid], AutoScalingGroupName="web-asg")
    return iid


def test_isolate_instance_and_undo(aws, ec2, net, in_service):
    first = assert_contract(ctx := _ctx(aws), "ec2.isolate_instance", instance_id=in_service)
    before, after = first.before, first.after
    iso = after["isolation_group"]
    assert before["isolation_group"] is None and iso == first.output["isolation_group"]
    assert all(groups == [net["web"]] for groups in before["network_interfaces"].values())
    assert all(groups == [iso] for groups in after["network_interfaces"].values())
    assert len(after["network_interfaces"]) == 2
    assert after["termination_protection"] is True and after["shutdown_behavior"] == "stop"
    assert before["auto_scaling_group"] == "web-asg" and after["auto_scaling_group"] is None
    assert before["target_groups"][0]["port"] == 8080 and after["target_groups"] == []

    sg = ec2.describe_security_groups(GroupIds=[iso])["SecurityGroups"][0]
    assert sg["GroupName"] == ISOLATION_GROUP and sg["IpPermissions"] == [] and sg["IpPermissionsEgress"] == []
    assert {"Key": "parry:isolation", "Value": "true"} in sg["Tags"]

    undone = run_undo(ctx, first)
    assert undone.status == "succeeded", undone.error
    for key in (
        "network_interfaces",
        "termination_protection",
        "shutdown_behavior",
        "auto_scaling_group",
        "target_groups",
    ):
        assert undone.after[key] == before[key], key
    assert run_undo(ctx, first).status == "noop"


def test_isolation_group_is_reused_per_vpc(aws, ec2, net):
    ctx = _ctx(aws)
    a, b = launch(ec2, net), launch(ec2, net)
    first = run(ctx, "ec2.isolate_instance", instance_id=a)
    second = run(ctx, "ec2.isolate_instance", instance_id=b)
    assert second.before["isolation_group"] == first.output["isolation_group"] == second.output["isolation_group"]
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [ISOLATION_GROUP]}])[
        "SecurityGroups"
    ]
    assert len(groups) == 1


def test_isolate_missing_and_protected(aws, ec2, net):
    ctx = _ctx(aws)
    assert_missing(
        ctx,
        "ec2.isolate_instance",
        "EC2 instance i-00000000000000000 does not exist",
        instance_id="i-00000000000000000",
    )
    iid = launch(ec2, net, tags=PROTECTED)
    assert_refused(ctx, "ec2.isolate_instance", instance_id=iid)
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])[
        "NetworkInterfaces"
    ]
    assert all([g["GroupId"] for g in e["Groups"]] == [net["web"]] for e in enis)
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [ISOLATION_GROUP]}])[
        "SecurityGroups"
    ]


@pytest.fixture
def profile(aws):
    iam = aws.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="web-role", AssumeRolePolicyDocument=json.dumps(trust))
    arn = iam.create_instance_profile(InstanceProfileName="web")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web-role")
    return arn


def test_detach_instance_profile_and_undo(aws, ec2, net, profile):
    ctx = _ctx(aws)
    iid = launch(ec2, net)
    ec2.associate_iam_instance_profile(InstanceId=iid, IamInstanceProfile={"Arn": profile})
    first = assert_contract(ctx, "ec2.detach_instance_profile", instance_id=iid)
    assert first.before["instance_profile_arn"] == profile and first.after["instance_profile_arn"] is None

    undone = run_undo(ctx, first)
    assert undone.status == "succeeded", undone.error
    assert undone.after["instance_profile_arn"] == first.before["instance_profile_arn"]
    assert run_undo(ctx, first).status == "noop"


def test_detach_instance_profile_missing_and_protected(aws, ec2, net, profile):
    ctx = _ctx(aws)
    assert_missing(ctx, "ec2.detach_instance_profile", "does not exist", instance_id="i-00000000000000000")
    iid = launch(ec2, net, tags=PROTECTED)
    ec2.associate_iam_instance_profile(InstanceId=iid, IamInstanceProfile={"Arn": profile})
    assert_refused(ctx, "ec2.detach_instance_profile", instance_id=iid)
    assocs = ec2.describe_iam_instance_profile_associations(Filters=[{"Name": "instance-id", "Values": [iid]}])
    assert assocs["IamInstanceProfileAssociations"][0]["State"] == "associated"


def _ctx(aws):
    from parry.actions.base import ActionContext

    return ActionContext(
        aws=aws, case_id="case-1", step_id="step", playbook="test", account="123456789012", region="us-east-1"
    )


def test_plan_lists_the_isolation_calls_and_changes_nothing(aws, ec2, net, in_service):
    from parry.actions import registry
    from parry.engine.steps import plan

    cls = registry.get("ec2.isolate_instance")
    summary, calls, state = plan(cls(), _ctx(aws), cls.Params(in_service))
    ops = [c.operation for c in calls]
    assert ops[0] == "ec2:CreateSecurityGroup"
    assert ops.count("ec2:ModifyNetworkInterfaceAttribute") == 2
    assert "autoscaling:DetachInstances" in ops and "elasticloadbalancing:DeregisterTargets" in ops
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [ISOLATION_GROUP]}])[
        "SecurityGroups"
    ]
    assert state["auto_scaling_group"] == "web-asg"


def test_undo_actions_refuse_protected_instances(aws, ec2, net, profile):
    ctx = _ctx(aws)
    iid = launch(ec2, net, tags=PROTECTED)
    eni = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])[
        "NetworkInterfaces"
    ][0]
    assert_refused(
        ctx, "ec2.unisolate_instance", instance_id=iid, network_interfaces={eni["NetworkInterfaceId"]: ["sg-0"]}
    )
    assert_refused(ctx, "ec2.associate_instance_profile", instance_id=iid, instance_profile_arn=profile)
    assocs = ec2.describe_iam_instance_profile_associations(Filters=[{"Name": "instance-id", "Values": [iid]}])
    assert assocs["IamInstanceProfileAssociations"] == []


def test_an_isolation_group_someone_opened_is_closed_again(aws, ec2, net):
    ctx = _ctx(aws)
    iid = launch(ec2, net)
    iso = run(ctx, "ec2.isolate_instance", instance_id=iid).output["isolation_group"]
    ec2.authorize_security_group_ingress(
        GroupId=iso,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    again = run(ctx, "ec2.isolate_instance", instance_id=iid)
    assert again.status == "succeeded" and again.before["isolation_group_rules"] == 1
    sg = ec2.describe_security_groups(GroupIds=[iso])["SecurityGroups"][0]
    assert sg["IpPermissions"] == [] and sg["IpPermissionsEgress"] == []
    assert run(ctx, "ec2.isolate_instance", instance_id=iid).status == "noop"


def test_an_instance_launched_with_security_group_ids_ends_in_the_isolation_group_only(aws, ec2, net):
    iid = launch(ec2, net)
    result = run(_ctx(aws), "ec2.isolate_instance", instance_id=iid)
    assert result.status == "succeeded" and result.unmet == [], result.error
    iso = result.output["isolation_group"]
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert [g["GroupId"] for g in inst["SecurityGroups"]] == [iso]
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])
    assert [[g["GroupId"] for g in e["Groups"]] for e in enis["NetworkInterfaces"]] == [[iso], [iso]]
    web = ec2.describe_instances(Filters=[{"Name": "instance.group-id", "Values": [net["web"]]}])["Reservations"]
    assert web == []


def test_an_interface_group_change_that_does_not_stick_is_not_contained(aws, ec2, net):
    """EC2 answers ModifyNetworkInterfaceAttribute, but the interface keeps its groups: the step says so."""
    iid = launch(ec2, net)
    ignored = (AWSResponse("", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}})
    aws.client("ec2").meta.events.register("before-call.ec2.ModifyNetworkInterfaceAttribute", lambda **_: ignored)
    result = run(_ctx(aws), "ec2.isolate_instance", instance_id=iid)
    assert result.status == "not_contained"
    enis = list(result.after["network_interfaces"])
    assert result.unmet == [
        msg
        for eni in enis
        for msg in (
            f"{eni} still in {net['web']} (web)",
            f"{eni} not in {result.output['isolation_group']} (parry-isolation)",
        )
    ]
    assert result.error.startswith("not contained: ") and f"{enis[0]} still in {net['web']} (web)" in result.error
    assert result.undo and result.undo["action"] == "ec2.unisolate_instance"  # what did change can be put back
