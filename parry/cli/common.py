"""What several commands share: local credentials, playbooks, event files and the engine they make.

No typer here: `parry run` (parry.cli.starting) uses it without loading the command-line framework."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parry.cli.render import inert
from parry.errors import ConfigError, EventError, ParryError
from parry.playbooks.shipped import HERE, INSTALLED, default_playbooks_dir
from parry.routing.events import wrap

if TYPE_CHECKING:
    from parry.engine.run import Engine
    from parry.playbooks.model import Playbook
    from parry.runtime.control import ControlPlane

PLAYBOOKS_ENV = "PARRY_PLAYBOOKS"
CHECKOUT_PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"  # an editable install of a clone
PLAYBOOKS_HELP = f"folder of playbooks (default: ${PLAYBOOKS_ENV}, then ./playbooks, then those installed with parry)"


def _found_playbooks_dir(given: str | None) -> Path | None:
    """Where playbooks are looked up: --playbooks, then $PARRY_PLAYBOOKS, then ./playbooks, then the ones
    installed with parry (share/parry/playbooks, or the clone's own folder for an editable install)."""
    chosen = given or os.environ.get(PLAYBOOKS_ENV)
    if chosen:
        return Path(chosen) if Path(chosen).is_dir() else None
    for candidate in (default_playbooks_dir(), CHECKOUT_PLAYBOOKS):
        if candidate.is_dir():
            return candidate
    return None


def playbooks_dir(given: str | None = None) -> Path:
    """The playbooks folder to use; a clear error naming where it looked when there is none."""
    found = _found_playbooks_dir(given)
    if found is not None:
        return found
    if given:
        raise ConfigError(f"--playbooks {given}: no such folder")
    if os.environ.get(PLAYBOOKS_ENV):
        raise ConfigError(f"{PLAYBOOKS_ENV}={os.environ[PLAYBOOKS_ENV]}: no such folder")
    raise ConfigError(
        f"no playbooks folder: no --playbooks, {PLAYBOOKS_ENV} not set, no {Path.cwd() / HERE}, "
        f"and none installed at {INSTALLED}"
    )


PLAYBOOKS_DIR = str(_found_playbooks_dir(None) or HERE)  # the default where no --playbooks is taken
LOCAL_ONCALL_ROLE = "parry-oncall"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "parry-local", "AWS_SECRET_ACCESS_KEY": "parry-local"}


def local_credentials() -> None:
    """A command aimed at a local endpoint with no credentials set gets throwaway ones, and says so.

    boto3 signs every request, so without credentials a first local command fails with `Unable to
    locate credentials`; a real account's keys have no business going to a local endpoint anyway."""
    from parry.aws.endpoints import is_local

    if not is_local() or os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE"):
        return
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ.setdefault("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ["AWS_REGION"])
    note(
        f"parry: local endpoint {os.environ['AWS_ENDPOINT_URL']} and no AWS credentials set: "
        f"using throwaway ones (AWS_ACCESS_KEY_ID={LOCAL_CREDENTIALS['AWS_ACCESS_KEY_ID']})"
    )


def note(message: str) -> None:
    """One line on stderr; what it quotes (a finding id, an error from AWS) cannot drive the terminal."""
    print(inert(message), file=sys.stderr)


def load_playbook(name_or_path: str, folder: str | None = None) -> Playbook:
    """A playbook by name from the playbooks folder (`playbooks_dir`), or from a YAML path; validated once
    per content (`parry.cli.validated`)."""
    from parry.cli import validated
    from parry.playbooks.model import resolve_path

    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
        return validated.load(path)
    return validated.load(resolve_path(name_or_path, playbooks_dir(folder)))


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


def make_engine(
    evidence_bucket: str | None = None, cases_table: str | None = None, topic_arn: str | None = None
) -> Engine:
    from parry.aws.clients import ClientFactory
    from parry.aws.endpoints import is_local
    from parry.config import Settings
    from parry.engine.run import Engine

    settings = Settings.from_env(evidence_bucket=evidence_bucket, cases_table=cases_table, topic_arn=topic_arn)
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if is_local(endpoint):  # a local endpoint that is down is said at once, not after every call's retries
        from parry.local.server import require_answering

        require_answering(endpoint)
    return Engine(ClientFactory(), settings)


def make_control(
    evidence_bucket: str | None = None,
    cases_table: str | None = None,
    topic_arn: str | None = None,
    *,
    control_url: str | None = None,
    act_as: str | None = None,
) -> ControlPlane:
    """The control plane: the deployed front door at `control_url`, or in-process on a local endpoint as `act_as`."""
    from parry.runtime.control import ControlPlane, local_acting
    from parry.runtime.control import control_url as front_door_url

    engine = make_engine(evidence_bucket, cases_table, topic_arn)
    url = front_door_url(control_url)
    if url is not None:
        if act_as:
            raise ConfigError("--as picks a local role; against a deployed Parry you act as your AWS credentials")
        return ControlPlane(engine, load_playbook, url=url)
    return ControlPlane(engine, load_playbook, acting=local_acting(engine.aws, act_as or LOCAL_ONCALL_ROLE))


def dump(value: Any) -> None:
    print(json.dumps(value, default=str, sort_keys=False))
