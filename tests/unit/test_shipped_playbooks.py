"""An installed `parry` outside a clone reads the playbooks installed with it; inside a clone (or a
project with its own playbooks/ folder) it reads that folder."""

from __future__ import annotations

from parry.playbooks import shipped


def test_a_playbooks_folder_in_the_working_directory_wins(tmp_path, monkeypatch):
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "installed").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(shipped, "INSTALLED", tmp_path / "installed")
    assert shipped.default_playbooks_dir() == shipped.HERE


def test_without_one_the_installed_playbooks_are_read(tmp_path, monkeypatch):
    (tmp_path / "installed").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(shipped, "INSTALLED", tmp_path / "installed")
    assert shipped.default_playbooks_dir() == tmp_path / "installed"


def test_with_neither_the_error_names_the_working_directorys_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(shipped, "INSTALLED", tmp_path / "nowhere")
    assert shipped.default_playbooks_dir() == shipped.HERE
