"""Local mode: `parry local serve|bootstrap` and `parry demo`, all on 127.0.0.1."""

from __future__ import annotations

import os
import time

import typer

from parry.cli import render
from parry.cli.common import PLAYBOOKS_DIR, make_engine
from parry.cli.render import safe
from parry.runtime.in_process import run_in_process

local_app = typer.Typer(
    help="Parry on one laptop: a local AWS endpoint (moto) with Parry's resources.", no_args_is_help=True
)
console = render.console
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "parry-local", "AWS_SECRET_ACCESS_KEY": "parry-local"}


def _use_endpoint(endpoint: str) -> None:
    """Point every client at the local endpoint with throwaway credentials: never a real account."""
    from parry.local.server import require_local_endpoint

    require_local_endpoint(endpoint)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.update(LOCAL_CREDENTIALS, AWS_ENDPOINT_URL=endpoint)
    os.environ.setdefault("AWS_REGION", "us-east-1")
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ["AWS_REGION"])


@local_app.command("bootstrap")
def bootstrap_cmd() -> None:
    """Create Parry's resources in the local endpoint (bucket, table, topic, kill switch, keys, the local
    on-call and approver roles); print PARRY_... lines."""
    from parry.aws.clients import ClientFactory
    from parry.local.bootstrap import bootstrap
    from parry.local.server import require_local_endpoint

    require_local_endpoint()
    for key, value in bootstrap(ClientFactory()).items():
        typer.echo(f"{key}={value}")


@local_app.command("serve")
def serve(port: int = typer.Option(5000, "--port", help="port on 127.0.0.1 (0: any free port)")) -> None:
    """Run a local AWS endpoint (moto) on 127.0.0.1 until interrupted."""
    from moto.server import ThreadedMotoServer

    from parry.local.corrections import (
        access_analyzer_like_aws,
        empty_cloudtrail_history,
        guardduty_findings_like_aws,
        network_interface_groups_like_aws,
        security_hub_findings_like_aws,
        sign_digests_like_kms,
    )

    sign_digests_like_kms()
    empty_cloudtrail_history()
    security_hub_findings_like_aws()
    guardduty_findings_like_aws()
    access_analyzer_like_aws()
    network_interface_groups_like_aws()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _, bound = server.get_host_and_port()
    typer.echo(f"AWS_ENDPOINT_URL=http://127.0.0.1:{bound}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


def demo(
    endpoint: str | None = typer.Option(None, "--endpoint", help="use this local endpoint instead of starting one"),
    scenario: str | None = typer.Option(None, "--scenario", help="run one scenario by name"),
    keep: bool = typer.Option(False, "--keep", help="keep the local endpoint running afterwards, to explore"),
) -> None:
    """Watch real GuardDuty findings being contained in a local sandbox account, with no AWS account."""
    from parry.local.corrections import empty_cloudtrail_history
    from parry.local.server import LocalServer

    started = time.perf_counter()
    server = None
    if endpoint is None:
        empty_cloudtrail_history()  # the sandbox has no API history; moto would answer HTTP 500
        server = LocalServer.start()
        endpoint = server.endpoint
    try:
        _use_endpoint(endpoint)
        contained = _demo(endpoint, scenario)
        console.print(f"\n[bold]{contained}[/] contained in {time.perf_counter() - started:.1f} s, start-up included.")
        console.print("Explore the same endpoint:")
        for key in (
            "AWS_ENDPOINT_URL",
            "PARRY_EVIDENCE_BUCKET",
            "PARRY_CASES_TABLE",
            "PARRY_TOPIC_ARN",
            "PARRY_SIGNING_KEY_ID",
            "PARRY_REQUEST_KEY_ID",
            "PARRY_CONTINUATION_KEY_ID",
            "PARRY_ONCALL_ROLES",
            "PARRY_APPROVER_ROLES",
        ):
            console.print(f"  export {key}={os.environ[key]}")
        console.print("  parry cases list")
        console.print("  parry evidence verify --all")
        if server is not None and keep:
            console.print("The endpoint stays up until Ctrl-C.")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.stop()


def _demo(endpoint: str, only: str | None) -> str:
    from parry.aws.clients import ClientFactory
    from parry.errors import ConfigError
    from parry.local.bootstrap import bootstrap
    from parry.local.sandbox import SCENARIOS, finding_status
    from parry.playbooks.validate import load_all
    from parry.routing.patterns import compile_pattern

    aws = ClientFactory()
    os.environ.update(bootstrap(aws))
    console.print(f"[bold]Parry demo[/] on a local AWS endpoint at {endpoint} (moto): no AWS account involved.\n")
    account = aws.client("sts").get_caller_identity()["Account"]
    books = [(b, compile_pattern(b.trigger)) for b in load_all([PLAYBOOKS_DIR])]
    engine = make_engine()
    scenarios = [s for s in SCENARIOS if only in (None, s.name)]
    if not scenarios:
        raise ConfigError(f"no scenario {only!r}; there are: {', '.join(s.name for s in SCENARIOS)}")
    held = 0
    for number, scenario in enumerate(scenarios, start=1):
        console.rule(f"[bold]{number}. {scenario.title}")
        event = scenario.seed(aws, account, aws.region)
        detail = event["detail"]
        console.print(
            f"[bold]event[/]     {safe(event['detail-type'])} from {safe(event['source'])}: "
            f"{safe(detail.get('type') or detail.get('eventName', ''))}"
        )
        matching = [book for book, pattern in books if pattern.matches(event)]
        console.print(f"[bold]routed to[/] {safe(', '.join(b.name for b in matching) or 'no playbook')}")
        for book in matching:
            case = run_in_process(event, book, engine)
            console.print()
            render.case(case)
            _evidence_listing(aws, case["evidence_prefix"])
            _verify(aws, case["evidence_prefix"])
        ok, seen = scenario.check(aws, event)
        held += ok
        console.print(
            f"\n[bold]read back[/] {safe(seen)}  " + ("[green]contained[/]" if ok else "[red]NOT contained[/]")
        )
        status = finding_status(aws, event)
        if status:
            console.print(f"[bold]Security Hub[/] {safe(status)}")
    return f"{held} of {len(scenarios)} scenario(s)"


def _evidence_listing(aws, prefix: str) -> None:
    bucket = os.environ["PARRY_EVIDENCE_BUCKET"]
    objects = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    console.print(f"  [bold]evidence[/] {safe(f's3://{bucket}/{prefix}')} ({len(objects)} objects under Object Lock)")
    folders: dict[str, list[str]] = {}
    for obj in objects:
        name = obj["Key"][len(prefix) :]
        folder, _, rest = name.rpartition("/")
        folders.setdefault(folder, []).append(rest)
    for folder, names in sorted(folders.items()):
        where = f"{folder}/" if folder else ""
        console.print(f"      {safe(where + ', '.join(sorted(names)))}")


def _verify(aws, prefix: str) -> None:
    """What an auditor would run: recompute hashes, the chain and the signature from the bucket."""
    from parry.evidence.sources import S3Source
    from parry.evidence.verify import verify_case

    result = verify_case(S3Source(aws.client("s3"), os.environ["PARRY_EVIDENCE_BUCKET"], prefix))
    if result.ok:
        console.print(
            f"  [bold]verified[/] intact: {result.objects} objects, {result.audit_records} audit records, "
            f"{result.manifests} signed manifest(s)"
        )
    else:
        console.print("  [red]verification found problems:[/] " + safe("; ".join(str(p) for p in result.problems)))


def register(app: typer.Typer) -> None:
    app.add_typer(local_app, name="local")
    app.command()(demo)
