"""What a composed map draws: the features of each map layer, read for the reader's audience.

Every read goes through the same gates as the rest of the system: occurrences come from
:func:`vbis_geo.analysis.access.visible_occurrences` (published records; sensitive ones at their
generalised point for those without the right to exact locations), the layers people
contribute to show their published rows only. A map layer's CQL2 filter becomes SQL through the
same translator as the OGC API (:func:`vbis_geo.publish.cql.to_sql`, values bound), after its
parameters are replaced by values that were checked first (a taxon id, an ISO date).

Features are GeoJSON-like dicts (``geometry`` a GeoJSON mapping, ``properties``), geometries
simplified to ``tolerance_deg`` for the scale they are drawn at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.analysis.access import visible_occurrences
from vbis_geo.analysis.taxa import TaxonFilter, bind_lists
from vbis_geo.auth.principal import Principal
from vbis_geo.db.base import REVIEW_COLUMNS, Base
from vbis_geo.db.lookups import find_taxon
from vbis_geo.errors import InvalidInput
from vbis_geo.maps.definitions import MapDefinition, MapLayer

#: the most points a map layer of occurrences draws one by one; beyond, ask a density map
MAX_POINTS = 50_000


def resolve_parameters(
    conn: Connection, definition: MapDefinition, raw: Mapping[str, str]
) -> dict[str, Any]:
    """The map's parameters from the request (``raw``): a taxon to its id (by id or scientific
    name), a date to a :class:`datetime.date` (today when not given and not required).
    :class:`InvalidInput` names a missing or malformed one; :class:`NotFound` an unknown taxon."""
    values: dict[str, Any] = {}
    for name, spec in definition.parameters.items():
        text = (raw.get(name) or "").strip()
        if not text:
            if spec["required"]:
                raise InvalidInput(
                    f"the map {definition.id!r} needs the parameter {name!r} ({spec['kind']})"
                )
            values[name] = dt.date.today() if spec["kind"] == "date" else None
            continue
        if spec["kind"] == "taxon":
            values[name] = find_taxon(conn, text)
        else:
            try:
                values[name] = dt.date.fromisoformat(text)
            except ValueError:
                raise InvalidInput(f"{name}={text!r}: expected a date as YYYY-MM-DD") from None
    return values


def layer_features(
    conn: Connection,
    map_layer: MapLayer,
    params: Mapping[str, Any],
    principal: Principal | None,
    *,
    tolerance_deg: float = 0.0,
    bbox: tuple[float, float, float, float] | None = None,
) -> list[dict[str, Any]]:
    """The features ``map_layer`` draws for ``principal`` (the public when None)."""
    if map_layer.layer.id == "occurrences":
        from vbis_geo.analysis.assignment import ensure_current

        ensure_current(conn.engine, conn=conn)  # the generalised points, before reading them
    if map_layer.question == "international_titles":
        return _international_titles(conn, bbox)
    if map_layer.symbology.kind == "density":
        return _density(conn, map_layer, params, principal, bbox)
    features = _layer_rows(conn, map_layer, params, principal, tolerance_deg, bbox)
    if map_layer.values and map_layer.values["question"] == "richness":
        _join_richness(conn, map_layer, params, principal, features)
    return features


def _relation(map_layer: MapLayer, principal: Principal | None) -> tuple[sa.TableClause, Any]:
    """The relation to read (a table or the audience's view of occurrences) as a SQLAlchemy
    table of its columns, and the condition every row read must meet."""
    model = Base.metadata.tables[map_layer.layer.table]
    if map_layer.layer.id == "occurrences":
        schema, name = visible_occurrences(principal).split(".")
        columns = [c for c in model.columns if c.name not in REVIEW_COLUMNS]
        relation = sa.table(name, *(sa.column(c.name, c.type) for c in columns), schema=schema)
        return relation, sa.true()
    relation = sa.table(model.name, *(sa.column(c.name, c.type) for c in model.columns))
    if "review_status" in model.columns:
        return relation, relation.c.review_status == "published"
    return relation, sa.true()


def _conditions(
    map_layer: MapLayer,
    relation: sa.TableClause,
    params: Mapping[str, Any],
    bbox: tuple[float, float, float, float] | None,
) -> list[Any]:
    from vbis_geo.publish.cql import parse_filter_text, to_sql

    conditions = []
    if map_layer.filter:
        text = map_layer.filter
        for name, value in params.items():
            if value is not None:  # ids and ISO dates only: checked by resolve_parameters
                text = text.replace("{" + name + "}", str(value))
        columns = {c.name: c for c in relation.columns if c.name not in REVIEW_COLUMNS}
        try:
            conditions.append(to_sql(parse_filter_text(text), columns))
        except Exception as exc:  # noqa: BLE001 (pygeoapi's query error: a 400 here)
            raise InvalidInput(f"map layer {map_layer.id}: {exc}") from None
    if map_layer.taxa:
        conditions.append(_taxa_condition(map_layer.taxa, relation, params))
    if bbox:
        conditions.append(
            sa.func.ST_Intersects(relation.c.geom, sa.func.ST_MakeEnvelope(*bbox, 4326))
        )
    return conditions


def _taxa_condition(
    taxa: Mapping[str, Any], relation: sa.TableClause, params: Mapping[str, Any]
) -> Any:
    """Records of the taxa ``taxa`` names: ``taxon`` (a taxon, what lies below it and their
    synonyms), and the questions' filter on species (statuses, groups)."""
    sql_params: dict[str, object] = {}
    clauses = []
    if "taxon" in taxa:
        raw = str(taxa["taxon"])
        for name, value in params.items():
            raw = raw.replace("{" + name + "}", str(value))
        sql_params["map_taxon"] = int(raw) if raw.isdigit() else raw
        clauses.append(
            "taxon_id IN (WITH RECURSIVE below(id) AS ("
            " SELECT CAST(:map_taxon AS integer)"
            " UNION SELECT t.id FROM taxa t JOIN below b"
            " ON t.parent_id = b.id OR t.accepted_id = b.id) SELECT id FROM below)"
        )
    rest = {k: v for k, v in taxa.items() if k != "taxon"}
    if rest:
        conditions = TaxonFilter.from_args(rest).where("ts.species_id", sql_params)
        kept = " AND ".join(conditions) or "true"
        clauses.append(
            f"taxon_id IN (SELECT ts.taxon_id FROM analysis.taxon_species ts WHERE {kept})"  # noqa: S608 (fixed fragments; values bound)
        )
    # ``taxon_id``: the record's, the only relation in the FROM of the statements using this
    return bind_lists(sa.text(" AND ".join(clauses)), sql_params).bindparams(**sql_params)


def _layer_rows(
    conn: Connection,
    map_layer: MapLayer,
    params: Mapping[str, Any],
    principal: Principal | None,
    tolerance_deg: float,
    bbox: tuple[float, float, float, float] | None,
) -> list[dict[str, Any]]:
    relation, visible = _relation(map_layer, principal)
    layer = map_layer.layer
    fields = [
        c
        for c in relation.columns
        if c.name in _wanted_fields(map_layer) and c.name != layer.geometry_field
    ]
    geom = relation.c[layer.geometry_field]
    if tolerance_deg > 0 and layer.geometry_type not in ("Point", "MultiPoint"):
        geom = sa.func.ST_SimplifyPreserveTopology(geom, tolerance_deg)
    statement = (
        sa.select(
            relation.c[layer.id_field].label("_id"),
            sa.func.ST_AsGeoJSON(geom, 6).label("_geometry"),
            *fields,
        )
        .where(visible, *_conditions(map_layer, relation, params, bbox))
        .order_by(relation.c[layer.id_field])
    )
    if layer.geometry_type in ("Point", "MultiPoint"):
        statement = statement.limit(MAX_POINTS + 1)
    rows = conn.execute(statement).all()
    if len(rows) > MAX_POINTS and layer.geometry_type in ("Point", "MultiPoint"):
        raise InvalidInput(
            f"map layer {map_layer.id}: more than {MAX_POINTS} points to draw",
            hint="narrow the filter, or draw the records as a density map",
        )
    features = []
    for row in rows:
        props = {k: _plain(v) for k, v in row._mapping.items() if not k.startswith("_")}
        features.append(
            {
                "type": "Feature",
                "id": row._id,
                "geometry": orjson.loads(row._geometry),
                "properties": props,
            }
        )
    return features


def _wanted_fields(map_layer: MapLayer) -> set[str]:
    wanted = {"code", "name_vi", "name_en"}
    if map_layer.symbology.field:
        wanted.add(map_layer.symbology.field)
    if map_layer.label_field:
        wanted.add(map_layer.label_field)
    return wanted


def _join_richness(
    conn: Connection,
    map_layer: MapLayer,
    params: Mapping[str, Any],
    principal: Principal | None,
    features: list[dict[str, Any]],
) -> None:
    """Add the richness of each province (species, records, threatened_species) as of the
    map's date to its feature, joined by code."""
    from vbis_geo.analysis.assignment import ensure_current
    from vbis_geo.analysis.richness import richness

    as_of = _parameter(map_layer.values.get("as_of"), params)  # type: ignore[union-attr]
    ensure_current(conn.engine, counts=True, conn=conn)
    from vbis_geo.analysis.access import audience

    answer = richness(
        conn,
        "province",
        audience=audience(principal),
        as_of=as_of if isinstance(as_of, dt.date) else None,
        geometry=False,
    )
    by_code = {f["properties"]["code"]: f["properties"] for f in answer["features"]}
    for feature in features:
        found = by_code.get(feature["properties"].get("code"), {})
        for name in map_layer.joined_fields:
            feature["properties"][name] = found.get(name, 0)


def _international_titles(
    conn: Connection, bbox: tuple[float, float, float, float] | None
) -> list[dict[str, Any]]:
    """One point per international title of a designated, published protected area, at a
    point inside the area (``ST_PointOnSurface``); ``rank`` orders an area's titles, for
    drawing them side by side."""
    where = ""
    params: dict[str, object] = {}
    if bbox:
        where = "AND ST_Intersects(pa.geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"
        params.update(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))
    rows = conn.execute(
        sa.text(
            f"""
            SELECT d.id, pa.code, pa.name_vi, pa.name_en, d.designation_type AS title, d.year,
                   row_number() OVER (PARTITION BY pa.id ORDER BY d.designation_type) - 1 AS rank,
                   ST_AsGeoJSON(ST_PointOnSurface(pa.geom), 6) AS geometry
            FROM pa_designations d JOIN protected_areas pa ON pa.id = d.protected_area_id
            WHERE pa.review_status = 'published' AND pa.status = 'designated'
              AND pa.valid_to IS NULL {where}
            ORDER BY pa.code, d.designation_type
            """  # noqa: S608 (a fixed fragment; values bound)
        ),
        params,
    ).all()
    return [
        {
            "type": "Feature",
            "id": r.id,
            "geometry": orjson.loads(r.geometry),
            "properties": {
                "code": r.code,
                "name_vi": r.name_vi,
                "name_en": r.name_en,
                "title": r.title,
                "year": r.year,
                "rank": int(r.rank),
            },
        }
        for r in rows
    ]


def _density(
    conn: Connection,
    map_layer: MapLayer,
    params: Mapping[str, Any],
    principal: Principal | None,
    bbox: tuple[float, float, float, float] | None,
) -> list[dict[str, Any]]:
    """Records per cell of an equal-area grid (EPSG:6933) of ``cell_km``: the cell as a
    polygon and ``count``."""
    relation, visible = _relation(map_layer, principal)
    size_m = map_layer.symbology.cell_km * 1000.0
    projected = sa.func.ST_Transform(relation.c.geom, 6933)
    ix = sa.func.floor(sa.func.ST_X(projected) / size_m).label("ix")
    iy = sa.func.floor(sa.func.ST_Y(projected) / size_m).label("iy")
    counted = (
        sa.select(ix, iy, sa.func.count().label("n"))
        .where(visible, *_conditions(map_layer, relation, params, bbox))
        .group_by(ix, iy)
        .subquery()
    )
    cell = sa.func.ST_Transform(
        sa.func.ST_MakeEnvelope(
            counted.c.ix * size_m,
            counted.c.iy * size_m,
            (counted.c.ix + 1) * size_m,
            (counted.c.iy + 1) * size_m,
            6933,
        ),
        4326,
    )
    rows = conn.execute(
        sa.select(counted.c.ix, counted.c.iy, counted.c.n, sa.func.ST_AsGeoJSON(cell, 6))
    ).all()
    return [
        {
            "type": "Feature",
            "id": f"{int(r.ix)}_{int(r.iy)}",
            "geometry": orjson.loads(r[3]),
            "properties": {"count": int(r.n)},
        }
        for r in rows
    ]


def _parameter(value: object, params: Mapping[str, Any]) -> object:
    """A ``{name}`` reference replaced by the parameter's value."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return params.get(value[1:-1])
    return value


def _plain(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
