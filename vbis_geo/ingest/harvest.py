"""Harvest a remote layer: an OGC API Features collection, or a WFS feature type, of another
system (a province's or an institute's server), read into the same shape as a file so that it
goes through the same validation, report and upsert.

A source is a URL:

* ``https://host/ogc/collections/<id>`` (or ``.../items``): OGC API Features; pages are followed
  through their ``next`` links; geometries are GeoJSON in CRS84.
* ``WFS:https://host/wfs?TYPENAME=ns:layer``: a WFS layer, read through GDAL's WFS driver
  (paging and GML parsing by GDAL).

Re-harvesting is incremental: rows are upserted on the layer's key and only changed rows are
written (the report counts new, updated and unchanged). With ``since_field`` (a property holding
the time a remote row last changed) only rows changed since the previous harvest are fetched
(a CQL2 filter, OGC API Features Part 3).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import orjson
import pandas as pd
import pyproj
import requests
import sqlalchemy as sa
from shapely.geometry import shape
from sqlalchemy.engine import Connection

from vbis_geo import __version__
from vbis_geo.errors import InvalidInput
from vbis_geo.ingest.sources import SourceTable, _as_text

PAGE_SIZE = 1000
TIMEOUT_S = 60
MAX_PAGES = 100_000


def is_remote(source: str) -> bool:
    """True for a URL (or ``WFS:`` URL) rather than a file path."""
    return source.startswith(("http://", "https://", "WFS:"))


def source_code(url: str) -> str:
    """A stable short name for a remote source (its harvests share one datasets entry)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def previous_harvest(conn: Connection, layer: str, url: str) -> dt.datetime | None:
    """When ``url`` was last harvested into ``layer``, if ever."""
    return conn.execute(
        sa.text("SELECT loaded_at FROM datasets WHERE code = :code"),
        {"code": f"harvest:{layer}:{source_code(url)}"},
    ).scalar()


def read_remote(
    url: str, *, since_field: str | None = None, since: dt.datetime | None = None
) -> SourceTable:
    """Fetch every feature of the remote layer at ``url``.

    Raises :class:`InvalidInput` when the server cannot be reached or does not answer as an
    OGC API Features (or WFS) server should.
    """
    if url.startswith("WFS:"):
        return _read_wfs(url)
    return _read_oapif(url, since_field, since)


def _split_typename(url: str) -> tuple[str, str | None]:
    """The WFS base URL (other parameters kept) and the TYPENAME(S) asked for."""
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query) if k.upper() not in ("TYPENAME", "TYPENAMES")
    ]
    typename = next(
        (v for k, v in parse_qsl(parts.query) if k.upper() in ("TYPENAME", "TYPENAMES")), None
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), "")), typename


def _items_url(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith("/items"):
        path += "/items"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _read_oapif(url: str, since_field: str | None, since: dt.datetime | None) -> SourceTable:
    session = requests.Session()
    session.headers["User-Agent"] = f"vbis-geo/{__version__} (harvest)"
    params: dict[str, str | int] = {"f": "json", "limit": PAGE_SIZE}
    if since_field and since:
        params["filter"] = (
            f"{since_field} > TIMESTAMP('{since.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}')"
        )
        params["filter-lang"] = "cql2-text"
    next_url: str | None = _items_url(url) + ("&" if "?" in url else "?") + urlencode(params)
    records: list[dict[str, object]] = []
    geometries = []
    pages = 0
    while next_url and pages < MAX_PAGES:
        try:
            response = session.get(next_url, timeout=TIMEOUT_S)
        except requests.RequestException as exc:
            raise InvalidInput(f"{url}: the server cannot be reached ({exc})") from None
        if response.status_code != 200:
            raise InvalidInput(
                f"{url}: the server answered {response.status_code} to {next_url}",
                hint=response.text[:200],
            )
        try:
            page = response.json()
        except ValueError:
            raise InvalidInput(
                f"{url}: the answer is not JSON (is it an OGC API collection?)"
            ) from None
        features = page.get("features")
        if page.get("type") != "FeatureCollection" or not isinstance(features, list):
            raise InvalidInput(f"{url}: the answer is not a GeoJSON FeatureCollection")
        for feature in features:
            properties = dict(feature.get("properties") or {})
            if "id" in feature and "id" not in properties:
                properties["id"] = feature["id"]
            records.append(properties)
            geometries.append(shape(feature["geometry"]) if feature.get("geometry") else None)
        next_url = next(
            (link["href"] for link in page.get("links", []) if link.get("rel") == "next"), None
        )
        if not features:
            break
        pages += 1
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    digest = hashlib.sha256(
        orjson.dumps(records, default=str) + b"".join(g.wkb if g else b"" for g in geometries)
    ).hexdigest()
    return SourceTable(
        name=url,
        format="OGC API Features",
        sha256=digest,
        frame=_as_text(frame),
        row_numbers=np.arange(1, len(records) + 1),
        geometry=np.array(geometries, dtype=object),
        crs=pyproj.CRS.from_epsg(4326),
        crs_origin="GeoJSON of OGC API Features is CRS84 (lon/lat)",
    )


def _read_wfs(url: str) -> SourceTable:
    import pyogrio

    # GDAL would otherwise wait minutes for a server that does not answer
    pyogrio.set_gdal_config_options({"GDAL_HTTP_TIMEOUT": str(TIMEOUT_S)})
    base, typename = _split_typename(url.removeprefix("WFS:"))
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(f"WFS:{base}")]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(f"{url}: not a WFS server that answers ({exc})") from None
    # "wetlands" finds "ms:wetlands": servers prefix their own namespace
    matches = [n for n in layers if typename in (n, n.rpartition(":")[2])] if typename else layers
    if len(matches) != 1:
        raise InvalidInput(
            f"{url}: "
            + (f"no single feature type {typename!r}" if typename else "several feature types"),
            hint="TYPENAME= one of " + ", ".join(layers),
        )
    try:
        frame = pyogrio.read_dataframe(f"WFS:{base}", layer=matches[0])
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(f"{url}: the WFS layer cannot be read ({exc})") from None
    frame = frame.drop(columns=[c for c in ("gml_id",) if c in frame.columns])
    geometry = np.array(list(frame.geometry.values), dtype=object)
    return SourceTable(
        name=url,
        format="WFS",
        sha256=hashlib.sha256(frame.to_wkb().to_csv().encode()).hexdigest(),
        frame=_as_text(pd.DataFrame(frame.drop(columns=frame.geometry.name))),
        row_numbers=np.arange(1, len(frame) + 1),
        geometry=geometry,
        crs=frame.crs,
        crs_origin="from the WFS",
    )
