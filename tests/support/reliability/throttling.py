"""Throttling injection: ThrottlingException answered at the HTTP layer, before moto sees the request.

The retries are botocore's own (adaptive mode, Parry's attempt budget), so the fake error is
written in each service's wire protocol and the back-off runs on a virtual clock: the scenario
measures whether runs complete, without waiting as long as a real account would.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
import types
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any
from unittest import mock

from parry.aws.clients import DEFAULT_MAX_ATTEMPTS
from tests.support.reliability.figures import Figures
from tests.support.reliability.seeds import SEEDS
from tests.support.reliability.world import World


def throttling_response(protocol: str, request: Any) -> Any:
    """A 400 ThrottlingException in the wire format of the service's protocol."""
    from botocore.awsrequest import AWSResponse

    request_id = str(uuid.uuid4())
    if protocol in ("query",):
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>ThrottlingException</Code>"
            f"<Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
    elif protocol == "ec2":
        body = (
            "<Response><Errors><Error><Code>ThrottlingException</Code><Message>Rate exceeded</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        headers = {"Content-Type": "text/xml"}
    elif protocol == "rest-xml":
        body = f"<Error><Code>ThrottlingException</Code><Message>Rate exceeded</Message><RequestId>{request_id}</RequestId></Error>"
        headers = {"Content-Type": "application/xml", "x-amz-request-id": request_id}
    elif protocol == "json":
        body = json.dumps({"__type": "com.amazonaws.coral#ThrottlingException", "message": "Rate exceeded"})
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id}
    elif protocol == "rest-json":
        body = json.dumps({"message": "Rate exceeded"})
        headers = {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": "ThrottlingException",
            "x-amzn-RequestId": request_id,
        }
    else:
        return None
    raw = types.SimpleNamespace(stream=lambda **_: iter([body.encode()]))
    return AWSResponse(request.url, 400, headers, raw)


class Throttle:
    """Answers a seeded fraction of HTTP attempts with ThrottlingException before they reach moto."""

    def __init__(self, rate: float, seed: int = 0):
        self.rate = rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.attempts = 0
        self.injected = 0

    def before_send(self, request: Any, protocol: str, **_: Any) -> Any:
        with self.lock:
            self.attempts += 1
            hit = self.rng.random() < self.rate
            if hit:
                self.injected += 1
        return throttling_response(protocol, request) if hit else None


class VirtualTime:
    """botocore's retry back-off and adaptive rate limiter sleep on a virtual clock.

    The retry decisions (attempt budget, retry quota, client-side rate) are botocore's own; only
    the waiting is skipped, and `slept` says how long a real run would have waited.
    """

    def __init__(self) -> None:
        self.offset = 0.0
        self.lock = threading.Lock()

    @property
    def slept(self) -> float:
        return self.offset

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.offset += max(0.0, float(seconds or 0.0))

    def now(self) -> float:
        return time.time() + self.offset

    @contextlib.contextmanager
    def active(self) -> Iterator[VirtualTime]:
        import botocore.endpoint
        import botocore.retries.bucket as bucket

        vt = self

        class _Time:
            def __getattr__(self, name: str) -> Any:
                return getattr(time, name)

            @staticmethod
            def sleep(seconds: float) -> None:
                vt.sleep(seconds)

        class _Condition(threading.Condition):
            def wait(self, timeout: float | None = None) -> bool:
                vt.sleep(timeout or 0.0)
                return True

        class _Threading:
            Condition = _Condition

            def __getattr__(self, name: str) -> Any:
                return getattr(threading, name)

        with (
            mock.patch.object(botocore.endpoint, "time", _Time()),
            mock.patch.object(bucket, "threading", _Threading()),
            mock.patch.object(bucket.Clock, "sleep", lambda _self, amount: vt.sleep(amount)),
            mock.patch.object(bucket.Clock, "current_time", lambda _self: vt.now()),
        ):
            yield self


def throttled_runs(
    world: World,
    book: Any,
    *,
    runs: int = 20,
    rate: float = 0.3,
    seed: int = 6,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Figures:
    """`runs` fresh cases with `rate` of all HTTP attempts answered ThrottlingException."""
    completed = 0
    statuses: Counter = Counter()
    errors: list[str] = []
    throttle = Throttle(rate, seed)
    probe = world.probe()
    vt = VirtualTime()
    max_retry = 0
    with vt.active():
        for i in range(runs):
            seeded = SEEDS[book.name](world.admin, world.next())
            engine = world.engine(probe=probe, throttle=throttle, max_attempts=max_attempts)
            try:
                case = engine.run(book, seeded.event)
                statuses[case.status] += 1
                ok = case.status == "SUCCEEDED" and seeded.contained()
                if not ok:
                    errors.append(f"run {i}: {case.status}: " + "; ".join(s.error or "" for s in case.steps if s.error))
                completed += ok
            except Exception as exc:  # a run that did not complete: the delivery would be retried
                statuses[type(exc).__name__] += 1
                errors.append(f"run {i}: {type(exc).__name__}: {exc}")
            max_retry = max(max_retry, probe.max_retry_attempts)
    return {
        "playbook": book.name,
        "throttle_rate": rate,
        "max_attempts": max_attempts,
        "runs": runs,
        "completed": completed,
        "http_attempts": throttle.attempts,
        "throttled": throttle.injected,
        "max_retries_of_one_call": max_retry,
        "virtual_backoff_s": round(vt.slept, 1),
        "statuses": dict(statuses),
        "errors": errors[:5],
    }
