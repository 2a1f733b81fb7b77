"""`parry`: the command line of the on-call engineer, the playbook author and the auditor.

Every error is one line on stderr and a non-zero exit; a traceback means a bug in Parry. A usage
error is click's: the usage line and its message, exit 2.
"""

from __future__ import annotations

import os
import sys

import typer
from typer._click.exceptions import ClickException  # typer bundles its own click; typer.TyperException cannot show()

from parry.aws.errors import describe_error, refusal
from parry.cli import cases, decisions, local, playbooks, sweep
from parry.cli.render import inert
from parry.errors import ParryError

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
    local.local_credentials()


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


def error_line(exc: BaseException) -> str:
    """One clear line for an error a user can act on."""
    if refusal(exc) is not None:
        return describe_error(exc)
    name = type(exc).__name__
    if name in (
        "NoCredentialsError",
        "PartialCredentialsError",
        "NoRegionError",
        "EndpointConnectionError",
        "ProfileNotFound",
        "ConnectTimeoutError",
        "ReadTimeoutError",
    ):
        return f"{exc}"
    if isinstance(exc, (OSError, ValueError)):
        return f"{exc}"
    return f"unexpected {name}: {exc}"


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, prog_name="parry", standalone_mode=False)  # typer.Exit comes back as the code
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Abort:
        sys.exit(130)
    except ClickException as exc:  # a usage error, a bad value, or a group without its command (its help)
        exc.show()
        sys.exit(exc.exit_code)
    except ParryError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"parry: {inert(line)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # boto/botocore and OS errors: one line, never a traceback
        if os.environ.get("PARRY_DEBUG"):
            raise
        print(f"parry: {inert(error_line(exc))}", file=sys.stderr)
        sys.exit(2)
