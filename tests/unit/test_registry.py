"""The action contract, enforced over the whole registry: no action may lack any part of it."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys

import pytest

from parry.actions import registry
from parry.actions.base import Action, ActionParams, Permission, acts_in_member_account
from parry.actions.registry import param_fields, params_schema

ACTIONS = registry.all_actions()
IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")  # service:Operation, no wildcard anywhere


@pytest.mark.parametrize("name", ACTIONS)
def test_action_declares_the_whole_contract(name):
    cls = ACTIONS[name]
    assert cls.name == name and re.fullmatch(r"[a-z0-9]+\.[a-z0-9_]+", name)
    assert issubclass(cls, Action)
    assert dataclasses.is_dataclass(cls.Params) and cls.Params.__dataclass_params__.frozen
    assert issubclass(cls.Params, ActionParams), f"{name}: its parameters do not derive from ActionParams"
    for field_name, schema, _, doc in param_fields(cls):
        assert doc, f"{name}: parameter {field_name} has no doc"
        assert schema, f"{name}: parameter {field_name} has no type"
    assert isinstance(cls.mutating, bool)
    assert cls.summary and cls.__doc__ and cls.__doc__.strip()
    assert cls.permissions and all(isinstance(p, Permission) for p in cls.permissions)
    assert not cls.__abstractmethods__, f"{name} does not implement {sorted(cls.__abstractmethods__)}"


@pytest.mark.parametrize("name", ACTIONS)
def test_permissions_name_single_api_actions(name):
    for perm in ACTIONS[name].permissions:
        for action in perm.actions:
            assert IAM_ACTION.match(action), f"{name}: {action!r} is not one API action"
        assert perm.resources and all(r for r in perm.resources)


@pytest.mark.parametrize("name", [n for n, c in ACTIONS.items() if c.mutating])
def test_mutating_action_has_an_undo_or_says_why_not(name):
    cls = ACTIONS[name]
    if cls.undo:
        assert cls.undo in ACTIONS, f"{name}: undo {cls.undo} is not registered"
    else:
        assert cls.no_undo_reason, f"{name}: no undo and no reason"


# every action that gives access back, reviewed by hand: a new one must be added here, on purpose
RESTORES_ACCESS = {
    "ecs.unisolate_task",
    "sequence.release",
    "iam.activate_access_key",
    "iam.unquarantine_user",
    "iam.add_user_to_groups",
    "iam.restore_role_sessions",
    "iam.restore_role_policies",
    "iam.attach_policy",
    "ec2.unisolate_instance",
    "ec2.associate_instance_profile",
    "lambda.add_permissions",
    "lambda.unquarantine_function",
    "lambda.allow_public_url",
    "lambda.enable_event_source_mapping",
    "lambda.add_layer_permission",
    "s3.restore_public_access_block",
    "s3.release_object",
    "policy.restore",
}


# mutating actions that record something (a finding's workflow state, a mark on a resource), not anyone's access
FINDING_BOOKKEEPING = {
    "guardduty.archive_finding",
    "guardduty.unarchive_finding",
    "securityhub.update_finding",
    "lambda.tag_function",
}


def test_the_actions_that_give_access_back_say_so():
    marked = {n for n, c in ACTIONS.items() if c.restores_access}
    assert marked == RESTORES_ACCESS
    assert all(ACTIONS[n].mutating for n in marked)


@pytest.mark.parametrize("name", [n for n, c in ACTIONS.items() if c.mutating and c.undo])
def test_an_undo_that_gives_access_back_is_marked(name):
    """The undo of a containment (a change that takes access away) gives it back: it must say so."""
    undo = ACTIONS[ACTIONS[name].undo]
    takes_access_away = not ACTIONS[name].restores_access and name not in FINDING_BOOKKEEPING
    assert undo.restores_access == takes_access_away, f"{name}: its undo {undo.name} restores_access is wrong"


@pytest.mark.parametrize("name", [n for n, c in ACTIONS.items() if not c.mutating])
def test_read_only_action_says_why_it_has_no_undo(name):
    assert ACTIONS[name].undo is None and ACTIONS[name].no_undo_reason


@pytest.mark.parametrize("name", ACTIONS)
def test_summary_formats_with_the_parameters(name):
    cls = ACTIONS[name]
    fields = {f.name: f"<{f.name}>" for f in dataclasses.fields(cls.Params)}
    text = cls.summary.format(**fields)
    assert "{" not in text


def test_unknown_action_is_a_named_error():
    with pytest.raises(registry.ActionError, match="unknown action 'iam.nothing'"):
        registry.get("iam.nothing")


def test_build_params_checks_types_and_names():
    cls = registry.get("iam.deactivate_access_key")
    with pytest.raises(registry.ActionError, match="parameter access_key_id must be string"):
        registry.build_params(cls, {"user_name": "a", "access_key_id": 5})
    with pytest.raises(registry.ActionError, match="unknown parameter"):
        registry.build_params(cls, {"user_name": "a", "access_key_id": "k", "x": 1})
    with pytest.raises(registry.ActionError, match="parameter user_name is required"):
        registry.build_params(cls, {"user_name": None, "access_key_id": "k"})
    assert registry.build_params(cls, {"user_name": "a", "access_key_id": "k"}) == cls.Params("a", "k")


def test_params_schema_allows_expressions_in_place_of_values():
    schema = params_schema(registry.get("iam.deactivate_access_key"))
    assert schema["required"] == ["user_name", "access_key_id"] and schema["additionalProperties"] is False


# Actions acting on what the security account holds, even for a case in a member account:
# Parry's topic, and the findings its administrator account aggregates (see docs/deploy.md).
SECURITY_ACCOUNT_ACTIONS = {
    "notify.sns",
    "guardduty.archive_finding",
    "guardduty.unarchive_finding",
    "securityhub.update_finding",
}


@pytest.mark.parametrize("name", ACTIONS)
def test_each_action_acts_in_one_account(name):
    """The engine picks one set of credentials per action, so its permissions may not mix accounts."""
    kinds = {p.member for p in ACTIONS[name].permissions}
    assert len(kinds) == 1, f"{name}: some permissions go to the member role and some stay with the runner"


def test_actions_on_the_security_accounts_resources_keep_its_credentials():
    home = {name for name, cls in ACTIONS.items() if not acts_in_member_account(cls)}
    assert home == SECURITY_ACCOUNT_ACTIONS


def test_member_permissions_are_those_whose_templates_a_member_account_fills():
    assert Permission(("iam:GetUser",), ("arn:{partition}:iam::{account}:user/*",)).member
    assert Permission(("ec2:DescribeInstances",)).member
    assert not Permission(("sns:Publish",), ("{topic_arn}",)).member
    assert not Permission(
        ("guardduty:ArchiveFindings",),
        ("arn:{partition}:guardduty:{region}:{account}:detector/*",),
        security_account=True,
    ).member


def test_the_module_table_names_where_each_action_is_registered():
    """A run imports an action's module from `MODULES` alone: a missing or wrong entry would import
    every module (or the wrong one) on the run path."""
    registered = {name: cls.__module__.removeprefix("parry.actions.") for name, cls in ACTIONS.items()}

    assert registry.MODULES == registered


def test_an_action_is_found_by_importing_its_module_alone():
    code = (
        "import sys; from parry.actions import registry; registry.get('iam.deactivate_access_key'); "
        "print(sorted(m for m in sys.modules if m.startswith('parry.actions.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert ast.literal_eval(out) == [
        "parry.actions._common",
        "parry.actions.base",
        "parry.actions.iam",
        "parry.actions.registry",
    ]
