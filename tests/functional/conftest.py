"""Fixtures of the functional tests beyond the shared ones: a member account with a finding in it."""

from __future__ import annotations

import pytest

from parry.local.sandbox import guardduty_finding_in_security_hub
from tests.support.events import IAM_FINDING, in_account
from tests.support.findings import registered
from tests.support.members import MEMBER, member_session


@pytest.fixture
def accounts(aws, parry_env, load_event):
    """A user named ci-deployer with an active key in both accounts; the finding is the member's.

    Security Hub aggregates the member's finding in the security account (its administrator).
    """
    member_iam = member_session().client("iam")
    home_iam = aws.client("iam")
    keys = {}
    for name, iam in (("member", member_iam), ("home", home_iam)):
        iam.create_user(UserName="ci-deployer")
        keys[name] = iam.create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    event = load_event(IAM_FINDING)
    event["account"] = event["detail"]["accountId"] = MEMBER
    event["region"] = event["detail"]["region"] = "us-east-1"
    event["detail"]["arn"] = in_account(event["detail"]["arn"], MEMBER, "us-east-1")
    event["detail"]["resource"]["accessKeyDetails"].update(userName="ci-deployer", accessKeyId=keys["member"])
    guardduty_finding_in_security_hub(aws, event)
    event = registered(aws, event)
    return {"member_iam": member_iam, "home_iam": home_iam, "keys": keys, "event": event}
