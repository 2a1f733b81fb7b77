"""Local mode: Parry's own resources and a small sandbox account on moto, on 127.0.0.1.

`bootstrap` creates what the CDK app creates in a real account (an Object Lock evidence bucket, the
case table, the topic, the kill switch), but only against a local endpoint: it refuses anything
else, so a mistyped profile can never bootstrap a real account from the demo.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from parry.aws import ClientFactory
from parry.cases import create_table
from parry.errors import ConfigError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_NAMES = {
    "PARRY_EVIDENCE_BUCKET": "parry-evidence-local",
    "PARRY_CASES_TABLE": "parry-cases",
    "PARRY_TOPIC_NAME": "parry-notifications",
    "PARRY_KILL_SWITCH_PARAMETER": "/parry/kill-switch",
}


def require_local_endpoint(endpoint: str | None = None) -> str:
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL", "")
    host = urlparse(endpoint).hostname if endpoint else None
    if host not in LOCAL_HOSTS:
        raise ConfigError(
            "local bootstrap only runs against a local endpoint: set AWS_ENDPOINT_URL=http://127.0.0.1:PORT "
            f"(it is {endpoint or 'unset'})"
        )
    return endpoint


def bootstrap(aws: ClientFactory, *, retention_days: int = 1) -> dict[str, str]:
    """Create Parry's resources in the local endpoint (idempotent); the PARRY_... settings."""
    endpoint = require_local_endpoint()
    return {"AWS_ENDPOINT_URL": endpoint, **provision(aws, retention_days=retention_days)}


def provision(aws: ClientFactory, *, retention_days: int = 1) -> dict[str, str]:
    """Parry's resources in whatever `aws` points at; callers make sure that is not a real account."""
    s3, ddb, sns, ssm = (aws.client(s) for s in ("s3", "dynamodb", "sns", "ssm"))
    bucket = DEFAULT_NAMES["PARRY_EVIDENCE_BUCKET"]
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        kwargs: dict[str, Any] = {"Bucket": bucket, "ObjectLockEnabledForBucket": True}
        if aws.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
        s3.create_bucket(**kwargs)
        s3.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": retention_days}},
            },
        )
    table = DEFAULT_NAMES["PARRY_CASES_TABLE"]
    if table not in ddb.list_tables()["TableNames"]:
        create_table(ddb, table)
    topic = sns.create_topic(Name=DEFAULT_NAMES["PARRY_TOPIC_NAME"])["TopicArn"]
    parameter = DEFAULT_NAMES["PARRY_KILL_SWITCH_PARAMETER"]
    ssm.put_parameter(Name=parameter, Value="off", Type="String", Overwrite=True)
    return {
        "AWS_REGION": aws.region,
        "PARRY_EVIDENCE_BUCKET": bucket,
        "PARRY_CASES_TABLE": table,
        "PARRY_TOPIC_ARN": topic,
        "PARRY_KILL_SWITCH_PARAMETER": parameter,
        "PARRY_LOCK_MODE": "GOVERNANCE",
        "PARRY_RETENTION_DAYS": str(retention_days),
    }


@dataclass
class LocalServer:
    """A moto server on 127.0.0.1 and a free port, for the demo and the end-to-end tests."""

    server: Any
    endpoint: str

    @classmethod
    def start(cls) -> "LocalServer":
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto's own 500s are not ours to print
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        return cls(server, f"http://127.0.0.1:{server._server.server_port}")

    def stop(self) -> None:
        self.server.stop()
