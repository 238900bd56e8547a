"""Comparing an OpenAPI document of ours with OCS's (`../shared/reference/ocs-api-v*.yml`): their operations, and
the properties of their bodies at any depth, through references and compositions."""

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def resolved(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def properties(document: dict, schema: dict) -> dict:
    """A schema's properties, through references, allOf/anyOf/oneOf, and an array's items."""
    schema = resolved(document, schema)
    if schema.get("type") == "array":
        return properties(document, schema.get("items", {}))
    found = dict(schema.get("properties", {}))
    for keyword in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(keyword, []):
            found.update(properties(document, part))
    return found


def missing_properties(
    reference: dict, theirs: dict, document: dict, ours: dict, where: str, read_only_too: bool = False
) -> list[str]:
    """Properties of OCS's schema (at any depth) that ours does not document: those a client may send (a request's),
    or with `read_only_too` every one (a response's)."""
    missing = []
    our_properties = properties(document, ours)
    for name, their_property in properties(reference, theirs).items():
        read_only = their_property.get("readOnly") or resolved(reference, their_property).get("readOnly")
        if read_only and not read_only_too:
            continue
        if name not in our_properties:
            missing.append(f"{where}.{name}")
        else:
            missing += missing_properties(
                reference, their_property, document, our_properties[name], f"{where}.{name}", read_only_too
            )
    return missing


def missing_request_properties(reference: dict, document: dict, their_operations) -> list[str]:
    """What a client may send to `their_operations` (path, method, operation) by OCS's document that ours does not
    document: a whole body, or a property of one at any depth."""
    missing = []
    for path, method, operation in their_operations:
        where = f"{method.upper()} {path}"
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            our_body = document["paths"][path][method].get("requestBody", {}).get("content", {}).get(media)
            if our_body is None:
                missing.append(f"{where}: no {media} body")
            else:
                missing += missing_properties(reference, content["schema"], document, our_body["schema"], where)
    return missing
