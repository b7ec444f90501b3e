"""The protocol's errors: one class per code, the same on both sides of the wire."""

from __future__ import annotations

from typing import Any

import pytest

from cline_bridge import client
from cline_bridge.wire import names
from cline_bridge.wire.errors import (
    ERROR_CLASSES,
    ApiError,
    BridgeError,
    ClineUnavailableError,
    InternalError,
    InvalidArgumentsError,
    NoApiKeyError,
    NoHostError,
    NotAuthorisedError,
    RequestCancelledError,
    error_from_response,
)

CODES = {
    names.INVALID_PARAMS: InvalidArgumentsError,
    names.NO_HOST: NoHostError,
    names.CLINE_UNAVAILABLE: ClineUnavailableError,
    names.NO_API_KEY: NoApiKeyError,
    names.API_ERROR: ApiError,
    names.NOT_AUTHORISED: NotAuthorisedError,
    names.REQUEST_CANCELLED: RequestCancelledError,
    names.INTERNAL_ERROR: InternalError,
}


def test_each_code_of_the_contract_has_one_class() -> None:
    assert dict(ERROR_CLASSES) == CODES
    for code, error_class in CODES.items():
        assert error_class.code == code


@pytest.mark.parametrize("error_class", CODES.values())
@pytest.mark.parametrize("data", [None, {"method": "clineBridge/startNewTask"}])
def test_what_the_sidecar_raises_a_script_gets_back(
    error_class: type[BridgeError], data: Any
) -> None:
    raised = error_class("Cline is not installed", data)

    answer = raised.to_response()
    again = error_from_response(answer)

    assert ("data" in answer) is (data is not None)
    assert type(again) is error_class
    assert (again.code, again.message, again.data) == (raised.code, raised.message, data)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            {"code": -32601, "message": "Method not found: x"},
            (BridgeError, -32601, "Method not found: x"),
        ),
        (
            {"code": -32000, "message": ""},
            (BridgeError, -32000, "the bridge answered error -32000"),
        ),
        ({"code": "-32002", "message": "m"}, (BridgeError, None, "m")),
        ({"code": True, "message": "m"}, (BridgeError, None, "m")),
        ("not an object", (BridgeError, None, "malformed error from the bridge: 'not an object'")),
    ],
)
def test_other_and_odd_errors_are_a_plain_bridge_error(
    error: Any, expected: tuple[type[BridgeError], int | None, str]
) -> None:
    made = error_from_response(error)
    assert (type(made), made.code, made.message) == expected


def test_an_api_error_reads_its_rest_details() -> None:
    data = {"status": 402, "code": "insufficient_credits", "requestId": "req_9", "retryable": False}
    error = ApiError("Not enough credits", data)

    assert (error.status, error.api_code, error.request_id, error.retryable) == (
        402,
        "insufficient_credits",
        "req_9",
        False,
    )
    assert ApiError("odd", ["not", "an", "object"]).status is None


def test_the_old_cancelled_name_still_works_but_no_star_import_brings_it() -> None:
    assert client.CancelledError is RequestCancelledError
    assert "CancelledError" not in client.__all__
    assert "RequestCancelledError" in client.__all__
