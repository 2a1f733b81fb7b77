"""`parry run`'s own parser reads every command line as typer's `run` command does, or leaves it to typer."""

from __future__ import annotations

import pytest
import typer

from parry.cli import run_args, starting
from parry.cli.app import app, run_app

RUN = typer.main.get_command(app).commands["run"]  # type: ignore[attr-defined]


def test_it_takes_the_options_typers_run_command_declares():
    declared = {
        p.opts[0]: (p.name, "flag" if p.is_flag else "values" if p.multiple else "value", p.envvar)
        for p in RUN.params
        if p.param_type_name == "option"
    }
    ours = {flag: (name, takes, env) for flag, name, takes, env in run_args.OPTIONS}

    assert ours == declared
    assert [p.name for p in RUN.params if p.param_type_name == "argument"] == ["playbook"]


def as_typer_reads(args: list[str], monkeypatch) -> starting.RunRequest:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # no local endpoint: typer's callback sets no credentials
    got: list[starting.RunRequest] = []
    monkeypatch.setattr(starting, "start", lambda request: got.append(request) or 0)
    assert run_app(args) == 0
    return got[0]


@pytest.mark.parametrize(
    "args",
    [
        ["run", "book", "--event", "e.json"],
        ["run", "--event=e.json", "book", "--json"],
        ["run", "book", "--target", "user=alice", "--target", "key=AKIA1", "--reason", "page 42", "--new-case"],
        ["run", "book", "--finding", "f-1", "--as", "parry-approver", "--playbooks", "/books", "--json"],
        ["run", "book", "--finding", "f-1", "--evidence-bucket", "b", "--cases-table", "t", "--topic-arn", "arn"],
        ["run", "book", "--finding", "f-1", "--control-url", "https://x.lambda-url.us-east-1.on.aws/"],
        ["run", "book", "--finding", "f-1", "--reason", "first", "--reason", "second"],  # the last one, as click
    ],
)
def test_a_command_line_means_what_it_means_to_typer(args, monkeypatch):
    monkeypatch.setenv("PARRY_EVIDENCE_BUCKET", "from-env")
    monkeypatch.setenv("PARRY_LOCAL_ROLE", "parry-oncall")
    monkeypatch.setenv("PARRY_CONTROL_URL", "")  # set but empty: not given, for click as for us

    assert run_args.parse(args) == as_typer_reads(args, monkeypatch)


@pytest.mark.parametrize(
    "args",
    [
        ["run", "book", "--help"],
        ["run", "-h"],
        ["run"],  # no playbook
        ["run", "book", "--bogus"],
        ["run", "book", "--ev", "e.json"],  # an abbreviation
        ["run", "book", "--event"],  # without its value
        ["run", "book", "--json=yes"],
        ["run", "book", "other"],  # a second argument
        ["cases", "list"],
        ["--version"],
        [],
    ],
)
def test_anything_else_goes_to_typer(args):
    assert run_args.parse(args) is None
