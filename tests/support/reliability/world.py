"""A moto world: in-process AWS with Parry's resources provisioned, and engines with counted clients.

Each scenario needs a fresh account and engines whose clients report every call to a `Probe` and
can be throttled at the HTTP layer; `World` hands out both, with a clock per scenario so
guardrail windows never leak from one scenario into the next.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from unittest import mock

from parry.aws.clients import DEFAULT_MAX_ATTEMPTS, ClientFactory
from tests.support.reliability.counting import Probe

if TYPE_CHECKING:
    from tests.support.reliability.throttling import Throttle

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


class ProbedFactory(ClientFactory):
    """A ClientFactory whose clients report to a Probe and may be throttled."""

    def __init__(
        self,
        *,
        probe: Probe | None = None,
        throttle: Throttle | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        region: str = REGION,
    ):
        super().__init__(region=region, max_attempts=max_attempts)
        self.probe = probe
        self.throttle = throttle
        self._seen: set[int] = set()
        self._probe_lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        client = super().client(service, region)
        with self._probe_lock:
            if id(client) not in self._seen:
                self._seen.add(id(client))
                events = client.meta.events
                if self.probe is not None:
                    events.register("before-parameter-build.*.*", self.probe.on_params)
                    events.register("after-call.*.*", self.probe.on_after_call)
                if self.throttle is not None:
                    protocol = client.meta.service_model.protocol
                    handler = lambda request, _p=protocol, **kw: self.throttle.before_send(request, _p, **kw)  # noqa: E731
                    events.register_first("before-send", handler, unique_id=f"parry-throttle-{id(client)}")
        return client


@dataclass
class World:
    """One moto account: seeds draw numbered resources from it, scenarios draw engines and clocks."""

    admin: ClientFactory  # un-instrumented: seeding and reading back
    env: dict[str, str]
    counter: int = 0
    hours: int = 0

    def hour_clock(self) -> Callable[[], float]:
        """A clock in an hour of its own: scenarios never share a max_cases_per_hour window."""
        self.hours += 2
        offset = self.hours * 3600.0
        return lambda: time.time() + offset

    @property
    def settings(self) -> Any:
        from parry.config import Settings

        return Settings.from_env(self.env)

    @property
    def bucket(self) -> str:
        return self.env["PARRY_EVIDENCE_BUCKET"]

    def probe(self) -> Probe:
        return Probe(self.bucket)

    def engine(
        self,
        *,
        probe: Probe | None = None,
        throttle: Throttle | None = None,
        clock: Callable[[], float] | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> Any:
        from parry.engine.run import Engine

        aws = ProbedFactory(probe=probe, throttle=throttle, max_attempts=max_attempts)
        return Engine(aws, self.settings, clock=clock or self.hour_clock())

    def next(self) -> int:
        self.counter += 1
        return self.counter

    def cases_for(self, playbook: str, dedup: str | None = None) -> list[dict[str, Any]]:
        """Case items of `playbook` (with that dedup value): how many cases a delivery opened."""
        ddb = self.admin.client("dynamodb")
        condition = "kind = :k AND playbook = :p" + (" AND dedup = :d" if dedup is not None else "")
        values = {":k": {"S": "case"}, ":p": {"S": playbook}}
        if dedup is not None:
            values[":d"] = {"S": dedup}
        items = []
        for page in ddb.get_paginator("scan").paginate(
            TableName=self.env["PARRY_CASES_TABLE"],
            FilterExpression=condition,
            ProjectionExpression="pk",
            ExpressionAttributeValues=values,
        ):
            items.extend(page["Items"])
        return items

    def evidence_keys(self, prefix: str) -> list[str]:
        s3 = self.admin.client("s3")
        keys: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(o["Key"][len(prefix) :] for o in page.get("Contents", []))
        return keys


def moto_code_package(url: str, *, timeout: float = 0, max_bytes: int = 0) -> bytes:
    """The code package in-process moto holds for a GetFunction Location: the URL names AWS's S3,
    which urllib would try to reach; the key at its end is moto's name for the package."""
    from moto.awslambda.models import lambda_backends

    key = url.rsplit("/", 1)[-1]
    for regions in lambda_backends.values():
        for backend in regions.values():
            for fn in backend.list_functions():
                if fn.code.get("S3Key") == key:
                    return bytes(fn.code_bytes)
    raise OSError(f"no code package at {url}")


@contextlib.contextmanager
def moto_world() -> Iterator[World]:
    """In-process moto with Parry's resources provisioned. Needs fake credentials in the environment."""
    from moto import mock_aws

    from parry.local.bootstrap import provision
    from parry.local.corrections import moto_like_aws

    moto_like_aws()
    from moto.moto_api import state_manager

    # an ECS task runs until it is stopped, as in AWS (moto moves it on towards STOPPED at each DescribeTasks)
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": sys.maxsize})
    try:
        with mock_aws(), mock.patch("parry.actions.evidence_compute.download", moto_code_package):
            admin = ClientFactory(region=REGION)
            env = provision(admin)
            yield World(admin, env)
    finally:
        state_manager.unset_transition("ecs::task")
