"""Every `parry` command as typer declares it: help, usage errors and all but a well-formed `parry run`."""

from __future__ import annotations

import typer
from typer._click.exceptions import ClickException  # typer bundles its own click; typer.TyperException cannot show()

from parry.cli import cases, decisions, local, playbooks, sweep
from parry.cli.common import local_credentials

app = typer.Typer(
    name="parry",
    help="Incident-response automation for AWS: validate, route, plan, run, approve and undo playbooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: flags without a `<bool>`, docstring paragraphs reflowed
)


def _print_version(asked: bool) -> None:
    """Eager, so that `parry --version` answers before any command is looked for."""
    if asked:
        from importlib.metadata import version  # ~25 ms: only for --version

        typer.echo(f"parry {version('parry')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """The options of `parry` itself, before any command."""
    local_credentials()


playbooks.register(app)
cases.register(app)
decisions.register(app, cases.cases_app)
local.register(app)
sweep.register(app)


def _mount_evidence() -> None:
    try:
        from parry.cli.evidence import evidence_app
    except ImportError:  # the auditor's tools are optional in a trimmed install
        return
    app.add_typer(evidence_app, name="evidence", help="Review and verify case evidence (auditors).")


_mount_evidence()


def run_app(args: list[str]) -> int:
    """Run the command `args` names; its exit code. Usage errors are click's (the usage line and its message)."""
    try:
        code = app(args=args, prog_name="parry", standalone_mode=False)  # typer.Exit comes back as the code
    except typer.Abort:
        return 130
    except ClickException as exc:  # a usage error, a bad value, or a group without its command (its help)
        exc.show()
        return exc.exit_code
    return code if isinstance(code, int) else 0
