"""Reading a refused AWS call: the code Parry decides on and the one line a case or a user sees."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError

from parry.aws.errors import Refusal, describe_error, error_code, refusal


def _refused(code: str, message: str, status: int = 400, operation: str = "GetObject") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


def test_a_client_error_is_read_as_its_operation_code_message_and_status():
    assert refusal(_refused("NoSuchKey", "The specified key does not exist.", 404)) == Refusal(
        "GetObject", "NoSuchKey", "The specified key does not exist.", 404
    )
    assert error_code(_refused("AccessDenied", "no")) == "AccessDenied"


def test_an_error_that_is_not_a_refusal_has_no_code():
    network = EndpointConnectionError(endpoint_url="https://s3.amazonaws.com")
    assert refusal(network) is None and error_code(network) == ""
    assert refusal(ValueError("x")) is None


def test_describe_error_names_the_operation_and_code():
    assert describe_error(_refused("ThrottlingException", "Rate exceeded", operation="LookupEvents")) == (
        "LookupEvents failed: ThrottlingException: Rate exceeded"
    )
    assert describe_error(KeyError("Reservations")) == "KeyError: 'Reservations'"


def test_describe_error_keeps_an_html_error_page_to_one_short_line():
    page = (
        "<html><head><title>502 Bad Gateway</title></head>\n<body>" + "<p>upstream failed</p>" * 100 + "</body></html>"
    )
    line = describe_error(_refused("502", page, 502))
    assert line.startswith("GetObject failed: 502: 502 Bad Gateway upstream failed")
    assert "<" not in line and "\n" not in line and len(line) <= len("GetObject failed: 502: ") + 300
