"""The demo's events ship in the package (an installed `parry demo` has no tests/ folder): each must be
the very fixture it copies, so the demo replays the published payload the fixtures' SOURCES.md names."""

from __future__ import annotations

from importlib import resources

from tests.support.paths import EVENTS


def _shipped() -> list[str]:
    root = resources.files("parry.local") / "events"
    return sorted(
        f"{d.name}/{f.name}" for d in root.iterdir() if d.is_dir() for f in d.iterdir() if f.name.endswith(".json")
    )


def test_every_shipped_demo_event_is_a_byte_for_byte_copy_of_its_fixture():
    shipped = _shipped()
    assert len(shipped) == 4
    root = resources.files("parry.local") / "events"
    for rel in shipped:
        assert root.joinpath(*rel.split("/")).read_bytes() == (EVENTS / rel).read_bytes(), rel


def test_every_shipped_demo_event_keeps_its_source_row():
    sources = (resources.files("parry.local") / "events" / "SOURCES.md").read_text()
    fixtures = (EVENTS / "SOURCES.md").read_text()
    for rel in _shipped():
        row = next(line for line in fixtures.splitlines() if line.startswith(f"| `{rel}` |"))
        assert row in sources, rel
