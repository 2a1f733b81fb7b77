"""Time `verify` over 100 sealed cases (moto in-process, KMS-signed manifests, 20 objects each).

Prints the time to build the cases with the writer and the time to verify all of them, which is
what `parry evidence verify --all` spends on a bucket of that size (less the network).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

for var, value in (
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
):
    os.environ.setdefault(var, value)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

CASES = int(os.environ.get("BENCH_CASES", "100"))


def main() -> None:
    from moto import mock_aws

    from parry.aws.clients import ClientFactory
    from parry.evidence.export import case_prefixes
    from parry.evidence.keys import load_public_keys
    from parry.evidence.sources import S3Source
    from parry.evidence.verify import verify_case
    from parry.evidence.writer import EvidenceStore
    from tests.support.kms import kms_digest_signing

    with mock_aws(), kms_digest_signing():
        aws = ClientFactory(region="us-east-1")
        s3, kms = aws.client("s3"), aws.client("kms")
        s3.create_bucket(Bucket="bench-evidence", ObjectLockEnabledForBucket=True)
        key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
        store = EvidenceStore(s3, "bench-evidence", retention_days=365, lock_mode="GOVERNANCE")
        start = time.perf_counter()
        base = datetime(2026, 11, 1, tzinfo=UTC)
        for n in range(CASES):
            case = store.case(case_id=f"case-{n:04d}", account="111122223333", opened_at=base + timedelta(hours=n))
            case.put("event.json", {"id": f"evt-{n}", "source": "aws.guardduty", "detail": {"severity": 8}})
            case.put("playbook.json", {"sha256": "ab" * 32, "playbook": {"name": "bench"}})
            case.audit("case_opened", {"case_id": f"case-{n:04d}", "playbook": "bench"})
            for step in range(4):
                case.audit("step_started", {"step": f"s{step}", "action": "iam.deactivate_access_key"})
                case.artifact(
                    f"s{step}", "state.json", {"before": {"Status": "Active", "n": n}, "after": {"Status": "Inactive"}}
                )
                case.audit("step_finished", {"step": f"s{step}", "result": {"status": "succeeded"}})
            case.audit("case_closed", {"status": "succeeded"})
            case.seal(kms=kms, key_id=key)
        built = time.perf_counter() - start

        pin_path = Path(os.environ.get("TMPDIR", "/tmp")) / "parry-bench-key.der"
        pin_path.write_bytes(kms.get_public_key(KeyId=key)["PublicKey"])
        trusted = load_public_keys([pin_path])
        listing_time = [0.0]
        original_listing = S3Source.listing

        def timed_listing(self):  # moto's ListObjectVersions deep-copies the whole bucket on each call
            t0 = time.perf_counter()
            try:
                return original_listing(self)
            finally:
                listing_time[0] += time.perf_counter() - t0

        S3Source.listing = timed_listing
        start = time.perf_counter()
        prefixes = case_prefixes(s3, "bench-evidence")
        listing_time[0] += time.perf_counter() - start
        results = [verify_case(S3Source(s3, "bench-evidence", p), trusted_keys=trusted) for p in prefixes]
        elapsed = time.perf_counter() - start
        objects = sum(r.objects for r in results)
        assert len(results) == CASES and all(r.ok for r in results), [r.problems for r in results if not r.ok][:1]
        rest = elapsed - listing_time[0]
        print(
            f"verify: {CASES} cases ({objects} objects, signed manifests) in {elapsed:.2f} s "
            f"({elapsed / CASES * 1000:.0f} ms per case; moto in-process); building them took {built:.2f} s"
        )
        print(
            f"  of which ListObjectVersions {listing_time[0]:.2f} s (moto copies every version in the bucket per call, "
            f"so this part grows with the bucket; S3 lists one prefix); hashing, chain, signatures, "
            f"GetObject and HeadObject {rest:.2f} s ({rest / CASES * 1000:.0f} ms per case)"
        )


if __name__ == "__main__":
    main()
