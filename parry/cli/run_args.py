"""`parry run`'s arguments, parsed without typer: the command that starts a containment does not wait
for the command-line framework (typer 0.29 loads pydantic for every command it parses: ~110 ms).

Only a well-formed `parry run` is parsed here; help, a usage error or any other command goes to
typer's app (parry.cli.app), which says it the way every other command does. The options are those of
typer's `run` command (parry.cli.playbooks), environment variables included;
tests/unit/test_run_args.py holds the two to the same list.
"""

from __future__ import annotations

import argparse
import os

from parry.cli.starting import RunRequest

# (flags, RunRequest field, what it takes, environment variable)
OPTIONS: tuple[tuple[str, str, str, str | None], ...] = (
    ("--finding", "finding", "value", None),
    ("--target", "target", "values", None),
    ("--event", "event", "value", None),
    ("--reason", "reason", "value", None),
    ("--new-case", "new_case", "flag", None),
    ("--playbooks", "folder", "value", None),
    ("--as", "act_as", "value", "PARRY_LOCAL_ROLE"),
    ("--control-url", "control_url", "value", "PARRY_CONTROL_URL"),
    ("--evidence-bucket", "evidence_bucket", "value", "PARRY_EVIDENCE_BUCKET"),
    ("--cases-table", "cases_table", "value", "PARRY_CASES_TABLE"),
    ("--topic-arn", "topic_arn", "value", "PARRY_TOPIC_ARN"),
    ("--json", "as_json", "flag", None),
)
HELP = ("--help", "-h")


class _Declined(Exception):
    """Not a well-formed `parry run`: typer's app takes it."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # argparse exits; typer reports instead
        raise _Declined(message)


def _parser() -> _Parser:
    parser = _Parser(prog="parry run", add_help=False, allow_abbrev=False)
    parser.add_argument("playbook")
    for flag, name, takes, _ in OPTIONS:
        if takes == "flag":
            parser.add_argument(flag, dest=name, action="store_true")
        else:
            parser.add_argument(flag, dest=name, action="append" if takes == "values" else "store")
    return parser


def parse(args: list[str]) -> RunRequest | None:
    """The request `args` (after `parry`) makes if it is a well-formed `parry run`, else None."""
    if args[:1] != ["run"] or any(a in HELP for a in args):
        return None
    try:
        given = vars(_parser().parse_args(args[1:]))
    except _Declined:
        return None
    for _, name, _, env in OPTIONS:  # as click reads them: an option not given, then its variable if set
        if given[name] is None and env and os.environ.get(env):
            given[name] = os.environ[env]
    return RunRequest(**{name: value for name, value in given.items() if value is not None})
