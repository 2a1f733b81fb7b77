"""The latency the finding re-read adds to a run: Engine.run with and without it, in-process moto.

Every GuardDuty or Security Hub finding is re-read from its service before Parry acts
(parry.routing.findings: ListDetectors + GetFindings). This runs iam-credential-compromise on
N fresh GuardDuty findings (a new user and key each) twice, once as shipped and once with the
re-read replaced by the identity, and prints the median per run and the ratio. On moto the
calls cost what botocore and moto cost in-process; against AWS add two round trips in-region.

    python bench/finding_reread.py [-n RUNS]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IAM_FINDING = (
    ROOT / "tests/events/guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"
)
ACCOUNT, REGION = "123456789012", "us-east-1"


def runs(count: int, reread: bool) -> tuple[list[float], list[float]]:
    """Seconds per Engine.run on `count` fresh findings, with the re-read or without it, and per re-read alone."""
    from moto import mock_aws

    from parry.aws.clients import ClientFactory
    from parry.config import Settings
    from parry.engine import run as engine_run
    from parry.engine.run import Engine
    from parry.local.bootstrap import provision
    from parry.local.corrections import guardduty_findings_like_aws, register_finding, security_hub_findings_like_aws
    from parry.playbooks.validate import load_file
    from parry.routing.events import wrap

    security_hub_findings_like_aws()
    guardduty_findings_like_aws()
    book = load_file(ROOT / "playbooks" / "iam-credential-compromise.yaml")
    template, _ = wrap(json.loads(IAM_FINDING.read_text()))
    original: Callable[..., Any] = engine_run.authentic_event
    if not reread:
        engine_run.authentic_event = lambda event, aws: event  # type: ignore[assignment]
    try:
        with mock_aws():
            aws = ClientFactory(region=REGION)
            os.environ.update(provision(aws))
            engine = Engine(aws, Settings.from_env())
            iam = aws.client("iam")
            took, alone = [], []
            for index in range(count):
                user = f"user-{index}"
                iam.create_user(UserName=user)
                key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
                event = copy.deepcopy(template)
                event["id"] = f"bench-{index}"
                event["account"] = event["detail"]["accountId"] = ACCOUNT
                event["region"] = event["detail"]["region"] = REGION
                event["detail"]["id"] = f"{index:032x}"
                event["detail"]["resource"]["accessKeyDetails"].update(userName=user, accessKeyId=key)
                register_finding(aws, event)
                started = time.perf_counter()
                original(event, aws)
                alone.append(time.perf_counter() - started)
                started = time.perf_counter()
                engine.run(book, event)
                took.append(time.perf_counter() - started)
            return took, alone
    finally:
        engine_run.authentic_event = original  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20)
    args = parser.parse_args()
    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ.setdefault(var, value)
    runs(2, reread=True)  # warm imports and botocore's models
    without = statistics.median(runs(args.runs, reread=False)[0])
    took, alone = runs(args.runs, reread=True)
    with_reread, reread = statistics.median(took), statistics.median(alone)
    print(
        f"Engine.run, median of {args.runs}: without re-read {without * 1000:.1f} ms, with {with_reread * 1000:.1f} ms"
    )
    print(f"the re-read alone: {reread * 1000:.1f} ms ({reread / without:.1%} of a run without it)")
    print(f"ratio with/without: {with_reread / without:.3f}")


if __name__ == "__main__":
    main()
