"""Darwin Core Archives (https://dwc.tdwg.org/text/): ``meta.xml`` describing a tab-delimited
``occurrence.txt`` core, and ``eml.xml`` (EML 2.1.1, the metadata profile GBIF's IPT writes).

An archive for the public (:func:`vbis_geo.export.files.read_layer`) says of each sensitive
record what was done to it, as GBIF's guidance on sensitive data asks: ``dataGeneralizations``
(the cell its coordinates were moved to the centre of), ``informationWithheld`` (locality and
remarks) and ``coordinateUncertaintyInMeters`` covering the cell; ``eml.xml`` says it of the
whole dataset."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo import __version__
from vbis_geo.analysis.access import Audience
from vbis_geo.db.base import EQUAL_AREA_SRID
from vbis_geo.export.files import ExportFilters, _occurrence_columns

DWC = "http://rs.tdwg.org/dwc/terms/"
TEXT_NS = "http://rs.tdwg.org/dwc/text/"
#: Columns of occurrence.txt, in order (the first is the core id)
CORE_TERMS = (
    "occurrenceID",
    "basisOfRecord",
    "eventDate",
    "scientificName",
    "scientificNameAuthorship",
    "taxonRank",
    "kingdom",
    "phylum",
    "class",
    "order",
    "family",
    "genus",
    "vernacularName",
    "recordedBy",
    "individualCount",
    "locality",
    "occurrenceRemarks",
    "decimalLatitude",
    "decimalLongitude",
    "geodeticDatum",
    "coordinateUncertaintyInMeters",
    "countryCode",
    "dataGeneralizations",
    "informationWithheld",
)


def write_dwca(
    conn: Connection,
    frame: gpd.GeoDataFrame,
    out: Path,
    filters: ExportFilters,
    *,
    audience: Audience = Audience.PUBLIC,
) -> None:
    """Write ``frame`` (occurrences as :func:`read_layer` gives them for ``audience``) as a
    DwC-A zip at ``out``."""
    table = pd.DataFrame(
        _occurrence_columns(frame).drop(columns=["geometry", "generalised_km"], errors="ignore")
    )
    table["decimalLongitude"] = shapely.get_x(frame.geometry.values)
    table["decimalLatitude"] = shapely.get_y(frame.geometry.values)
    table["geodeticDatum"] = "EPSG:4326"
    table["countryCode"] = "VN"
    for term in ("dataGeneralizations", "informationWithheld"):  # the public's: read_layer's
        if term not in table:
            table[term] = ""
    table = _clean(table[list(CORE_TERMS)])
    generalised = int((frame["generalised_km"] > 0).sum()) if "generalised_km" in frame else 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        # meta.xml declares no quoting: a value is written as it is (a '"' not doubled)
        text = table.to_csv(sep="\t", index=False, lineterminator="\n", quoting=csv.QUOTE_NONE)
        zf.writestr("occurrence.txt", text)
        zf.writestr("meta.xml", meta_xml())
        zf.writestr("eml.xml", eml_xml(conn, frame, filters, audience, generalised))


def _clean(table: pd.DataFrame) -> pd.DataFrame:
    """Tabs and line breaks inside values would split rows (meta.xml declares no quoting)."""
    return table.map(
        lambda v: (
            v.replace("\t", " ").replace("\r", " ").replace("\n", " ") if isinstance(v, str) else v
        )
    )


def meta_xml() -> str:
    """The archive descriptor: occurrence.txt, UTF-8, tab-separated, one header line."""
    ET.register_namespace("", TEXT_NS)
    archive = ET.Element(f"{{{TEXT_NS}}}archive", {"metadata": "eml.xml"})
    core = ET.SubElement(
        archive,
        f"{{{TEXT_NS}}}core",
        {
            "encoding": "UTF-8",
            "fieldsTerminatedBy": "\\t",
            "linesTerminatedBy": "\\n",
            "fieldsEnclosedBy": "",
            "ignoreHeaderLines": "1",
            "rowType": DWC + "Occurrence",
        },
    )
    files = ET.SubElement(core, f"{{{TEXT_NS}}}files")
    ET.SubElement(files, f"{{{TEXT_NS}}}location").text = "occurrence.txt"
    ET.SubElement(core, f"{{{TEXT_NS}}}id", {"index": "0"})
    for index, term in enumerate(CORE_TERMS):
        ET.SubElement(core, f"{{{TEXT_NS}}}field", {"index": str(index), "term": DWC + term})
    return _xml(archive)


def eml_xml(
    conn: Connection,
    frame: gpd.GeoDataFrame,
    filters: ExportFilters,
    audience: Audience = Audience.PUBLIC,
    generalised: int = 0,
) -> str:
    """EML 2.1.1 metadata: title, creator, abstract (with what the public's archive
    generalised), licence, coverage of what was exported."""
    eml_ns = "eml://ecoinformatics.org/eml-2.1.1"
    ET.register_namespace("eml", eml_ns)
    root = ET.Element(
        f"{{{eml_ns}}}eml",
        {
            "packageId": f"vbis-geo-export-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}",
            "system": "vbis-geo",
            "xml:lang": "vi",
        },
    )
    dataset = ET.SubElement(root, "dataset")
    ET.SubElement(
        dataset, "title", {"xml:lang": "vi"}
    ).text = "Dữ liệu phân bố loài - Hệ thống thông tin đa dạng sinh học quốc gia"
    ET.SubElement(
        dataset, "title", {"xml:lang": "en"}
    ).text = "Species occurrences - National Biodiversity Information System of Viet Nam"
    creator = ET.SubElement(dataset, "creator")
    ET.SubElement(
        creator, "organizationName"
    ).text = "National Biodiversity Information System (vbis-geo)"
    ET.SubElement(dataset, "pubDate").text = dt.date.today().isoformat()
    ET.SubElement(dataset, "language").text = "vie"
    abstract = ET.SubElement(dataset, "abstract")
    described = ", ".join(f"{k}={v}" for k, v in filters.__dict__.items() if v) or "none"
    summary = f"{len(frame):,} occurrence records exported by vbis-geo {__version__}"
    ET.SubElement(abstract, "para").text = f"{summary}; filters: {described}."
    if audience is Audience.PUBLIC:
        ET.SubElement(abstract, "para").text = (
            "Published records only. The locations of sensitive species are generalised: "
            "each such record is at the centre of its 1, 10 or 25 km cell of an equal-area "
            f"grid (EPSG:{EQUAL_AREA_SRID}), its locality and remarks withheld, as its "
            f"dataGeneralizations and informationWithheld say ({generalised:,} records)."
        )
    else:
        ET.SubElement(abstract, "para").text = (
            "Published records at their exact locations, sensitive species included: not for "
            "publication."
        )
    licences = (
        conn.execute(
            sa.text(
                "SELECT DISTINCT licence FROM datasets WHERE licence IS NOT NULL AND id IN "
                "(SELECT DISTINCT dataset_id FROM occurrences WHERE occurrence_id = ANY(:ids))"
            ),
            {"ids": list(frame["occurrence_id"][:10000])},
        )
        .scalars()
        .all()
    )
    rights = ET.SubElement(ET.SubElement(dataset, "intellectualRights"), "para")
    rights.text = "; ".join(licences) or "See the licence of each source dataset."
    if len(frame):  # EML has no empty <coverage>: it holds at least one kind of coverage
        coverage = ET.SubElement(dataset, "coverage")
        x0, y0, x1, y1 = frame.total_bounds
        geo = ET.SubElement(coverage, "geographicCoverage")
        ET.SubElement(geo, "geographicDescription").text = "Viet Nam"
        box = ET.SubElement(geo, "boundingCoordinates")
        for tag, value in (
            ("westBoundingCoordinate", x0),
            ("eastBoundingCoordinate", x1),
            ("northBoundingCoordinate", y1),
            ("southBoundingCoordinate", y0),
        ):
            ET.SubElement(box, tag).text = f"{value:.6f}"
        dates = pd.to_datetime(frame["event_date"], errors="coerce").dropna()
        if len(dates):
            temporal = ET.SubElement(ET.SubElement(coverage, "temporalCoverage"), "rangeOfDates")
            ET.SubElement(
                ET.SubElement(temporal, "beginDate"), "calendarDate"
            ).text = f"{dates.min():%Y-%m-%d}"
            ET.SubElement(
                ET.SubElement(temporal, "endDate"), "calendarDate"
            ).text = f"{dates.max():%Y-%m-%d}"
    contact = ET.SubElement(dataset, "contact")
    ET.SubElement(
        contact, "organizationName"
    ).text = "National Biodiversity Information System (vbis-geo)"
    return _xml(root)


def _xml(element: ET.Element) -> str:
    buffer = io.BytesIO()
    ET.ElementTree(element).write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue().decode("utf-8")
