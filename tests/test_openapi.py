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


def test_every_api_argument_schema_is_built_once(app) -> None:
    """webargs builds a schema given as a class anew for every request (marshmallow deep-copies
    its fields: 2-3 % of a dose plan's instructions, ``bench.plan_instructions``); an instance
    is built once, at import. A new endpoint given ``SomeQuery`` instead of ``SomeQuery()``
    fails here."""
    import marshmallow

    seen = 0
    for name, view in app.view_functions.items():
        for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
            seen += 1
            assert isinstance(parameter["schema"], marshmallow.Schema), name
    assert seen >= 40  # every endpoint that reads arguments (42 when this test was written)
