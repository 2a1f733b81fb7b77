"""The Lambda asset builder on its own (no synth): what goes in and what stays out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.synth import load_playbooks

LEFT_OUT = ("parry/cli/", "parry/local/", "parry/playbooks/validate.py", "parry/__main__.py")  # a person's machine only


def _fake_root(tmp_path: Path, *, handler: str | None) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "parry", root / "parry", ignore=shutil.ignore_patterns("__pycache__"))
    if handler is not None:
        (root / "functions" / "runner").mkdir(parents=True)
        (root / "functions" / "runner" / "handler.py").write_text(handler)
        (root / "functions" / "runner" / "maintenance.py").write_text("from parry.runtime.maintenance import handler\n")
    return root


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_the_asset_is_parry_without_what_only_a_persons_machine_runs(tmp_path: Path):
    from stacks.asset import stage

    root = _fake_root(tmp_path, handler="from parry.runtime.runner import Runner\n\nhandler = Runner().handler\n")
    (root / "parry" / "engine" / "new_module.py").write_text("VALUE = 1\n")  # nothing to register: it ships
    staged = stage([], root=root, into=tmp_path / "asset")

    shipped = {f for f in _files(staged.path) if f.startswith("parry/")}
    expected = {f for f in _files(root) if f.startswith("parry/") and not f.startswith(LEFT_OUT)}
    assert shipped == expected
    assert {
        "parry/engine/new_module.py",
        "parry/runtime/runner.py",
        "parry/playbooks/model.py",
        "parry/py.typed",
    } <= shipped
    assert not any(f.startswith(LEFT_OUT) for f in shipped)
    assert staged.has_handler
    for entry in ("handler.py", "maintenance.py"):
        assert (staged.path / entry).read_text() == (root / "functions" / "runner" / entry).read_text()


def test_without_a_handler_the_asset_says_so_and_still_carries_the_playbooks(tmp_path: Path):
    from stacks.asset import stage

    books = load_playbooks()
    staged = stage(books, root=_fake_root(tmp_path, handler=None), into=tmp_path / "asset")
    assert not staged.has_handler and not (staged.path / "handler.py").exists()
    assert (staged.path / "parry" / "actions" / "registry.py").is_file()
    for book in books:
        assert json.loads((staged.path / "playbooks" / f"{book.name}.json").read_text())["name"] == book.name


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


def test_the_front_doors_entry_points_ship_in_their_own_folder(tmp_path: Path):
    """functions/control/handler.py is not the runners' handler.py: it goes under control/, which
    the front door's Lambda handler (`control.handler.handler`) names."""
    from stacks.asset import CONTROL_HANDLER, stage

    root = _fake_root(tmp_path, handler="handler = None\n")
    assert not stage([], root=root, into=tmp_path / "without").has_control_handler
    (root / "functions" / "control").mkdir()
    (root / "functions" / "control" / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    staged = stage([], root=root, into=tmp_path / "asset")
    assert staged.has_control_handler and staged.has_handler
    assert (staged.path / "control" / "handler.py").read_text() == (
        root / "functions" / "control" / "handler.py"
    ).read_text()
    assert (staged.path / "handler.py").read_text() == "handler = None\n"
    assert CONTROL_HANDLER == "control.handler.handler"
