"""vbis-geo's OGC API Features provider for pygeoapi (loaded by dotted path from the config).

Why not pygeoapi's stock PostgreSQL provider (see PROVIDERS.md): it counts every match on every
page, builds each feature in Python, compares raw query strings to typed columns (500s), and reads
every column. Here one SQL statement per page builds the GeoJSON in PostGIS with only the
requested columns, values are cast in Python by the field's type (a bad one is a 400), and
numberMatched is exact only where a capped count is cheap (:data:`EXACT_COUNT_BELOW`), otherwise
left out (pygeoapi then pages by whether the page was full).

**Who sees what** (issue 6). Every read goes through :func:`reader`, and reads what the
request's audience (:func:`request_audience`: :class:`~vbis_geo.analysis.access.Audience` of
the principal; the public outside a request) may see, its :func:`relation`:

* occurrences: the audience's view (migration 0011), ``publish.published_occurrences`` (exact
  points) or ``publish.public_occurrences`` (sensitive records at the centre of their cell,
  ``locality`` and ``occurrence_remarks`` withheld), with the same columns and
  ``generalised_km``. Every filter (bbox, datetime, CQL2 with its spatial predicates, property
  filters, sortby) applies to the view's columns, so a narrowed filter cannot find an exact spot
  the view does not hold; cursors carry the audience in their signature. Before a read of the
  public view its generalised points are brought up to date (a change of status marks them
  stale): the check rides on the round trip that opens the transaction. Pages and counts of
  the public view are read from its two parts (:func:`first_rows`, :func:`matching`), through
  whose union PostgreSQL would carry no order;
* the other reviewed layers (migration 0011): their published rows only;
* unfiltered counts are the kept count of published rows (``publish.layer_state.n_published``,
  migration 0012), which both audiences see alike.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlencode

import orjson
import sqlalchemy as sa
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import visitors

from vbis_geo.analysis.access import Audience, audience
from vbis_geo.analysis.assignment import PUBLIC_POINTS, ensure_current
from vbis_geo.db.base import REVIEW_COLUMNS, Base
from vbis_geo.publish import cql
from vbis_geo.publish.crs import CRS84, OUTPUT_CRS, OutputCrs, bbox_polygon, output_crs
from vbis_geo.publish.transactions import Editable

#: a filtered numberMatched is given when there are fewer matches than this (a capped count:
#: counting stops there, so a page never pays for more)
EXACT_COUNT_BELOW = 10_000
#: a filtered query the planner expects to match more rows than this is not counted
ESTIMATE_ABOVE = 20_000
_JSON_TYPES = {
    sa.Integer: ("integer", None),
    sa.BigInteger: ("integer", None),
    sa.Float: ("number", "double"),
    sa.Double: ("number", "double"),
    sa.Numeric: ("number", None),
    sa.Boolean: ("boolean", None),
    sa.Date: ("string", "date"),
    sa.DateTime: ("string", "date-time"),
}


@cache
def _engine(url: str) -> Engine:
    return sa.create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)


def _url(data: dict[str, Any]) -> str:
    return sa.URL.create(
        "postgresql+psycopg",
        username=str(data.get("user") or "") or None,
        password=str(data.get("password") or "") or None,
        host=str(data.get("host") or "127.0.0.1"),
        port=int(data.get("port") or 5432),
        database=str(data.get("dbname") or ""),
    ).render_as_string(hide_password=False)


#: opens a read: read only, a statement timeout, and JIT off (PostGIS functions carry high cost
#: estimates, so tile and page queries of a few milliseconds passed jit_above_cost and spent
#: 70-80 ms compiling); its last column says whether the public points of sensitive records
#: (or the levels that place them) wait for a rebuild, when that is asked (else false)
_OPEN_READ = (
    "SELECT set_config('transaction_read_only', 'on', true), "
    "set_config('statement_timeout', '30s', true), set_config('jit', 'off', true), ({stale})"
)
#: the parts of :data:`~vbis_geo.analysis.assignment.PUBLIC_POINTS`
_PUBLIC_POINTS_STALE = (
    "SELECT coalesce(bool_or(stale), false) FROM analysis.state "
    "WHERE name IN ('occurrence_public', 'taxon_sensitivity', 'taxon_species')"
)


@contextmanager
def reader(data: dict[str, Any], *, public_points: bool = False) -> Iterator[Connection]:
    """A read-only connection for one request: the one place reads go through.

    ``public_points``: the request reads the public view of occurrences, whose generalised
    points must be current first (a change of a taxon's status marks them stale, and the very
    next read must place its records by the new level): whether they are stale is asked in the
    same round trip that opens the transaction, and only when they are does
    :func:`~vbis_geo.analysis.assignment.ensure_current` rebuild them (on another connection;
    this transaction, read committed, sees the rebuild in its next statement).

    Two database errors can only come from a value of the request here, so they are a 400
    naming the problem, not a server error: a data exception (SQLSTATE class 22: a value out of
    range for its column, a NUL character in a text), and PostGIS failing to transform a point
    (the stored geometries are all valid lon/lat, so the point is a corner of a ``bbox`` given
    in a projected ``bbox-crs``, outside the area that projection can express). The values we
    can check first are checked in :func:`_cast`; this is the net under the others (CQL
    literals, offsets, projected boxes).
    """
    try:
        engine = _engine(_url(data))
        with engine.connect() as conn:
            with conn.begin():
                opened = conn.exec_driver_sql(
                    _OPEN_READ.format(stale=_PUBLIC_POINTS_STALE if public_points else "false")
                ).one()
                if opened[-1]:
                    ensure_current(engine, conn=conn, only=PUBLIC_POINTS)
                yield conn
    except (sa.exc.DataError, sa.exc.InternalError) as exc:
        problem = str(exc.orig).strip().splitlines()[0] if exc.orig else ""
        if isinstance(exc, sa.exc.DataError):
            message = f"a value of the request does not fit the data: {problem}"
        elif problem.startswith("transform:"):
            message = (
                f"bbox cannot be transformed from its bbox-crs to longitude/latitude: {problem}"
            )
        else:
            raise
        raise ProviderInvalidQueryError(user_msg=message) from None


# -- who sees what --------------------------------------------------------------------------------
#: tables read through a view per audience (migration 0011): the view of each audience
AUDIENCE_VIEWS = {"occurrences": {a: a.relation for a in Audience}}
#: views that are the union of two parts, each a view of its own (migration 0012): a page is
#: taken from each part, ordered and limited there (see :func:`first_rows`)
VIEW_PARTS = {
    "publish.public_occurrences": (
        "publish.public_occurrences_at_point",
        "publish.public_occurrences_in_cell",
    )
}
#: the review status of what every audience reads (migration 0011)
PUBLISHED = "published"


def request_audience() -> Audience:
    """The audience of the request's principal; the public outside a request (a provider
    called directly)."""
    if not _has_request():
        return Audience.PUBLIC
    from vbis_geo.web.accounts import principal

    return audience(principal())


@dataclass(frozen=True)
class Relation:
    """What one audience reads of a table: the table itself, or the audience's view of it, and
    the condition every read of it adds (published rows only)."""

    audience: Audience
    source: sa.Table
    gate: tuple[sa.ColumnElement[bool], ...] = ()
    #: the source is the public view of occurrences: its generalised points must be current
    public_points: bool = False
    #: the source is the union of these (with its columns): ordered reads take from each
    parts: tuple[sa.Table, ...] = ()

    @property
    def c(self) -> Any:
        return self.source.c


def relation(table: sa.Table, audience: Audience) -> Relation:
    """What ``audience`` reads of ``table`` (see the module docstring)."""
    if table.name in AUDIENCE_VIEWS:
        view = AUDIENCE_VIEWS[table.name][audience]
        return Relation(
            audience,
            view_table(view, table.name),
            public_points=audience is Audience.PUBLIC,
            parts=tuple(view_table(part, table.name) for part in VIEW_PARTS.get(view, ())),
        )
    if "review_status" in table.c:
        return Relation(audience, table, (table.c.review_status == PUBLISHED,))
    return Relation(audience, table)


def audience_view(table_name: str, audience: Audience) -> sa.Table:
    """The view ``audience`` reads of ``table_name`` as a SQLAlchemy table."""
    return view_table(AUDIENCE_VIEWS[table_name][audience], table_name)


@cache
def view_table(qualified_name: str, table_name: str) -> sa.Table:
    """The view ``qualified_name`` of ``table_name`` as a SQLAlchemy table: the table's columns
    but the review columns, with their types, and ``generalised_km`` (how far a point was
    moved: 0, or the size of its cell in km)."""
    import vbis_geo.db.models  # noqa: F401  (registers the tables)

    table = Base.metadata.tables[table_name]
    schema, name = qualified_name.split(".")
    columns = [
        sa.Column(c.name, c.type, nullable=c.nullable)
        for c in table.columns
        if c.name not in REVIEW_COLUMNS
    ]
    generalised = sa.Column("generalised_km", sa.SmallInteger, nullable=False)
    return sa.Table(name, sa.MetaData(), *columns, generalised, schema=schema)


def moved(clause: Any, source: sa.FromClause, target: sa.FromClause) -> Any:
    """``clause`` with each column of ``source`` replaced by the column of the same name of
    ``target`` (a part of a view, or a subquery of its rows)."""

    def replace(element: Any) -> Any:
        if isinstance(element, sa.Column) and element.table is source:
            return target.c[element.name]
        return None

    return visitors.replacement_traverse(clause, {}, replace)


def first_rows(
    rel: Relation,
    where: list[sa.ColumnElement[bool]],
    order: list[Any],
    limit: int,
) -> sa.Subquery:
    """Rows of ``rel`` that meet ``where`` (expressions on ``rel``'s columns; the gate is the
    caller's), as a subquery with ``rel``'s columns, among which are the first ``limit`` in
    ``order``: the caller orders them again and takes ``limit``.

    Of a view that is a union of parts (the public view of occurrences), the first ``limit`` of
    each part, ordered and limited there: PostgreSQL does not carry an order through the union
    and would sort every row of the view (a full sort for each page), where each part alone is
    read in order from an index and stops at ``limit``."""
    if not rel.parts:
        return (
            sa.select(*rel.source.c).where(*where).order_by(*order).limit(limit).subquery("first")
        )
    branches = [
        sa.select(*part.c)
        .where(*(moved(w, rel.source, part) for w in where))
        .order_by(*(moved(o, rel.source, part) for o in order))
        .limit(limit)
        for part in rel.parts
    ]
    return sa.union_all(*branches).subquery("first")


def matching(rel: Relation, where: list[sa.ColumnElement[bool]]) -> Any:
    """``SELECT 1`` for each row of ``rel`` (its gate applied) that meets ``where``: of each
    part of a union, which PostgreSQL plans better one by one (see :func:`first_rows`)."""
    if not rel.parts:
        return sa.select(sa.literal(1)).select_from(rel.source).where(*rel.gate, *where)
    return sa.union_all(
        *(
            sa.select(sa.literal(1))
            .select_from(part)
            .where(*(moved(w, rel.source, part) for w in where))
            for part in rel.parts
        )
    )


#: SQLSTATEs of a comparison of values of different types, or of a function or operator that
#: does not exist for the types it is given (datatype_mismatch, undefined_function,
#: cannot_coerce, ambiguous_function)
_TYPE_ERRORS = {"42804", "42883", "42846", "42725"}


@contextmanager
def _filter_errors(active: bool) -> Iterator[None]:
    """A filter that applies an operator to a property of the wrong type (``LIKE`` on a
    number) is a 400 naming the database's complaint, not a server error."""
    try:
        yield
    except sa.exc.ProgrammingError as exc:
        if not active or getattr(exc.orig, "sqlstate", None) not in _TYPE_ERRORS:
            raise
        problem = str(exc.orig).strip().splitlines()[0]
        raise ProviderInvalidQueryError(
            user_msg=f"the filter does not fit the types of the properties it names: {problem}"
        ) from None


@contextmanager
def cache_writer(data: dict[str, Any]) -> Iterator[Connection]:
    """A short transaction that writes only to the ``publish`` schema's caches."""
    with _engine(_url(data)).begin() as conn:
        conn.execute(sa.text("SET LOCAL statement_timeout = '5s'"))
        yield conn


class FeatureProvider(Editable, BaseProvider):
    """Features of one vbis-geo table, as the request's audience sees them (editing:
    vbis_geo/publish/transactions.py)."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        import vbis_geo.db.models  # noqa: F401  (registers the tables)

        self.table: sa.Table = Base.metadata.tables[provider_def["table"]]
        self.id_field = provider_def.get("id_field", "id")
        self.geom_field = provider_def.get("geom_field", "geom")
        self.time_field = provider_def.get("time_field")
        #: the published properties: name -> SQL expression (a column, or derived)
        self.columns = self._published()
        self._fields = self._describe()  # pygeoapi reads .fields without calling get_fields()
        #: the order of items when a request gives none (layers/<id>.yml: sort)
        self.default_sort = [
            {"property": name.lstrip("-"), "order": "-" if name.startswith("-") else "+"}
            for name in ((self.options or {}).get("sort") or [])
        ]
        unknown = [s["property"] for s in self.default_sort if s["property"] not in self.columns]
        if unknown:
            raise ProviderInvalidQueryError(f"{self.table.name}: default sort by unknown {unknown}")

    # -- fields -------------------------------------------------------------------------------
    def _published(self) -> dict[str, sa.ColumnElement]:  # type: ignore[type-arg]
        """Every column but the id, the geometry and the review columns, under its own name:
        of the public's relation (every audience's has the same columns)."""
        hidden = {self.id_field, self.geom_field, *REVIEW_COLUMNS}
        source = relation(self.table, Audience.PUBLIC).source
        # (names as plain text: a view's are SQLAlchemy's quoted_name)
        return {str(c.name): c for c in source.columns if c.name not in hidden}

    def _columns_on(self, rel: Relation) -> dict[str, sa.ColumnElement]:  # type: ignore[type-arg]
        """The published properties as columns of ``rel`` (an audience's view has the columns
        of the same names); derived expressions as they are."""
        return {
            name: rel.c[column.name]
            if isinstance(column, sa.Column) and column.table is not rel.source
            else column
            for name, column in self.columns.items()
        }

    def _describe(self) -> dict[str, dict[str, str]]:
        fields = {}
        for name, column in self.columns.items():
            kind, fmt = "string", None
            for sql_type, (json_type, json_format) in _JSON_TYPES.items():
                if isinstance(column.type, sql_type):
                    kind, fmt = json_type, json_format
                    break
            if isinstance(column.type, sa.ARRAY):
                kind = "array"
            fields[name] = {"type": kind} | ({"format": fmt} if fmt else {})
        return fields

    def get_fields(self) -> dict[str, dict[str, str]]:
        # pygeoapi edits the dicts it is given: hand out copies
        return copy.deepcopy(self._fields)

    # -- reading ------------------------------------------------------------------------------
    def relation(self) -> Relation:
        """What the request's audience reads of the table."""
        return relation(self.table, request_audience())

    def query(
        self,
        offset: int = 0,
        limit: int = 10,
        resulttype: str = "results",
        bbox: list[float] | None = None,
        datetime_: str | None = None,
        properties: list[tuple[str, str]] | None = None,
        sortby: list[dict[str, str]] | None = None,
        select_properties: list[str] | None = None,
        skip_geometry: bool = False,
        q: str | None = None,
        filterq: object = None,
        crs_transform_spec: object = None,
        **kwargs: object,
    ) -> dict[str, Any]:
        """A page of features as a GeoJSON FeatureCollection (dict)."""
        rel = self.relation()
        columns = self._columns_on(rel)
        sortby = sortby or self.default_sort
        where = self._where(rel, columns, bbox or [], datetime_, properties or [])
        if q:
            where.append(self._search(q))
        if filterq is not None:
            queryable = dict(columns)
            # pygeoapi renames "geometry" to the geometry column before we see the filter
            queryable["geometry"] = queryable[self.geom_field] = rel.c[self.geom_field]
            where.append(cql.to_sql(filterq, queryable))
        keyset = self._keyset_columns(rel, columns, sortby)
        token = kwargs.get("cursor") or _request_arg("cursor")
        # a cursor is valid for one audience too: one made for another is refused
        signature = _signature(
            self.table.name, rel.audience, bbox, datetime_, properties, sortby, repr(filterq), q
        )
        after = _decode_cursor(token, signature) if token else None
        if after is not None and keyset is None:
            raise ProviderInvalidQueryError(user_msg="cursor does not fit this sort order")
        with self._reader(rel) as conn, _filter_errors(filterq is not None):
            # numberMatched on the first page; pages reached by a cursor leave it out (pygeoapi
            # would read it against their offset, and deep pages stay cheap)
            if resulttype == "hits":
                # asked for the count itself: an exact one, however many (statement timeout)
                exact = sa.select(sa.func.count()).select_from(matching(rel, where).subquery())
                n = int(conn.execute(exact).scalar_one())
                return {"type": "FeatureCollection", "features": [], "numberMatched": n}
            matched = self._count(conn, rel, where) if after is None else None
            page_where = [*rel.gate, *where]
            if after is not None and keyset is not None:
                page_where.append(_after(keyset, after))
            # with a cursor, offset counts from the cursor (pygeoapi's own offset links from a
            # cursor page carry both): the rows after the cursor, skipping ``offset``
            rows = self._features(
                conn, rel, columns, page_where, offset, limit + 1, sortby,
                select_properties or [], skip_geometry, keys=keyset,
                crs=output_crs(crs_transform_spec),
            )  # fmt: skip
        more = len(rows) > limit
        rows = rows[:limit]
        result: dict[str, Any] = {
            "type": "FeatureCollection",
            "features": [feature for feature, _ in rows],
            "numberReturned": min(len(rows), limit),
            "links": [],
        }
        if matched is not None:
            result["numberMatched"] = matched
        next_url = self.data_url()
        if more and keyset is not None and next_url and _has_request():
            # keyset paging: the next page starts after the last row, however deep
            result["links"].append(
                {
                    "rel": "next",
                    "type": "application/geo+json",
                    "title": "next page",
                    "href": _next_href(next_url, _encode_cursor(rows[-1][1], signature)),
                }
            )
        return result

    def _reader(self, rel: Relation) -> Any:
        return reader(self.data, public_points=rel.public_points)

    def data_url(self) -> str | None:
        """The collection's items URL (rendered into the config as ``items_url``)."""
        url = self.options.get("items_url") if self.options else None
        return str(url) if url else None

    def _search(self, q: str) -> sa.ColumnElement[bool]:
        raise ProviderInvalidQueryError(user_msg="q= is for the records catalogue (datasets)")

    def _keyset_columns(
        self,
        rel: Relation,
        columns: dict[str, sa.ColumnElement],  # type: ignore[type-arg]
        sortby: list[dict[str, str]],
    ) -> list[tuple[sa.Column, bool]] | None:  # type: ignore[type-arg]
        """Sort columns and their direction (True = descending), then the id, when keyset paging
        works for this order: every sort column NOT NULL and one direction for all."""
        keys = [(columns[s["property"]], s.get("order") == "-") for s in sortby]
        if any(getattr(column, "nullable", True) for column, _ in keys):
            return None
        if len({descending for _, descending in keys}) > 1:
            return None
        descending = keys[0][1] if keys else False
        return [*keys, (rel.c[self.id_field], descending)]  # type: ignore[list-item]

    def get(self, identifier: str, **kwargs: object) -> dict[str, Any]:
        """One feature by id; :class:`ProviderItemNotFoundError` (404) when there is none, or
        when the request's audience does not see it (a draft)."""
        # one row by its id: the view is read as it is (each part looks the id up)
        rel = dataclasses.replace(self.relation(), parts=())
        id_column = rel.c[self.id_field]
        try:
            value = _cast(id_column, self.id_field, identifier)
        except ProviderInvalidQueryError:  # not an id of this type (or beyond its range)
            raise ProviderItemNotFoundError(user_msg=f"no feature {identifier!r}") from None
        with self._reader(rel) as conn:
            crs = output_crs(kwargs.get("crs_transform_spec"))
            rows = self._features(
                conn, rel, self._columns_on(rel), [*rel.gate, id_column == value],
                0, 1, [], [], False, crs=crs,
            )  # fmt: skip
        if not rows:
            raise ProviderItemNotFoundError(user_msg=f"no feature {identifier!r}")
        return rows[0][0]

    # -- SQL ------------------------------------------------------------------------------------
    def _where(
        self,
        rel: Relation,
        columns: dict[str, sa.ColumnElement],  # type: ignore[type-arg]
        bbox: list[float],
        datetime_: str | None,
        properties: list[tuple[str, str]],
    ) -> list[sa.ColumnElement[bool]]:
        t = rel.c
        where: list[sa.ColumnElement[bool]] = []
        if bbox:
            x0, y0, x1, y1 = (bbox[0], bbox[1], bbox[3], bbox[4]) if len(bbox) == 6 else bbox
            envelope = sa.func.ST_MakeEnvelope(x0, y0, x1, y1, 4326)
            raw_crs = _request_arg("bbox-crs")
            if raw_crs and raw_crs in OUTPUT_CRS and raw_crs != CRS84:
                # redo pygeoapi's corner-only transformation on the box as given
                raw = [float(v) for v in (_request_arg("bbox") or "").split(",")]
                envelope = bbox_polygon(raw, OUTPUT_CRS[raw_crs])
            geom = t[self.geom_field]
            where.append(geom.op("&&")(envelope))
            if getattr(geom.type, "geometry_type", None) != "POINT" or raw_crs not in (None, CRS84):
                # for points in a box the bounding-box test is exact, and keeps the planner's
                # estimate honest (an extra ST_Intersects made it sort every match by id)
                where.append(sa.func.ST_Intersects(geom, envelope))
        if datetime_ and self.time_field:
            start, end = _interval(datetime_)
            column = t[self.time_field]
            end_column = t.get(f"{self.time_field}_end")
            last = sa.func.coalesce(end_column, column) if end_column is not None else column
            if start is not None:
                where.append(last >= start)
            if end is not None:
                where.append(column <= end)
        for name, raw in properties:
            column = columns[name]
            if isinstance(column.type, sa.ARRAY):  # province_codes=VN-HN: rows that list it
                where.append(column.contains(sa.cast([raw], column.type)))
            else:
                where.append(column == _cast(column, name, raw))
        return where

    def _count(
        self, conn: Connection, rel: Relation, where: list[sa.ColumnElement[bool]]
    ) -> int | None:
        if not where:
            # unfiltered: the exact count the table's triggers keep (migrations 0004, 0012): of
            # the published rows of a reviewed table, which every audience sees
            n = conn.execute(
                sa.text(
                    "SELECT coalesce(n_published, n_rows) FROM publish.layer_state WHERE layer = :t"
                ),
                {"t": self.table.name},
            ).scalar()
            if n is not None:
                return int(n)
        matches = matching(rel, where)
        if _estimated_rows(conn, matches) > ESTIMATE_ABOVE:
            # the planner expects many: counting them would cost more than the page
            return None
        capped = matches.limit(EXACT_COUNT_BELOW)
        n = conn.execute(sa.select(sa.func.count()).select_from(capped.subquery())).scalar_one()
        return int(n) if n < EXACT_COUNT_BELOW else None

    def _order(
        self,
        t: Any,
        columns: dict[str, sa.ColumnElement],  # type: ignore[type-arg]
        sortby: list[dict[str, str]],
        keys: list[tuple[sa.Column, bool]] | None,  # type: ignore[type-arg]
    ) -> list[Any]:
        """ORDER BY of a page: the keyset's columns, else the sort properties then the id
        (``t``: the columns of what is read)."""
        if keys:
            return [column.desc() if descending else column.asc() for column, descending in keys]
        return [
            columns[x["property"]].desc() if x.get("order") == "-" else columns[x["property"]].asc()
            for x in sortby
        ] + [t[self.id_field].asc()]

    def _features(
        self,
        conn: Connection,
        rel: Relation,
        columns: dict[str, sa.ColumnElement],  # type: ignore[type-arg]
        where: list[sa.ColumnElement[bool]],
        offset: int,
        limit: int,
        sortby: list[dict[str, str]],
        select_properties: list[str],
        skip_geometry: bool,
        keys: list[tuple[sa.Column, bool]] | None = None,  # type: ignore[type-arg]
        crs: OutputCrs | None = None,
    ) -> list[tuple[dict[str, Any], list[Any]]]:
        """The page's features (``where`` includes the relation's gate) and their keys."""
        source: sa.FromClause = rel.source
        if rel.parts:
            # the first rows of each part (first_rows), of which the page is taken in order
            order = self._order(rel.c, columns, sortby, keys)
            source = first_rows(rel, where, order, offset + limit)
            columns = {name: source.c[column.name] for name, column in columns.items()}  # type: ignore[attr-defined]
            keys = [(source.c[c.name], descending) for c, descending in keys] if keys else keys
            where = []
        t = source.c
        crs = crs or output_crs(None)
        names = [n for n in self._fields if not select_properties or n in select_properties]
        properties = sa.func.json_build_object(
            *[x for n in names for x in (sa.literal(n), columns[n])]
        )
        geometry = (
            sa.null()
            if skip_geometry
            else sa.cast(sa.func.ST_AsGeoJSON(crs.sql(t[self.geom_field]), crs.decimals), sa.JSON)
        )
        feature = sa.func.json_build_object(
            sa.literal("type"), sa.literal("Feature"),
            sa.literal("id"), t[self.id_field],
            sa.literal("geometry"), geometry,
            sa.literal("properties"), properties,
        )  # fmt: skip
        key_columns = [column for column, _ in keys] if keys else []
        statement = (
            sa.select(feature, *key_columns).select_from(source).where(*where)
            .order_by(*self._order(t, columns, sortby, keys)).offset(offset).limit(limit)
        )  # fmt: skip
        return [(row[0], list(row[1:])) for row in conn.execute(statement)]


def _estimated_rows(conn: Connection, statement: Any) -> float:
    """The planner's estimate of the rows ``statement`` returns (EXPLAIN, nothing run)."""
    compiled = statement.compile(dialect=conn.dialect)
    plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    if isinstance(plan, str):
        plan = orjson.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


#: the range of PostgreSQL's integer types (a value beyond it is a DB error, not a miss)
_INTEGER_BITS = ((sa.SmallInteger, 16), (sa.BigInteger, 64), (sa.Integer, 32))


def _integer_range(column: sa.Column) -> tuple[int, int]:  # type: ignore[type-arg]
    bits = next((n for kind, n in _INTEGER_BITS if isinstance(column.type, kind)), 32)
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _cast(column: sa.Column, name: str, raw: str) -> object:  # type: ignore[type-arg]
    """``raw`` as the column's Python type; a bad value is a 400 naming the property."""
    if "\x00" in raw:
        raise ProviderInvalidQueryError(user_msg=f"{name}={raw!r}: NUL characters are not allowed")
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return raw
    if python_type is int:
        try:
            value = int(raw)
        except ValueError:
            raise ProviderInvalidQueryError(
                user_msg=f"{name}={raw!r}: expected an integer"
            ) from None
        low, high = _integer_range(column)
        if not low <= value <= high:
            raise ProviderInvalidQueryError(
                user_msg=f"{name}={raw!r}: out of range (from {low} to {high})"
            )
        return value
    try:
        if python_type is bool:
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1")
        if python_type is dt.datetime:
            return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if python_type is dt.date:
            return dt.date.fromisoformat(raw)
        if python_type is list:
            return [raw]
        return python_type(raw)
    except (ValueError, TypeError):
        raise ProviderInvalidQueryError(
            user_msg=f"{name}={raw!r}: expected a {python_type.__name__}"
        ) from None


def _interval(text: str) -> tuple[dt.date | None, dt.date | None]:
    """An OGC API datetime (instant, or interval with '..' or empty ends) as dates."""

    def one(part: str) -> dt.date | None:
        part = part.strip()
        if part in ("", ".."):
            return None
        try:
            return dt.datetime.fromisoformat(part.replace("Z", "+00:00")).date()
        except ValueError:
            raise ProviderInvalidQueryError(
                user_msg=f"datetime {text!r}: expected RFC 3339 dates or an interval a/b"
            ) from None

    if "/" in text:
        start, _, end = text.partition("/")
        return one(start), one(end)
    instant = one(text)
    return instant, instant


# -- keyset cursors -----------------------------------------------------------------------------
def _has_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def _request_arg(name: str) -> str | None:
    """A query parameter pygeoapi does not pass to providers (``cursor``)."""
    if not _has_request():
        return None
    from flask import request

    return request.args.get(name)


def _signature(table: str, *query: object) -> str:
    """What a cursor is valid for: the same table, filters and order."""
    return hashlib.sha1(
        orjson.dumps([table, *query], default=str, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()[:16]


def _encode_cursor(values: list[Any], signature: str) -> str:
    raw = orjson.dumps({"k": values, "h": signature}, default=str)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(token: str, signature: str) -> list[Any]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        values, given = data["k"], data["h"]
    except (ValueError, KeyError, TypeError):
        raise ProviderInvalidQueryError(user_msg="cursor is not one this server made") from None
    if given != signature or not isinstance(values, list):
        raise ProviderInvalidQueryError(
            user_msg="cursor belongs to another query: follow the next links as given"
        )
    return values


def _after(keys: list[tuple[sa.Column, bool]], values: list[Any]) -> sa.ColumnElement[bool]:  # type: ignore[type-arg]
    """Rows after ``values`` in the order of ``keys`` (one direction): a row comparison the
    index can serve."""
    if len(values) != len(keys):
        raise ProviderInvalidQueryError(user_msg="cursor does not fit this sort order")
    typed = [
        _cast(column, column.name, str(v)) for (column, _), v in zip(keys, values, strict=True)
    ]
    left = sa.tuple_(*[column for column, _ in keys])
    right = sa.tuple_(*[sa.literal(v, type_=c.type) for (c, _), v in zip(keys, typed, strict=True)])
    return left < right if keys[0][1] else left > right


def _next_href(items_url: str, cursor: str) -> str:
    from flask import request

    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("offset", "cursor")]
    return f"{items_url}?{urlencode([*args, ('cursor', cursor)])}"
