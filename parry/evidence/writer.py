"""The evidence writer: per-case objects under Object Lock, a hash-chained audit log, and sealing.

Layout (DESIGN.md, docs/auditor-guide.md): `cases/<account>/<yyyy>/<mm>/<dd>/<case-id>/` holding
`event.json`, `playbook.json`, `artifacts/<step-id>/...`, `audit/<nnnn>.json` (each audit record
carrying the sha256 of the one before it) and `manifest/<nnnn>.json` with its KMS signature.

Every object is written once (parry.evidence.objects). Once a run is under way its audit records go
out as they are made, on a few threads, and each checkpoint waits for them (`CaseEvidence.stream`).
"""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

from parry.errors import EvidenceConflict, EvidenceError
from parry.evidence import manifest as mf
from parry.evidence.objects import (
    LOCK_MODES,
    StoredObject,
    WriteOnceBucket,
    canonical_json,
    case_prefix,
    sha256_hex,
)

__all__ = [
    "GENESIS",
    "LOCK_MODES",
    "CaseEvidence",
    "EvidenceConflict",
    "EvidenceError",
    "EvidenceStore",
    "StoredObject",
    "canonical_json",
    "case_prefix",
    "sha256_hex",
]

GENESIS = "0" * 64
RESERVED_AUDIT_FIELDS = frozenset({"seq", "kind", "prev_sha256", "at"})
_MAX_APPEND_ATTEMPTS = 20
_WRITERS = 4  # a new case's opening (event.json, playbook.json, its records), a step's state and record
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _writers() -> ThreadPoolExecutor:
    """The threads held writes go out on: made on first use and kept while the runner is warm."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_WRITERS, thread_name_prefix="evidence")
        return _pool


def shut_down_writers() -> None:
    """Wait for every held write, then stop the threads: a process about to exit without the interpreter's teardown."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)


class EvidenceStore(WriteOnceBucket):
    """The evidence bucket, and the folder of each case in it."""

    def case(self, *, case_id: str, account: str, opened_at: datetime) -> CaseEvidence:
        return CaseEvidence(self, case_prefix(account, opened_at, case_id))


class CaseEvidence:
    """One case's folder. The audit chain continues where a previous invocation left it."""

    def __init__(self, store: EvidenceStore, prefix: str):
        self.store = store
        self.prefix = prefix
        self._lock = threading.Lock()
        self._seq: int | None = None
        self._head = GENESIS
        # what this invocation wrote or read whole (key -> object): the seal lists them without re-reading
        self._known: dict[str, StoredObject] = {}
        self._manifest_bodies: dict[str, bytes] = {}
        # writes kept by `hold` until `send`: (key, body, content type, audit record or not)
        self._held: list[tuple[str, bytes, str, bool]] | None = None
        self._sent: list[Future[None]] = []
        self._chain: Future[None] | None = None  # the audit records sent last
        self._streaming = False  # audit records and step states go out at once, without waiting: see `stream`
        # this invocation opened the case and wrote all that is in its folder: the seal lists nothing
        self._whole = False

    def _remember(self, stored: StoredObject) -> StoredObject:
        if stored.version_id is not None:  # without a version id a later overwrite could not be told apart
            self._known[stored.key] = stored
        else:
            self._whole = False
        return stored

    def put(self, relpath: str, body: bytes | dict | list, content_type: str = "application/json") -> StoredObject:
        """Write the object once (see EvidenceStore.put); while held, what it will be once `send` writes it."""
        _check_relpath(relpath)
        data = body if isinstance(body, bytes) else canonical_json(body)
        if self._held is not None:
            self._held.append((self.prefix + relpath, data, content_type, False))
            return StoredObject(self.prefix + relpath, None, sha256_hex(data), len(data))
        return self._remember(self.store.put(self.prefix + relpath, data, content_type))

    # ---- a new case's opening, sent beside its first change --------------------------------------

    def hold(self) -> None:
        """Keep the writes that follow until `send`: each object and audit record is made (and hashed)
        here, so the chain goes on, but nothing is written. A new case's opening is held while its
        first change is made: sent at once after it, all together."""
        with self._lock:
            if self._held is None:
                self._held = []

    def send(self) -> None:
        """Start writing what is held, concurrently: each object on its own, the audit records one
        after the other in one go (a record never lands without the one before it). Writes that
        follow are held still, until `settle`."""
        with self._lock:
            held = self._held or []
            if self._held is not None:
                self._held = []
        if not held:
            return
        objects = [(key, body, kind) for key, body, kind, audit in held if not audit]
        records = [(key, body, kind) for key, body, kind, audit in held if audit]
        pool = _writers()
        self._sent += [pool.submit(self._write, key, body, kind) for key, body, kind in objects]
        if records:
            self._chain = pool.submit(self._append, records, self._chain)
            self._sent.append(self._chain)

    def stream(self, on: bool = True) -> None:
        """From now on send each audit record (and `state` object) at once, without waiting for it: the
        records one after the other, since each one's hash is computed here. The caller `settle`s before
        any checkpoint that relies on them: a checkpoint never runs ahead of the records it stands on.
        Turned off, what was sent lands first: the writes that follow are direct again."""
        if not on:
            self.settle()
        with self._lock:
            self._streaming = on

    def settle(self) -> None:
        """Send what is held, wait until every write landed and end the hold (streaming goes on); the
        first failure is raised (what landed stays: a retried delivery writes only what is missing)."""
        self.send()
        with self._lock:
            self._held = None
        sent, self._sent, self._chain = self._sent, [], None
        errors = [f.exception() for f in sent]
        failure = next((e for e in errors if e is not None), None)
        if failure is not None:
            raise failure

    def abandon(self) -> None:
        """After a failure: wait for the writes already sent (none outlives the invocation), drop the rest."""
        with self._lock:
            self._held = None
        sent, self._sent, self._chain = self._sent, [], None
        wait(sent)

    def _write(self, key: str, body: bytes, content_type: str) -> None:
        self._remember(self.store.put(key, body, content_type))

    def state(self, step_id: str, body: dict[str, Any]) -> None:
        """A step's before/after state as its `state.json` artifact, sent at once while streaming; a step
        run again after a crash finds different bytes there and writes it under a new name instead."""
        data = canonical_json(body)
        if self._streaming and self._held is None:
            self._sent.append(_writers().submit(self._write_state, step_id, data))
        else:
            self._write_state(step_id, data)

    def _write_state(self, step_id: str, data: bytes) -> None:
        try:
            self.artifact(step_id, "state.json", data)
        except EvidenceConflict:
            self.artifact(step_id, f"state.retry-{uuid.uuid4().hex[:8]}.json", data)

    def _append(self, records: list[tuple[str, bytes, str]], after: Future[None] | None) -> None:
        if after is not None:
            after.result()  # the records sent before these land first
        for key, body, content_type in records:
            try:  # the same bytes found there: a retried PUT whose first attempt landed
                self._remember(self.store.put(key, body, content_type))
            except EvidenceConflict as exc:  # only this invocation writes a case whose lease it holds
                raise EvidenceError(f"audit record {key} was written by someone else while this run sent it") from exc

    def artifact(
        self, step_id: str, name: str, body: bytes | dict | list, content_type: str = "application/json"
    ) -> StoredObject:
        return self.put(f"artifacts/{step_id}/{name}", body, content_type)

    def sealed_json(self, relpath: str) -> Any:
        """The JSON value at `relpath` of the case's folder; None when it was never written. A present
        object that is not JSON raises ValueError: what Parry wrote is always JSON."""
        current = self.store._current(self.prefix + relpath)
        return None if current is None else json.loads(current[1])

    def has(self, relpath: str) -> bool:
        """Whether the exact object exists; a path ending in '/' asks whether anything is under it. In a
        folder this invocation opened and wrote alone, from what it wrote (once what it sent landed)."""
        if self._whole and self._held is None:
            wait(list(self._sent))  # a failure stays for `settle` to raise
        if self._whole and self._held is None:
            keys = sorted(key for key in self._known if key.startswith(self.prefix + relpath))
        else:
            keys = self.store.keys(self.prefix + relpath)
        if relpath.endswith("/"):
            return bool(keys)
        return (self.prefix + relpath) in keys

    def audit(self, kind: str, data: dict[str, Any]) -> StoredObject:
        """Append one immutable audit record holding the sha256 of the previous one.

        The record's key is created with If-None-Match, so two invocations racing on the same case
        cannot both write record n: the loser re-reads the chain and appends after the winner.
        """
        if not kind or not isinstance(kind, str):
            raise ValueError("an audit record needs a kind")
        clash = RESERVED_AUDIT_FIELDS.intersection(data)
        if clash:
            raise ValueError(f"audit data may not set {sorted(clash)}: the chain owns those fields")
        with self._lock:
            for _ in range(_MAX_APPEND_ATTEMPTS):
                if self._seq is None:
                    self._resume_chain()
                assert self._seq is not None
                seq = self._seq + 1
                record = {**data, "seq": seq, "kind": kind, "prev_sha256": self._head, "at": _now()}
                body = canonical_json(record)
                key = self.prefix + mf.audit_relpath(seq)
                if self._held is not None:
                    self._held.append((key, body, "application/json", True))
                elif self._streaming:
                    self._chain = _writers().submit(self._append, [(key, body, "application/json")], self._chain)
                    self._sent.append(self._chain)
                if self._held is not None or self._streaming:
                    self._seq, self._head = seq, sha256_hex(body)
                    return StoredObject(key, None, self._head, len(body))
                stored = self.store._put_new(key, body, "application/json")
                if stored is not None:
                    self._seq, self._head = seq, stored.sha256
                    return self._remember(stored)
                self._seq, self._whole = None, False  # someone else wrote record `seq`: re-read the chain, retry
            raise EvidenceError(f"could not append to the audit log of {self.prefix}: too much contention")

    def new_chain(self) -> None:
        """This invocation opened the case: its log starts at record 1, without listing a folder that is
        still empty (a record someone else wrote there first makes the append re-read the chain), and
        its seal lists what this invocation wrote there, without listing the folder either."""
        with self._lock:
            if self._seq is None:
                self._seq, self._head, self._whole = 0, GENESIS, True

    @property
    def chain_head(self) -> str:
        with self._lock:
            if self._seq is None:
                self._resume_chain()
            return self._head

    def _resume_chain(self) -> None:
        records = self._audit_keys()
        if not records:
            self._seq, self._head = 0, GENESIS
            return
        seq, key = max(records.items())
        self._seq, self._head = seq, sha256_hex(self.store.get(key))

    def _audit_keys(self) -> dict[int, str]:
        out: dict[int, str] = {}
        for key in self.store.keys(self.prefix + mf.AUDIT_DIR):
            m = mf.AUDIT_RE.match(key[len(self.prefix) :])
            if m:
                out[int(m.group(1))] = key
        return out

    def seal(
        self, kms: Any = None, key_id: str | None = None, *, public_keys: dict[str, mf.PublicKey] | None = None
    ) -> StoredObject:
        """Write the next numbered manifest (never an overwrite) and, with a key, its KMS signature.

        Called at case close, after an approval and after an undo. The manifest lists every object
        in the case folder (key, version id, size, sha256) except the manifests themselves, the audit
        chain head, and the previous manifest. What this invocation wrote it lists from the hashes it
        computed when writing, as long as the listing shows that very version current; everything
        else (earlier invocations' objects, or a version it did not write) it reads back from S3.
        Without `key_id` the manifest is written unsigned and says so; the verifier reports it.
        `public_keys`: the signing keys' public halves a warm caller keeps (filled in here); one that is
        not the key KMS signed with (an alias moved) is read again.
        """
        if key_id and kms is None:
            raise ValueError("sealing with a key_id needs a KMS client")
        self.settle()  # a manifest lists what is written
        held = {} if public_keys is None else public_keys
        fresh = bool(key_id) and key_id not in held  # read from KMS by this seal: nothing to doubt
        if key_id and fresh:
            held[key_id] = mf.fetch_public_key(kms, key_id)
        public_key = held[key_id] if key_id else None
        for _ in range(_MAX_APPEND_ATTEMPTS):
            current = self._written() if self._whole else self.store.current_versions(self.prefix)
            objects, manifests, audit = [], {}, {}
            for key, version_id in sorted(current.items()):
                rel = key[len(self.prefix) :]
                m = mf.MANIFEST_RE.match(rel)
                if m:
                    if m.group(2) == "json":
                        manifests[int(m.group(1))] = (key, version_id)
                    continue
                entry = self._entry(key, version_id)
                objects.append(entry)
                a = mf.AUDIT_RE.match(rel)
                if a:
                    audit[int(a.group(1))] = entry
            seq = max(manifests, default=0) + 1
            previous = None
            if manifests:
                prev_key, prev_version = manifests[max(manifests)]
                mine = self._known.get(prev_key)
                if mine is not None and mine.version_id == prev_version:
                    prev_body = self._manifest_bodies[prev_key]
                else:
                    prev_body = self.store.get(prev_key, prev_version)
                previous = {"key": prev_key, "version_id": prev_version, "sha256": sha256_hex(prev_body)}
                self._repair_signature(seq - 1, prev_body, current, kms, key_id, held)
            head_seq = max(audit, default=0)
            document = {
                "format": mf.FORMAT,
                "prefix": self.prefix,
                "seq": seq,
                "sealed_at": _now(),
                "objects": objects,
                "audit_head": {"seq": head_seq, "sha256": audit[head_seq]["sha256"] if audit else GENESIS},
                "previous_manifest": previous,
                "retention": {"mode": self.store.lock_mode, "days": self.store.retention_days},
                "signed": public_key is not None,
                "signing": mf.signing_block(public_key),
            }
            body = canonical_json(document)
            # Sign before writing: a KMS failure then leaves nothing behind, and the next seal retries.
            signature = None
            if public_key is not None and key_id:
                signer, signature = mf.sign(kms, key_id, body)
                # by key id: a key ARN ends in it (AWS answers both calls with the ARN, moto GetPublicKey with the id)
                if signer.rsplit("/", 1)[-1] != public_key.key_id.rsplit("/", 1)[-1] and not fresh:
                    held[key_id] = public_key = mf.fetch_public_key(kms, key_id)
                    fresh = True
                    continue
            stored = self.store._put_new(self.prefix + mf.manifest_relpath(seq), body, "application/json")
            if stored is None:
                self._whole = False
                continue  # a concurrent seal took this number; list again and take the next
            self._remember(stored)
            self._manifest_bodies[stored.key] = body
            if public_key is not None and signature is not None:
                self._write_signature(seq, signature, public_key)
            return stored
        raise EvidenceError(f"could not seal {self.prefix}: too much contention")

    def _written(self) -> dict[str, str | None]:
        """key -> version id of what this invocation wrote, for a folder it opened (the whole of it)."""
        return {key: stored.version_id for key, stored in self._known.items() if key.startswith(self.prefix)}

    def _entry(self, key: str, version_id: str | None) -> dict[str, Any]:
        """The manifest entry of one current object version: from what this invocation wrote, else read back."""
        mine = self._known.get(key)
        if mine is None or mine.version_id != version_id:
            body = self.store.get(key, version_id)
            mine = StoredObject(key, version_id, sha256_hex(body), len(body))
        return {"key": key, "version_id": version_id, "size": mine.size, "sha256": mine.sha256}

    def _write_signature(self, seq: int, signature: bytes, public_key: mf.PublicKey) -> None:
        """The signature and the key's public half, written together."""
        der_path, pem_path = mf.public_key_relpaths(seq)
        writes = [
            (der_path, public_key.der, "application/octet-stream"),
            (pem_path, public_key.pem, "application/x-pem-file"),
            (mf.signature_relpath(seq), signature, "application/octet-stream"),
        ]
        sent = [_writers().submit(self._write, self.prefix + rel, body, kind) for rel, body, kind in writes]
        wait(sent)
        for future in sent:
            future.result()

    def _repair_signature(
        self,
        seq: int,
        body: bytes,
        current: dict[str, str | None],
        kms: Any,
        key_id: str | None,
        held: dict[str, mf.PublicKey],
    ) -> None:
        """A previous seal that wrote its manifest but died before its signature: sign it now, with
        the key the manifest names (only when that is the key we hold)."""
        if not key_id or self.prefix + mf.signature_relpath(seq) in current:
            return
        try:
            document = json.loads(body)
        except ValueError:
            return
        signing = document.get("signing") if isinstance(document, dict) else None
        if not document.get("signed") or not isinstance(signing, dict):
            return
        public_key = held[key_id]
        if public_key.sha256 != signing.get("public_key_sha256"):
            return
        self._write_signature(seq, mf.sign(kms, key_id, body)[1], public_key)


def _check_relpath(relpath: str) -> None:
    parts = relpath.split("/")
    if not relpath or relpath.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"evidence path must be relative and normalised, not {relpath!r}")
    if mf.is_sealed_material(relpath):
        raise ValueError(f"{relpath!r} is reserved for manifests; use seal()")
    if mf.AUDIT_RE.match(relpath) or relpath.startswith(mf.AUDIT_DIR):
        raise ValueError(f"{relpath!r} is reserved for the audit log; use audit()")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
