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

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parry.evidence import checks
from parry.evidence.keys import PIN_HINT
from parry.evidence.problems import BAD_FOLDER, NOT_SEALED, RETENTION, UNPINNED, Problem
from parry.evidence.sources import Source, Version, case_id_of

__all__ = ["Policy", "Verification", "genuine_case", "verify_case"]

# Where the writer puts a case (parry.evidence.objects.case_prefix); an account is 12 digits.
CASE_FOLDER_RE = re.compile(r"^cases/\d{12}/\d{4}/\d{2}/\d{2}/[^/]+/$")


@dataclass(frozen=True)
class Policy:
    """The retention an auditor requires: a lock mode at least this strict, for at least `days`.
    What the auditor leaves out is the bucket's default retention, as deployed; never what a
    manifest records, which whoever wrote the manifest chose."""

    mode: str | None = None
    days: int | None = None
    origin: str = "as given"

    def completed(self, source: Source) -> Policy:
        if self.mode is not None and self.days is not None:
            return self
        deployed = source.default_retention()
        if deployed is None:
            return self
        return Policy(
            self.mode or deployed[0], self.days or deployed[1], "the bucket's default retention where not given"
        )


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
    if not CASE_FOLDER_RE.match(source.prefix):
        result.add(BAD_FOLDER, source.prefix, "not a case folder: cases/<12-digit account>/<yyyy>/<mm>/<dd>/<case id>/")
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
    expected = (policy or Policy()).completed(source)
    if expected.mode is None or expected.days is None:
        result.add(
            RETENTION,
            "(policy)",
            "no retention policy: the bucket has no default retention; pass --lock-mode and --retention-days",
        )
    checks.check_retention(result, source, current, expected)
    return result


def genuine_case(
    sources: Sequence[Source], *, policy: Policy | None = None, trusted_keys: set[str] | None = None
) -> tuple[Source, list[Verification]]:
    """Of several folders named after one case id, the genuine one and the others (decoys,
    planted to make the case ambiguous): the genuine folder is the one that verifies with no
    problem but an unpinned key. VerifyError when none does, or more than one (without a pinned
    key a self-consistent forgery cannot be told from the case)."""
    from parry.errors import VerifyError

    results = [(s, verify_case(s, policy=policy, trusted_keys=trusted_keys)) for s in sources]
    genuine = [(s, r) for s, r in results if all(p.kind == UNPINNED for p in r.problems)]
    folders = ", ".join(s.prefix for s in sources)
    if len(genuine) != 1:
        hint = "" if trusted_keys else f"; {PIN_HINT} to tell them apart"
        raise VerifyError(
            f"case id {case_id_of(sources[0].prefix)} is in {len(sources)} folders ({folders}), "
            f"{len(genuine) or 'none'} of them sound{hint}"
        )
    return genuine[0][0], [r for s, r in results if s is not genuine[0][0]]
