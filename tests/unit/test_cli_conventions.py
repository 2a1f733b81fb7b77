"""The conventions of the `parry` command line: usage errors as click reports them, the version, and
help without placeholders that say nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
import typer

from parry.cli.app import app
from tests.support.cli import parry


def command_paths(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group of the CLI, as the words that name it after `parry`."""
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from command_paths(sub, (*path, name))


COMMANDS = sorted(command_paths(typer.main.get_command(app)))


def test_an_unknown_command_prints_the_usage_and_clicks_message(capsys):
    code, out, err = parry(capsys, "caes")
    assert code == 2 and out == ""
    assert err.startswith("Usage: parry [OPTIONS] COMMAND [ARGS]...\nTry 'parry --help' for help.")
    assert "Error: No such command 'caes'. Did you mean 'cases'?" in err
    assert "unexpected" not in err


@pytest.mark.parametrize(
    "args, option",
    [
        (["cases", "list", "--limit", "many"], "'--limit'"),
        (["cases", "list", "--limit", "0"], "'--limit'"),
        (["local", "serve", "--port", "http"], "'--port'"),
    ],
)
def test_a_bad_option_value_names_the_option(capsys, args, option):
    code, _, err = parry(capsys, *args)
    assert code == 2 and f"Usage: parry {' '.join(args[:-2])} [OPTIONS]" in err
    assert f"Error: Invalid value for {option}:" in err and "unexpected" not in err


def test_an_unknown_option_is_a_usage_error(capsys):
    code, _, err = parry(capsys, "route", "--verbose", "event.json")
    assert code == 2 and "Usage: parry route" in err and "Error: No such option: --verbose" in err


def test_a_missing_argument_is_named(capsys):
    code, _, err = parry(capsys, "run")
    assert code == 2 and "Usage: parry run [OPTIONS]" in err and "Error: Missing argument 'playbook'." in err


def test_version_is_the_installed_packages(capsys):
    assert parry(capsys, "--version") == (0, f"parry {version('parry')}\n", "")


@pytest.mark.parametrize(
    "group, commands",
    [
        ([], ["validate", "route", "plan", "run", "approve", "deny", "undo", "cases", "local", "evidence"]),
        (["cases"], ["list", "show", "expire", "resume"]),
        (["local"], ["bootstrap", "serve"]),
    ],
)
def test_a_group_without_its_command_shows_its_help(capsys, group, commands):
    code, out, err = parry(capsys, *group)
    assert code == 2  # what click exits with for no_args_is_help
    assert out == "" and err.startswith(f"Usage: {' '.join(['parry', *group])} [OPTIONS] COMMAND [ARGS]...")
    listed = err.split("\nCommands:\n", 1)[1]
    assert all(re.search(rf"^  {name}  ", listed, re.MULTILINE) for name in commands), listed
    assert "Error" not in err and "unexpected" not in err


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "parry")
def test_help_has_no_type_placeholders_after_flags(capsys, path):
    code, out, _ = parry(capsys, *path, "--help")
    assert code == 0 and out.startswith(f"Usage: {' '.join(['parry', *path])} ")
    for noise in ("<bool>", "BOOLEAN", "TEXT"):
        assert noise not in out
    assert re.search(r"^  --help +Show this message and exit\.$", out, re.MULTILINE)


def test_a_boolean_flag_is_shown_bare(capsys):
    _, out, _ = parry(capsys, "undo", "--help")
    assert re.search(r"^  --partial +undo what can be undone", out, re.MULTILINE), out
    assert re.search(r"^  --json +machine-readable output", out, re.MULTILINE), out


def test_the_console_script_is_the_same_command():
    script = shutil.which("parry", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("parry is not installed beside this interpreter")
    usage = subprocess.run([script, "caes"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "No such command 'caes'" in usage.stderr and "unexpected" not in usage.stderr
    shown = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and shown.stdout == f"parry {version('parry')}\n"
