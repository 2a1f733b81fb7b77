"""The maintenance Lambda, run on a schedule: close cases whose approval window has passed.

One function for every playbook: it touches only the case table, the evidence (an audit record
and a new signed manifest per closed case) and the topic, never an account's resources.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


class Swept(TypedDict):
    expired: list[str]  # the cases closed, by id


def handler(event: dict[str, Any], context: LambdaContext | None = None) -> Swept:
    """Expire every overdue approval, count them (`ExpiredApprovals`) and log which."""
    from aws_lambda_powertools import Logger, Metrics

    from parry.aws.clients import ClientFactory
    from parry.config import Settings
    from parry.engine.approvals import expire_overdue
    from parry.engine.run import Engine

    logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "parry"))
    metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Parry"), service="parry")
    closed = expire_overdue(Engine(ClientFactory(), Settings.from_env()))
    metrics.add_metric(name="ExpiredApprovals", unit="Count", value=len(closed))
    metrics.flush_metrics()
    logger.info("approval sweep", extra={"expired": closed})
    return {"expired": closed}
