"""Local runs (`parry run`, `parry demo`, a local `parry approve`) go through the runner in this
process, on the compiled playbook the Lambda asset would carry: the local path is the Lambda path."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parry.runtime.runner import Runner, Selection

if TYPE_CHECKING:
    from parry.engine.run import Engine
    from parry.playbooks.model import Playbook


def compile_to(playbook: Playbook, directory: Path) -> Path:
    """Write the compiled JSON the Lambda asset would carry; the runner loads it from there."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{playbook.name}.json"
    path.write_bytes(playbook.compiled_bytes())
    return path


def run_in_process(event: dict[str, Any], playbook: Playbook, engine: Engine) -> dict[str, Any]:
    """The runner's `run` on one event (or sealed control request), here: the case as a dict."""
    with _compiled(playbook) as directory:
        return Runner().run(event, playbook_name=playbook.name, playbooks_dir=directory, engine=engine)


def run_selection_in_process(event: dict[str, Any], playbook: Playbook, engine: Engine) -> Selection:
    """The runner's `run_selection` on a Security Hub custom action, here: one case per selected finding."""
    with _compiled(playbook) as directory:
        return Runner().run_selection(event, playbook_name=playbook.name, playbooks_dir=directory, engine=engine)


@contextlib.contextmanager
def _compiled(playbook: Playbook) -> Iterator[str]:
    """A folder holding the compiled playbook, for as long as the run lasts. The runner's log lines
    go to stderr (stdout is the caller's, e.g. for --json), and no metrics are emitted unless asked
    (EMF lines mean something only to CloudWatch)."""
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the caller shows the case; keep warnings and errors
    with tempfile.TemporaryDirectory(prefix="parry-") as tmp, contextlib.redirect_stdout(sys.stderr):
        compile_to(playbook, Path(tmp))
        yield tmp
