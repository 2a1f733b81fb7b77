"""CDK context values: `-c` strings and cdk.json lists alike, and unusable values named by key."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("synth")


def _config(**context):
    from aws_cdk import App

    from stacks.config import ParryConfig

    return ParryConfig.from_context(App(context={f"parry:{k}": v for k, v in context.items()}))


def test_defaults_are_compliance_mode_and_a_year():
    config = _config()
    assert config.lock_mode == "COMPLIANCE" and config.retention_days == 365
    assert config.protected_arn_patterns == () and not config.cross_account


def test_command_line_strings_become_lists_and_numbers():
    config = _config(
        notificationEmails="a@example.com, b@example.com",
        retentionDays="30",
        lockMode="governance",
        memberAccounts="222222222222",
        securityHubActions="false",
    )
    assert config.notification_emails == ("a@example.com", "b@example.com")
    assert config.retention_days == 30 and config.lock_mode == "GOVERNANCE"
    assert config.member_accounts == ("222222222222",) and config.cross_account
    assert config.security_hub_actions is False


def test_every_unusable_value_is_named_at_once():
    from stacks.config import ConfigError

    with pytest.raises(ConfigError) as err:
        _config(
            lockMode="FOREVER",
            retentionDays="soon",
            notificationEmails="nobody",
            homeRegion="mars",
            organizationId="acme",
        )
    message = str(err.value)
    for key in ("lockMode", "retentionDays", "notificationEmails", "homeRegion", "organizationId"):
        assert f"parry:{key}" in message, key


def test_front_door_roles_are_role_arns_each_once():
    config = _config(
        onCallRoles="arn:aws:iam::111111111111:role/OnCall, arn:aws:iam::111111111111:role/team/OnCall2",
        approverRoles=["arn:aws:iam::111111111111:role/Lead", "arn:aws:iam::111111111111:role/Lead"],
    )
    assert config.on_call_roles == (
        "arn:aws:iam::111111111111:role/OnCall",
        "arn:aws:iam::111111111111:role/team/OnCall2",
    )
    assert config.approver_roles == ("arn:aws:iam::111111111111:role/Lead",)
    assert _config().on_call_roles == () and _config().approver_roles == ()


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::111111111111:role/*",  # a resource policy names principals exactly
        "arn:aws:iam::111111111111:user/alice",
        "arn:aws:sts::111111111111:assumed-role/OnCall/alice",
        "arn:aws:iam::1111:role/OnCall",
        "OnCall",
    ],
)
def test_anything_but_a_role_arn_is_refused_by_key(arn: str):
    from stacks.config import ConfigError

    with pytest.raises(ConfigError, match="parry:approverRoles"):
        _config(approverRoles=[arn])


def test_instance_roles_are_any_by_default_and_a_role_pattern_when_set():
    from stacks.config import ConfigError

    assert _config().instance_roles == "*"
    assert _config(instanceRoles="instances/*").instance_roles == "instances/*"
    with pytest.raises(ConfigError, match="parry:instanceRoles"):
        _config(instanceRoles="arn:aws:iam::111111111111:role/*")


def test_regions_start_with_the_home_region_each_once():
    assert _config(homeRegion="eu-west-1").regions == ("eu-west-1",)
    config = _config(homeRegion="eu-west-1", regions="us-east-1, eu-west-1,us-east-1")
    assert config.regions == ("eu-west-1", "us-east-1")
    assert _config(homeRegion="us-east-1", regions=["ap-east-1"]).regions == ("us-east-1", "ap-east-1")


def test_a_region_that_is_no_region_or_of_another_partition_is_named():
    from stacks.config import ConfigError

    with pytest.raises(ConfigError) as err:
        _config(homeRegion="eu-west-1", regions="us-east-1,mars,cn-north-1,us-gov-west-1,us-iso-east-1")
    lines = str(err.value).splitlines()
    assert "parry:regions: 'mars' is not a region name" in lines
    assert "parry:regions: cn-north-1 is not in the partition of the home region eu-west-1 (aws)" in lines
    assert "parry:regions: us-gov-west-1 is not in the partition of the home region eu-west-1 (aws)" in lines
    assert "parry:regions: us-iso-east-1 is not in the partition of the home region eu-west-1 (aws)" in lines
    assert len(lines) == 4, "us-east-1 is no problem"
