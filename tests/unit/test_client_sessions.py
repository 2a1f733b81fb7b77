"""Clients share one botocore loader: each service model's JSON is decoded once per process, whichever
session (another account's role, another profile) makes the client."""

from __future__ import annotations

from botocore.loaders import JSONFileLoader

from parry.aws.clients import ClientFactory, new_session


def test_a_service_model_is_decoded_once_across_sessions(monkeypatch):
    decoded: list[str] = []
    load_file = JSONFileLoader.load_file

    def counting(self, file_path):
        decoded.append(file_path)
        return load_file(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", counting)
    ClientFactory(region="eu-west-1").client("cloudformation")
    other_account = ClientFactory(
        region="eu-west-1", session=new_session(aws_access_key_id="a", aws_secret_access_key="b")
    )
    other_account.client("cloudformation")

    assert len([p for p in decoded if p.endswith("/cloudformation/2010-05-15/service-2")]) == 1
