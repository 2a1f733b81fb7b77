"""`parry`: the command line of the on-call engineer, the playbook author and the auditor.

Every error is one line on stderr and a non-zero exit; a traceback means a bug in Parry.
"""

from __future__ import annotations

import os
import sys

import click
import typer

from parry.cli import cases, decisions, local, playbooks
from parry.errors import ParryError
from parry.aws.errors import describe_error, refusal

app = typer.Typer(
    name="parry",
    help="Incident-response automation for AWS: validate, route, plan, run, approve and undo playbooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
playbooks.register(app)
cases.register(app)
decisions.register(app, cases.cases_app)
local.register(app)


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
    if name in ("NoCredentialsError", "PartialCredentialsError", "NoRegionError", "EndpointConnectionError",
                "ProfileNotFound", "ConnectTimeoutError", "ReadTimeoutError"):
        return f"{exc}"
    if isinstance(exc, (OSError, ValueError)):
        return f"{exc}"
    return f"unexpected {name}: {exc}"


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ParryError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"parry: {line}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # boto/botocore and OS errors: one line, never a traceback
        if os.environ.get("PARRY_DEBUG"):
            raise
        print(f"parry: {error_line(exc)}", file=sys.stderr)
        sys.exit(2)
