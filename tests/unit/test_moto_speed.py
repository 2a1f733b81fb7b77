"""Local mode's KMS makes a key pair only when a call needs one, and answers every call as before."""

from __future__ import annotations

import boto3
import pytest

from parry.local.moto_speed import kms_key_pairs_on_first_use


@pytest.fixture
def kms(moto):
    kms_key_pairs_on_first_use()
    return boto3.client("kms", region_name="us-east-1")


def test_creating_symmetric_and_hmac_keys_makes_no_key_pair(kms, monkeypatch):
    from moto.kms import utils

    made = []
    generate = utils.rsa.generate_private_key
    monkeypatch.setattr(utils.rsa, "generate_private_key", lambda **kw: made.append(kw) or generate(**kw))
    hmac = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    mac = kms.generate_mac(KeyId=hmac, Message=b"case", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert kms.verify_mac(KeyId=hmac, Message=b"case", MacAlgorithm="HMAC_SHA_256", Mac=mac)["MacValid"]
    blob = kms.encrypt(KeyId=symmetric, Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    assert made == []


@pytest.mark.parametrize(
    ("spec", "algorithm"), [("ECC_NIST_P256", "ECDSA_SHA_256"), ("RSA_2048", "RSASSA_PSS_SHA_256")]
)
def test_signing_keys_sign_verify_and_give_their_public_half(kms, spec, algorithm):
    key = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signature = kms.sign(KeyId=key, Message=b"manifest", SigningAlgorithm=algorithm)["Signature"]
    assert kms.verify(KeyId=key, Message=b"manifest", Signature=signature, SigningAlgorithm=algorithm)["SignatureValid"]
    assert not kms.verify(KeyId=key, Message=b"forged", Signature=signature, SigningAlgorithm=algorithm)[
        "SignatureValid"
    ]
    assert kms.get_public_key(KeyId=key)["PublicKey"]


def test_two_keys_of_one_spec_have_their_own_pairs(kms):
    first, second = (
        kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"] for _ in range(2)
    )
    assert kms.get_public_key(KeyId=first)["PublicKey"] != kms.get_public_key(KeyId=second)["PublicKey"]
