"""Editing through the OGC API: OGC API - Features - Part 4 (Create, Replace, Update and Delete;
OGC 20-002), so that QGIS and scripts edit our collections with the same rules as every other
write path.

pygeoapi routes ``POST /collections/{id}/items`` (a GeoJSON Feature, ``Content-Type:
application/geo+json``), ``PUT`` and ``DELETE /collections/{id}/items/{featureId}`` to the
provider's :meth:`~Editable.create`, :meth:`~Editable.update` and :meth:`~Editable.delete`
when the collection is ``editable``; ``PATCH`` (a JSON merge patch, RFC 7396), which pygeoapi
does not route, comes from vbis_geo/web/ogc_edit.py to :meth:`~Editable.patch`.

Every write:

* is made for the request's principal (a token or the portal session; the public gets 401), in
  one transaction, under :func:`vbis_geo.auth.writer.writer`: the database's row-level security
  checks the row against the account's scope, and the history keeps the version it replaces with
  who and why;
* is checked first by :mod:`vbis_geo.auth.scope` (the same rules), so that a refusal is a clear
  403 naming the row and the scope, not the database's words;
* takes only the collection's published properties, each checked against its column's type (an
  unknown property, a text where a number goes, a NUL character: a 400 naming it); the id, the
  review columns, computed areas, timestamps and the dataset link are the server's;
* takes the geometry in CRS84 (longitude, latitude: Part 4's default; a ``Content-Crs`` other
  than CRS84 or EPSG:4326 is refused), of the collection's type (a Polygon is stored as a
  one-part MultiPolygon), valid by the OGC rules;
* starts as a draft when the principal contributes drafts (an expert: the review rules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import orjson
import sqlalchemy as sa
from pygeoapi.provider.base import (
    ProviderGenericError,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
)
from sqlalchemy.engine import Connection

from vbis_geo.auth.principal import PUBLIC, Principal
from vbis_geo.errors import Forbidden, NotAuthorized

#: the largest feature accepted in one request (bytes of GeoJSON)
MAX_FEATURE_BYTES = 5 * 1024 * 1024
#: columns a client never sets
SERVER_COLUMNS = {"created_at", "updated_at", "dataset_id"}
CRS84 = {
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
}


class ProviderNotAuthorizedError(ProviderGenericError):
    ogc_exception_code = "NotAuthorized"
    http_status_code = HTTPStatus.UNAUTHORIZED
    default_msg = "editing needs an account"


class ProviderForbiddenError(ProviderGenericError):
    ogc_exception_code = "Forbidden"
    http_status_code = HTTPStatus.FORBIDDEN
    default_msg = "not within your rights"


def _principal() -> Principal:
    from flask import has_request_context

    if not has_request_context():
        return PUBLIC
    from vbis_geo.web.accounts import principal

    return principal()


def _content_crs() -> None:
    from flask import has_request_context, request

    if not has_request_context():
        return
    crs = request.headers.get("Content-Crs", "").strip().strip("<>")
    if crs and crs not in CRS84:
        raise ProviderInvalidQueryError(
            user_msg=f"Content-Crs {crs}: features are accepted in CRS84 (longitude, latitude)"
        )


class Editable:
    """The editing half of vbis_geo's feature provider (a mixin of
    :class:`vbis_geo.publish.features.FeatureProvider`: ``self.table``, ``self.columns``,
    ``self.id_field``, ``self.geom_field`` and ``self.data`` are the provider's)."""

    table: sa.Table
    columns: dict[str, Any]
    id_field: str
    geom_field: str
    data: dict[str, Any]

    # -- the four operations ------------------------------------------------------------------
    def create(self, item: Any) -> int:
        """Insert a feature; its new id."""
        feature = _feature(item)
        values = self._values(feature, whole=True)
        principal = _principal()
        with self._write(principal, f"OGC API: new {self.table.name}", "a new row") as conn:
            self._check(conn, principal, values, replaces=None)
            values.update(_review_start(principal))
            table = self.table
            new_id = conn.execute(
                sa.insert(table).values(**self._sql(values)).returning(table.c[self.id_field])
            ).scalar_one()
        return int(new_id)

    def update(self, identifier: Any, item: Any) -> bool:
        """Replace a feature (PUT): every property the item leaves out becomes empty."""
        return self._change(identifier, _feature(item), whole=True)

    def patch(self, identifier: Any, patch: Any) -> bool:
        """Update a feature (PATCH, a JSON merge patch): only what the patch names changes;
        a property set to null becomes empty."""
        return self._change(identifier, _feature(patch, partial=True), whole=False)

    def delete(self, identifier: Any) -> bool:
        row_id = self._row_id(identifier)
        principal = _principal()
        name = f"{self.table.name} {row_id}"
        with self._write(principal, f"OGC API: deleted {self.table.name}", name) as conn:
            self._existing(conn, principal, row_id)
            deleted = conn.execute(
                sa.delete(self.table).where(self.table.c[self.id_field] == row_id)
            ).rowcount
            if deleted != 1:  # the row exists (checked above): the database's policy refused
                raise ProviderForbiddenError(user_msg=f"{name} is outside your scope")
        return True

    # -- helpers ------------------------------------------------------------------------------
    def _change(self, identifier: Any, feature: dict[str, Any], whole: bool) -> bool:
        row_id = self._row_id(identifier)
        values = self._values(feature, whole=whole)
        principal = _principal()
        name = f"{self.table.name} {row_id}"
        with self._write(principal, f"OGC API: changed {self.table.name}", name) as conn:
            current = self._existing(conn, principal, row_id)
            self._check(conn, principal, {**current, **values}, replaces=row_id)
            changed = conn.execute(
                sa.update(self.table)
                .where(self.table.c[self.id_field] == row_id)
                .values(**self._sql(values), updated_at=sa.func.now())
            ).rowcount
            if changed != 1:
                raise ProviderForbiddenError(user_msg=f"{name} is outside your scope")
        return True

    def _row_id(self, identifier: Any) -> int:
        text = str(identifier)
        if not text.isdigit() or int(text) > 2**63 - 1:
            raise ProviderItemNotFoundError(user_msg=f"no feature {text!r}")
        return int(text)

    def _existing(self, conn: Connection, principal: Principal, row_id: int) -> dict[str, Any]:
        """The stored row (its rule columns), after checking the principal may change it."""
        from vbis_geo.auth.scope import existing_row_refusal

        table = self.table
        others = [c for c in table.columns if c.name != self.geom_field]
        row = (
            conn.execute(
                sa.select(
                    *others, sa.func.ST_AsText(table.c[self.geom_field]).label(self.geom_field)
                ).where(table.c[self.id_field] == row_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            raise ProviderItemNotFoundError(user_msg=f"no feature {row_id} in {table.name}")
        refusal = existing_row_refusal(conn, principal, table.name, row_id)
        if refusal:
            raise ProviderForbiddenError(user_msg=refusal)
        return dict(row)  # the geometry as WKT, as the scope rules and _sql() take it

    def _check(
        self,
        conn: Connection,
        principal: Principal,
        values: Mapping[str, Any],
        replaces: int | None,
    ) -> None:
        from vbis_geo.auth.scope import row_refusal

        refusal = row_refusal(conn, principal, self.table.name, values, replaces=replaces)
        if refusal:
            raise ProviderForbiddenError(user_msg=refusal)

    @contextmanager
    def _write(self, principal: Principal, reason: str, row: str) -> Iterator[Connection]:
        """A transaction writing as ``principal`` (its errors as OGC exceptions)."""
        from vbis_geo.auth.writer import writer
        from vbis_geo.publish.features import _engine, _url

        if not principal.is_authenticated:
            raise ProviderNotAuthorizedError(
                user_msg="editing needs an account: send 'Authorization: Bearer <API token>'"
            )
        _content_crs()
        try:
            with _engine(_url(self.data)).connect() as conn, conn.begin():
                conn.execute(sa.text("SET LOCAL statement_timeout = '60s'"))
                with writer(conn, principal, reason, row=row):
                    yield conn
        except Forbidden as exc:
            raise ProviderForbiddenError(user_msg=exc.message) from None
        except NotAuthorized as exc:
            raise ProviderNotAuthorizedError(user_msg=exc.message) from None
        except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
            problem = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ProviderInvalidQueryError(
                user_msg=f"{row} does not fit the table: {problem}"
            ) from None

    def _values(self, feature: dict[str, Any], whole: bool) -> dict[str, Any]:
        """The columns to write from a feature: its geometry and properties, checked."""
        writable = {
            name: self.table.c[name]
            for name in self.columns
            # the table's own columns (not what a view derives, such as generalised_km), less
            # the server's and the computed ones
            if name in self.table.c
            and name not in SERVER_COLUMNS
            and self.table.c[name].computed is None
        }
        properties = feature.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            raise ProviderInvalidQueryError(user_msg="properties: expected a JSON object")
        unknown = sorted(set(properties) - set(writable))
        if unknown:
            raise ProviderInvalidQueryError(
                user_msg=f"properties {unknown} cannot be written: the writable properties of "
                f"{self.table.name} are {', '.join(sorted(writable))}"
            )
        values: dict[str, Any] = {}
        for name, column in writable.items():
            if name in properties:
                values[name] = _value(column, name, properties[name])
            elif whole:
                values[name] = None  # a replacement leaves nothing of the old row
        if "geometry" in feature or whole:
            values[self.geom_field] = self._geometry(feature.get("geometry"))
        return values

    def _geometry(self, raw: Any) -> Any:
        from shapely.geometry import MultiPolygon, shape
        from shapely.validation import explain_validity

        if raw is None:
            raise ProviderInvalidQueryError(user_msg="geometry: a feature needs one")
        try:
            geom = shape(raw)
        except Exception as exc:  # noqa: BLE001 (shapely's many errors on malformed GeoJSON)
            raise ProviderInvalidQueryError(
                user_msg=f"geometry: not a GeoJSON geometry ({exc})"
            ) from None
        wanted = self.table.c[self.geom_field].type.geometry_type.upper()
        if wanted == "MULTIPOLYGON" and geom.geom_type == "Polygon":
            geom = MultiPolygon([geom])
        if geom.geom_type.upper() != wanted:
            raise ProviderInvalidQueryError(
                user_msg=f"geometry: a {geom.geom_type}; {self.table.name} holds "
                f"{wanted.title().replace('polygon', 'Polygon')}s"
            )
        if geom.is_empty or not geom.is_valid:
            raise ProviderInvalidQueryError(
                user_msg=f"geometry: not valid ({explain_validity(geom)})"
            )
        west, south, east, north = geom.bounds
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise ProviderInvalidQueryError(
                user_msg="geometry: coordinates out of longitude/latitude range (CRS84 expected)"
            )
        return geom.wkt

    def _sql(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values to write, the geometry (WKT) as a PostGIS geometry in EPSG:4326."""
        out = dict(values)
        if out.get(self.geom_field) is not None:
            out[self.geom_field] = sa.func.ST_GeomFromText(out[self.geom_field], 4326)
        return out


def _feature(item: Any, partial: bool = False) -> dict[str, Any]:
    if isinstance(item, bytes | str):
        if len(item) > MAX_FEATURE_BYTES:
            raise ProviderInvalidQueryError(
                user_msg=f"the feature is {len(item)} bytes; at most {MAX_FEATURE_BYTES}"
            )
        try:
            item = orjson.loads(item)
        except orjson.JSONDecodeError as exc:
            raise ProviderInvalidQueryError(user_msg=f"not JSON: {exc}") from None
    if not isinstance(item, dict):
        raise ProviderInvalidQueryError(user_msg="expected a GeoJSON Feature (a JSON object)")
    if not partial and item.get("type") != "Feature":
        raise ProviderInvalidQueryError(user_msg="expected a GeoJSON Feature (type: Feature)")
    return item


def _value(column: Any, name: str, value: Any) -> Any:
    """A JSON value as the column's Python type; a bad one is a 400 naming the property."""
    if value is None:
        return None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = str

    def bad(expected: str) -> ProviderInvalidQueryError:
        return ProviderInvalidQueryError(user_msg=f"{name}: {value!r} is not {expected}")

    if python_type is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if python_type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
        if not -(2**31) <= value < 2**31:
            raise bad("a whole number in range")
        return value
    if python_type is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad("a number")
        return float(value)
    if python_type is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of texts")
        return value
    if not isinstance(value, str):
        raise bad("a text")
    if "\x00" in value:
        raise ProviderInvalidQueryError(user_msg=f"{name}: NUL characters are not allowed")
    if python_type is dt.date:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise bad("a date (YYYY-MM-DD)") from None
    if python_type is dt.datetime:
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise bad("a date and time (ISO 8601)") from None
    return value


def _review_start(principal: Principal) -> dict[str, Any]:
    from vbis_geo.auth.scope import review_status_of

    return {"review_status": review_status_of(principal), "submitted_by": principal.account_id}
