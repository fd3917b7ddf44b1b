"""Input that the database itself would choke on is refused up front with a 4xx, never a 500."""

from __future__ import annotations

import pytest

from tests.auth.test_pages import csrf_token
from tests.support.checks import assert_error


@pytest.mark.parametrize("path", ["/api/v1/patients/99999999999", "/api/v1/patients/0"])
def test_ids_outside_the_record_range_are_404(api, staff, path) -> None:
    assert_error(api("get", path, as_=staff["nurse"]), 404)


def test_a_sub_resource_of_an_impossible_id_is_refused_cleanly(api, staff) -> None:
    # werkzeug answers 405 when another method's rule shares the path; either way, no query runs.
    response = api("get", "/api/v1/patients/2147483648/orders", as_=staff["nurse"])
    assert response.status_code in (404, 405)
    assert set(response.get_json()) == {"error"}


def test_the_largest_id_is_still_a_lookup(api, staff) -> None:
    assert_error(
        api("get", "/api/v1/patients/2147483647", as_=staff["nurse"]), 404, "patient_not_found"
    )


def test_a_nul_character_in_the_query_is_400(api, staff) -> None:
    assert_error(api("get", "/api/v1/patients?q=a%00", as_=staff["nurse"]), 400, "nul_character")


@pytest.mark.parametrize(
    "body",
    ['{"mrn": "A\\u0000B"}', '{"q\\u0000": 1}', '{"roles": ["nurse\\u0000"]}'],
)
def test_a_nul_character_in_json_is_400(api, staff, body) -> None:
    response = api(
        "post", "/api/v1/patients", as_=staff["nurse"], data=body, content_type="application/json"
    )
    assert_error(response, 400)


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data"]
)
@pytest.mark.parametrize("field", [{"username": "a\x00b"}, {"q\x00": "1"}])
def test_a_nul_character_in_a_form_is_400(client, content_type, field) -> None:
    # With a valid CSRF token: without one, the CSRF check's own 400 would hide this one.
    data = {"username": "a", "password": "x", "csrf_token": csrf_token(client), **field}
    response = client.post("/login", data=data, content_type=content_type)
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)


def test_amounts_are_read_exactly_not_as_floats(api, staff, patient) -> None:
    # 40.0000000000000001 is 40.0 as a float: read exactly, it is not a measurable dose.
    body = (
        '{"medication": "METH-10MGML", "kind": "maintenance", "start_date": "2026-11-16", '
        '"dose_mg": 40.0000000000000001}'
    )
    response = api(
        "post",
        f"/api/v1/patients/{patient.id}/orders",
        as_=staff["prescriber"],
        data=body,
        content_type="application/json",
    )
    error = assert_error(response, 422, "order_blocked")
    assert [v["rule"] for v in error["violations"]] == ["dose_not_measurable"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/patients/{id}/doses?to=0001-01-01",
        "/api/v1/patients/{id}/schedule?from=9999-12-31",
        "/api/v1/patients/{id}/dose-plan?date=0001-01-02",
    ],
)
def test_dates_out_of_any_clinic_range_are_422(api, staff, patient, path) -> None:
    # Found by the API fuzzer: a range ending in year 1 overflowed date arithmetic (a 500).
    response = api("get", path.format(id=patient.id), as_=staff["nurse"])
    assert assert_error(response, 422)["fields"]
