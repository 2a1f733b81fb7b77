"""Injection into what `parry` prints: rich markup, ANSI escape sequences, hyperlinks and line breaks
in a finding's user name or a person's reason print as typed, inert, in every view of the case.

A reason of `[/]` used to break `parry cases list` for everyone, and `[bold green]approved by ...`
or `[link=...]` printed convincing fake lines and clickable links.
"""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from parry.cli import render
from tests.support.cli import parry
from tests.support.findings import registered

MARKUP = "[bold magenta on white]approved by CISO[/] [link=https://evil.example]runbook[/link] [/]"
ESCAPES = "\x1b[2J\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\nACTION REQUIRED"
EVIL = MARKUP + ESCAPES


@pytest.fixture
def evil_case(aws, parry_env, compromised_user, tmp_path):
    """A case on a finding whose user name holds markup and escape sequences, as GuardDuty reports it."""
    event = json.loads(json.dumps(compromised_user["event"]))
    event["detail"]["resource"]["accessKeyDetails"]["userName"] = EVIL
    event["detail"]["id"] = event["id"] = "evil0finding"
    event = registered(aws, event)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return path


def _inert(out: str) -> None:
    """What the user sees: the markup as typed, each control character as its escape, no forged line."""
    assert MARKUP in out
    assert "\\x1b[2J" in out and "\\x07" in out and "\\nACTION REQUIRED" in out
    assert "\x1b" not in out and "\x07" not in out
    assert not [line for line in out.splitlines() if line.lstrip().startswith("ACTION REQUIRED")]


def test_plan_run_and_cases_show_the_untrusted_values_inert(capsys, evil_case):
    code, out, err = parry(capsys, "plan", "iam-credential-compromise", "--event", str(evil_case))
    assert code == 0, err
    _inert(out)

    code, out, err = parry(capsys, "run", "iam-credential-compromise", "--event", str(evil_case))
    _inert(out)
    case_id = out.split()[1]

    code, out, err = parry(capsys, "cases", "show", case_id)
    assert code == 0, err
    _inert(out)

    code, out, err = parry(capsys, "cases", "list")
    assert code == 0 and "FAILED" in out and "\x1b" not in out, err


def test_the_auditor_views_show_them_inert(capsys, evil_case):
    code, out, err = parry(capsys, "run", "iam-credential-compromise", "--event", str(evil_case))
    case_id = out.split()[1]

    code, out, err = parry(capsys, "evidence", "show", case_id)
    assert code == 0, err
    _inert(out)
    code, out, err = parry(capsys, "evidence", "list")
    assert code == 0 and "\x1b" not in out, err


def test_on_a_terminal_no_style_or_link_is_applied(capsys, monkeypatch, evil_case):
    """On a real terminal rich emits styles: none of them may come from the case."""
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, color_system="standard", width=400, highlight=False)
    monkeypatch.setattr(render, "console", terminal)
    code, out, err = parry(capsys, "run", "iam-credential-compromise", "--event", str(evil_case))
    shown = screen.getvalue()
    assert "case-" in shown and "approved by CISO" in shown
    assert "47m" not in shown  # the injected white background (Parry never uses one)
    assert "\x1b]8;" not in shown  # no hyperlink (OSC 8), neither rich's nor the raw one
    assert "\x1b[2J" not in shown and "\x07" not in shown


def test_a_reason_typed_by_a_person_prints_as_typed(capsys):
    """History and the approval gate carry what people typed: `[/]` there must not break the view."""
    case = {
        "case_id": "case-20261201-abcdef0123",
        "playbook": "iam-credential-compromise",
        "status": "AWAITING_APPROVAL",
        "steps": [],
        "awaiting": {"reason": EVIL},
        "history": [{"at": "2026-12-01T00:00:00+00:00", "kind": "approve", "by": EVIL, "reason": EVIL}],
    }
    render.case(case)
    out = capsys.readouterr().out
    _inert(out)
    assert out.count(MARKUP) == 3


def test_cases_list_prints_a_target_of_markup_as_typed(capsys):
    """`[/]` in a listed case used to raise rich's MarkupError: `parry cases list` failed for everyone."""
    row = {"case_id": "case-1", "playbook": "p", "status": "FAILED", "opened_at": "2026-12-01"}
    render.cases_table([{**row, "target": {"user": "[/]\x1b[2J"}}])
    out = capsys.readouterr().out
    assert "user=[/]\\x1b[2J" in out and "\x1b" not in out


def test_inert_keeps_printable_text_and_escapes_the_rest():
    assert render.inert("ci-deployer été") == "ci-deployer été"
    assert render.inert("a\x1b[31mb\nc\u202ed\x7f") == "a\\x1b[31mb\\nc\\u202ed\\x7f"
    assert render.safe("[/]") == "\\[/]"
