"""One function checked again, live: what a response playbook's first step reads before it changes anything.

A sweep result is Parry's own report, neither an AWS service's event nor a person's decision, so
nothing acts on it as delivered. A response starts as the on-call's request through the control
plane (`parry run <playbook> --target function=ARN`) and its first step re-reads the function from
Lambda and IAM and runs the checks on what it read now: a problem fixed since the sweep is found
gone, and the later steps are skipped.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from parry.posture.checks import check_function
from parry.posture.reader import RoleReader, event_sources_by_function, read_function, reduce_environment

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory
    from parry.posture.results import Result


def recheck(
    aws: ClientFactory, function_name: str, account: str, region: str, *, today: date | None = None
) -> list[Result]:
    """Every check's results on one function as Lambda and IAM describe it now (ResourceNotFound: none)."""
    lam = aws.client("lambda", region)
    config: dict[str, Any] = lam.get_function_configuration(FunctionName=function_name)
    reduce_environment(config)
    arn = config["FunctionArn"]
    sources = event_sources_by_function(lam, function_name).get(arn, [])
    facts = read_function(lam, RoleReader(aws), config, sources, account, region)
    return check_function(facts, today or date.today())
