"""What several commands share: reading event files, settings flags, and the engine they make."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator

import typer

from parry.errors import EventError, ParryError
from parry.routing.events import wrap

PLAYBOOKS_DIR = "playbooks"

EvidenceBucket = typer.Option(None, "--evidence-bucket", envvar="PARRY_EVIDENCE_BUCKET", help="evidence bucket")
CasesTable = typer.Option(None, "--cases-table", envvar="PARRY_CASES_TABLE", help="case table")
TopicArn = typer.Option(None, "--topic-arn", envvar="PARRY_TOPIC_ARN", help="SNS topic for notifications")
JsonFlag = typer.Option(False, "--json", help="machine-readable output")


def note(message: str) -> None:
    print(message, file=sys.stderr)


def read_events(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(source label, EventBridge event) for each event in a .json or .jsonl file; bare payloads wrapped."""
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise ParryError(f"{path}: cannot read: {exc.strerror}") from exc
    if file.suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield from _decoded(f"{path}:{number}", line)
    else:
        yield from _decoded(path, text)


def _decoded(label: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventError(f"{label}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    try:
        event, wrapped = wrap(payload)
    except EventError as exc:
        raise EventError(f"{label}: {exc}") from exc
    if wrapped:
        note(f"{label}: a bare {wrapped}; wrapped in its EventBridge envelope")
    yield label, event


def read_one_event(path: str) -> dict[str, Any]:
    events = list(read_events(path))
    if len(events) != 1:
        raise EventError(f"{path}: holds {len(events)} events; give a file with exactly one")
    return events[0][1]


def make_engine(evidence_bucket: str | None = None, cases_table: str | None = None, topic_arn: str | None = None) -> Any:
    from parry.aws.clients import ClientFactory
    from parry.engine.run import Engine
    from parry.config import Settings

    settings = Settings.from_env(evidence_bucket=evidence_bucket, cases_table=cases_table, topic_arn=topic_arn)
    return Engine(ClientFactory(), settings)


def dump(value: Any) -> None:
    print(json.dumps(value, default=str, sort_keys=False))


def compile_to(playbook: Any, directory: Path) -> Path:
    """Write the compiled JSON the Lambda asset would carry; the handler loads it from there."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{playbook.name}.json"
    path.write_bytes(playbook.compiled_bytes())
    return path


def run_handler(event: dict[str, Any], playbook: Any, engine: Any, *, selection: bool = False) -> dict[str, Any]:
    """Run through the Lambda handler in-process: the local path is the Lambda path.

    `selection`: the event is a Security Hub custom action, run once per selected finding (the
    handler's `run_selection`: {"cases": [...], "errors": [...]}).
    """
    import contextlib
    import importlib.util
    import os
    import tempfile

    handler_path = Path(__file__).resolve().parents[2] / "functions" / "runner" / "handler.py"
    spec = importlib.util.spec_from_file_location("parry_runner_handler", handler_path)
    if spec is None or spec.loader is None or not handler_path.is_file():
        raise ParryError(f"the runner handler is not at {handler_path} (run Parry from a clone of the repository)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF lines on a terminal
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the timeline says it; keep warnings and errors
    with tempfile.TemporaryDirectory(prefix="parry-") as tmp, contextlib.redirect_stdout(sys.stderr):
        compile_to(playbook, Path(tmp))
        entry = module.run_selection if selection else module.run
        return entry(event, playbook_name=playbook.name, playbooks_dir=tmp, engine=engine)
