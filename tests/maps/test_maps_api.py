"""``/maps``: the stock maps composed through the API as MapLibre styles (checked by MapLibre's
own validator, their sources fetched), GeoJSON, PNG, PDF and SLD; a posted map; bad requests;
and what each reader sees of sensitive records."""

from __future__ import annotations

import io
import json
import subprocess
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.conftest import make_token
from tests.web.test_styles import VALIDATOR

pytestmark = pytest.mark.db

STOCK = [
    "protected_areas_by_category",
    "protected_areas_by_title",
    "species_richness_by_province",
    "taxon_distribution",
    "threatened_species_density",
]


def _args(map_id: str, taxon: int) -> str:
    return f"?taxon={taxon}" if map_id == "taxon_distribution" else ""


def test_the_stock_maps_are_listed(client) -> None:  # type: ignore[no-untyped-def]
    listing = client.get("/maps?lang=en").json
    assert sorted(m["id"] for m in listing["maps"]) == STOCK
    by_id = {m["id"]: m for m in listing["maps"]}
    assert by_id["taxon_distribution"]["parameters"] == {
        "taxon": {"kind": "taxon", "required": True}
    }
    assert by_id["protected_areas_by_category"]["title"] == "Protected areas by legal category"


@pytest.mark.parametrize("map_id", STOCK)
def test_each_stock_map_is_a_valid_maplibre_style_whose_sources_answer(
    client, tmp_path, common_taxon, map_id
) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/maps/{map_id}/style.json{_args(map_id, common_taxon)}")
    assert response.status_code == 200, response.get_data(as_text=True)
    style = response.json
    path = tmp_path / "style.json"
    path.write_text(json.dumps(style), encoding="utf-8")
    checked = subprocess.run(
        [str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr
    for name, source in style["sources"].items():
        url = urlsplit(source["url"] if source["type"] == "vector" else source["data"])
        answer = client.get(f"{url.path}?{url.query}")
        assert answer.status_code == 200, (name, url)
        if source["type"] == "geojson":
            assert answer.json["features"], name
    # every colour of the legend is drawn by some layer of the style
    colours = json.dumps(style["layers"])
    for group in style["metadata"]["vbis-geo:legend"]:
        for entry in group["entries"]:
            assert entry["colour"] in colours, (group["layer"], entry)


def test_a_categorised_style_colours_by_the_tile_field(client) -> None:  # type: ignore[no-untyped-def]
    style = client.get("/maps/protected_areas_by_category/style.json").json
    fill = next(layer for layer in style["layers"] if layer["id"] == "protected_areas-fill")
    colour = fill["paint"]["fill-color"]
    assert colour[0] == "match" and colour[1] == ["to-string", ["get", "legal_category"]]
    legend = style["metadata"]["vbis-geo:legend"][1]["entries"]
    assert colour[2:-1] == [
        x
        for value, e in zip(
            [
                "national_park",
                "nature_reserve",
                "species_habitat_area",
                "landscape_protection_area",
            ],
            legend,
            strict=True,
        )
        for x in (value, e["colour"])
    ]
    tilejson = client.get(
        "/ogc/collections/protected_areas/tiles/WebMercatorQuad/metadata?f=tilejson"
    ).json
    assert {"id", "legal_category"} <= set(tilejson["vector_layers"][0]["fields"])


def test_a_richness_choropleth_colours_each_province_by_its_answer(client) -> None:  # type: ignore[no-untyped-def]
    style = client.get("/maps/species_richness_by_province/style.json?date=2025-07-01").json
    fill = next(layer for layer in style["layers"] if layer["id"] == "richness-fill")
    ids = fill["filter"][2][1]
    assert len(ids) == 34
    richness = client.get("/api/richness?by=province&as_of=2025-07-01").json
    geo = client.get(
        "/maps/species_richness_by_province/layers/richness.geojson?date=2025-07-01"
    ).json
    species = {f["properties"]["code"]: f["properties"]["species"] for f in richness["features"]}
    assert {f["properties"]["code"]: f["properties"]["species"] for f in geo["features"]} == species
    # a province with more species never gets a lighter class than one with fewer
    match = fill["paint"]["fill-color"]
    colour_of_id = dict(zip(match[2:-1:2], match[3:-1:2], strict=True))
    ramp = [e["colour"] for e in style["metadata"]["vbis-geo:legend"][0]["entries"]]
    ranked = sorted(geo["features"], key=lambda f: f["properties"]["species"])
    classes = [ramp.index(colour_of_id[f["id"]]) for f in ranked]
    assert classes == sorted(classes)


def test_png_pdf_and_sld(client) -> None:  # type: ignore[no-untyped-def]
    png = client.get("/maps/protected_areas_by_category.png?width=800&height=600&lang=en")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert Image.open(io.BytesIO(png.data)).size == (800, 600)
    pdf = client.get("/maps/species_richness_by_province.pdf?paper=A3&orientation=portrait")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    sld = client.get("/maps/protected_areas_by_category.sld")
    assert sld.status_code == 200 and sld.mimetype == "application/vnd.ogc.sld+xml"
    root = ET.fromstring(sld.data)
    rules = root.findall(".//{http://www.opengis.net/se}Rule")
    names = [r.find("{http://www.opengis.net/se}Name").text for r in rules]
    assert names[:4] == [
        "Vườn quốc gia",
        "Khu dự trữ thiên nhiên",
        "Khu bảo tồn loài - sinh cảnh",
        "Khu bảo vệ cảnh quan",
    ]


def test_a_posted_map_is_composed_with_its_data_inline(client) -> None:  # type: ignore[no-untyped-def]
    body = """
id: wetlands_by_type
title: {vi: Đất ngập nước, en: Wetlands}
layers:
  - id: wetlands
    layer: wetlands
    symbology: {kind: single, colour: "#0072B2"}
  - id: titles
    question: international_titles
    symbology:
      kind: categorised
      field: title
      categories:
        ramsar: {vi: Khu Ramsar, en: Ramsar site}
"""
    response = client.post(
        "/maps/compose?format=style", data=body.encode(), content_type="application/yaml"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    style = response.json
    inline = style["sources"]["titles-data"]["data"]
    assert inline["type"] == "FeatureCollection"
    assert {f["properties"]["title"] for f in inline["features"]} >= {"ramsar"}
    png = client.post("/maps/compose?format=png&width=400&height=300", data=body.encode())
    assert png.status_code == 200 and png.mimetype == "image/png"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/maps/nowhere/style.json", "no map 'nowhere'"),
        ("/maps/taxon_distribution/style.json", "needs the parameter 'taxon'"),
        ("/maps/species_richness_by_province.png?date=2025-13-01", "expected a date"),
        ("/maps/protected_areas_by_category.png?width=99999", "width=99999"),
        ("/maps/protected_areas_by_category.pdf?paper=letter", "paper 'letter'"),
        ("/maps/protected_areas_by_category/style.json?lang=fr", "lang='fr'"),
        ("/maps/protected_areas_by_category/layers/roads.geojson", "has no layer 'roads'"),
        ("/maps/protected_areas_by_category.sld?layer=roads", "has no layer 'roads'"),
    ],
)
def test_bad_requests_name_the_problem(client, path, message) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert message in response.get_data(as_text=True), response.get_data(as_text=True)


def test_a_posted_map_that_is_not_one_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    for body, message in (
        (b"[1, 2", "not a map definition"),
        (b"id: x\ntitle: {vi: x, en: x}\nlayers: []\n", "'layers' must be a non-empty list"),
        (
            b'id: x\ntitle: {vi: x, en: x}\nlayers:\n  - {id: a, layer: wetlands, filter: "1=1; DROP TABLE taxa", symbology: {kind: single}}\n',  # noqa: E501
            "is not CQL2 text",
        ),
    ):
        response = client.post("/maps/compose", data=body)
        assert response.status_code == 400, body
        assert message in response.get_data(as_text=True)


@pytest.fixture
def sensitive_records(engine):  # type: ignore[no-untyped-def]
    """A taxon with a CR status and two records at known points (committed; removed after)."""
    with engine.begin() as conn:
        taxon = conn.execute(
            sa.text(
                "INSERT INTO taxa (rank, scientific_name, taxonomic_status) "
                "VALUES ('species', 'Mapus secretus', 'accepted') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO taxon_statuses (taxon_id, list, category) "
                "VALUES (:t, 'iucn_red_list', 'CR')"
            ),
            {"t": taxon},
        )
        for i, (x, y) in enumerate(((105.61234, 20.29871), (107.41111, 11.43333))):
            conn.execute(
                sa.text(
                    "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
                    "VALUES (:oid, :t, 'HumanObservation', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
                ),
                {"oid": f"map-secret-{i}", "t": taxon, "x": x, "y": y},
            )
    yield taxon
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM occurrences WHERE taxon_id = :t"), {"t": taxon})
        conn.execute(sa.text("DELETE FROM taxon_statuses WHERE taxon_id = :t"), {"t": taxon})
        conn.execute(sa.text("DELETE FROM taxa WHERE id = :t"), {"t": taxon})


def test_a_sensitive_taxon_is_drawn_generalised_for_the_public_only(
    client, engine, make_account, sensitive_records
) -> None:  # type: ignore[no-untyped-def]
    path = f"/maps/taxon_distribution/layers/records.geojson?taxon={sensitive_records}"
    public = client.get(path)
    assert public.status_code == 200
    exact = {(105.61234, 20.29871), (107.41111, 11.43333)}
    public_points = {tuple(f["geometry"]["coordinates"]) for f in public.json["features"]}
    assert len(public_points) == 2 and not public_points & exact
    assert "105.61234" not in public.get_data(as_text=True)
    with engine.connect() as conn:
        expected = {
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT round(ST_X(geom)::numeric, 6)::float, "
                    "round(ST_Y(geom)::numeric, 6)::float "
                    "FROM publish.public_occurrences WHERE taxon_id = :t"
                ),
                {"t": sensitive_records},
            )
        }
    assert public_points == expected
    admin = make_account("map_admin", role="national_admin")
    token = make_token(engine, admin.id)
    seen = client.get(path, headers={"Authorization": f"Bearer {token}"}).json
    assert {tuple(f["geometry"]["coordinates"]) for f in seen["features"]} == exact


def test_a_posted_map_of_proportional_symbols(client, tmp_path, common_taxon) -> None:  # type: ignore[no-untyped-def]
    body = f"""
id: counted
title: {{vi: Số cá thể, en: Individuals counted}}
layers:
  - id: records
    layer: occurrences
    taxa: {{taxon: "{common_taxon}"}}
    symbology: {{kind: proportional, field: individual_count, colour: "#0072B2", max_radius: 20}}
"""
    style = client.post("/maps/compose?format=style", data=body.encode()).json
    path = tmp_path / "style.json"
    path.write_text(json.dumps(style), encoding="utf-8")
    checked = subprocess.run(
        [str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout
    radius = style["layers"][-1]["paint"]["circle-radius"]
    assert radius[0] == "*" and radius[1] == 20  # area proportional: radius by square root
    legend = style["metadata"]["vbis-geo:legend"][0]["entries"]
    counts = [
        f["properties"]["individual_count"] or 0
        for f in style["sources"]["records-data"]["data"]["features"]
    ]
    assert legend[-1]["label"].replace(" ", "") == str(max(counts))
    assert legend[0]["radius"] == pytest.approx(20 * 0.5)  # a quarter of the value: half the radius
    png = client.post("/maps/compose?format=png&width=600&height=500", data=body.encode())
    assert png.status_code == 200
    refused = client.post(
        "/maps/compose",
        data=body.replace("layer: occurrences", "layer: wetlands")
        .replace('    taxa: {taxon: "' + str(common_taxon) + '"}\n', "")
        .encode(),
    )
    assert refused.status_code == 400 and "for point layers" in refused.get_data(as_text=True)
