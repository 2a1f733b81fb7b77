"""Delivery from every region: the regional forwarder stack, the home bus's policy that admits its
forwarders only, and the runners told which regions Parry acts in (`parry:regions`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parry.errors import EventError
from parry.routing.events import wrap
from parry.routing.patterns import compile_pattern
from stacks import naming
from stacks.constructs.playbook_routes import forgeable_sources
from stacks.nag import nag_value
from tests.support.paths import ROOT
from tests.support.synth import MEMBER_ACCOUNTS, ORGANIZATION_ID, SECURITY_ACCOUNT, Synth, load_playbooks
from tests.support.templates import as_list, logical_id, statements_of_role

pytestmark = pytest.mark.xdist_group("synth")

HOME = "eu-west-1"  # TEST_CONTEXT's home region
REGIONS = ["eu-west-1", "us-east-1", "eu-central-1"]  # TEST_CONTEXT's parry:regions, home first
HOME_BUS = f"arn:<AWS::Partition>:events:{HOME}:{SECURITY_ACCOUNT}:event-bus/default"
ROUTED = [b for b in load_playbooks() if not forgeable_sources(b.trigger)]


def _branches(trigger: dict[str, Any]) -> list[dict[str, Any]]:
    return trigger.get("$or", [trigger])


def _rule(synth: Synth) -> dict[str, Any]:
    rid = logical_id(synth.forwarder, "AWS::Events::Rule", Name=naming.FORWARDER_RULE)
    return synth.forwarder["Resources"][rid]


def _role(synth: Synth) -> tuple[str, dict[str, Any]]:
    (role_id,) = synth.resources("ParryRegionalForwarder", "AWS::IAM::Role")
    return role_id, synth.forwarder["Resources"][role_id]


def _bus_policy(synth: Synth) -> dict[str, Any]:
    (policy,) = synth.resources("Parry", "AWS::Events::EventBusPolicy").values()
    return policy["Properties"]


# ---- what is forwarded -----------------------------------------------------------------------------


def test_the_rule_forwards_exactly_the_routed_triggers_aws_sources_and_detail_types(synth: Synth):
    assert ROUTED, "no routed playbook to derive the pattern from"
    pattern = _rule(synth)["Properties"]["EventPattern"]
    assert set(pattern) == {"source", "detail-type"}
    want_sources = {s for b in ROUTED for branch in _branches(b.trigger) for s in branch["source"]}
    assert pattern["source"] == sorted(want_sources)
    assert all(s.startswith("aws.") for s in pattern["source"]), "only AWS services can put these"
    want_types = {json.dumps(t) for b in ROUTED for branch in _branches(b.trigger) for t in branch["detail-type"]}
    assert {json.dumps(t) for t in pattern["detail-type"]} == want_types


def _fixtures() -> list[tuple[str, dict[str, Any]]]:
    """The real events, each as EventBridge delivers it (bare findings and records wrapped as
    `parry route` does; what it cannot wrap, no rule would see either)."""
    found = []
    for path in sorted((ROOT / "tests" / "events").rglob("*.json")):
        try:
            found.append((str(path.relative_to(ROOT)), wrap(json.loads(path.read_text()))[0]))
        except EventError:
            continue
    return found


def test_every_real_event_a_playbook_rule_takes_is_forwarded_and_nothing_customers_can_put(synth: Synth):
    forwarded = compile_pattern(_rule(synth)["Properties"]["EventPattern"])
    triggers = [compile_pattern(b.trigger) for b in ROUTED]
    taken = [(name, e) for name, e in _fixtures() if any(t.matches(e) for t in triggers)]
    assert taken, "no fixture a playbook takes: the test would prove nothing"
    assert [name for name, event in taken if not forwarded.matches(event)] == []
    for name, event in taken:
        assert not forwarded.matches({**event, "source": "parry"}), name
        assert not forwarded.matches({**event, "source": "com.example." + event["source"]}), name


# ---- how it is forwarded ---------------------------------------------------------------------------


def test_the_only_target_is_the_home_bus_through_the_forwarders_role(synth: Synth):
    role_id, _ = _role(synth)
    (target,) = _rule(synth)["Properties"]["Targets"]
    assert nag_value(target["Arn"]) == HOME_BUS
    assert target["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}


def test_the_role_may_only_put_events_on_the_home_bus_and_only_its_rule_may_use_it(synth: Synth):
    _, role = _role(synth)
    props = role["Properties"]
    assert nag_value(props["RoleName"]) == "parry-forwarder-<AWS::Region>", "named per region: IAM is global"
    assert not props.get("ManagedPolicyArns")
    statements = [s for p in props["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert [(s["Effect"], s["Action"], nag_value(s["Resource"])) for s in statements] == [
        ("Allow", "events:PutEvents", HOME_BUS)
    ]
    (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert nag_value(trust["Condition"]["ArnEquals"]["aws:SourceArn"]) == (
        f"arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/{naming.FORWARDER_RULE}"
    )


def test_nothing_forwards_in_the_security_accounts_home_region(synth: Synth):
    """There the rule would put every event back on the bus it took it from."""
    (name, condition), *others = synth.forwarder["Conditions"].items()
    assert not others
    (both,) = condition["Fn::Not"]
    assert sorted(json.dumps(c["Fn::Equals"]) for c in both["Fn::And"]) == sorted(
        [json.dumps([{"Ref": "AWS::AccountId"}, SECURITY_ACCOUNT]), json.dumps([{"Ref": "AWS::Region"}, HOME])]
    )
    for lid, resource in synth.forwarder["Resources"].items():
        if resource["Type"] != "AWS::CloudFormation::WaitConditionHandle":
            assert resource.get("Condition") == name, lid


# ---- deployable as a service-managed StackSet -------------------------------------------------------


def test_deletes_whole_deploys_without_bootstrap_and_holds_no_code(synth: Synth):
    template = synth.forwarder
    for lid, resource in template["Resources"].items():
        assert resource.get("DeletionPolicy", "Delete") == "Delete", lid
        assert resource.get("UpdateReplacePolicy", "Delete") == "Delete", lid
        assert not resource["Type"].startswith(("AWS::Lambda::", "AWS::S3::", "Custom::")), lid
    assert "BootstrapVersion" not in template.get("Parameters", {})
    assert "CheckBootstrapVersion" not in template.get("Rules", {})
    assert not (synth.outdir / "ParryRegionalForwarder.assets.json").exists()
    assert "Conditions" in template and "Outputs" not in template  # nothing another stack may import


def test_cdk_nag_finds_nothing_in_the_forwarder(synth: Synth):
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    on_forwarder = [
        f"{v['ruleName']} at {c['constructPath']}"
        for plugin in report["pluginReports"]
        for v in [*plugin["violations"], *plugin.get("suppressedViolations", [])]
        for c in v["violatingConstructs"]
        if c["constructPath"].startswith("ParryRegionalForwarder/")
    ]
    assert synth.error is None and on_forwarder == [], "\n".join(on_forwarder)


def test_cfn_lint_passes_in_every_configured_and_an_opt_in_region(synth: Synth):
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(
        Path(synth.outdir / "ParryRegionalForwarder.template.json"),
        ManualArgs(regions=[*REGIONS, "ap-east-1", "me-central-1"], ignore_checks=["W3005"]),
    )
    assert not matches, "\n".join(str(m) for m in matches)


# ---- the home bus ----------------------------------------------------------------------------------


def test_home_bus_admits_only_the_member_accounts_forwarders_for_the_forwarded_sources(synth: Synth):
    props = _bus_policy(synth)
    assert props["EventBusName"] == "default" and props["StatementId"] == "ParryForwarders"
    statement = props["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "events:PutEvents"
    assert (
        nag_value(statement["Resource"])
        == "arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default"
    )
    assert [nag_value(p) for p in as_list(statement["Principal"]["AWS"])] == [
        f"arn:<AWS::Partition>:iam::{a}:root" for a in MEMBER_ACCOUNTS
    ]
    condition = statement["Condition"]
    assert [nag_value(a) for a in condition["ArnLike"]["aws:PrincipalArn"]] == [
        f"arn:<AWS::Partition>:iam::*:role/parry-forwarder-{region}" for region in REGIONS
    ]
    assert condition["StringEquals"] == {"aws:PrincipalOrgID": ORGANIZATION_ID}
    sources = _rule(synth)["Properties"]["EventPattern"]["source"]
    assert condition["ForAllValues:StringEquals"] == {"events:source": sources}
    assert condition["Null"] == {"events:source": "false"}, "ForAllValues alone admits an event without source"
    assert set(condition) == {"ArnLike", "StringEquals", "ForAllValues:StringEquals", "Null"}


def test_home_bus_statement_without_members_names_the_organization_and_alone_grants_nothing():
    from stacks.regional_forwarder import home_bus_statement

    args = {"sources": ["aws.guardduty"], "regions": ["us-east-1"], "bus_arn": "arn:aws:events:us-east-1:1:x"}
    assert home_bus_statement(member_accounts=(), organization_id=None, **args) is None
    org_only = home_bus_statement(member_accounts=(), organization_id=ORGANIZATION_ID, **args)
    assert org_only is not None and org_only["Principal"] == "*"
    assert org_only["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORGANIZATION_ID}
    assert org_only["Condition"]["ForAllValues:StringEquals"] == {"events:source": ["aws.guardduty"]}


# ---- parry:regions -----------------------------------------------------------------------------------


def test_every_runner_is_told_the_configured_regions_home_first(synth: Synth):
    runners = [
        f["Properties"]
        for f in synth.resources("Parry", "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "handler.handler"
    ]
    assert len(runners) == len(load_playbooks())
    for props in runners:
        assert props["Environment"]["Variables"]["PARRY_REGIONS"] == ",".join(REGIONS), props["FunctionName"]


# ---- deployed (moto's CloudFormation: two accounts, two regions) -----------------------------------

MEMBER = MEMBER_ACCOUNTS[0]
STACK_INSTANCE = "StackSet-parry-forwarder-0a1b2c3d"  # as a service-managed StackSet names its stacks


def _as(account: str) -> Any:
    """A boto3 session in `account` (moto keeps each account's state apart)."""
    import boto3

    creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/deployer", RoleSessionName="test")
    c = creds["Credentials"]
    return boto3.Session(
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    )


def _deploy(session: Any, region: str, template: dict[str, Any]) -> None:
    cfn = session.client("cloudformation", region_name=region)
    cfn.create_stack(StackName=STACK_INSTANCE, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"])
    assert cfn.describe_stacks(StackName=STACK_INSTANCE)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def _home_inbox(security: Any) -> Any:
    """Everything of an `aws.*` source that reaches the home bus, in a queue."""
    sqs = security.client("sqs", region_name=HOME)
    url = sqs.create_queue(QueueName="home-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = security.client("events", region_name=HOME)
    events.put_rule(Name="inbox", EventPattern=json.dumps({"source": [{"prefix": "aws."}]}))
    events.put_targets(Rule="inbox", Targets=[{"Id": "inbox", "Arn": arn}])

    def received() -> list[dict[str, Any]]:
        bodies: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            bodies.extend(json.loads(m["Body"]) for m in messages)
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        return bodies

    return received


def _put(session: Any, region: str, event: dict[str, Any]) -> None:
    entry = {"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])}
    (result,) = session.client("events", region_name=region).put_events(Entries=[entry])["Entries"]
    assert "EventId" in result, result


def test_a_member_regions_trigger_events_reach_the_home_bus_and_nothing_else_does(synth: Synth, moto):
    member, security = _as(MEMBER), _as(SECURITY_ACCOUNT)
    _deploy(member, "eu-central-1", synth.forwarder)
    received = _home_inbox(security)
    taken = [e for _, e in _fixtures() if any(compile_pattern(b.trigger).matches(e) for b in ROUTED)]
    assert taken
    for event in taken:
        _put(member, "eu-central-1", event)
        _put(member, "eu-central-1", {**event, "source": "parry"})
    _put(
        member,
        "eu-central-1",
        {
            "source": "aws.ec2",
            "detail-type": "EC2 Instance State-change Notification",
            "detail": {"instance-id": "i-0123456789abcdef0", "state": "running"},
        },
    )
    arrived = received()
    assert sorted(json.dumps(e["detail"], sort_keys=True) for e in arrived) == sorted(
        json.dumps(e["detail"], sort_keys=True) for e in taken
    )
    assert {e["source"] for e in arrived} <= set(_rule(synth)["Properties"]["EventPattern"]["source"])


def test_the_security_accounts_home_region_forwards_nothing_and_a_deleted_instance_leaves_nothing(synth: Synth, moto):
    security = _as(SECURITY_ACCOUNT)
    _deploy(security, HOME, synth.forwarder)
    assert security.client("events", region_name=HOME).list_rules()["Rules"] == []
    assert [r["RoleName"] for r in security.client("iam").list_roles()["Roles"] if "forwarder" in r["RoleName"]] == []

    member = _as(MEMBER)
    _deploy(member, "eu-central-1", synth.forwarder)
    iam, events = member.client("iam"), member.client("events", region_name="eu-central-1")
    assert [r["Name"] for r in events.list_rules()["Rules"]] == [naming.FORWARDER_RULE]
    assert iam.get_role(RoleName=naming.forwarder_role_name("eu-central-1"))
    member.client("cloudformation", region_name="eu-central-1").delete_stack(StackName=STACK_INSTANCE)
    assert events.list_rules()["Rules"] == []
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if "forwarder" in r["RoleName"]] == []
    _deploy(member, "eu-central-1", synth.forwarder)  # and created again, nothing in the way


# ---- acting where the resource is ---------------------------------------------------------------------


def _region_limits(template: dict[str, Any], role_name: str, arn: str) -> tuple[set[str], list[Any]]:
    """The actions the role may take on `arn`, and the regions outside which each Deny refuses them."""
    role_id = logical_id(template, "AWS::IAM::Role", RoleName=role_name)
    statements = statements_of_role(template, role_id)
    allowed = {
        a
        for s in statements
        if s["Effect"] == "Allow" and arn in [nag_value(r) for r in as_list(s["Resource"]) if r != "*"]
        for a in as_list(s["Action"])
    }
    limits = [
        s["Condition"]["StringNotEquals"]["aws:RequestedRegion"]
        for s in statements
        if s["Effect"] == "Deny" and s["Resource"] == "*" and allowed <= set(as_list(s["Action"]))
    ]
    return allowed, limits


def test_runner_and_member_roles_act_in_the_configured_regions_only_and_the_engines_stores_stay_home(synth: Synth):
    """ec2-compromise isolates the instance in its own region: its runner (the security account's
    instances) and its member role (a member's) may, in each region of parry:regions and no other."""
    instances = "arn:<AWS::Partition>:ec2:*:<AWS::AccountId>:instance/*"
    runner = naming.runner_role_name("ec2-compromise", HOME)
    member = naming.member_role_name("ec2-compromise")
    allowed, limits = _region_limits(synth.responder, runner, instances)
    assert "ec2:ModifyInstanceAttribute" in allowed and limits == [[{"Ref": "AWS::Region"}, *REGIONS[1:]]]
    allowed, limits = _region_limits(synth.member, member, instances)
    assert "ec2:ModifyInstanceAttribute" in allowed and limits == [REGIONS]
    # the engine's own stores are the home region's: neither widened nor among the limited actions
    role_id = logical_id(synth.responder, "AWS::IAM::Role", RoleName=runner)
    statements = statements_of_role(synth.responder, role_id)
    case_writes = [s for s in statements if "dynamodb:PutItem" in as_list(s["Action"])]
    assert case_writes and all(s["Effect"] == "Allow" and ":*:" not in json.dumps(s["Resource"]) for s in case_writes)
