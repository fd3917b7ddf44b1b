from __future__ import annotations


def test_openapi_document_is_generated_from_the_schemas(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["info"]["title"] == "mat"
    paths = doc["paths"]
    for path in (
        "/api/v1/tokens",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/medications",
        "/api/v1/patients",
        "/api/v1/patients/{patient_id}",
    ):
        assert path in paths, sorted(paths)
    schemas = doc["components"]["schemas"]
    assert {"mrn", "admitted_on", "level_of_care"} <= set(schemas["PatientCreate"]["properties"])
    assert set(schemas["PatientCreate"]["properties"]["level_of_care"]["enum"]) == {
        "detox",
        "inpatient",
        "intensive_outpatient",
        "outpatient",
        "maintenance",
    }


def test_unknown_api_path_answers_the_contract_error_shape(client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_405_in_the_contract_shape(client) -> None:
    response = client.delete("/api/v1/medications")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
