"""Commands on playbooks: validate, schema, actions, route, plan, run."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import typer

from parry.cli import render, starting
from parry.cli.common import dump, load_playbook, make_engine, note, playbooks_dir, read_events, read_one_event
from parry.cli.options import ActAs, CasesTable, ControlUrl, EvidenceBucket, JsonFlag, Playbooks, TopicArn
from parry.cli.starting import register_locally
from parry.errors import ParryError, ValidationError


def validate(
    paths: list[str] = typer.Argument(None, help="files or folders (default: the playbooks folder)"),
    folder: str | None = Playbooks,
    as_json: bool = typer.Option(
        False, "--json", help="one JSON object per problem (file, line, path, message), or the playbooks if none"
    ),
) -> None:
    """Validate playbooks: schema, actions, parameters, expressions, trigger patterns. Exit 1 on any error.

    Without paths, the playbooks folder: --playbooks, else $PARRY_PLAYBOOKS, else ./playbooks, else the
    playbooks installed with parry.
    """
    from parry.playbooks.validate import load_all

    try:
        books = load_all(paths or [str(playbooks_dir(folder))])
    except ValidationError as exc:
        if as_json:
            for problem in exc.problems:
                dump(_problem(problem))
        else:
            for problem in exc.problems:
                typer.echo(problem, err=True)
        typer.echo(f"{len(exc.problems)} problem(s)", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        dump(
            {"problems": [], "playbooks": [{"name": b.name, "path": str(b.path), "steps": len(b.steps)} for b in books]}
        )
        return
    for book in books:
        typer.echo(f"ok  {book.name}  ({book.path}, {len(book.steps)} steps)")


def _problem(text: str) -> dict:
    """`FILE:LINE: path: message` (parry.playbooks.validate) as its parts."""
    match = re.fullmatch(r"(?P<file>.*?):(?P<line>\d+): (?P<path>[^:]*?): (?P<message>.*)", text, re.DOTALL)
    if match is None:
        return {"file": None, "line": None, "path": None, "message": text}
    return {**match.groupdict(), "line": int(match["line"])}


def schema(
    write: bool = typer.Option(False, "--write", help="write schema.json into the playbooks folder"),
    folder: str | None = Playbooks,
) -> None:
    """Print the playbook JSON Schema (generated from the action registry) for editors."""
    from parry.playbooks.validate import playbook_schema

    text = json.dumps(playbook_schema(), indent=2) + "\n"
    if write:
        target = playbooks_dir(folder) / "schema.json"
        target.write_text(text)
        note(f"wrote {target}")
    else:
        typer.echo(text, nl=False)


def actions(
    name: str | None = typer.Argument(None, help="one action: its parameters, undo, changes and permissions"),
    as_json: bool = JsonFlag,
) -> None:
    """List the actions playbooks can use and what each does; with NAME, all about that one action."""
    from parry.actions import registry

    if name is not None:
        row = _action_detail(name)
        dump(row) if as_json else render.action(row)
        return
    rows = [_action_row(action_name, cls) for action_name, cls in registry.all_actions().items()]
    if as_json:
        dump(rows)
    else:
        render.actions_table(rows)


def _action_row(name: str, cls) -> dict:
    return {
        "action": name,
        "mutating": cls.mutating,
        "undo": cls.undo,
        "no_undo_reason": cls.no_undo_reason or None,
        "summary": cls.summary,
        "permissions": sorted({a for p in cls.permissions for a in p.actions}),
    }


def _action_detail(name: str) -> dict:
    """Everything the registry declares about one action; an unknown name names the close ones."""
    import dataclasses
    import difflib
    import inspect

    from parry.actions import registry
    from parry.errors import ActionError

    known = registry.all_actions()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `parry actions` lists them all"
        raise ActionError(f"unknown action {name!r}{hint}")
    cls = known[name]
    defaults = {f.name: f.default for f in dataclasses.fields(cls.Params) if f.default is not dataclasses.MISSING}
    params = [
        {
            "name": param,
            "type": _type_name(schema),
            "required": required,
            **({"default": defaults[param]} if param in defaults else {}),
            "description": doc,
        }
        for param, schema, required, doc in registry.param_fields(cls)
    ]
    about = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].replace("\n", " ")
    return {**_action_row(name, cls), "about": about, "params": params}


def _type_name(schema: dict) -> str:
    """A parameter's JSON Schema type as an author writes the value: string, list of string, ..."""
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type_name(schema.get('items', {}))}"
    if kind == "object":
        return f"map of {_type_name(schema.get('additionalProperties', {}))}"
    return str(kind or "any value")


def route(
    files: list[str] = typer.Argument(..., help="event files: .json (one event) or .jsonl (one per line)"),
    folder: str | None = Playbooks,
    as_json: bool = JsonFlag,
) -> None:
    """Name the playbooks whose trigger matches each event (EventBridge semantics). No match is not an error;
    a file that cannot be read or holds no event is named, the rest still routed, and the exit status is 1."""
    from parry.local.corrections import as_detection
    from parry.playbooks.validate import load_all
    from parry.routing.patterns import compile_pattern

    books = [(b.name, compile_pattern(b.trigger)) for b in load_all([str(playbooks_dir(folder))])]
    several = len(files) > 1
    failed = 0
    for path in files:
        try:
            events = list(read_events(path))
        except ParryError as exc:  # one bad file is reported and the others are still routed
            failed += 1
            note(str(exc))
            continue
        if not events:
            failed += 1
            note(f"{path}: holds no event")
        for label, event in events:
            names = [name for name, pattern in books if pattern.matches(event)]
            detection = _as_detection(event, as_detection)
            # a GuardDuty sample finding routes nowhere; say where the real detection it stands for would go
            real = [name for name, pattern in books if pattern.matches(detection)] if detection and not names else []
            if as_json:
                dump({"source": label, "playbooks": names, **({"as_real_detection": real} if detection else {})})
                continue
            prefix = f"{label}: " if several else ""
            for name in names:
                typer.echo(f"{prefix}{name}")
            for name in real:
                typer.echo(f"{prefix}{name}  (as a real detection: a GuardDuty sample finding, which no trigger takes)")
            if not names and not real:
                note(f"{label}: unmatched (no playbook's trigger matches)")
    if failed:
        raise typer.Exit(1)


def _as_detection(event: dict, strip: Callable[[dict], dict]) -> dict | None:
    """The event as the real GuardDuty detection it stands for, if it is a sample finding; else None."""
    detail = event.get("detail")
    if event.get("source") != "aws.guardduty" or not isinstance(detail, dict):
        return None
    stripped = strip(detail)
    return {**event, "detail": stripped} if stripped is not detail else None


def plan(
    playbook: str = typer.Argument(..., help="a playbook name from the playbooks folder, or a YAML path"),
    event: str = typer.Option(..., "--event", help="event file"),
    folder: str | None = Playbooks,
    manual: bool = typer.Option(False, "--manual", help="start by hand: skip the trigger check (manual playbooks)"),
    as_json: bool = JsonFlag,
) -> None:
    """Dry run: what each step would do, given the resources' current state. Only read-only calls.

    A Security Hub custom action event is planned once per selected finding, on the event its run
    would use (a GuardDuty finding read back from GuardDuty); --manual is implied.
    """
    from dataclasses import asdict

    from parry.routing.custom_actions import is_custom_action, selected_events
    from parry.routing.events import check_envelope

    book = load_playbook(playbook, folder)
    the_event = read_one_event(event)
    engine = make_engine()
    register_locally(engine, the_event)
    if not is_custom_action(the_event):
        result = engine.plan(book, the_event, manual=manual)
        dump(asdict(result)) if as_json else render.plan(result)
        return
    planned: list[dict] = []
    for finding in selected_events(check_envelope(the_event), engine.aws):
        if finding.event is None:
            planned.append({"finding": finding.finding_id, "error": finding.error})
            if not as_json:
                note(f"finding {finding.finding_id}: {finding.error}")
            continue
        result = engine.plan(book, finding.event, manual=True)
        planned.append({"finding": finding.finding_id, "plan": asdict(result)})
        if not as_json:
            render.plan(result)
    if as_json:
        dump(planned)


def run(
    playbook: str = typer.Argument(..., help="a playbook name from the playbooks folder, or a YAML path"),
    finding: str | None = typer.Option(None, "--finding", help="start on this finding (GuardDuty or Security Hub id)"),
    target: list[str] = typer.Option(None, "--target", help="start on a target: name=value (repeatable)"),
    event: str | None = typer.Option(
        None,
        "--event",
        help="local endpoint only: deliver this event as its AWS service would (registered there first)",
    ),
    reason: str = typer.Option("", "--reason", help="why: recorded in the case"),
    new_case: bool = typer.Option(
        False, "--new-case", help="open a fresh case even if a closed case holds this key (recorded as yours)"
    ),
    folder: str | None = Playbooks,
    act_as: str | None = ActAs,
    control_url: str | None = ControlUrl,
    evidence_bucket: str | None = EvidenceBucket,
    cases_table: str | None = CasesTable,
    topic_arn: str | None = TopicArn,
    as_json: bool = JsonFlag,
) -> None:
    """Start a playbook by hand on a finding (--finding) or a target (--target), through the front door.

    On a local endpoint, --event delivers a saved event to the runner as EventBridge would, after
    registering its finding in the local GuardDuty or Security Hub; a Security Hub custom action
    event runs once per selected finding, as its Lambda does.
    """
    code = starting.start(
        starting.RunRequest(
            playbook=playbook,
            finding=finding,
            target=target or [],
            event=event,
            reason=reason,
            new_case=new_case,
            folder=folder,
            act_as=act_as,
            control_url=control_url,
            evidence_bucket=evidence_bucket,
            cases_table=cases_table,
            topic_arn=topic_arn,
            as_json=as_json,
        )
    )
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    for command in (validate, schema, actions, route, plan, run):
        app.command()(command)
