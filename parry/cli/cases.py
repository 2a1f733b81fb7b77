"""Commands on cases: list and show (approve, deny and undo live beside them)."""

from __future__ import annotations

import typer

from parry.cli import case_ids, render
from parry.cli.common import dump, make_engine
from parry.cli.options import CasesTable, EvidenceBucket, JsonFlag

cases_app = typer.Typer(help="List and show cases.", no_args_is_help=True)


@cases_app.command("list")
def list_cases(
    limit: int = typer.Option(50, "--limit", min=1, help="at most this many cases"),
    playbook: str | None = typer.Option(None, "--playbook", help="only the cases of this playbook"),
    status: str | None = typer.Option(None, "--status", help="only the cases in this status: RUNNING, FAILED, ..."),
    cases_table: str | None = CasesTable,
    evidence_bucket: str | None = EvidenceBucket,
    as_json: bool = JsonFlag,
    ids_only: bool = typer.Option(
        False,
        "--ids",
        "-q",
        help="only the full case ids, one per line (for scripts: $(parry cases list --ids | head -1))",
    ),
) -> None:
    """The newest cases first."""
    if status is not None:
        status = _status(status)
    store = make_engine(evidence_bucket, cases_table).store
    rows = [c.as_dict() for c in store.list(limit=limit, playbook=playbook, status=status)]
    if ids_only:
        for row in rows:
            typer.echo(row["case_id"])
    elif as_json:
        for row in rows:
            row.pop("event", None)
        dump(rows)
    else:
        render.cases_table(rows)


def _status(given: str) -> str:
    """A case status as `cases list` shows it, whatever its case; a clear error naming them all."""
    from parry.errors import EventError
    from parry.store.lifecycle import CaseState

    wanted = given.strip().upper().replace("-", "_").replace(" ", "_")
    if wanted not in CaseState.__members__:
        raise EventError(f"--status {given!r}: a case status is one of {', '.join(CaseState.__members__)}")
    return wanted


@cases_app.command("show")
def show_case(
    case_id: str = typer.Argument(..., metavar="CASE_ID", help="the case id, or a unique prefix of it"),
    cases_table: str | None = CasesTable,
    evidence_bucket: str | None = EvidenceBucket,
    as_json: bool = JsonFlag,
) -> None:
    """One case: its timeline, each step's before and after, approvals and evidence folder."""
    store = make_engine(evidence_bucket, cases_table).store
    case = store.get(case_ids.from_table(store, case_id)).as_dict()
    if as_json:
        dump(case)
    else:
        render.case(case)


def register(app: typer.Typer) -> None:
    app.add_typer(cases_app, name="cases")
