"""What the verifier can find wrong with a case: the kinds of problem, and one problem as reported.

A problem names its kind, the object's path inside the case folder and a sentence saying what
differs; the kinds are the words an auditor's tooling matches on (`verify --json`), so they stay fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANGED = "changed object"
MISSING = "missing object"
UNEXPECTED = "unexpected object"
BROKEN_CHAIN = "broken chain"
BAD_SIGNATURE = "bad signature"
FOREIGN_KEY = "foreign key"
UNSIGNED = "unsigned manifest"
RETENTION = "retention"
BAD_MANIFEST = "bad manifest"
NOT_SEALED = "not sealed"
UNPINNED = "key not pinned"
MISDATED = "misdated record"
BAD_FOLDER = "bad folder"
KINDS = (
    CHANGED,
    MISSING,
    UNEXPECTED,
    BROKEN_CHAIN,
    BAD_SIGNATURE,
    FOREIGN_KEY,
    UNSIGNED,
    RETENTION,
    BAD_MANIFEST,
    NOT_SEALED,
    UNPINNED,
    MISDATED,
    BAD_FOLDER,
)


@dataclass(frozen=True)
class Problem:
    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}: {self.detail}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "detail": self.detail}
