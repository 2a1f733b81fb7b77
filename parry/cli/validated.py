"""A YAML playbook validated once per content: `parry run` and `parry plan` start without PyYAML or jsonschema.

Validating a playbook imports PyYAML, jsonschema and every action module (~150 ms of a whole
process). What it decides depends only on the file's bytes and on the code that validates, so the
compiled playbook a validation produced is kept under both: the file's SHA-256 and a fingerprint of
the modules of `parry.actions`, `parry.playbooks` and `parry.routing` (each one's name, size and
modification time, as Python's own bytecode cache checks). An edit to the playbook or to that code
validates again; a file that fails validation is never kept, so its errors show every time.

The entries live in the user's cache folder ($PARRY_CACHE_DIR, else $XDG_CACHE_HOME/parry, else
~/.cache/parry), which only that user can write, as their playbooks; one that cannot be written
only means validating each time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import parry.actions
import parry.playbooks
import parry.routing
from parry.errors import ValidationError
from parry.playbooks.model import Playbook, from_compiled

_VALIDATING = (parry.actions, parry.playbooks, parry.routing)


def cache_dir() -> Path:
    if os.environ.get("PARRY_CACHE_DIR"):
        return Path(os.environ["PARRY_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "parry" / "validated"


def code_fingerprint() -> str:
    """Name, size and mtime of every module that decides whether a playbook is valid."""
    digest = hashlib.sha256()
    for package in _VALIDATING:
        for folder in package.__path__:
            for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                if entry.name.endswith(".py"):
                    stat = entry.stat()
                    digest.update(f"{entry.path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def load(path: Path) -> Playbook:
    """The playbook in a YAML file: its compiled form if these bytes passed this code before, else validated."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError([f"{path}:1: (document): cannot read: {exc.strerror}"]) from exc
    entry = cache_dir() / f"{hashlib.sha256(data + code_fingerprint().encode()).hexdigest()}.json"
    try:
        return from_compiled(json.loads(entry.read_text()), str(path))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # none kept, or unreadable: validate
        pass
    from parry.playbooks.validate import load_yaml, validate_document

    located = load_yaml(data.decode(), str(path))  # the bytes hashed, not the file read again
    book = validate_document(located.doc, str(path), located)
    _keep(entry, book.compiled_bytes())
    return book


def _keep(entry: Path, compiled: bytes) -> None:
    """Write the entry whole or not at all (a concurrent run reads either nothing or all of it)."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(compiled)
        os.replace(tmp, entry)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
