"""The one Lambda asset every runner shares, staged once per synth.

Holds the Lambda entry points (functions/runner/*.py at its root; the front door's,
functions/control/*.py, under control/), `playbooks/<name>.json`, each playbook compiled, and the `parry` package less what only runs on a person's machine: the command line
(parry/cli/, parry/__main__.py), playbook validation (parry/playbooks/validate.py: PyYAML,
jsonschema) and local mode (parry/local/: moto). The runtime has boto3 and jmespath; Powertools
comes from its layer. The import contracts in pyproject.toml keep the rest of `parry` from
importing what is left out (`lint-imports`).
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from parry.playbooks.model import Playbook

ROOT = Path(__file__).resolve().parent.parent
# Parts of parry/, relative to it, that stay out of the asset.
LEFT_OUT = (Path("cli"), Path("__main__.py"), Path("playbooks", "validate.py"), Path("local"))
# The front door's entry points, in a folder of their own: its `handler.py` is not the runners'.
CONTROL_FOLDER = "control"
CONTROL_HANDLER = f"{CONTROL_FOLDER}.handler.handler"


@dataclass(frozen=True)
class StagedAsset:
    path: Path
    has_handler: bool
    has_control_handler: bool = False

    @functools.cached_property
    def content_hash(self) -> str:
        """SHA-256 over every staged file's path and bytes: the asset's identity, computed here in
        Python rather than by the CDK's fingerprint walk in Node (slower, and a second pass)."""
        digest = hashlib.sha256()
        for file in sorted(p for p in self.path.rglob("*") if p.is_file()):
            rel = file.relative_to(self.path).as_posix().encode()
            digest.update(len(rel).to_bytes(4, "big") + rel)
            data = file.read_bytes()
            digest.update(len(data).to_bytes(8, "big") + data)
        return digest.hexdigest()


def _shipped(package: Path) -> list[Path]:
    """The files of `package` (parry/) that go into the asset, relative to it."""
    files = (f.relative_to(package) for f in sorted(package.rglob("*")) if f.is_file())
    return [f for f in files if "__pycache__" not in f.parts and not any(f.is_relative_to(out) for out in LEFT_OUT)]


def stage(playbooks: Iterable[Playbook], *, root: Path = ROOT, into: Path | None = None) -> StagedAsset:
    """Write the asset folder (a fresh temporary folder unless `into` is given) and describe it."""
    if into is None:
        into = Path(tempfile.mkdtemp(prefix="parry-asset-"))
        atexit.register(shutil.rmtree, into, ignore_errors=True)
    into.mkdir(parents=True, exist_ok=True)

    entry_points = root / "functions" / "runner"
    has_handler = (entry_points / "handler.py").is_file()
    for src in sorted(entry_points.glob("*.py")):
        shutil.copyfile(src, into / src.name)
    for src in sorted((root / "functions" / "control").glob("*.py")):
        (into / CONTROL_FOLDER).mkdir(exist_ok=True)
        shutil.copyfile(src, into / CONTROL_FOLDER / src.name)
    for rel in _shipped(root / "parry"):
        dest = into / "parry" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / "parry" / rel, dest)

    books = into / "playbooks"
    books.mkdir(exist_ok=True)
    for book in playbooks:
        (books / f"{book.name}.json").write_text(json.dumps(book.compiled()))
    return StagedAsset(
        path=into,
        has_handler=has_handler,
        has_control_handler=(into / CONTROL_FOLDER / "handler.py").is_file(),
    )


def into_assembly(asset: StagedAsset, outdir: Path) -> StagedAsset:
    """Move the staged folder into the cloud assembly as `asset.<content hash>`, where the
    synthesizer's asset manifest points (one folder, written once: no second copy by the CDK)."""
    final = outdir / f"asset.{asset.content_hash}"
    if final.exists():  # the same content, staged by an earlier synth into this outdir
        shutil.rmtree(asset.path, ignore_errors=True)
    else:
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(asset.path), final)
    moved = dataclasses.replace(asset, path=final)
    moved.__dict__["content_hash"] = asset.content_hash  # same bytes: keep the computed hash
    return moved
