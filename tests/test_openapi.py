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


def test_every_answer_field_computed_from_the_object_is_computed(app, monkeypatch) -> None:
    """``fields.Function`` reads its function's signature for every value it writes (3.9 % of
    a recorded dose's instructions for its seven fields); ``mat.schema_fields.Computed`` calls
    the function and nothing else. Every output schema's computed field is one."""
    import marshmallow
    from marshmallow import class_registry, fields

    from mat.schema_fields import Computed

    schemas = {
        cls
        for entries in class_registry._registry.values()
        for cls in entries
        if cls.__module__.startswith("mat.")
    }
    computed = 0
    for schema in schemas:
        for name, field in schema._declared_fields.items():
            assert type(field) is not fields.Function, f"{schema.__name__}.{name}"
            computed += isinstance(field, Computed)
    assert computed >= 30  # 31 when this test was written

    def no_signature_read(func: object) -> list[str]:
        raise AssertionError("Computed read its function's signature")

    monkeypatch.setattr(marshmallow.utils, "get_func_args", no_signature_read)

    class Doubled(marshmallow.Schema):
        twice = Computed(lambda row: row["n"] * 2)

    assert Doubled().dump({"n": 21}) == {"twice": 42}
