"""Fixture events as tests adapt them: moved into the test's account, or read back as an API returns them."""

from __future__ import annotations

from datetime import UTC

IAM_FINDING = "guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"


def in_account(arn: str, account: str, region: str) -> str:
    """The same ARN in another account and region (a finding moved into the test's account)."""
    parts = arn.split(":")
    parts[3], parts[4] = region, account
    return ":".join(parts)


def guardduty_api_form(detail: dict) -> tuple[dict, list[str]]:
    """A GuardDuty event's finding as boto3's GetFindings returns it, and what boto3 could not carry.

    The inverse of `parry.custom_actions.wire_format`, by botocore's model: each wire key becomes
    its member name, epoch-second timestamps datetimes. Keys the model does not describe (the
    open `additionalInfo` object of older events), null values (boto3's parser drops them) and
    values of another type than the model's (a number where it says string: the Stubber refuses
    them) cannot come from the API: they are left out and listed by path (`a.b`, `a.b=null`,
    `a.b=<int>`).
    """
    import botocore.session

    model = botocore.session.get_session().get_service_model("guardduty")
    shape = model.operation_model("GetFindings").output_shape.members["Findings"].member
    lost: list[str] = []
    return _api_form(shape, detail, "detail", lost), lost


def _api_form(shape, value, path: str, lost: list[str]):
    from datetime import datetime

    if shape.type_name == "structure":
        members = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()}
        out = {}
        for key, item in value.items():
            if key not in members:
                lost.append(f"{path}.{key}")
            elif item is None:
                lost.append(f"{path}.{key}=null")
            elif members[key][1].type_name == "string" and not isinstance(item, str):
                lost.append(f"{path}.{key}=<{type(item).__name__}>")
            else:
                name, member = members[key]
                out[name] = _api_form(member, item, f"{path}.{key}", lost)
        return out
    if shape.type_name == "list":
        return [_api_form(shape.member, item, f"{path}[{i}]", lost) for i, item in enumerate(value)]
    if shape.type_name == "map":
        return {k: _api_form(shape.value, item, f"{path}.{k}", lost) for k, item in value.items()}
    if shape.type_name == "timestamp" and isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    return value
