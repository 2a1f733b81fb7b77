"""Local mode: `parry local serve|bootstrap` and `parry demo`, all on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import typer

from parry.cli import render
from parry.cli.common import LOCAL_CREDENTIALS, PLAYBOOKS_DIR, make_engine, note
from parry.cli.render import safe
from parry.runtime.in_process import run_in_process

local_app = typer.Typer(
    help="Parry on one laptop: a local AWS endpoint (moto) with Parry's resources.", no_args_is_help=True
)
console = render.console
SERVE_LOG = "parry-serve.log"
DEMO_EVENTS = "parry-demo-events"


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
def bootstrap_cmd(
    env_file: Path | None = typer.Option(
        None, "--env-file", help="also write the settings as `export` lines to this file, for `. FILE`"
    ),
) -> None:
    """Create Parry's resources in the local endpoint (bucket, table, topic, kill switch, keys, the local
    on-call and approver roles); print the KEY=value settings that reach them.

    A failure is one line on stderr and a non-zero exit, and `--env-file` is written only on success,
    so `parry local bootstrap --env-file F && . F` stops where an `eval` of the output would hide it."""
    from parry.aws.clients import ClientFactory
    from parry.local.bootstrap import bootstrap
    from parry.local.server import require_answering, require_local_endpoint

    require_answering(require_local_endpoint())
    settings = bootstrap(ClientFactory())
    if os.environ.get("AWS_ACCESS_KEY_ID") == LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]:
        settings.update(LOCAL_CREDENTIALS)  # the throwaway ones in use: other tools (the aws CLI) need them too
    for key, value in settings.items():
        typer.echo(f"{key}={value}")
    if env_file is not None:
        lines = "".join(f"export {key}={shlex.quote(value)}\n" for key, value in settings.items())
        partial = env_file.with_name(env_file.name + ".partial")
        partial.write_text(lines)
        partial.replace(env_file)
        note(f"wrote {env_file}: `. {env_file}` exports these settings")


@local_app.command("serve")
def serve(
    port: int = typer.Option(5000, "--port", help="port on 127.0.0.1 (0: any free port)"),
    log: Path = typer.Option(Path(SERVE_LOG), "--log", help="where the endpoint writes its request log"),
    detach: bool = typer.Option(
        False, "--detach", help="run in the background: return once the endpoint answers, printing how to stop it"
    ),
) -> None:
    """Run a local AWS endpoint (moto) on 127.0.0.1 until interrupted; prints AWS_ENDPOINT_URL=... first.

    Its request log goes to a file (--log), never into the terminal the next commands print to."""
    if detach:
        _serve_detached(port, log)
        return
    import logging

    from moto.server import ThreadedMotoServer

    from parry.local.corrections import moto_like_aws, sign_digests_like_kms

    requests = logging.getLogger("werkzeug")  # moto's server logs each request through werkzeug
    requests.addHandler(logging.FileHandler(log))
    requests.setLevel(logging.INFO)
    requests.propagate = False
    sign_digests_like_kms()
    moto_like_aws()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _, bound = server.get_host_and_port()
    typer.echo(f"AWS_ENDPOINT_URL=http://127.0.0.1:{bound}")
    sys.stdout.flush()
    note(f"parry: request log in {log}; stop the endpoint with Ctrl-C (or kill {os.getpid()})")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


def _serve_detached(port: int, log: Path) -> None:
    """`serve` in its own session (a Ctrl-C in this terminal leaves it running); back once it answers."""
    from parry.errors import ConfigError

    command = [sys.executable, "-m", "parry", "local", "serve", "--port", str(port), "--log", str(log)]
    with log.open("a") as errors:  # what the endpoint says on stderr (a port in use ...) joins its log
        child = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, text=True, start_new_session=True
        )
    assert child.stdout is not None
    first = child.stdout.readline().strip()  # printed once the server accepts connections
    child.stdout.close()
    if not first.startswith("AWS_ENDPOINT_URL="):
        child.wait()
        raise ConfigError(f"the local endpoint did not start (exit {child.returncode}); its log: {log}")
    typer.echo(first)
    note(f"parry: local endpoint running in the background (pid {child.pid}), request log in {log}")
    note(f"parry: stop it with: kill {child.pid}")


def demo(
    endpoint: str | None = typer.Option(None, "--endpoint", help="use this local endpoint instead of starting one"),
    scenario: str | None = typer.Option(None, "--scenario", help="run one scenario by name"),
    keep: bool = typer.Option(False, "--keep", help="keep the local endpoint running afterwards, to explore"),
    events_dir: Path = typer.Option(
        Path(DEMO_EVENTS), "--events-dir", help="write the events adapted to the sandbox here, one file per scenario"
    ),
) -> None:
    """Watch real GuardDuty findings being contained in a local sandbox account, with no AWS account."""
    from parry.local.server import LocalServer

    started = time.perf_counter()
    server = None
    if endpoint is None:
        server = LocalServer.start()
        endpoint = server.endpoint
    try:
        _use_endpoint(endpoint)
        contained = _demo(endpoint, scenario, events_dir)
        console.print(f"\n[bold]{contained}[/] contained in {time.perf_counter() - started:.1f} s, start-up included.")
        if server is not None and not keep:
            console.print(
                "The demo's endpoint stopped with it. To explore one: [bold]parry demo --keep[/] keeps it running "
                "until Ctrl-C, or follow the README tour (parry local serve --detach, then parry demo --endpoint ...)."
            )
            return
        console.print("Explore the same endpoint" + (" (from another terminal):" if server is not None else ":"))
        for key in (
            "AWS_ENDPOINT_URL",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "PARRY_EVIDENCE_BUCKET",
            "PARRY_CASES_TABLE",
            "PARRY_TOPIC_ARN",
            "PARRY_SIGNING_KEY_ID",
            "PARRY_REQUEST_KEY_ID",
            "PARRY_CONTINUATION_KEY_ID",
            "PARRY_ONCALL_ROLES",
            "PARRY_APPROVER_ROLES",
        ):
            console.print(f"  export {key}={safe(os.environ[key])}")
        console.print(f"  parry route {events_dir}/*.json")
        console.print("  parry cases list")
        console.print("  parry evidence verify --all")
        if server is not None:
            console.print("The endpoint stays up until Ctrl-C.")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.stop()


def _demo(endpoint: str, only: str | None, events_dir: Path) -> str:
    from rich.progress import Progress

    from parry.aws.clients import ClientFactory
    from parry.errors import ConfigError
    from parry.local.bootstrap import bootstrap
    from parry.local.sandbox import SCENARIOS, seed_manual_target
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
    events_dir.mkdir(parents=True, exist_ok=True)
    held = 0
    with Progress(console=console.made(), transient=True, disable=not console.is_terminal) as progress:
        bar = progress.add_task("scenarios", total=len(scenarios))
        for number, scenario in enumerate(scenarios, start=1):
            console.rule(f"[bold]{number}. {scenario.title}")
            event = scenario.seed(aws, account, aws.region)
            (events_dir / f"{scenario.name}.json").write_text(json.dumps(event, indent=2) + "\n")
            held += _contain(aws, books, engine, scenario, event)
            progress.advance(bar)
    manual = seed_manual_target(aws)
    console.print(
        f"\nThe events above, adapted to the sandbox: {safe(events_dir)}/ "
        f"({', '.join(safe(s.name + '.json') for s in scenarios)}). The sandbox's user {safe(manual)} is there to "
        f"quarantine by hand: parry run manual-quarantine --target user={safe(manual)} --reason ..."
    )
    return f"{held} of {len(scenarios)} scenario(s)"


def _contain(aws, books, engine, scenario, event: dict) -> bool:
    """Route one scenario's event, run each playbook it matches, and read the resource back."""
    from parry.local.sandbox import finding_status

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
    console.print(f"\n[bold]read back[/] {safe(seen)}  " + ("[green]contained[/]" if ok else "[red]NOT contained[/]"))
    status = finding_status(aws, event)
    if status:
        console.print(f"[bold]Security Hub[/] {safe(status)}")
    return ok


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
    """What an auditor would run: recompute hashes, the chain and the signature from the bucket, with the
    signing key pinned as bootstrap made it (unpinned, a verifier never says intact)."""
    from parry.evidence.sources import S3Source
    from parry.evidence.verify import verify_case
    from parry.evidence.writer import sha256_hex

    der = bytes(aws.client("kms").get_public_key(KeyId=os.environ["PARRY_SIGNING_KEY_ID"])["PublicKey"])
    source = S3Source(aws.client("s3"), os.environ["PARRY_EVIDENCE_BUCKET"], prefix)
    result = verify_case(source, trusted_keys={sha256_hex(der)})
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
