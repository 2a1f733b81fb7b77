"""`parry evidence`: the auditor's commands: list, show, verify, report, export.

Mounted with `app.add_typer(evidence_app, name="evidence")`. The bucket comes from --bucket or
PARRY_EVIDENCE_BUCKET; the S3 client from parry.aws.ClientFactory (so AWS_PROFILE, AWS_REGION and
AWS_ENDPOINT_URL apply). Every error is one line on stderr and exit code 2; `verify` exits 1 when
it finds a problem.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

import typer

from parry.aws.errors import refusal
from parry.cli.progress import progress_bar
from parry.cli.render import inert
from parry.errors import ParryError

evidence_app = typer.Typer(
    name="evidence",
    help="Review and verify case evidence: list, show, verify, report, export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Bucket = typer.Option(None, "--bucket", "--evidence-bucket", envvar="PARRY_EVIDENCE_BUCKET", help="evidence bucket")
CaseId = typer.Argument(None, metavar="[CASE_ID]", help="the case id, or a unique prefix of it")
Json = typer.Option(False, "--json", help="machine-readable output")
PublicKeys = typer.Option(
    None,
    "--public-key",
    help="expected signing public key (PEM or DER file); repeatable. "
    "Default: PARRY_EVIDENCE_PUBLIC_KEY (paths separated by ':')",
)
RetentionDays = typer.Option(
    None,
    "--retention-days",
    envvar=["PARRY_EVIDENCE_RETENTION_DAYS", "PARRY_RETENTION_DAYS"],
    help="minimum retention in days (default: the bucket's default Object Lock retention, as deployed; "
    "never what a manifest records)",
)
LockMode = typer.Option(
    None,
    "--lock-mode",
    envvar=["PARRY_EVIDENCE_LOCK_MODE", "PARRY_LOCK_MODE"],
    help="required lock mode: COMPLIANCE or GOVERNANCE (default: the bucket's default retention mode)",
)
KeyId = typer.Option(
    None,
    "--key-id",
    envvar="PARRY_SIGNING_KEY_ID",
    help="pin the signing key by its KMS key ARN (the stack's SigningKeyArn output): its public key is "
    "fetched from KMS (used when no --public-key is given); an alias is refused, it can be re-pointed",
)


def _fail(message: str, code: int = 2) -> NoReturn:
    for line in message.splitlines() or [message]:
        print(f"parry evidence: {inert(line)}", file=sys.stderr)
    raise typer.Exit(code)


def _one_line(exc: BaseException) -> str:
    refused = refusal(exc)
    if refused is not None:
        return f"AWS refused {refused.operation or 'a call'}: {refused.code}: {refused.message}"
    if isinstance(exc, ParryError) and str(exc):  # Parry's own message, all of it (candidates, say)
        return str(exc)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, (ParryError, OSError, ValueError)) or type(exc).__module__.startswith("botocore"):
        return text
    return f"unexpected {type(exc).__name__}: {text}"


def _errors_as_lines(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as exc:  # never a traceback for the auditor
            _fail(_one_line(exc))

    return wrapper


def _s3() -> Any:
    from parry.aws.clients import ClientFactory

    return ClientFactory().client("s3")


def _bucket(bucket: str | None) -> str:
    if not bucket:
        _fail("no evidence bucket: pass --bucket or set PARRY_EVIDENCE_BUCKET")
    return str(bucket)


def _source(
    case_id: str | None,
    bucket: str | None,
    directory: Path | None,
    *,
    policy: Any = None,
    trusted: set[str] | None = None,
) -> Any:
    """The case's folder. Several folders named after one case id: the one that verifies (against
    `trusted` and `policy`) is the case, and each other is named as a decoy on stderr."""
    from parry.cli.case_ids import from_bucket
    from parry.evidence.export import find_case
    from parry.evidence.sources import DirSource, S3Source, case_id_of
    from parry.evidence.verify import genuine_case

    if directory is not None:
        source = DirSource(directory)
        if case_id and not case_id_of(source.prefix).startswith(case_id):
            _fail(f"{directory} holds case {case_id_of(source.prefix)}, not {case_id}")
        return source
    if not case_id:
        _fail("give a CASE_ID (or --dir DIR, or --all for verify)")
    name = _bucket(bucket)
    s3 = _s3()
    case_id = from_bucket(s3, name, case_id)
    folders = [S3Source(s3, name, prefix) for prefix in find_case(s3, name, case_id)]
    if len(folders) == 1:
        return folders[0]
    genuine, decoys = genuine_case(folders, policy=policy, trusted_keys=trusted)
    for decoy in decoys:
        first = decoy.problems[0] if decoy.problems else "no problem"
        print(
            f"parry evidence: decoy: s3://{name}/{decoy.prefix} is named after case {case_id} but is not it ({first})",
            file=sys.stderr,
        )
    return genuine


def _policy(retention_days: int | None, lock_mode: str | None) -> Any:
    from parry.evidence.verify import Policy

    if lock_mode is not None and lock_mode.upper() not in ("COMPLIANCE", "GOVERNANCE"):
        _fail(f"--lock-mode must be COMPLIANCE or GOVERNANCE, not {lock_mode}")
    if retention_days is not None and retention_days < 1:
        _fail("--retention-days must be at least 1")
    return Policy(lock_mode.upper() if lock_mode else None, retention_days)


def _trusted(paths: list[Path] | None, key_id: str | None = None) -> set[str]:
    """Fingerprints of the keys the auditor trusts: files first, else the KMS key's public half."""
    from parry.evidence.keys import env_public_keys, load_public_keys
    from parry.evidence.writer import sha256_hex

    files = list(paths or []) or env_public_keys()
    if files or not key_id:
        return load_public_keys(files)
    if key_id.startswith("alias/") or ":alias/" in key_id:
        _fail(f"--key-id {key_id}: an alias can be pointed at another key; pin the key ARN (the SigningKeyArn output)")
    from parry.aws.clients import ClientFactory

    return {sha256_hex(bytes(ClientFactory().client("kms").get_public_key(KeyId=key_id)["PublicKey"]))}


@evidence_app.command("list")
@_errors_as_lines
def list_cases(
    since: str | None = typer.Option(None, "--since", help="cases opened on or after DATE (YYYY-MM-DD)"),
    account: str | None = typer.Option(None, "--account", help="only this AWS account id"),
    playbook: str | None = typer.Option(None, "--playbook", help="only cases of this playbook"),
    bucket: str | None = Bucket,
    as_json: bool = Json,
) -> None:
    """List cases in the evidence bucket, newest first."""
    from parry.evidence.export import case_prefixes
    from parry.evidence.report import status_of
    from parry.evidence.sources import S3Source

    since_day: date | None = None
    if since:
        try:
            since_day = date.fromisoformat(since)
        except ValueError:
            _fail(f"--since must be a date like 2026-11-01, not {since!r}")
    name, s3 = _bucket(bucket), _s3()
    rows = []
    for prefix in case_prefixes(s3, name, f"cases/{account}/" if account else "cases/"):
        _, acct, yyyy, mm, dd, case_id = prefix.rstrip("/").split("/")
        try:
            opened = date(int(yyyy), int(mm), int(dd))
        except ValueError:
            continue
        if since_day and opened < since_day:
            continue
        source = S3Source(s3, name, prefix)
        listing = source.listing()
        audit = sorted(k for k in listing if k.startswith("audit/"))
        first = _read_json(source, audit[0]) if audit else None
        last = _read_json(source, audit[-1]) if audit else None
        book = str((first or {}).get("playbook", "")) or _playbook_name(source)
        if playbook and book != playbook:
            continue
        manifests = sum(1 for k in listing if k.startswith("manifest/") and k.endswith(".json"))
        rows.append(
            {
                "case_id": case_id,
                "account": acct,
                "opened": opened.isoformat(),
                "playbook": book,
                "status": status_of(last),
                "manifests": manifests,
                "prefix": prefix,
                "_at": str((first or {}).get("at", "")),  # when it opened: the day alone does not order a day's cases
            }
        )
    rows.sort(key=lambda r: (r["opened"], r["_at"], r["case_id"]), reverse=True)
    for row in rows:
        del row["_at"]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        print("no cases", file=sys.stderr)
        return
    from parry.cli.render import evidence_table

    evidence_table(rows)


def _read_json(source: Any, rel: str) -> dict[str, Any] | None:
    body = source.read(rel, None)
    try:
        value = json.loads(body) if body is not None else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _playbook_name(source: Any) -> str:
    doc = _read_json(source, "playbook.json") or {}
    inner = doc.get("playbook")
    return str(inner.get("name", "")) if isinstance(inner, dict) else ""


@evidence_app.command("show")
@_errors_as_lines
def show(
    case_id: str | None = CaseId,
    directory: Path | None = typer.Option(None, "--dir", help="an exported case folder instead of the bucket"),
    bucket: str | None = Bucket,
    key_id: str | None = KeyId,
    as_json: bool = Json,
) -> None:
    """Show a case: where it is, its timeline, manifests and objects. With the key pinned, a folder
    merely named after the case (a decoy) is told apart from the case."""
    from parry.evidence.report import load_case, record_summary

    view = load_case(_source(case_id, bucket, directory, trusted=_trusted(None, key_id)))
    if as_json:
        print(json.dumps(view.as_dict(), indent=2, default=str))
        return
    print(f"case      {inert(view.case_id)}")
    print(f"playbook  {inert(view.playbook_name or '?')}")
    print(f"account   {inert(view.account)}    opened {inert(view.opened)}    status {inert(view.status)}")
    print(f"folder    {inert(view.prefix)}")
    print("\ntimeline")
    for r in view.audit:
        seq, at, kind = (inert(r.get(k, d)) for k, d in (("seq", "?"), ("at", ""), ("kind", "")))
        print(f"  {seq:>4}  {at}  {kind:<20} {inert(record_summary(r))}")
    print("\nmanifests")
    for m in view.manifests or [{"path": "(none: the case is not sealed)", "signed": True, "key_id": "", "sha256": ""}]:
        signer = m["key_id"] if m["signed"] else "UNSIGNED"
        print(f"  {inert(m['path'])}  {inert(signer)}  {inert(m['sha256'])}")
    print("\nobjects")
    for o in view.objects:
        print(f"  {inert(o['sha256'] or '?'):64}  {o['size'] if o['size'] is not None else '?':>7}  {inert(o['path'])}")


@evidence_app.command("verify")
@_errors_as_lines
def verify(
    case_id: str | None = CaseId,
    all_cases: bool = typer.Option(False, "--all", help="verify every case in the bucket"),
    directory: Path | None = typer.Option(None, "--dir", help="verify an exported case folder, offline"),
    public_keys: list[Path] | None = PublicKeys,
    key_id: str | None = KeyId,
    retention_days: int | None = RetentionDays,
    lock_mode: str | None = LockMode,
    bucket: str | None = Bucket,
    as_json: bool = Json,
) -> None:
    """Prove a case intact, or name each problem. Exit 0 intact, 1 not intact, 2 error.

    Problems: changed, missing or unexpected object; broken chain; bad signature; foreign key;
    unsigned manifest; retention; bad manifest; not sealed; misdated record; bad folder; key not
    pinned (never intact without --key-id or --public-key).
    """
    from parry.evidence.export import case_prefixes
    from parry.evidence.sources import S3Source
    from parry.evidence.verify import verify_case

    if all_cases and (case_id or directory):
        _fail("--all verifies the whole bucket: give no CASE_ID and no --dir")
    policy, trusted = _policy(retention_days, lock_mode), _trusted(public_keys, key_id)
    if all_cases:
        name, s3 = _bucket(bucket), _s3()
        sources = [S3Source(s3, name, p) for p in case_prefixes(s3, name)]
        if not sources:
            _fail(f"no cases in s3://{name}/cases/")
    else:
        sources = [_source(case_id, bucket, directory, policy=policy, trusted=trusted)]
    results = []
    with progress_bar(f"verifying {len(sources)} case(s)", quiet=as_json or not all_cases) as update:
        for source in sources:
            results.append(verify_case(source, policy=policy, trusted_keys=trusted))
            update(len(results), len(sources))
    if as_json:
        print(json.dumps(results[0].as_dict() if not all_cases else [r.as_dict() for r in results], indent=2))
    else:
        for r in results:
            if r.ok:
                print(
                    f"INTACT  {inert(r.case_id)}  ({r.objects} objects, {r.manifests} manifest(s), {r.audit_records} audit records)"
                )
            else:
                print(f"NOT INTACT  {inert(r.case_id)}  ({len(r.problems)} problem(s))")
                for p in r.problems:
                    print(f"  {inert(p)}")
            if not all_cases:
                for note in r.notes:
                    print(f"  note: {inert(note)}")
        if all_cases:
            bad = sum(1 for r in results if not r.ok)
            print(f"{len(results) - bad} of {len(results)} case(s) intact")
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


@evidence_app.command("report")
@_errors_as_lines
def report(
    case_id: str | None = CaseId,
    html: Path = typer.Option(..., "--html", help="write the report to this HTML file"),
    directory: Path | None = typer.Option(None, "--dir", help="an exported case folder instead of the bucket"),
    public_keys: list[Path] | None = PublicKeys,
    key_id: str | None = KeyId,
    retention_days: int | None = RetentionDays,
    lock_mode: str | None = LockMode,
    bucket: str | None = Bucket,
) -> None:
    """Write one self-contained HTML page: timeline, before/after diffs, approvals, hashes, verification."""
    from parry.evidence.report import load_case, render_html
    from parry.evidence.verify import verify_case

    policy, trusted = _policy(retention_days, lock_mode), _trusted(public_keys, key_id)
    source = _source(case_id, bucket, directory, policy=policy, trusted=trusted)
    result = verify_case(source, policy=policy, trusted_keys=trusted)
    page = render_html(load_case(source), result, generated_at=datetime.now(UTC).isoformat(timespec="seconds"))
    html.write_text(page, encoding="utf-8")
    print(f"wrote {html} ({'intact' if result.ok else f'NOT INTACT: {len(result.problems)} problem(s)'})")


@evidence_app.command("export")
@_errors_as_lines
def export(
    case_id: str = typer.Argument(..., metavar="CASE_ID", help="the case id, or a unique prefix of it"),
    directory: Path = typer.Argument(..., help="new or empty folder to write"),
    bucket: str | None = Bucket,
    key_id: str | None = KeyId,
) -> None:
    """Copy a case into a folder that `parry evidence verify --dir DIR` checks offline (with the key
    pinned, the case itself and not a decoy named after it)."""
    from parry.evidence.export import export_case
    from parry.evidence.sources import case_id_of

    source = _source(case_id, bucket, None, trusted=_trusted(None, key_id))
    with progress_bar(f"exporting {inert(case_id_of(source.prefix))}") as update:
        index = export_case(source, directory, update)
    print(f"exported {len(index['objects'])} object(s) of {inert(case_id_of(source.prefix))} to {inert(directory)}")
