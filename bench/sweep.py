"""Functions per second of `parry sweep` against a local endpoint (a moto server on 127.0.0.1).

Seeds N functions (a few roles shared between them, one in five with a secret-looking variable,
one in ten with an open function URL) on `LocalServer`, as `parry local serve` runs it, then sweeps
the region the way the command does (every function paged, read with the region's worker threads)
and prints the functions per second and the results found. The issue's target: 1,000 functions in
under a minute. The server runs in this process, so moto's own work shares the CPU with the sweep.

    python bench/sweep.py [-n FUNCTIONS] [--workers N]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REGION = "us-east-1"
ROLES = 5
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def seed(aws, count: int) -> None:
    iam, lam = aws.client("iam"), aws.client("lambda", REGION)
    roles = []
    for i in range(ROLES):
        roles.append(iam.create_role(RoleName=f"bench-{i}", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"])
        iam.put_role_policy(
            RoleName=f"bench-{i}",
            PolicyName="logs",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
                }
            ),
        )
    code = _zip()
    for i in range(count):
        variables = {"TABLE_NAME": f"table-{i}", "TOKEN_TTL": "300"}
        if i % 5 == 0:
            variables["DB_PASSWORD"] = f"bench-password-{i}"
        lam.create_function(
            FunctionName=f"bench-{i:05d}",
            Runtime="python3.13",
            Role=roles[i % ROLES],
            Handler="index.handler",
            Code={"ZipFile": code},
            Environment={"Variables": variables},
        )
        if i % 10 == 0:
            lam.create_function_url_config(FunctionName=f"bench-{i:05d}", AuthType="NONE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--functions", type=int, default=200)
    parser.add_argument("--workers", type=int, default=None, help="threads per region (default: the sweep's)")
    args = parser.parse_args()

    from parry.aws.clients import ClientFactory
    from parry.local.server import LocalServer
    from parry.posture import scopes, sweep
    from parry.posture.sweep import FUNCTION_WORKERS

    server = LocalServer.start()
    os.environ.update(
        AWS_ENDPOINT_URL=server.endpoint,
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_DEFAULT_REGION=REGION,
    )
    try:
        aws = ClientFactory(region=REGION)
        started = time.perf_counter()
        seed(aws, args.functions)
        seeded = time.perf_counter() - started
        workers = args.workers or FUNCTION_WORKERS
        started = time.perf_counter()
        report = sweep(scopes(ClientFactory(region=REGION), [REGION]), workers=workers)
        took = time.perf_counter() - started
    finally:
        server.stop()
    counts: dict[str, int] = {}
    for x in report.results:
        counts[x.check_id] = counts.get(x.check_id, 0) + 1
    print(f"seeded {args.functions} functions in {seeded:.1f} s")
    print(
        f"swept {report.functions} functions in {took:.1f} s with {workers} threads: {report.functions / took:.0f} functions/s"
    )
    print(f"1,000 functions at this rate: {1000 / (report.functions / took):.0f} s (target: under 60 s)")
    print(f"results: {dict(sorted(counts.items()))}; problems: {len(report.problems)}")


if __name__ == "__main__":
    main()
