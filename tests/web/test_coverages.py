"""The land-cover raster as OGC API Coverages (pygeoapi's rasterio provider over our COG)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.windows import from_bounds

from tests.conftest import LANDCOVER

pytestmark = [pytest.mark.db, pytest.mark.shared_data]


def test_coverage_subset_is_the_source_window(client, shared_data) -> None:  # type: ignore[no-untyped-def]
    box = (104.0, 21.6, 104.05, 21.65)
    response = client.get(
        "/ogc/collections/landcover/coverage",
        query_string={"f": "GTiff", "bbox": ",".join(map(str, box))},
    )
    assert response.status_code == 200
    with MemoryFile(response.data) as memory, memory.open() as served:
        got = served.read(1)
        bounds = served.bounds
        assert served.crs.to_epsg() == 4326
    # the served pixels are the source's pixels at the same place (whole pixels around the box)
    assert bounds.left <= box[0] and bounds.bottom <= box[1]
    assert bounds.right >= box[2] and bounds.top >= box[3]
    with rasterio.open(shared_data / LANDCOVER) as source:
        window = from_bounds(*bounds, transform=source.transform).round_offsets()
        expected = source.read(1, window=window.round_lengths())
    assert got.shape == expected.shape
    # pygeoapi masks the pixels the box only grazes (nodata 255); every other pixel is the
    # source's own class: no resampling of categories
    inside = got != 255
    assert inside.sum() >= 48 * 48
    assert np.array_equal(got[inside], expected[inside])
    assert set(np.unique(got[inside])) <= {
        20,
        30,
        40,
        50,
        60,
        80,
        90,
        111,
        112,
        114,
        116,
        121,
        122,
        124,
        126,
    }


def test_coverage_json_and_the_catalogue_entry(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get(
        "/ogc/collections/landcover/coverage?f=json&bbox=104.0,21.6,104.01,21.61"
    ).json
    assert body["type"] == "Coverage" and body["domain"]["domainType"] == "Grid"
    record = client.get("/ogc/collections/datasets/items/raster:landcover?f=json").json
    assert record["properties"]["collection"] == "landcover"
    assert "Copernicus" in record["properties"]["license"]


def test_coverage_is_marked_as_such_in_the_collection_list(client) -> None:  # type: ignore[no-untyped-def]
    collections = client.get("/ogc/collections?f=json").json["collections"]
    item_types = {c["id"]: c.get("itemType") for c in collections}
    assert item_types["landcover"] == "coverage"
    assert item_types["protected_areas"] == "feature" and item_types["datasets"] == "record"
