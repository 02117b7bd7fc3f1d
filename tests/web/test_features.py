"""vbis-geo's own OGC API Features provider, through pygeoapi, against the database."""

from __future__ import annotations

import json
import subprocess

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.db


@pytest.fixture(autouse=True)
def public_points_current(engine) -> None:  # type: ignore[no-untyped-def]
    """The public's view of occurrences placed by the current levels, as a request for the
    public would find it (the expected counts below are read from that view)."""
    from vbis_geo.analysis.assignment import PUBLIC_POINTS, ensure_current

    ensure_current(engine, only=PUBLIC_POINTS)


def items(client, collection: str, **params):  # type: ignore[no-untyped-def]
    response = client.get(
        f"/ogc/collections/{collection}/items", query_string={"f": "json", **params}
    )
    return response


def test_gdal_reads_every_occurrence_through_paging(live_server, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM publish.public_occurrences")).scalar_one()
    result = subprocess.run(
        [
            "ogrinfo",
            "-ro",
            "-al",
            "-so",
            "-oo",
            "PAGE_SIZE=5000",
            f"OAPIF:{live_server}/ogc",
            "occurrences",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert f"Feature Count: {n}" in result.stdout
    out = subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "CSV",
            "/vsistdout/",
            "-oo",
            "PAGE_SIZE=5000",
            f"OAPIF:{live_server}/ogc",
            "occurrences",
            "-select",
            "occurrence_id",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    ids = out.splitlines()[1:]
    assert len(ids) == n and len(set(ids)) == n  # every row once: the pages neither gap nor overlap


def test_counts_filters_and_sorting(client, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        n_pa = conn.execute(sa.text("SELECT count(*) FROM protected_areas")).scalar_one()
        in_box = conn.execute(
            sa.text(
                "SELECT count(*) FROM protected_areas WHERE ST_Intersects(geom, "
                "ST_MakeEnvelope(105, 20, 106.5, 21.5, 4326))"
            )
        ).scalar_one()
        human = conn.execute(
            sa.text(
                "SELECT count(*) FROM publish.public_occurrences "
                "WHERE basis_of_record = 'HumanObservation'"
            )
        ).scalar_one()
        in_2020 = conn.execute(
            sa.text(
                "SELECT count(*) FROM publish.public_occurrences WHERE event_date <= '2020-12-31' "
                "AND coalesce(event_date_end, event_date) >= '2020-01-01'"
            )
        ).scalar_one()
    body = items(client, "protected_areas", limit=5).json
    assert body["numberMatched"] == n_pa and body["numberReturned"] == 5
    assert (
        items(client, "protected_areas", bbox="105,20,106.5,21.5").json["numberMatched"] == in_box
    )
    # large matches: counted when asked for (resulttype=hits)
    hits = items(client, "occurrences", basis_of_record="HumanObservation", resulttype="hits")
    assert hits.json["numberMatched"] == human and hits.json["features"] == []
    in_year = items(client, "occurrences", datetime="2020-01-01/2020-12-31", resulttype="hits")
    assert in_year.json["numberMatched"] == in_2020
    codes = [
        f["properties"]["code"]
        for f in items(client, "protected_areas", sortby="-code", limit=10).json["features"]
    ]
    assert codes == sorted(codes, reverse=True)
    feature = items(client, "protected_areas", properties="code,name_vi", limit=1).json["features"][
        0
    ]
    assert set(feature["properties"]) == {"code", "name_vi"}
    listed = items(client, "protected_areas", province_codes="VN-HN").json["features"]
    assert listed and all("VN-HN" in f["properties"]["province_codes"] for f in listed)


def test_bad_requests_are_400_and_missing_items_404(client) -> None:  # type: ignore[no-untyped-def]
    bad = items(client, "occurrences", individual_count="nhiều")
    assert bad.status_code == 400 and "individual_count='nhiều'" in json.dumps(
        bad.json, ensure_ascii=False
    )
    assert items(client, "occurrences", datetime="last year").status_code == 400
    assert client.get("/ogc/collections/protected_areas/items/999999999?f=json").status_code == 404
    assert client.get("/ogc/collections/protected_areas/items/abc?f=json").status_code == 404
    one = client.get("/ogc/collections/protected_areas/items/1?f=json")
    assert one.status_code == 200 and one.json["id"] == 1


def test_keyset_cursor_pages_to_the_end(client, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        expected = (
            conn.execute(sa.text("SELECT code FROM protected_areas ORDER BY code DESC, id DESC"))
            .scalars()
            .all()
        )
    seen, url, pages = [], "/ogc/collections/protected_areas/items?f=json&limit=10&sortby=-code", 0
    while url:
        body = client.get(url).json
        seen += [f["properties"]["code"] for f in body["features"]]
        nexts = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert all("cursor=" in h and "offset=" not in h for h in nexts)
        url = nexts[0].split("127.0.0.1", 1)[-1].split("/", 1)[-1] if nexts else None
        url = "/" + url if url else None
        pages += 1
    assert seen == expected and pages == -(-len(expected) // 10)


def test_cursor_from_another_query_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/ogc/collections/protected_areas/items?f=json&limit=5").json
    (href,) = [link["href"] for link in body["links"] if link["rel"] == "next"]
    cursor = href.split("cursor=")[1]
    other = client.get(
        f"/ogc/collections/protected_areas/items?f=json&limit=5&sortby=-code&cursor={cursor}"
    )
    assert other.status_code == 400
    assert (
        client.get("/ogc/collections/protected_areas/items?f=json&cursor=garbage").status_code
        == 400
    )


@pytest.mark.parametrize("code", [4326, 3857, 4756, 3405, 3406])
def test_output_crs_uses_the_official_vn2000_parameters(client, code: int) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import pyproj
    import shapely
    from shapely.geometry import shape

    from vbis_geo.geodesy import to_wgs84

    base = client.get("/ogc/collections/conservation_facilities/items?f=json&limit=50").json
    uri = f"http://www.opengis.net/def/crs/EPSG/0/{code}"
    response = client.get(
        f"/ogc/collections/conservation_facilities/items?f=json&limit=50&crs={uri}"
    )
    assert response.status_code == 200, response.json
    assert response.headers["Content-Crs"] == f"<{uri}>"
    lonlat = shapely.get_coordinates([shape(f["geometry"]) for f in base["features"]])
    got = shapely.get_coordinates([shape(f["geometry"]) for f in response.json["features"]])
    crs = pyproj.CRS.from_epsg(code)
    if code == 3857:
        transformer = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
        x, y = transformer.transform(lonlat[:, 0], lonlat[:, 1])
    else:  # VN-2000 (and WGS 84 itself): the inverse of the official transformation
        x, y = to_wgs84(crs).transform(lonlat[:, 0], lonlat[:, 1], direction="INVERSE")
    expected = np.column_stack([x, y])
    if code in (4326, 4756):  # latitude first, as these CRSs define their axes
        expected = expected[:, ::-1]
    tolerance = 1e-3 if crs.is_projected else 1e-8  # 1 mm, or about 1 mm in degrees
    assert np.abs(got - expected).max() < tolerance


def test_bbox_crs_follows_the_projected_box_not_its_corners(client, engine) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import pyproj
    import shapely

    from vbis_geo.geodesy import to_wgs84

    # a 300 km box in VN-2000 / UTM 48N over northern Viet Nam, densified independently
    x0, y0, x1, y1 = 450_000, 2_200_000, 750_000, 2_500_000
    edge = np.linspace(0, 1, 200)
    xs = np.concatenate(
        [x0 + (x1 - x0) * edge, np.full(200, x1), x1 - (x1 - x0) * edge, np.full(200, x0)]
    )
    ys = np.concatenate(
        [np.full(200, y0), y0 + (y1 - y0) * edge, np.full(200, y1), y1 - (y1 - y0) * edge]
    )
    lon, lat = to_wgs84(pyproj.CRS.from_epsg(3405)).transform(xs, ys)
    area = shapely.Polygon(np.column_stack([lon, lat]))
    with engine.connect() as conn:
        expected = conn.execute(
            sa.text(
                "SELECT count(*) FROM publish.public_occurrences "
                "WHERE ST_Intersects(geom, ST_GeomFromText(:w, 4326))"
            ),
            {"w": area.wkt},
        ).scalar_one()
    uri = "http://www.opengis.net/def/crs/EPSG/0/3405"
    body = client.get(
        f"/ogc/collections/occurrences/items?f=json&limit=1&bbox={x0},{y0},{x1},{y1}&bbox-crs={uri}"
    ).json
    assert body["numberMatched"] == expected > 0
    # EPSG:4326 boxes are latitude first
    lonlat = client.get("/ogc/collections/occurrences/items?f=json&limit=1&bbox=105,20,106,21").json
    latlon = client.get(
        "/ogc/collections/occurrences/items?f=json&limit=1&bbox=20,105,21,106"
        "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326"
    ).json
    assert lonlat["numberMatched"] == latlon["numberMatched"] > 0


def test_cql2_filters(client, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        parks = conn.execute(
            sa.text(
                "SELECT count(*) FROM protected_areas WHERE legal_category = 'national_park' "
                "AND established_year > 2000"
            )
        ).scalar_one()
        near = conn.execute(
            sa.text(
                "SELECT count(*) FROM publish.public_occurrences WHERE ST_Intersects(geom, "
                "ST_MakeEnvelope(105.5, 20.2, 105.8, 20.5, 4326))"
            )
        ).scalar_one()
    url = "/ogc/collections/protected_areas/items"
    text = "legal_category = 'national_park' AND established_year > 2000"
    for params in (
        {"filter": text},
        {"filter": text, "filter-lang": "cql2-text"},
        {
            "filter": '{"op": "and", "args": [{"op": "=", "args": [{"property": "legal_category"}, '
            '"national_park"]}, {"op": ">", "args": [{"property": "established_year"}, '
            "2000]}]}",
            "filter-lang": "cql2-json",
        },
    ):
        response = client.get(url, query_string={"f": "json", "limit": 1, **params})
        assert response.status_code == 200, response.json
        assert response.json["numberMatched"] == parks > 0
    spatial = client.get(
        "/ogc/collections/occurrences/items",
        query_string={
            "f": "json",
            "limit": 1,
            "filter": "S_INTERSECTS(geometry, POLYGON(("
            "105.5 20.2, 105.8 20.2, 105.8 20.5, 105.5 20.5, 105.5 20.2)))",
        },
    )
    assert spatial.status_code == 200 and spatial.json["numberMatched"] == near > 0
    unknown = client.get(url, query_string={"f": "json", "filter": "nosuch = 1"})
    assert unknown.status_code == 400 and "nosuch" in unknown.json["description"]
    # SQL in a literal is a value, never SQL; a malformed filter is a 400
    hostile = client.get(
        url, query_string={"f": "json", "filter": "code = 'x'; DROP TABLE taxa; --'"}
    )
    assert hostile.status_code == 400
    hostile = client.get(
        url, query_string={"f": "json", "filter": "code = 'x; DROP TABLE taxa; --'"}
    )
    assert hostile.status_code == 200 and hostile.json["numberMatched"] == 0
    assert client.get("/ogc/collections/taxa").status_code in (404, 400)  # not published
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM taxa")).scalar_one() > 0


def test_large_filtered_matches_are_not_counted(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import vbis_geo.publish.features as features

    # every filtered query counts as "large" here (the planner's estimate is above -1)
    monkeypatch.setattr(features, "ESTIMATE_ABOVE", -1)
    body = items(client, "occurrences", bbox="102,8,110,24", limit=10).json
    assert "numberMatched" not in body and body["numberReturned"] == 10
    assert any(link["rel"] == "next" for link in body["links"])
    # unfiltered counts stay exact (kept by triggers), filtered small ones too
    assert "numberMatched" in items(client, "occurrences", limit=1).json
    assert (
        items(client, "occurrences", bbox="105.80,21.00,105.81,21.01", limit=1).json.get(
            "numberMatched", 0
        )
        < 1000
    )


def test_items_follow_the_layers_default_order_through_every_page(client, engine) -> None:  # type: ignore[no-untyped-def]
    """protected_areas are sorted by name_vi (layers/protected_areas.yml) unless asked
    otherwise, and the keyset pages of that order hold every row once."""
    with engine.connect() as conn:
        expected = (
            conn.execute(sa.text("SELECT name_vi FROM protected_areas ORDER BY name_vi, id"))
            .scalars()
            .all()
        )
    names: list[str] = []
    url = "/ogc/collections/protected_areas/items?f=json&limit=20&properties=name_vi"
    while url:
        body = client.get(url).json
        names += [f["properties"]["name_vi"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        if url:
            url = url[url.index("/ogc/") :]
    assert names == expected and len(names) > 20
    asked = client.get("/ogc/collections/protected_areas/items?f=json&limit=5&sortby=-code").json
    codes = [f["properties"]["code"] for f in asked["features"]]
    assert codes == sorted(codes, reverse=True)


def test_queryables_carry_the_layers_field_titles(client) -> None:  # type: ignore[no-untyped-def]
    vi = client.get("/ogc/collections/protected_areas/queryables?f=json").json["properties"]
    assert vi["legal_category"]["title"] == "Phân hạng theo Luật Đa dạng sinh học"
    assert vi["name_vi"]["title"] == "Tên tiếng Việt"  # from layers/common/field_titles.yml
    en = client.get("/ogc/collections/protected_areas/queryables?f=json&lang=en").json
    assert en["properties"]["legal_category"]["title"] == "Legal category"
    assert en["properties"]["legal_category"]["type"] == "string"


def test_the_audience_views_are_described_as_the_database_has_them(engine) -> None:  # type: ignore[no-untyped-def]
    """The provider's description of each audience's view of occurrences (its columns, listed
    in the table's order) is that of the view migration 0011 created, and every published
    property of the table is in it."""
    from vbis_geo.analysis.access import Audience
    from vbis_geo.publish.features import audience_view

    inspector = sa.inspect(engine)
    for audience in Audience:
        view = audience_view("occurrences", audience)
        columns = inspector.get_columns(view.name, schema="publish")
        assert {c["name"] for c in columns} == {c.name for c in view.columns}, audience
    table = sa.inspect(engine).get_columns("occurrences")
    published = {c["name"] for c in table} - {
        "review_status", "submitted_by", "reviewed_by", "reviewed_at", "review_reason"
    }  # fmt: skip
    assert published | {"generalised_km"} == {c.name for c in view.columns}


def test_the_public_view_is_the_union_of_its_parts(engine) -> None:  # type: ignore[no-untyped-def]
    """The providers read a page of the public view from each of its two parts (migration
    0012): together they hold exactly its rows, the generalised ones among them."""
    parts = (
        "SELECT * FROM publish.public_occurrences_at_point "
        "UNION ALL SELECT * FROM publish.public_occurrences_in_cell"
    )
    with engine.connect() as conn:
        for one, other in (("SELECT * FROM publish.public_occurrences", parts),
                           (parts, "SELECT * FROM publish.public_occurrences")):  # fmt: skip
            difference = f"SELECT count(*) FROM ({one} EXCEPT ALL ({other})) AS d"  # noqa: S608
            assert conn.execute(sa.text(difference)).scalar_one() == 0
        moved = "SELECT count(*) FROM publish.public_occurrences_in_cell"
        assert conn.execute(sa.text(moved)).scalar_one() > 0
