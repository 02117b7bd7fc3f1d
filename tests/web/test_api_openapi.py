"""The /api OpenAPI document: every route of the application is in it, and nothing else."""

from __future__ import annotations

import re


def normalised(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_every_api_route_is_documented(app, client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.0")
    documented = {
        (normalised(path), method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    routes = {
        (normalised(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented
    # every reference resolves inside the document
    text = str(document)
    for ref in set(re.findall(r"#/components/(\w+)/(\w+)", text)):
        assert ref[1] in document["components"][ref[0]], ref
