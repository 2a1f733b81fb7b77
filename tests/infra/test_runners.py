"""Per playbook: the runner function, its least-privilege role, its DLQ, and its routing rules."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from parry.config import DEFAULT_MAX_CASES_PER_HOUR
from parry.engine.permissions import ENGINE_PERMISSIONS, finding_read_permissions, reads_findings
from stacks import naming
from stacks.config import DEFAULT_RUNNER_RESERVED_CONCURRENCY
from stacks.nag import nag_value
from stacks.policies import READ_VERBS, UNSCOPABLE_ACTIONS, render_resource
from tests.support.synth import MEMBER_ACCOUNTS, PROTECTED, Synth, load_playbooks
from tests.support.templates import as_list, logical_id, pinned_to_an_account, statements_of_role

pytestmark = pytest.mark.xdist_group("synth")

PLAYBOOKS = {b.name: b for b in load_playbooks()}
REGION = "eu-west-1"
# What Lambda itself needs beside the playbook and the engine: logs, X-Ray, the DLQ, and (with
# member accounts configured) assuming the playbook's role there.
ENGINE_ACTIONS = {a for p in ENGINE_PERMISSIONS for a in p.actions}
RUNTIME_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "sqs:SendMessage",
}
CROSS_ACCOUNT_ACTIONS = {"sts:AssumeRole"}
# check the front door's seal on a request; seal and check its own continuations
SEAL_ACTIONS = {"kms:VerifyMac", "kms:GenerateMac"}

by_playbook = pytest.mark.parametrize("name", sorted(PLAYBOOKS))


def has_custom_action(book: Any) -> bool:
    """Manual playbooks that take GuardDuty or Security Hub findings (a custom action hands them findings)."""
    sources = [b.get("source", []) for b in book.trigger.get("$or", [book.trigger])]
    return book.manual and any(s in ("aws.guardduty", "aws.securityhub") for src in sources for s in src)


def test_every_playbook_that_takes_findings_reads_them_and_no_other():
    assert sorted(n for n, b in PLAYBOOKS.items() if not reads_findings(b)) == [
        "iam-access-key-for-another-user",
        "iam-admin-policy-attached",
        "lambda-admin-role",
        "lambda-changed-outside-pipeline",
        "lambda-env-secrets",
        "lambda-foreign-event-source",
        "lambda-layer-made-public",
        "lambda-made-public",
        "lambda-policy-public",
        "lambda-url-made-public",
        "lambda-url-public",
        "manual-quarantine",
    ]
    assert reads_findings(PLAYBOOKS["lambda-vulnerable-package"])  # re-read from Inspector


def test_only_a_runner_of_inspector_findings_may_list_inspector_findings():
    lists = {
        n
        for n, b in PLAYBOOKS.items()
        if any("inspector2:ListFindings" in p.actions for p in finding_read_permissions(b))
    }
    assert lists == {"lambda-vulnerable-package"}
    assert not any(
        "guardduty:GetFindings" in p.actions for p in finding_read_permissions(PLAYBOOKS["lambda-vulnerable-package"])
    )
    assert all(reads_findings(b) for b in PLAYBOOKS.values() if has_custom_action(b))


def test_only_manual_playbooks_that_take_findings_get_a_custom_action():
    assert sorted(n for n, b in PLAYBOOKS.items() if b.manual and not has_custom_action(b)) == [
        "iam-access-key-for-another-user",
        "iam-admin-policy-attached",
        "lambda-admin-role",
        "lambda-changed-outside-pipeline",
        "lambda-env-secrets",
        "lambda-foreign-event-source",
        "lambda-layer-made-public",
        "lambda-made-public",
        "lambda-policy-public",
        "lambda-url-made-public",
        "lambda-url-public",
        "lambda-vulnerable-package",  # Inspector findings: Security Hub's custom action hands over ASFF, not Inspector's
        "manual-quarantine",
    ]
    assert has_custom_action(PLAYBOOKS["iam-credential-compromise"])


def test_there_are_playbooks_to_check_and_both_branches_are_covered():
    assert PLAYBOOKS, "no valid playbooks in playbooks/: every per-playbook test would be vacuous"
    assert any(b.reserved_concurrency for b in PLAYBOOKS.values()) and any(not b.manual for b in PLAYBOOKS.values())


def _function(synth: Synth, name: str) -> tuple[str, dict[str, Any]]:
    lid = logical_id(synth.responder, "AWS::Lambda::Function", FunctionName=naming.function_name(name))
    return lid, synth.responder["Resources"][lid]["Properties"]


def _role_id(synth: Synth, name: str) -> str:
    return logical_id(synth.responder, "AWS::IAM::Role", RoleName=naming.runner_role_name(name, REGION))


def _dlq_id(synth: Synth, name: str) -> str:
    return logical_id(synth.responder, "AWS::SQS::Queue", QueueName=naming.dlq_name(name))


def _resolved(synth: Synth, value: str) -> Any:
    return synth.built.responder.resolve(value)


# ---- function ------------------------------------------------------------------------------------


@by_playbook
def test_function_runtime_architecture_tracing_layer_and_environment(synth: Synth, responder, name: str):
    book = PLAYBOOKS[name]
    _, props = _function(synth, name)
    assert props["Runtime"] == "python3.13" and props["Architectures"] == ["arm64"]
    assert props["Handler"] == "handler.handler"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Role"] == {"Fn::GetAtt": [_role_id(synth, name), "Arn"]}
    (layer,) = props["Layers"]
    parts = layer["Fn::Join"][1]
    assert {"Ref": "AWS::Partition"} in parts and {"Ref": "AWS::Region"} in parts
    assert any(
        isinstance(p, str) and re.search(r":017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:\d+$", p)
        for p in parts
    )
    env = props["Environment"]["Variables"]
    assert env["PARRY_PLAYBOOK"] == name
    assert env["PARRY_PROTECTED_ARNS"] == ",".join(PROTECTED)
    assert env["PARRY_RETENTION_DAYS"] == "400" and env["PARRY_LOCK_MODE"] == "COMPLIANCE"
    assert env["POWERTOOLS_SERVICE_NAME"] == "parry" and env["POWERTOOLS_METRICS_NAMESPACE"] == "Parry"
    assert env["PARRY_KILL_SWITCH_PARAMETER"] == {
        "Ref": logical_id(synth.responder, "AWS::SSM::Parameter", Name="/parry/kill-switch")
    }
    for var in ("PARRY_EVIDENCE_BUCKET", "PARRY_CASES_TABLE", "PARRY_TOPIC_ARN", "PARRY_SIGNING_KEY_ID"):
        assert isinstance(env[var], dict), f"{var} references the stack's resource"
    assert env["PARRY_MAX_CASES_PER_HOUR"] == str(DEFAULT_MAX_CASES_PER_HOUR)  # the cap across playbooks
    # a storm never takes the account's whole concurrency: the playbook's reservation, else the default
    assert props["ReservedConcurrentExecutions"] == (book.reserved_concurrency or DEFAULT_RUNNER_RESERVED_CONCURRENCY)


@by_playbook
def test_async_invocation_retries_twice_for_an_hour_then_dead_letters(synth: Synth, responder, name: str):
    fn_id, _ = _function(synth, name)
    responder.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": fn_id},
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 3600,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [_dlq_id(synth, name), "Arn"]}}},
        },
    )


@by_playbook
def test_dead_letter_queue_is_encrypted_and_alarmed_to_the_topic(synth: Synth, responder, name: str):
    dlq = synth.responder["Resources"][_dlq_id(synth, name)]["Properties"]
    assert "KmsMasterKeyId" in dlq
    (topic_id,) = synth.resources("Parry", "AWS::SNS::Topic")
    responder.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [_dlq_id(synth, name), "QueueName"]}}],
            "Threshold": 1,
            "AlarmActions": [{"Ref": topic_id}],
        },
    )


@by_playbook
def test_logs_and_dead_letters_outlive_the_stack(synth: Synth, name: str):
    log_id = logical_id(
        synth.responder, "AWS::Logs::LogGroup", LogGroupName=f"/aws/lambda/{naming.function_name(name)}"
    )
    for lid in (log_id, _dlq_id(synth, name)):
        resource = synth.responder["Resources"][lid]
        assert resource.get("DeletionPolicy") == "Retain" and resource.get("UpdateReplacePolicy") == "Retain", lid


@by_playbook
def test_log_group_has_retention(responder, name: str):
    responder.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"LogGroupName": f"/aws/lambda/{naming.function_name(name)}", "RetentionInDays": 365},
    )


# ---- role ----------------------------------------------------------------------------------------


@by_playbook
def test_role_is_lambdas_alone_with_one_inline_policy_and_no_managed_ones(synth: Synth, name: str):
    role_id = _role_id(synth, name)
    role = synth.responder["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert not role.get("ManagedPolicyArns")
    assert [p["PolicyName"] for p in role["Policies"]] == ["Permissions"]
    # nothing attached from elsewhere: the role's one policy is all it may do
    attached = [
        lid
        for lid, res in synth.responder["Resources"].items()
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        and {"Ref": role_id} in res["Properties"].get("Roles", [])
    ]
    assert not attached, attached
    assert len(naming.runner_role_name(name, REGION)) <= 64


@by_playbook
def test_role_actions_are_exactly_playbook_plus_engine(synth: Synth, name: str):
    book = PLAYBOOKS[name]
    granted = {
        a
        for st in statements_of_role(synth.responder, _role_id(synth, name))
        if st["Effect"] == "Allow"
        for a in as_list(st["Action"])
    }
    declared = {a for p in book.permissions() for a in p.actions}
    engine = {a for p in ENGINE_PERMISSIONS for a in p.actions}
    # a playbook that takes GuardDuty, Security Hub, Inspector or Access Analyzer findings re-reads each from its service
    finding_read = {a for p in finding_read_permissions(book) for a in p.actions}
    lambda_needs = RUNTIME_ACTIONS | CROSS_ACCOUNT_ACTIONS | SEAL_ACTIONS
    assert granted == declared | engine | finding_read | lambda_needs, (
        f"extra: {sorted(granted - declared - engine - finding_read - lambda_needs)}; "
        f"missing: {sorted((declared | engine | finding_read) - granted)}"
    )


def _region_values(values: dict[str, str], template: str, widened: bool) -> dict[str, str]:
    return {**values, "region": "*"} if widened and "{region}" in template else values


@by_playbook
def test_every_declared_permission_is_a_statement_with_its_rendered_resources(synth: Synth, name: str):
    book = PLAYBOOKS[name]
    values = synth.built.responder.template_values[name]
    statements = statements_of_role(synth.responder, _role_id(synth, name))
    for perm in [
        *book.permissions(),
        *ENGINE_PERMISSIONS,
        *finding_read_permissions(book),
    ]:
        # the engine's own stores stay at home; the rest holds in every region of parry:regions, as
        # "*" limited by aws:RequestedRegion (one ARN per region would outgrow IAM's policy size)
        widened = bool(synth.built.responder.other_regions) and perm not in ENGINE_PERMISSIONS
        want = {
            json.dumps(_resolved(synth, render_resource(r, _region_values(values, r, widened), where="test")))
            for r in perm.resources
        }
        hits = [
            st for st in statements if st["Effect"] == "Allow" and sorted(as_list(st["Action"])) == sorted(perm.actions)
        ]
        granted = {json.dumps(r) for st in hits for r in as_list(st["Resource"])}
        assert want <= granted, f"no statement grants {perm.actions} on {sorted(want - granted)}"


@by_playbook
def test_no_wildcard_actions_and_resources_scoped_wherever_the_api_allows(synth: Synth, name: str):
    for st in statements_of_role(synth.responder, _role_id(synth, name)):
        actions = as_list(st["Action"])
        if st["Effect"] == "Deny":
            continue
        assert not [a for a in actions if a == "*" or a.endswith(":*")], actions
        if "*" in as_list(st["Resource"]):
            # only APIs without resource-level permissions: reads, and X-Ray's trace upload
            wide = [a for a in actions if a not in UNSCOPABLE_ACTIONS and not a.split(":")[1].startswith(READ_VERBS)]
            assert not wide, f"{wide} on Resource '*'"
        for resource in as_list(st["Resource"]):
            if resource != "*":
                assert pinned_to_an_account(st, resource), f"{st['Action']} on {resource} may reach any account"


@by_playbook
def test_iam_refuses_the_playbooks_changes_to_parrys_own_roles_and_functions(synth: Synth, name: str):
    book = PLAYBOOKS[name]
    denies = [
        s
        for s in statements_of_role(synth.responder, _role_id(synth, name))
        if s["Effect"] == "Deny" and "aws:RequestedRegion" not in json.dumps(s.get("Condition", {}))
    ]  # the deny outside parry:regions is about where the playbook acts, not about Parry's own resources
    denied = {a: json.dumps(s["Resource"]) for s in denies for a in as_list(s["Action"])}
    for perm in book.permissions():
        for action in perm.actions:
            service, verb = action.split(":")
            if service in ("iam", "lambda") and not verb.startswith(READ_VERBS) and action not in ENGINE_ACTIONS:
                own = ":role/parry-*" if service == "iam" else ":function:parry-*"
                assert own in denied.get(action, ""), f"{action} is not denied on {own}"
    assert not any(a.startswith(("sqs:", "logs:", "dynamodb:", "s3:", "kms:")) for a in denied), "engine rights stay"


def test_runner_may_assume_its_member_role_in_the_configured_accounts_only(synth: Synth):
    for name in PLAYBOOKS:
        (st,) = [
            s for s in statements_of_role(synth.responder, _role_id(synth, name)) if s["Action"] == "sts:AssumeRole"
        ]
        text = json.dumps(st["Resource"])
        for account in MEMBER_ACCOUNTS:
            assert f":iam::{account}:role/{naming.member_role_name(name)}" in text


def test_no_allow_statement_in_any_iam_policy_has_a_service_wide_action(synth: Synth):
    for stack in synth.templates:  # the forwarder's too
        for lid, res in synth.templates[stack]["Resources"].items():
            if res["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::ManagedPolicy"):
                continue
            docs = [res["Properties"].get("PolicyDocument")] + [
                p["PolicyDocument"] for p in res["Properties"].get("Policies", [])
            ]
            for doc in filter(None, docs):
                for st in doc["Statement"]:
                    if st["Effect"] == "Allow":
                        bad = [a for a in as_list(st["Action"]) if a == "*" or a.endswith(":*")]
                        assert not bad, f"{stack}/{lid}: {bad}"


# ---- routing -------------------------------------------------------------------------------------


def _rule(synth: Synth, name: str, kind: str) -> dict[str, Any]:
    lid = logical_id(synth.responder, "AWS::Events::Rule", Name=naming.rule_name(name, kind))
    return synth.responder["Resources"][lid]["Properties"]


def _assert_targets_function_with_retries_and_dlq(synth: Synth, rule: dict[str, Any], name: str) -> None:
    fn_id, _ = _function(synth, name)
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 8}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [_dlq_id(synth, name), "Arn"]}}


def _forgeable(book: Any) -> bool:
    return any(
        not str(src).startswith("aws.")
        for branch in book.trigger.get("$or", [book.trigger])
        for src in branch["source"]
    )


@by_playbook
def test_trigger_rule_pattern_is_the_trigger_byte_for_byte(synth: Synth, name: str):
    if _forgeable(PLAYBOOKS[name]):
        assert not _rule_names(synth, name), "a trigger anyone could put gets no rule"
        return
    rule = _rule(synth, name, "trigger")
    assert json.dumps(rule["EventPattern"]) == json.dumps(PLAYBOOKS[name].trigger)
    assert rule["State"] == "ENABLED"
    _assert_targets_function_with_retries_and_dlq(synth, rule, name)


def _rule_names(synth: Synth, name: str) -> list[str]:
    fn_id, _ = _function(synth, name)
    return [
        rule["Properties"]["Name"]
        for rule in synth.resources("Parry", "AWS::Events::Rule").values()
        if any(t["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]} for t in rule["Properties"]["Targets"])
    ]


def _sources(pattern: dict[str, Any]) -> list[Any]:
    return [s for branch in pattern.get("$or", [pattern]) for s in branch.get("source", ["<none>"])]


def test_no_rule_takes_an_event_a_customer_can_put(synth: Synth):
    """Anyone holding events:PutEvents on a bus can put any source but `aws.*`: no rule of the
    app may match one (`source: parry` run requests are gone; people use the front door)."""
    rules = synth.resources("Parry", "AWS::Events::Rule").values()
    patterns = [r["Properties"]["EventPattern"] for r in rules if "EventPattern" in r["Properties"]]
    assert len(patterns) >= len(PLAYBOOKS) - 1
    for pattern in patterns:
        sources = _sources(pattern)
        assert sources and all(isinstance(s, str) and s.startswith("aws.") for s in sources), pattern
        assert "parry" not in json.dumps(pattern["source"] if "source" in pattern else pattern["$or"])
    assert "manual-quarantine" in PLAYBOOKS and _forgeable(PLAYBOOKS["manual-quarantine"])
    assert not _rule_names(synth, "manual-quarantine")
    (warning,) = synth.warnings("Parry")["/Parry/Routes/manual-quarantine"]
    assert "runs only through the front door" in warning


@by_playbook
def test_rules_may_invoke_the_function_and_dead_letter_into_its_queue(synth: Synth, responder, name: str):
    fn_id, _ = _function(synth, name)
    kinds = [
        *([] if _forgeable(PLAYBOOKS[name]) else ["trigger"]),
        *(["custom-action"] if has_custom_action(PLAYBOOKS[name]) else []),
    ]
    permissions = [
        p["Properties"]
        for p in synth.resources("Parry", "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    ]
    (queue_policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("Parry", "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": _dlq_id(synth, name)}]
    ]
    # exactly the playbook's rules, each named in full (on the default bus): no other rule, and
    # no other principal, may invoke the function or dead-letter into its queue
    want = sorted(
        f"arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/{naming.rule_name(name, k)}" for k in kinds
    )
    assert sorted(nag_value(p["SourceArn"]) for p in permissions) == want
    assert all(p["Action"] == "lambda:InvokeFunction" and p["Principal"] == "events.amazonaws.com" for p in permissions)
    senders = [st for st in queue_policy if st["Effect"] == "Allow"]
    assert all(
        st["Action"] == "sqs:SendMessage" and st["Principal"] == {"Service": "events.amazonaws.com"} for st in senders
    )
    assert sorted(nag_value(st["Condition"]["ArnEquals"]["aws:SourceArn"]) for st in senders) == want
    assert sorted(_rule_names(synth, name)) == sorted(naming.rule_name(name, k) for k in kinds)


def test_dead_letter_queues_refuse_plain_http(synth: Synth):
    policies = synth.resources("Parry", "AWS::SQS::QueuePolicy").values()
    assert len(policies) == len(PLAYBOOKS)
    for policy in policies:
        (deny,) = [st for st in policy["Properties"]["PolicyDocument"]["Statement"] if st["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and deny["Principal"] == {"AWS": "*"}


@by_playbook
def test_security_hub_custom_action_exactly_for_manual_playbooks(synth: Synth, name: str):
    from parry.routing.patterns import compile_pattern

    book = PLAYBOOKS[name]
    action_id = naming.security_hub_action_id(name)
    (resource,) = synth.resources("Parry", "Custom::ParrySecurityHubActions").values()
    actions = [a for a in resource["Properties"]["Actions"] if a["Id"] == action_id]
    if not has_custom_action(book):
        assert not actions and naming.rule_name(name, "custom-action") not in _rule_names(synth, name)
        return
    (action,) = actions
    rule = _rule(synth, name, "custom-action")
    assert re.fullmatch(r"[A-Za-z0-9]{1,20}", action["Id"]) and 1 <= len(action["Name"]) <= 20
    assert name in action["Description"]
    assert logical_id(synth.responder, "Custom::ParrySecurityHubActions") in _rule_resource(
        synth, name, "custom-action"
    ).get("DependsOn", [])
    # the rule takes this playbook's custom action, nothing else
    here = {"<AWS::Partition>": "aws", "<AWS::Region>": REGION, "<AWS::AccountId>": "111111111111"}

    def deployed(value: Any) -> Any:
        if isinstance(value, dict) and "Fn::Join" in value:
            text = nag_value(value)
            for placeholder, concrete in here.items():
                text = text.replace(placeholder, concrete)
            return text
        if isinstance(value, dict):
            return {k: deployed(v) for k, v in value.items()}
        return [deployed(v) for v in value] if isinstance(value, list) else value

    matches = compile_pattern(deployed(rule["EventPattern"])).matches
    action_arn = f"arn:aws:securityhub:{REGION}:111111111111:action/custom/{action_id}"
    other_arn = f"arn:aws:securityhub:{REGION}:111111111111:action/custom/{naming.security_hub_action_id(name + '-x')}"
    custom = {
        "source": "aws.securityhub",
        "detail-type": "Security Hub Findings - Custom Action",
        "detail": {"findings": []},
    }
    assert matches({**custom, "resources": [action_arn]})
    assert not matches({**custom, "resources": [other_arn]})
    assert not matches(
        {"source": "parry", "detail-type": "Parry Run Request", "resources": [action_arn], "detail": {"playbook": name}}
    )
    _assert_targets_function_with_retries_and_dlq(synth, rule, name)


def _rule_resource(synth: Synth, name: str, kind: str) -> dict[str, Any]:
    return synth.responder["Resources"][
        logical_id(synth.responder, "AWS::Events::Rule", Name=naming.rule_name(name, kind))
    ]


def test_security_hub_actions_function_is_protected_least_privilege_and_inline(synth: Synth):
    from stacks.constructs.security_hub_actions import HANDLER_SOURCE

    assert len(HANDLER_SOURCE.read_text()) <= 4096, "CloudFormation inline code is at most 4 KB"
    fn_id = logical_id(synth.responder, "AWS::Lambda::Function", FunctionName=naming.SECURITY_HUB_ACTIONS_FUNCTION)
    fn = synth.responder["Resources"][fn_id]["Properties"]
    assert fn["Handler"] == "index.handler" and "ZipFile" in fn["Code"]
    role_id = fn["Role"]["Fn::GetAtt"][0]
    actions = {a for st in statements_of_role(synth.responder, role_id) for a in as_list(st["Action"])}
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "securityhub:CreateActionTarget",
        "securityhub:UpdateActionTarget",
        "securityhub:DeleteActionTarget",
        "cloudformation:DescribeStackResource",  # is a request CloudFormation's own? (read-only)
    }
    # within the guardrails' own-resource patterns
    assert naming.SECURITY_HUB_ACTIONS_FUNCTION.startswith("Parry")
    assert synth.responder["Resources"][role_id]["Properties"]["RoleName"].startswith("Parry")
