"""What the on-call gets on Parry's topic: a queue subscribed to it, read as (subject, message) pairs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def on_call_inbox(aws: Any, topic_arn: str) -> Callable[[], list[tuple[str, str]]]:
    """A reader of the (subject, message) of each notification sent to `topic_arn` from now on."""
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="on-call")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)

    def read() -> list[tuple[str, str]]:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [(json.loads(m["Body"]).get("Subject", ""), json.loads(m["Body"])["Message"]) for m in got]

    return read
