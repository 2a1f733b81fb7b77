"""Where `parry` looks for playbooks when not told: `./playbooks` (a clone of Parry, or a project of one's
own), else the playbooks installed with the package (`pip install parry` puts them under
`<prefix>/share/parry/playbooks`), so that an installed `parry demo` or `parry validate` has some to read."""

from __future__ import annotations

import sysconfig
from pathlib import Path

HERE = Path("playbooks")
INSTALLED = Path(sysconfig.get_path("data")) / "share" / "parry" / "playbooks"


def default_playbooks_dir() -> Path:
    if HERE.is_dir() or not INSTALLED.is_dir():
        return HERE
    return INSTALLED
