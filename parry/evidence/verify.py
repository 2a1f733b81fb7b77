"""The verifier: prove a case intact from the bucket alone, or name exactly what is wrong.

Nothing Parry recorded elsewhere is trusted (no case table, no writer state): every sha256 is
recomputed from the bytes, the audit chain is re-walked, each manifest's signature is checked with
`cryptography` against the public key stored beside it and against the keys the auditor pins. A
key stored beside a manifest proves only that someone holding it signed, so a case is never intact
without a pinned key. The same checks run on a folder made by `parry evidence export`.

Problems are named with one of the kinds in `parry.evidence.problems.KINDS`, the object's path
inside the case folder and a sentence saying what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.evidence import checks
from parry.evidence.keys import PIN_HINT
from parry.evidence.problems import NOT_SEALED, UNPINNED, Problem
from parry.evidence.sources import Source, Version, case_id_of

__all__ = ["Policy", "Verification", "verify_case"]


@dataclass(frozen=True)
class Policy:
    """The retention an auditor requires: a lock mode at least this strict, for at least `days`."""

    mode: str | None = None
    days: int | None = None


@dataclass
class Verification:
    """What verifying one case found: its problems (none: intact), notes, and what was counted."""

    prefix: str
    case_id: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifests: int = 0
    objects: int = 0
    audit_records: int = 0
    audit_head: str | None = None
    signed_by: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, path: str, detail: str) -> None:
        if not any(p.kind == kind and p.path == path for p in self.problems):
            self.problems.append(Problem(kind, path, detail))

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "prefix": self.prefix,
            "intact": self.ok,
            "problems": [p.as_dict() for p in self.problems],
            "notes": self.notes,
            "manifests": self.manifests,
            "objects": self.objects,
            "audit_records": self.audit_records,
            "audit_head": self.audit_head,
            "signed_by": self.signed_by,
        }


def verify_case(source: Source, *, policy: Policy | None = None, trusted_keys: set[str] | None = None) -> Verification:
    """Every check on one case; the result names each problem found (an empty list: intact)."""
    result = Verification(source.prefix, case_id_of(source.prefix))
    listing = source.listing()
    current: dict[str, Version] = {}
    for rel, versions in sorted(listing.items()):
        checks.check_write_once(result, rel, versions)
        latest = next((v for v in versions if v.is_latest), None)
        if latest is not None and not latest.delete_marker:
            current[rel] = latest
    result.objects = len(current)

    manifests = checks.check_manifests(result, source, listing, current, trusted_keys or set())
    if not trusted_keys:
        # a forger signs with a fresh key and stores its public half beside the manifest
        result.add(
            UNPINNED, "manifest/", f"no signing key is pinned, so nothing ties the signatures to Parry: {PIN_HINT}"
        )
    audit = checks.check_audit_chain(result, source, current)
    if not manifests:
        result.add(NOT_SEALED, "manifest/", "the case has no manifest: nothing proves what it held")
        sealed: set[str] = set()
        head_seq = 0
    else:
        sealed = checks.check_sealed_objects(result, source, current, listing, manifests, max(manifests))
        head_seq = checks.check_heads(result, manifests, audit)
    checks.check_unexpected(result, current, checks.manifest_material(manifests) | sealed, audit, head_seq)
    checks.check_retention(result, source, current, policy, manifests)
    return result
