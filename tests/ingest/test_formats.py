"""The file formats of the field, each loaded for real and compared with what it holds.

Shapefiles from a folder and from zips (at the top, in a subfolder, zipped on a Mac), each with
its ``.cpg``, in UTF-8 and in Windows-1258; KML and KMZ loaded into an emptied table and compared
field by field with the rows they came from; a spreadsheet of occurrences with coordinate
columns; a Darwin Core Archive written by another tool (its own ``meta.xml``: columns in another
order, defaults, a header line, the core id); and the XML of our own archives (``meta.xml``
against ``occurrence.txt``, ``eml.xml`` as EML 2.1.1).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import fiona
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from tests.ingest.helpers import ingest
from vbis_geo.analysis.access import Audience
from vbis_geo.export import ExportFilters, export_layer
from vbis_geo.export.files import classification
from vbis_geo.ingest.encoding import encode
from vbis_geo.ingest.report import REJECTED
from vbis_geo.ingest.targets import SYSTEM_COLUMNS, target

pytestmark = pytest.mark.db

EXACT = Audience.EXACT
#: a box around northern Viet Nam keeps the occurrence exports small
NORTH = (103.5, 20.0, 106.5, 22.5)


def _zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    """Zip every file of ``folder`` under ``prefix`` inside the archive."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(folder.iterdir()):
            zf.write(part, prefix + part.name)
    return archive


# -- Shapefiles: folder and zip, UTF-8 and Windows-1258 -----------------------------------------
#: protected areas as a province sends them: code, Vietnamese name, managing board, category
AREAS = (
    ("FMT-CUC-PHUONG", "Vườn quốc gia Cúc Phương", "Ban quản lý Vườn quốc gia Cúc Phương",
     "Vườn quốc gia", "national_park", (105.60, 20.25)),
    ("FMT-PU-MAT", "Khu bảo tồn thiên nhiên Pù Mát", "Ban quản lý Khu bảo tồn Pù Mát",
     "Khu bảo tồn thiên nhiên", "nature_reserve", (104.75, 19.05)),
    ("FMT-BACH-MA", "Vườn quốc gia Bạch Mã", "Ban quản lý Vườn quốc gia Bạch Mã",
     "Vườn quốc gia", "national_park", (107.85, 16.15)),
)  # fmt: skip


def vietnamese_shapefile(folder: Path, encoding: str, cpg: str, stem: str = "kbt") -> Path:
    """A Shapefile of :data:`AREAS` whose .dbf holds the text as ``encoding`` bytes, with a
    .cpg saying ``cpg``; returns the .shp."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.shp"
    schema = {
        "geometry": "Polygon",
        # "management" is management_board cut to the .dbf's 10 characters
        "properties": {"ma": "str:20", "ten": "str:120", "management": "str:120", "loai": "str:60"},
    }
    # Latin-1 maps each byte to one character: the .dbf gets exactly the bytes given
    with fiona.open(
        path, "w", driver="ESRI Shapefile", schema=schema, crs="EPSG:4326", encoding="latin1"
    ) as dst:
        for code, name, board, category, _, (x, y) in AREAS:
            dst.write(
                {
                    "geometry": shapely.geometry.mapping(shapely.box(x, y, x + 0.05, y + 0.05)),
                    "properties": {
                        "ma": code,
                        "ten": encode(name, encoding).decode("latin1"),
                        "management": encode(board, encoding).decode("latin1"),
                        "loai": encode(category, encoding).decode("latin1"),
                    },
                }
            )
    path.with_suffix(".cpg").write_text(cpg)
    return path


def _stored_areas(conn) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    return [
        tuple(row)
        for row in conn.execute(
            sa.text(
                "SELECT code, name_vi, management_board, legal_category FROM protected_areas "
                "WHERE code LIKE 'FMT-%' ORDER BY code"
            )
        )
    ]


def _package(shp: Path, packaging: str, tmp_path: Path) -> Path:
    """The Shapefile as a user sends it: its folder, a zip of its parts, the parts in a
    subfolder of the zip, or a zip made by macOS Finder (``__MACOSX/._*`` resource forks)."""
    if packaging == "folder":
        return shp.parent
    archive = tmp_path / "upload.zip"
    if packaging == "zip":
        return _zip_folder(shp.parent, archive)
    if packaging == "zip-subfolder":
        return _zip_folder(shp.parent, archive, prefix="du_lieu/khu_bao_ton/")
    _zip_folder(shp.parent, archive, prefix="kbt/")
    with zipfile.ZipFile(archive, "a") as zf:
        for part in sorted(shp.parent.iterdir()):
            # AppleDouble files: a header of 0x00051607, not the part's content
            zf.writestr(f"__MACOSX/kbt/._{part.name}", b"\x00\x05\x16\x07" + bytes(80))
    return archive


@pytest.mark.parametrize("packaging", ["folder", "zip", "zip-subfolder", "zip-macos"])
@pytest.mark.parametrize(("encoding", "cpg"), [("utf-8", "UTF-8"), ("cp1258", "1258")])
def test_shapefile_from_folder_and_zip(
    conn, tmp_path: Path, packaging: str, encoding: str, cpg: str
) -> None:
    shp = vietnamese_shapefile(tmp_path / "kbt", encoding, cpg)
    before = conn.execute(sa.text("SELECT count(*) FROM protected_areas")).scalar_one()
    report = ingest(conn, "protected_areas", _package(shp, packaging, tmp_path))
    assert report.written, report.summary()
    assert report.encoding == encoding
    assert (report.n_read, report.n_inserted, report.n_updated) == (3, 3, 0)
    assert not [i for i in report.issues if i.field == "file"], report.summary()
    assert _stored_areas(conn) == sorted(
        (code, name, board, category) for code, name, board, _, category, _ in AREAS
    )
    assert conn.execute(sa.text("SELECT count(*) FROM protected_areas")).scalar_one() == before + 3
    assert "Vườn quốc gia Cúc Phương" in {row[1] for row in _stored_areas(conn)}


def test_shapefile_folder_with_upper_case_names(conn, tmp_path: Path) -> None:
    """Old Windows tools write KBT.SHP, KBT.DBF ...: the folder is read as the zip would be."""
    shp = vietnamese_shapefile(tmp_path / "kbt", "cp1258", "1258")
    for part in list(shp.parent.iterdir()):
        part.rename(part.with_name(part.name.upper()))
    report = ingest(conn, "protected_areas", shp.parent)
    assert report.written and report.encoding == "cp1258", report.summary()
    assert [row[1] for row in _stored_areas(conn)] == [a[1] for a in sorted(AREAS)]


@pytest.mark.parametrize("packaging", ["folder", "zip-subfolder"])
def test_exported_shapefile_from_folder_and_zip(conn, tmp_path: Path, packaging: str) -> None:
    """Our own Shapefile export (UTF-8 .cpg, 10-character names) loads back unchanged."""
    folder = tmp_path / "export"
    shp = folder / "protected_areas.shp"
    n = export_layer(conn, "protected_areas", "shp", shp, audience=EXACT)
    assert shp.with_suffix(".cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
    report = ingest(conn, "protected_areas", _package(shp, packaging, tmp_path))
    assert report.ok, report.summary()
    assert report.encoding == "utf-8"
    assert (report.n_read, report.n_inserted, report.n_updated, report.n_unchanged) == (n, 0, 0, n)
    name = conn.execute(
        sa.text("SELECT name_vi FROM protected_areas WHERE code = 'PA-CUC-PHUONG'")
    ).scalar_one()
    assert name == "Vườn quốc gia Cúc Phương"


# -- KML and KMZ into an emptied table ----------------------------------------------------------
#: Fields KML loses, by layer, and why. None: GDAL's KML writer keeps every attribute in
#: ExtendedData (SchemaData) and the reader (LIBKML, vbis_geo.ingest.sources.read_kml) reads
#: them all back; a field empty in every row is not written, and stays empty.
KML_LOSES: dict[str, dict[str, str]] = {"wetlands": {}, "conservation_facilities": {}}
#: KML writes coordinates as decimal text (15 significant digits): the last bit of a double
#: can change, so shapes are compared within this many degrees (1e-9 degrees is 0.1 mm)
KML_TOLERANCE_DEG = 1e-9


def _loaded_columns(layer: str) -> list[str]:
    """The columns of the layer's table a load writes from a file's attributes."""
    table = target(layer).table
    return [
        name
        for name, spec in target(layer).fields.items()
        if spec.column and name in table.c and name not in SYSTEM_COLUMNS and name != "geom"
    ]


@pytest.mark.parametrize("fmt", ["kml", "kmz"])
@pytest.mark.parametrize("layer", ["wetlands", "conservation_facilities"])
def test_kml_and_kmz_into_an_emptied_table(conn, tmp_path: Path, layer: str, fmt: str) -> None:
    geojson = tmp_path / f"{layer}.geojson"
    n = export_layer(conn, layer, "geojson", geojson, audience=EXACT)
    kml = tmp_path / f"{layer}.kml"
    subprocess.run(["ogr2ogr", "-f", "KML", str(kml), str(geojson)], check=True)
    path = kml
    if fmt == "kmz":
        path = tmp_path / f"{layer}.kmz"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(kml, "doc.kml")
    columns = _loaded_columns(layer)
    # the rows as they were; the history triggers record the deletes, in this transaction
    conn.execute(sa.text(f"CREATE TEMP TABLE _before AS SELECT * FROM {layer}"))  # noqa: S608
    conn.execute(sa.text(f"DELETE FROM {layer}"))  # noqa: S608
    report = ingest(conn, layer, path)
    assert report.written, report.summary()
    assert (report.n_read, report.n_inserted, report.n_updated, report.n_unchanged) == (
        n,
        n,
        0,
        0,
    ), report.summary()
    with_values = {
        c
        for c in columns
        if conn.execute(sa.text(f'SELECT count("{c}") FROM _before')).scalar_one()  # noqa: S608
    }
    lost = with_values - set(report.columns)
    assert lost == set(KML_LOSES[layer]), f"{fmt} lost {sorted(lost)}"
    for column in columns:
        if column in KML_LOSES[layer]:
            continue
        differ = conn.execute(
            sa.text(
                f'SELECT b.code, b."{column}"::text, a."{column}"::text FROM _before b '  # noqa: S608
                f"FULL JOIN {layer} a USING (code) "
                f'WHERE b."{column}" IS DISTINCT FROM a."{column}"'
            )
        ).all()
        assert not differ, f"{column} of {fmt} differs: {differ[:3]}"
    shapes = conn.execute(
        sa.text(
            f"SELECT count(*), max(ST_HausdorffDistance(b.geom, a.geom)), "  # noqa: S608
            "bool_and(ST_GeometryType(b.geom) = ST_GeometryType(a.geom)), "
            "bool_and(ST_NPoints(b.geom) = ST_NPoints(a.geom)) "
            f"FROM _before b JOIN {layer} a USING (code)"
        )
    ).one()
    assert shapes[0] == n
    assert shapes[1] < KML_TOLERANCE_DEG
    assert shapes[2] and shapes[3]
    # names with their diacritics, exactly
    names = set(conn.execute(sa.text(f"SELECT name_vi FROM {layer}")).scalars())  # noqa: S608
    assert names == set(conn.execute(sa.text("SELECT name_vi FROM _before")).scalars())
    assert any(any(ord(ch) > 0x7F for ch in name) for name in names)


# -- a spreadsheet of occurrences ---------------------------------------------------------------
def _species(conn, n: int) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    """``n`` accepted species of the backbone (id, scientific name)."""
    rows = conn.execute(
        sa.text(
            "SELECT id, scientific_name FROM taxa WHERE rank = 'species' AND "
            "taxonomic_status = 'accepted' AND scientific_name NOT LIKE '% sp. %' "
            "ORDER BY scientific_name LIMIT :n"
        ),
        {"n": n},
    ).all()
    assert len(rows) == n
    return [(int(i), str(name)) for i, name in rows]


def _stored_occurrences(conn, prefix: str) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    return [
        tuple(row)
        for row in conn.execute(
            sa.text(
                "SELECT occurrence_id, taxon_id, basis_of_record, event_date, event_date_end, "
                "recorded_by, individual_count, coordinate_uncertainty_m, locality, "
                "occurrence_remarks, ST_X(geom), ST_Y(geom) FROM occurrences "
                "WHERE occurrence_id LIKE :p ORDER BY occurrence_id"
            ),
            {"p": prefix + "%"},
        )
    ]


@pytest.mark.parametrize(
    "names",
    [
        # the Darwin Core names
        {
            "id": "occurrenceID",
            "name": "scientificName",
            "basis": "basisOfRecord",
            "date": "eventDate",
            "by": "recordedBy",
            "count": "individualCount",
            "uncertainty": "coordinateUncertaintyInMeters",
            "locality": "locality",
            "remarks": "occurrenceRemarks",
            "lat": "decimalLatitude",
            "lon": "decimalLongitude",
        },
        # the Vietnamese names of layers/occurrences.yml, as a survey team writes them
        {
            "id": "Mã bản ghi",
            "name": "Tên khoa học",
            "basis": "Loại bản ghi",
            "date": "Ngày quan sát",
            "by": "Người quan sát",
            "count": "Số lượng",
            "uncertainty": "Sai số (m)",
            "locality": "Địa điểm",
            "remarks": "Ghi chú",
            "lat": "Vĩ độ",
            "lon": "Kinh độ",
        },
    ],
    ids=["darwin-core", "vietnamese"],
)
def test_xlsx_occurrences_with_coordinate_columns(
    conn, tmp_path: Path, names: dict[str, str]
) -> None:
    species = _species(conn, 3)
    rows = [
        # id, taxon, basis, date cell, by, count, uncertainty, locality, remarks, lat, lon
        ("FMT-XLSX-1", species[0], "quan sát", "2023-04-05", "Nguyễn Văn Ánh", 3, 25.0,
         "Động Thiên Đường, Quảng Bình", "Gặp ở bìa rừng", 17.5191234, 106.2234567),
        ("FMT-XLSX-2", species[1], "HumanObservation", dt.datetime(2022, 11, 30), "Lê Thị Hồng",
         1, None, "Vườn quốc gia Cúc Phương", None, 20.3123, 105.6012),
        ("FMT-XLSX-3", species[2], "mẫu vật", "2021-05-01/2021-05-03", None, None, 100.0,
         "Sa Pa, Lào Cai", "Mẫu lưu tại Bảo tàng Thiên nhiên Việt Nam", 22.3364, 103.8438),
    ]  # fmt: skip
    frame = pd.DataFrame(
        [
            {
                names["id"]: r[0],
                names["name"]: r[1][1],
                names["basis"]: r[2],
                names["date"]: r[3],
                names["by"]: r[4],
                names["count"]: r[5],
                names["uncertainty"]: r[6],
                names["locality"]: r[7],
                names["remarks"]: r[8],
                names["lat"]: r[9],
                names["lon"]: r[10],
            }
            for r in rows
        ]
    )
    path = tmp_path / "khao_sat.xlsx"
    frame.to_excel(path, index=False)
    report = ingest(conn, "occurrences", path)
    assert report.written, report.summary()
    assert (report.n_read, report.n_inserted, report.n_updated) == (3, 3, 0)
    assert {"longitude", "latitude", "scientific_name", "event_date"} <= set(report.columns)
    assert _stored_occurrences(conn, "FMT-XLSX-") == [
        ("FMT-XLSX-1", species[0][0], "HumanObservation", dt.date(2023, 4, 5), None,
         "Nguyễn Văn Ánh", 3, 25.0, "Động Thiên Đường, Quảng Bình", "Gặp ở bìa rừng",
         106.2234567, 17.5191234),
        ("FMT-XLSX-2", species[1][0], "HumanObservation", dt.date(2022, 11, 30), None,
         "Lê Thị Hồng", 1, None, "Vườn quốc gia Cúc Phương", None, 105.6012, 20.3123),
        ("FMT-XLSX-3", species[2][0], "PreservedSpecimen", dt.date(2021, 5, 1),
         dt.date(2021, 5, 3), None, None, 100.0, "Sa Pa, Lào Cai",
         "Mẫu lưu tại Bảo tàng Thiên nhiên Việt Nam", 103.8438, 22.3364),
    ]  # fmt: skip


# -- a Darwin Core Archive from another tool ----------------------------------------------------
DWC = "http://rs.tdwg.org/dwc/terms/"


def _foreign_meta(location: str, *, delimiter: str, quote: str, occurrence_id: bool) -> str:
    """A meta.xml as another tool writes it: columns in its own order, an unmapped column (7),
    defaults for terms that are no column (countryCode, geodeticDatum) and for blank cells of
    one that is (basisOfRecord)."""
    fields = [
        ("1", "decimalLongitude", None),
        ("2", "eventDate", None),
        ("3", "decimalLatitude", None),
        ("4", "scientificName", None),
        ("5", "basisOfRecord", "PreservedSpecimen"),
        ("6", "family", None),
        ("8", "kingdom", None),
        ("9", "recordedBy", None),
        ("10", "individualCount", None),
        ("11", "locality", None),
        (None, "countryCode", "VN"),
        (None, "geodeticDatum", "WGS84"),
    ]
    if occurrence_id:
        fields.insert(0, ("0", "occurrenceID", None))
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<archive xmlns="http://rs.tdwg.org/dwc/text/" metadata="eml.xml">',
        f'  <core encoding="UTF-8" fieldsTerminatedBy="{delimiter}" linesTerminatedBy="\\n" '
        f'fieldsEnclosedBy="{quote}" ignoreHeaderLines="1" rowType="{DWC}Occurrence">',
        f"    <files><location>{location}</location></files>",
        '    <id index="0"/>',
    ]
    for index, term, default in fields:
        attributes = f' index="{index}"' if index is not None else ""
        attributes += f' term="{DWC}{term}"'
        attributes += f' default="{default}"' if default is not None else ""
        lines.append(f"    <field{attributes}/>")
    lines += ["  </core>", "</archive>"]
    return "\n".join(lines)


#: the museum's header line: names of its own database, none a Darwin Core term
FOREIGN_HEADER = [
    "Số hiệu mẫu", "Kinh độ (WGS84)", "Thời gian thu", "Vĩ độ (WGS84)", "Tên loài",
    "Dạng mẫu", "Họ", "Tủ lưu", "Giới", "Người thu", "SL", "Nơi thu",
]  # fmt: skip


@pytest.mark.parametrize(
    ("dialect", "layout", "occurrence_id"),
    [
        ("tab", "top", True),
        ("comma-quoted", "top", True),
        ("tab", "folder", True),
        ("tab", "top", False),
    ],
    ids=["tab", "comma-quoted", "zipped-folder", "core-id-only"],
)
def test_foreign_darwin_core_archive(
    conn, tmp_path: Path, dialect: str, layout: str, occurrence_id: bool
) -> None:
    species = _species(conn, 2)
    ranks = classification(conn, pd.Series([taxon_id for taxon_id, _ in species]))
    family = [ranks.family.iloc[i] for i in range(2)]
    kingdom = [ranks.kingdom.iloc[i] for i in range(2)]
    assert all(family) and all(kingdom)
    records = [
        # id, lon, date, lat, name, basis (blank: the default), family, cabinet, kingdom, by,
        # count, locality
        ["VNMN:FMT-0001", "105.8542", "2019-06-12", "21.0285", species[0][1], "",
         family[0], "T3", kingdom[0], "Đặng Huy Huỳnh", "2", "Ba Vì, Hà Nội"],
        ["VNMN:FMT-0002", "108.2208", "2020-03", "16.0544", species[1][1], "HumanObservation",
         family[1], "", kingdom[1], "", "", "Sơn Trà, Đà Nẵng"],
        ["VNMN:FMT-0003", "103.8438", "2018-11-02/2018-11-05", "22.3364", species[0][1], "",
         family[0], "T7", kingdom[0], "Phạm Văn Lực", "5", "Sa Pa, Lào Cai"],
    ]  # fmt: skip
    if dialect == "tab":
        delimiter, quote = "\\t", ""
        text = "\n".join("\t".join(r) for r in [FOREIGN_HEADER, *records]) + "\n"
    else:
        delimiter, quote = ",", "&quot;"
        text = "\n".join(",".join(f'"{v}"' for v in r) for r in [FOREIGN_HEADER, *records])
        text += "\n"
    folder = tmp_path / "dwca"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "mau_vat.txt").write_text(text, encoding="utf-8")
    (folder / "meta.xml").write_text(
        _foreign_meta(
            "data/mau_vat.txt", delimiter=delimiter, quote=quote, occurrence_id=occurrence_id
        ),
        encoding="utf-8",
    )
    (folder / "eml.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><eml:eml xmlns:eml="eml://ecoinformatics.org/'
        'eml-2.1.1" packageId="fmt" system="test"><dataset><title>Mẫu vật</title>'
        "<creator><organizationName>Bảo tàng Thiên nhiên Việt Nam</organizationName></creator>"
        "</dataset></eml:eml>",
        encoding="utf-8",
    )
    archive = tmp_path / "vnmn-dwca.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(folder.rglob("*")):
            if part.is_file():
                prefix = "vnmn-dwca/" if layout == "folder" else ""
                zf.write(part, prefix + part.relative_to(folder).as_posix())
    report = ingest(conn, "occurrences", archive)
    assert report.written, report.summary()
    assert not report.rows_with(REJECTED), report.summary()
    assert (report.n_read, report.n_inserted, report.n_updated) == (3, 3, 0)
    assert report.columns["longitude"] == "decimalLongitude"
    assert report.columns["geodetic_datum"] == "geodeticDatum"
    assert _stored_occurrences(conn, "VNMN:FMT-") == [
        ("VNMN:FMT-0001", species[0][0], "PreservedSpecimen", dt.date(2019, 6, 12), None,
         "Đặng Huy Huỳnh", 2, None, "Ba Vì, Hà Nội", None, 105.8542, 21.0285),
        ("VNMN:FMT-0002", species[1][0], "HumanObservation", dt.date(2020, 3, 1),
         dt.date(2020, 3, 31), None, None, None, "Sơn Trà, Đà Nẵng", None, 108.2208, 16.0544),
        ("VNMN:FMT-0003", species[0][0], "PreservedSpecimen", dt.date(2018, 11, 2),
         dt.date(2018, 11, 5), "Phạm Văn Lực", 5, None, "Sa Pa, Lào Cai", None, 103.8438,
         22.3364),
    ]  # fmt: skip
    # geodeticDatum came from its default: no CRS was assumed
    assert report.source_crs and "4326" in report.source_crs
    assert not [i for i in report.issues if i.field == "crs"], report.summary()


# -- the XML of our own archives ----------------------------------------------------------------
TEXT_NS = "{http://rs.tdwg.org/dwc/text/}"
EML_NS = "{eml://ecoinformatics.org/eml-2.1.1}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: the order EML 2.1.1 (eml-dataset.xsd) gives the children of <dataset> that we write
EML_DATASET_ORDER = (
    "alternateIdentifier", "shortName", "title", "creator", "metadataProvider",
    "associatedParty", "pubDate", "language", "series", "abstract", "keywordSet",
    "additionalInfo", "intellectualRights", "distribution", "coverage", "purpose",
    "maintenance", "contact", "publisher", "pubPlace", "methods", "project",
)  # fmt: skip


def _party_named(element: ET.Element | None) -> bool:
    """An EML responsible party names a person, an organisation or a position."""
    return element is not None and any(
        (element.findtext(tag) or "").strip()
        or (tag == "individualName" and (element.findtext(f"{tag}/surName") or "").strip())
        for tag in ("individualName", "organizationName", "positionName")
    )


def test_own_archive_meta_and_eml_xml(conn, tmp_path: Path) -> None:
    # a locality with quotes: meta.xml declares no quoting, so the text must be as it is
    quoted = 'Hang "Cá", bản Tà Xùa'
    occurrence_id = conn.execute(
        sa.text(
            "UPDATE occurrences SET locality = :l WHERE id = (SELECT id FROM occurrences "
            "WHERE review_status = 'published' AND ST_Intersects(geom, "
            "ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)) ORDER BY id LIMIT 1) "
            "RETURNING occurrence_id"
        ),
        {"l": quoted, **dict(zip(("x0", "y0", "x1", "y1"), NORTH, strict=True))},
    ).scalar_one()
    path = tmp_path / "occurrences.zip"
    n = export_layer(
        conn, "occurrences", "dwca", path, ExportFilters(bbox_4326=NORTH), audience=EXACT
    )
    assert n > 0
    with zipfile.ZipFile(path) as zf:
        meta = ET.fromstring(zf.read("meta.xml"))
        eml = ET.fromstring(zf.read("eml.xml"))
        lines = zf.read("occurrence.txt").decode("utf-8").split("\n")
    # meta.xml: the core and how its file is written
    assert meta.tag == f"{TEXT_NS}archive" and meta.get("metadata") == "eml.xml"
    core = meta.find(f"{TEXT_NS}core")
    assert core is not None
    assert core.get("rowType") == DWC + "Occurrence"
    assert core.get("ignoreHeaderLines") == "1"
    assert core.get("encoding") == "UTF-8"
    assert core.findtext(f"{TEXT_NS}files/{TEXT_NS}location") == "occurrence.txt"
    delimiter = core.get("fieldsTerminatedBy", ",").replace("\\t", "\t")
    assert delimiter == "\t" and core.get("fieldsEnclosedBy") == ""
    # the file as meta.xml describes it: split on the delimiter, no quoting
    assert lines[-1] == "", "occurrence.txt ends with a line break"
    header, *rows = [line.split(delimiter) for line in lines[:-1]]
    assert len(rows) == n
    assert {len(row) for row in rows} == {len(header)}
    ids = core.findall(f"{TEXT_NS}id")
    assert [i.get("index") for i in ids] == ["0"]
    assert header[0] == "occurrenceID"
    assert len({row[0] for row in rows}) == n, "the core id is unique"
    fields = core.findall(f"{TEXT_NS}field")
    indexes = [int(f.get("index", "-1")) for f in fields]
    assert sorted(indexes) == list(range(len(header))), "every column is described once"
    for field in fields:
        term = field.get("term", "")
        assert term.startswith(DWC), term
        assert header[int(field.get("index", "-1"))] == term.removeprefix(DWC)
    # the quoted locality, as written
    column = header.index("locality")
    (row,) = [r for r in rows if r[0] == occurrence_id]
    assert row[column] == quoted
    # eml.xml: EML 2.1.1 with a title, a creator and a contact
    assert eml.tag == f"{EML_NS}eml"
    assert eml.get("packageId") and eml.get("system")
    dataset = eml.find("dataset")
    assert dataset is not None
    titles = {t.get(XML_LANG): (t.text or "").strip() for t in dataset.findall("title")}
    assert titles.get("en") and titles.get("vi")
    assert _party_named(dataset.find("creator"))
    assert _party_named(dataset.find("contact"))
    assert dt.date.fromisoformat(dataset.findtext("pubDate") or "")
    order = [EML_DATASET_ORDER.index(child.tag) for child in dataset]
    assert order == sorted(order), [child.tag for child in dataset]
    # the bounding box covers the points
    box = dataset.find("coverage/geographicCoverage/boundingCoordinates")
    assert box is not None
    lat = [float(r[header.index("decimalLatitude")]) for r in rows]
    lon = [float(r[header.index("decimalLongitude")]) for r in rows]
    assert float(box.findtext("westBoundingCoordinate") or "nan") <= min(lon) + 1e-6
    assert float(box.findtext("eastBoundingCoordinate") or "nan") >= max(lon) - 1e-6
    assert float(box.findtext("southBoundingCoordinate") or "nan") <= min(lat) + 1e-6
    assert float(box.findtext("northBoundingCoordinate") or "nan") >= max(lat) - 1e-6
    # and the archive loads back as it was, the quoted locality included
    report = ingest(conn, "occurrences", path)
    assert report.ok, report.summary()
    assert (report.n_inserted, report.n_updated, report.n_unchanged) == (0, 0, n)


def test_empty_archive_eml_has_no_empty_coverage(conn, tmp_path: Path) -> None:
    """EML requires a <coverage> to hold a geographic, temporal or taxonomic coverage: an
    export that matches nothing leaves it out rather than writing it empty."""
    path = tmp_path / "none.zip"
    sea = (111.0, 8.0, 111.1, 8.1)  # open sea east of the Spratlys' shelf: no records
    n = export_layer(
        conn, "occurrences", "dwca", path, ExportFilters(bbox_4326=sea), audience=EXACT
    )
    assert n == 0
    with zipfile.ZipFile(path) as zf:
        dataset = ET.fromstring(zf.read("eml.xml")).find("dataset")
        header = zf.read("occurrence.txt").decode("utf-8").split("\n")[0]
    assert dataset is not None
    for coverage in dataset.findall("coverage"):
        assert len(coverage), "an empty <coverage> is not valid EML"
    assert header.split("\t")[0] == "occurrenceID"
