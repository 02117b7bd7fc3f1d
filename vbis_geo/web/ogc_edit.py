"""``PATCH /ogc/collections/{id}/items/{featureId}``: OGC API - Features - Part 4's Update, which
pygeoapi does not route. The body is a JSON merge patch (RFC 7396: ``Content-Type:
application/merge-patch+json``, or ``application/json``) of a feature: the properties it names
change (null empties one), a ``geometry`` replaces the geometry. The collection's provider does
the work (:meth:`vbis_geo.publish.transactions.Editable.patch`), with the rules of every write.
Answers 204, or an OGC exception (JSON) with the status of the problem.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, request

bp = Blueprint("ogc_edit", __name__)
PATCH_TYPES = ("application/merge-patch+json", "application/json")


def _exception(status: int, code: str, description: str) -> Response:
    return Response(
        orjson.dumps({"code": code, "description": description}),
        status=status,
        mimetype="application/json",
    )


def _provider(collection_id: str) -> Any:
    """The feature provider of an editable collection of the served configuration, or None."""
    from pygeoapi.plugin import load_plugin

    from vbis_geo.web.ogc import served_resources

    resource = served_resources().get(collection_id)
    if not resource:
        return None
    for provider_def in resource.get("providers", []):
        if provider_def.get("type") == "feature":
            return load_plugin("provider", provider_def)
    return None


@bp.route("/collections/<collection_id>/items/<item_id>", methods=["PATCH"])
def patch_item(collection_id: str, item_id: str) -> Response:
    from pygeoapi.provider.base import ProviderGenericError

    provider = _provider(collection_id)
    if provider is None:
        return _exception(404, "NotFound", f"no collection {collection_id!r}")
    if not getattr(provider, "editable", False):
        return _exception(405, "InvalidParameterValue", "this collection is not editable")
    media = (request.mimetype or "").lower()
    if media not in PATCH_TYPES:
        return _exception(
            415,
            "InvalidParameterValue",
            f"Content-Type {request.mimetype or '(none)'}: expected {' or '.join(PATCH_TYPES)}",
        )
    try:
        provider.patch(item_id, request.get_data())
    except ProviderGenericError as err:
        return _exception(int(err.http_status_code), err.ogc_exception_code, err.message)
    return Response(status=204)
