"""The ProductArn a GuardDuty finding is marked under is its own region's, wherever Parry runs: a finding
from eu-west-1 is GuardDuty's eu-west-1 product in Security Hub, in that region and in an aggregation region."""

from __future__ import annotations

from parry.actions.base import ActionContext
from parry.actions.securityhub import FindingParams, product_arn

FINDING = "arn:aws:guardduty:eu-west-1:123456789012:detector/d1/finding/f1"


def test_a_findings_product_is_its_own_regions_not_the_runners():
    ctx = ActionContext(aws=None, case_id="c", step_id="s", playbook="p", account="123456789012", region="us-east-1")

    assert product_arn(ctx, FindingParams(finding_id=FINDING)) == "arn:aws:securityhub:eu-west-1::product/aws/guardduty"
