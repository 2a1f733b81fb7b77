"""The options several commands declare, as typer declares them (`parry run` parses its own: parry.cli.run_args)."""

from __future__ import annotations

import typer

from parry.cli.common import PLAYBOOKS_HELP

Playbooks = typer.Option(None, "--playbooks", help=PLAYBOOKS_HELP)

EvidenceBucket = typer.Option(None, "--evidence-bucket", envvar="PARRY_EVIDENCE_BUCKET", help="evidence bucket")
CasesTable = typer.Option(None, "--cases-table", envvar="PARRY_CASES_TABLE", help="case table")
TopicArn = typer.Option(None, "--topic-arn", envvar="PARRY_TOPIC_ARN", help="SNS topic for notifications")
JsonFlag = typer.Option(False, "--json", help="machine-readable output")
ControlUrl = typer.Option(
    None, "--control-url", envvar="PARRY_CONTROL_URL", help="the front door's function URL (deployed Parry)"
)
ActAs = typer.Option(
    None,
    "--as",
    envvar="PARRY_LOCAL_ROLE",
    help="on a local endpoint only: act as this local role (default parry-oncall; parry-approver to decide)",
)
