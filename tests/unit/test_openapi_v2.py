"""API v2's OpenAPI document against OCS's (`../shared/reference/ocs-api-v2.yml`), as `test_openapi.py` checks v1's:
every operation of OCS's v2 document is served with its operation id, its parameters, the fields of its request and
response bodies, its statuses and its OAuth scopes."""

from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from infra.wiring.bootstrap import api_routes
from schemas.openapi.document import openapi_v2_document
from tests.unit.openapi_parity import missing_properties, missing_request_properties, operations

REFERENCE = Path(__file__).parents[3] / "shared" / "reference" / "ocs-api-v2.yml"


@pytest.fixture(scope="module")
def document() -> dict:
    return openapi_v2_document(api_routes())


@pytest.fixture(scope="module")
def reference() -> dict:
    if not REFERENCE.exists():
        pytest.skip(f"OCS's v2 schema is not at {REFERENCE} (it lives in the shared folder beside the repository)")
    return yaml.safe_load(REFERENCE.read_text())


def test_the_v2_document_is_a_valid_openapi_3_document(document):
    validate(document)
    assert document["info"]["version"] == "v2"


def test_every_v2_operation_is_served_with_its_operation_id(reference, document):
    ours = {(path, method): operation["operationId"] for path, method, operation in operations(document)}
    theirs = {(path, method): operation["operationId"] for path, method, operation in operations(reference)}
    assert len(theirs) == 10
    assert {key: operation_id for key, operation_id in theirs.items() if ours.get(key) != operation_id} == {}


def test_every_parameter_of_the_v2_operations_is_documented(reference, document):
    missing = [
        f"{method.upper()} {path}: {parameter['in']} {parameter['name']}"
        for path, method, operation in operations(reference)
        for parameter in operation.get("parameters", [])
        if (parameter["in"], parameter["name"])
        not in {(ours["in"], ours["name"]) for ours in document["paths"][path][method].get("parameters", [])}
    ]
    assert missing == []


def test_every_request_property_of_the_v2_operations_is_documented(reference, document):
    assert missing_request_properties(reference, document, operations(reference)) == []


def test_every_response_status_and_field_of_the_v2_operations_is_documented(reference, document):
    """Response fields at any depth, read-only ones included: those are what a client reads."""
    missing = []
    for path, method, operation in operations(reference):
        for status, response in operation["responses"].items():
            where = f"{method.upper()} {path} {status}"
            ours = document["paths"][path][method]["responses"].get(status)
            if ours is None:
                missing.append(f"{where}: no such status")
                continue
            for media, content in response.get("content", {}).items():
                our_content = ours.get("content", {}).get(media)
                if our_content is None:
                    missing.append(f"{where}: no {media} body")
                else:
                    missing += missing_properties(
                        reference, content["schema"], document, our_content["schema"], where, read_only_too=True
                    )
    assert missing == []


def test_the_v2_operations_take_the_oauth_scopes_ocs_lists_and_api_keys(reference, document):
    def scopes_and_schemes(security: list[dict]) -> tuple[list[str], set[str]]:
        scopes = next((requirement["OAuth2"] for requirement in security if "OAuth2" in requirement), None)
        return scopes, {name for requirement in security for name in requirement}

    for path, method, operation in operations(reference):
        their_scopes, their_schemes = scopes_and_schemes(operation["security"])
        our_scopes, our_schemes = scopes_and_schemes(document["paths"][path][method]["security"])
        assert our_scopes == their_scopes, (method, path)
        assert their_schemes <= our_schemes, (method, path)
        for name in their_schemes:
            assert (
                document["components"]["securitySchemes"][name]["type"]
                == (reference["components"]["securitySchemes"][name]["type"])
            )
