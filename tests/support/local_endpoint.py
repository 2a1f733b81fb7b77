"""A local endpoint for end-to-end tests that run `parry` as a user does, in a process of its own: a moto
server on 127.0.0.1 (in this process, so a test can look into it), started empty, Parry's resources
bootstrapped through the real `parry local bootstrap`, and the environment a user's shell would then hold."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def bootstrapped(region: str = "us-east-1", **settings: str) -> Iterator[dict[str, Any]]:
    """The endpoint's `env` (no inherited AWS_ or PARRY_ variables; `settings` added), `endpoint`, `region`."""
    from parry.local.server import LocalServer

    server = LocalServer.start()
    try:
        # moto's accounts are this process's: another module's endpoint on this worker left its resources there
        urllib.request.urlopen(urllib.request.Request(f"{server.endpoint}/moto-api/reset", method="POST")).close()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PARRY_", "AWS_"))}
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION=region,
            AWS_DEFAULT_REGION=region,
            AWS_ENDPOINT_URL=server.endpoint,
            PYTHONPATH=str(ROOT),
        )
        out = subprocess.run(
            [sys.executable, "-m", "parry", "local", "bootstrap"], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        env.update(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        env.update(settings)
        yield {"env": env, "endpoint": server.endpoint, "region": region}
    finally:
        server.stop()


def run_parry(local: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m parry ARGS` in the endpoint's environment, from the repository's root."""
    return subprocess.run(
        [sys.executable, "-m", "parry", *args], env=local["env"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def endpoint_client(local: dict[str, Any], service: str, region: str | None = None) -> Any:
    """A boto3 client of the endpoint, in its region unless `region` says otherwise."""
    return boto3.client(
        service,
        endpoint_url=local["endpoint"],
        region_name=region or local["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
