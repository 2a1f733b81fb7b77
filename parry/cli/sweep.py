"""`parry sweep`: the posture checks of every Lambda function, as a table, JSON or Security Hub findings.

Exit status: 0 when nothing is found, 1 when a check found something above INFORMATIONAL, 2 when
nothing was found but some function or region could not be read (the sweep cannot say it is clean).

A result changes nothing by itself. `--respond` starts each result's response playbook as the person
running the command, through the control plane (the front door verifies who asks), and the
playbook's first step checks the function again, live (docs/posture.md, "Responses").
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

from parry.cli.common import dump, note
from parry.cli.options import JsonFlag
from parry.cli.render import console, safe

if TYPE_CHECKING:
    from parry.posture import Result

# the playbook that answers a check, started on the function: `parry run PLAYBOOK --target function=ARN`
RESPONSES = {
    "PARRY-LAMBDA-1": "lambda-url-public",
    "PARRY-LAMBDA-2": "lambda-policy-public",
    "PARRY-LAMBDA-3": "lambda-env-secrets",
    "PARRY-LAMBDA-4": "lambda-admin-role",
}
SEVERITY_STYLE = {"CRITICAL": "bold red", "HIGH": "red", "MEDIUM": "yellow", "LOW": "cyan", "INFORMATIONAL": "dim"}
EXIT_FOUND, EXIT_INCOMPLETE = 1, 2


def default_regions(current: str) -> list[str]:
    """PARRY_REGIONS (comma-separated) when set, else the current region."""
    listed = [r.strip() for r in os.environ.get("PARRY_REGIONS", "").split(",") if r.strip()]
    return listed or [current]


def _short(result: Result) -> str:
    """A function's name (a mapping's: its function's), or a layer's name:version; the ARNs are in --json."""
    arn = str(result.detail.get("function") or result.resource_arn)
    parts = arn.split(":")
    return ":".join(parts[6:]) if len(parts) > 6 else arn


def response_command(result: Result) -> str | None:
    """The `parry run` that answers `result`, or None for a check with no response playbook."""
    playbook = RESPONSES.get(result.check_id)
    return f"parry run {playbook} --target function={result.resource_arn}" if playbook else None


def _respond(results: list[Result], home: tuple[str, str], reason: str) -> None:
    """Start each result's response through the control plane, as the caller; a start Parry's runners
    cannot make (another account or region: a target start acts where the runner is) is said, not made."""
    from parry.cli.common import make_control

    answerable = [x for x in results if x.check_id in RESPONSES]
    if not answerable:
        return
    control = make_control()
    for x in answerable:
        playbook = RESPONSES[x.check_id]
        if (x.account, x.region) != home:
            note(f"parry: not started {playbook} on {x.resource_arn}: start it from Parry in {x.account} {x.region}")
            continue
        case = control.start(
            playbook, target={"function": x.resource_arn}, reason=reason or f"parry sweep {x.check_id}"
        )
        note(f"started {playbook} on {x.resource_arn}: case {case.get('case_id')} {case.get('status')}")


def _table(results: list[Result]) -> None:
    """Fits 80 columns: no box, and the account and region columns only when the sweep had several."""
    from rich import box
    from rich.table import Table

    several_accounts = len({x.account for x in results}) > 1
    several_regions = len({x.region for x in results}) > 1
    columns = [
        "severity",
        "check",
        *(["account"] if several_accounts else []),
        *(["region"] if several_regions else []),
    ]
    table = Table(*columns, "resource", "problem", box=box.SIMPLE_HEAD, pad_edge=False)
    for x in results:
        label = "INFO" if x.severity == "INFORMATIONAL" else x.severity
        table.add_row(
            f"[{SEVERITY_STYLE.get(x.severity, '')}]{label}[/]",
            x.check_id,
            *([safe(x.account)] if several_accounts else []),
            *([safe(x.region)] if several_regions else []),
            safe(_short(x)),
            safe(x.title),
        )
    console.print(table)


def sweep_cmd(
    regions: list[str] = typer.Option(
        [],
        "--region",
        metavar="REGION",
        help="a region to sweep (repeatable; default PARRY_REGIONS, else the current region)",
    ),
    accounts: list[str] = typer.Option(
        [],
        "--account",
        metavar="ACCOUNT",
        help="an account to sweep through PARRY_SWEEP_ROLE_NAME, else PARRY_MEMBER_ROLE_NAME (repeatable; "
        "default the current account); one that cannot be entered is said, and the others swept",
    ),
    security_hub: bool = typer.Option(
        False, "--security-hub", help="import the results as Security Hub findings and resolve the ones gone since"
    ),
    respond: bool = typer.Option(
        False,
        "--respond",
        help="start each result's response playbook through the front door, as you (its changes wait for approval)",
    ),
    reason: str = typer.Option("", "--reason", help="with --respond: why, recorded in each case"),
    as_json: bool = JsonFlag,
) -> None:
    """Check every Lambda function for public URLs and policies, secrets, admin roles, old runtimes, foreign layers and sources.

    Exit 0 when nothing is found, 1 when something above INFORMATIONAL is, 2 when something could not be read.
    """
    from parry.aws.clients import ClientFactory
    from parry.config import Settings
    from parry.posture import enter, publish_report, sweep

    aws = ClientFactory()
    settings = Settings.from_env()
    entered = enter(
        aws,
        regions or default_regions(aws.region),
        accounts,
        member_role_name=os.environ.get("PARRY_SWEEP_ROLE_NAME") or settings.member_role_name,
        member_external_id=settings.member_external_id,
    )
    report = sweep(entered.scopes, unreachable=entered.unreachable)
    for problem in report.problems:
        note(f"parry: could not read {problem}")
    if as_json:
        dump([{**x.as_dict(), **({"response": cmd} if (cmd := response_command(x)) else {})} for x in report.results])
    else:
        _table(report.results)
        note(
            f"{report.functions} functions swept in {len(report.regions)} region(s) of "
            f"{len({s.account for s in report.scopes})} account(s); {len(report.results)} results"
        )
    if security_hub:
        for account, region, published in publish_report(report):
            note(
                f"Security Hub {account} {region}: {published.imported} findings imported, {published.resolved} resolved"
            )
    if respond:
        _respond(report.results, (aws.client("sts").get_caller_identity()["Account"], aws.region), reason)
    elif not as_json and any(x.check_id in RESPONSES for x in report.results):
        note("respond: parry sweep --respond, or parry run PLAYBOOK --target function=ARN (--json names each)")
    if any(x.severity != "INFORMATIONAL" for x in report.results):
        raise typer.Exit(EXIT_FOUND)
    if report.problems:
        raise typer.Exit(EXIT_INCOMPLETE)


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_cmd)
