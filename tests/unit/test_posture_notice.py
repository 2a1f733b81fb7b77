"""The notice of a sweep's new results stays within SNS's message size whatever the estate's size."""

from __future__ import annotations

from parry.posture.notice import LISTED, new_results_notice
from parry.posture.results import Result

SNS_MESSAGE_LIMIT = 256 * 1024  # bytes (SNS Publish)


def _result(n: int) -> Result:
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:a-function-with-a-long-descriptive-name-{n:06d}"
    return Result("PARRY-LAMBDA-10", "INFORMATIONAL", arn, "123456789012", "us-east-1", "no DLQ", "add one")


def test_a_first_sweep_of_ten_thousand_functions_fits_one_message_and_says_how_many_more():
    notice = new_results_notice([_result(n) for n in range(10_000)])

    assert len(notice.body.encode()) < SNS_MESSAGE_LIMIT
    assert "10000 new posture result(s)" in notice.body and "PARRY-LAMBDA-10: 10000" in notice.body
    assert notice.body.count("function:a-function") == LISTED
    assert f"and {10_000 - LISTED} more" in notice.body


def test_a_few_results_are_each_listed():
    notice = new_results_notice([_result(n) for n in range(3)])

    assert notice.body.count("function:a-function") == 3 and "more (in Security Hub" not in notice.body
