"""The Lambda asset builder on its own (no synth): what goes in, what stays out, and why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.synth import load_playbooks


def _fake_root(tmp_path: Path, *, handler: str | None) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "parry", root / "parry", ignore=shutil.ignore_patterns("__pycache__"))
    if handler is not None:
        (root / "functions" / "runner").mkdir(parents=True)
        (root / "functions" / "runner" / "handler.py").write_text(handler)
    return root


def test_without_a_handler_the_whole_runtime_engine_is_staged(tmp_path: Path):
    from stacks.asset import stage

    books = load_playbooks()
    staged = stage(books, root=_fake_root(tmp_path, handler=None), into=tmp_path / "asset")
    assert not staged.has_handler and not (staged.path / "handler.py").exists()
    assert "parry.playbooks.model" in staged.modules and "parry.actions.registry" in staged.modules
    assert not any(m.startswith(("parry.cli", "parry.playbooks.validate")) for m in staged.modules)
    for book in books:
        assert json.loads((staged.path / "playbooks" / f"{book.name}.json").read_text())["name"] == book.name


def test_with_a_handler_only_what_it_reaches_is_staged(tmp_path: Path):
    from stacks.asset import stage

    handler = "def handler(event, context):\n    from parry.playbooks.model import load_compiled\n    return load_compiled\n"
    staged = stage([], root=_fake_root(tmp_path, handler=handler), into=tmp_path / "asset")
    assert staged.has_handler and (staged.path / "handler.py").read_text() == handler
    assert "parry.playbooks.model" in staged.modules and "parry.errors" in staged.modules
    assert "parry.engine.run" not in staged.modules, "unreached modules stay out"


def test_a_reached_module_that_needs_yaml_is_reported(tmp_path: Path):
    from stacks.asset import stage

    root = _fake_root(tmp_path, handler="import parry.helper\n")
    (root / "parry" / "helper.py").write_text("import yaml\n")
    staged = stage([], root=root, into=tmp_path / "asset")
    assert "parry.helper" not in staged.modules
    assert "yaml" in staged.excluded["parry.helper"]


def test_content_hash_is_the_assets_identity(tmp_path: Path):
    """The hash CloudFormation's S3 key is made from: equal content, equal key; any changed,
    added or renamed file, a new key (so a deploy never keeps running stale code)."""
    from stacks.asset import stage

    books = load_playbooks()
    first = stage(books, into=tmp_path / "a")
    assert stage(books, into=tmp_path / "b").content_hash == first.content_hash

    def changed(edit) -> str:
        copy = stage(books, into=tmp_path / f"c{len(list(tmp_path.iterdir()))}")
        edit(copy.path)
        return copy.content_hash

    compiled = Path("playbooks") / f"{books[0].name}.json"
    assert changed(lambda p: (p / compiled).write_text((p / compiled).read_text() + " ")) != first.content_hash
    assert changed(lambda p: (p / "extra.py").write_text("")) != first.content_hash
    assert changed(lambda p: (p / compiled).rename(p / "playbooks" / "renamed.json")) != first.content_hash
