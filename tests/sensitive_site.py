"""A site with a sensitive record, for the tests that try to find its exact spot: committed
(the application and ``ensure_current`` read through their own connections) and removed after
the module that uses it.

``Testus secretus`` (IUCN CR: a 10 km level) has one published record at ``exact``, 1.5 km
from the south-west corner of its 10 km cell of the equal-area grid, so about 5 km from the
centre (``generalised``) where the public sees it. Around each point lies a 1 km square test
protected area (``PA-TEST-EXACT``, ``PA-TEST-GENERAL``), neither of which holds the other
point. Beside the exact point: a published record of ``Testus communis`` (no status: exact for
everyone, the control) and a draft of ``Testus draftus`` (in no answer, for no one), inside a
draft protected area ``PA-TEST-DRAFT`` (the same square as ``PA-TEST-EXACT``: in no answer
either).
The three species are of the class ``Testida`` (``class=Testida`` narrows a question to them).
Coordinates carry many decimals, so that a search of an answer's or a file's text for them
means something.

A test module takes the fixtures as module attributes: ``site = sensitive_site.site``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from pyproj import Transformer
from shapely.geometry import Polygon, box

from tests.conftest import make_token

TO_EQUAL_AREA = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
FROM_EQUAL_AREA = Transformer.from_crs("EPSG:6933", "EPSG:4326", always_xy=True)
#: the grid cell (10 km) the site is in: near Cúc Phương, Ninh Bình
NEAR = (105.62, 20.31)
LEVEL_KM = 10
PREFIX = "sensitive-site:"
#: the class of the test species
CLASS = "Testida"


@dataclass(frozen=True)
class Site:
    exact: tuple[float, float]
    generalised: tuple[float, float]
    #: the ids of the taxa and records
    secret_taxon: int
    common_taxon: int
    draft_taxon: int
    secret: int
    common: int
    draft: int

    def square(self, centre: tuple[float, float], half_m: float) -> Polygon:
        """A square of ``2 * half_m`` metres (equal-area) around ``centre``, in lon/lat."""
        x, y = TO_EQUAL_AREA.transform(*centre)
        corners = [(x - half_m, y - half_m), (x + half_m, y - half_m), (x + half_m, y + half_m),
                   (x - half_m, y + half_m)]  # fmt: skip
        return Polygon([FROM_EQUAL_AREA.transform(cx, cy) for cx, cy in corners])

    def tiny(self) -> Polygon:
        """A 200 m square around the exact point: what an attacker draws."""
        return self.square(self.exact, 100)

    def exact_texts(self) -> list[bytes]:
        """The exact coordinates as a file could hold them: decimal text to 5-15 places (1 m
        and finer: an answer may echo the asker's own polygon, 100 m off), and the little- and
        big-endian doubles of WKB (GeoPackage, Shapefile)."""
        texts = []
        for value in self.exact:
            for places in range(5, 16):
                texts.append(f"{value:.{places}f}".rstrip("0").encode())
            texts.append(repr(value).encode())
            texts += [struct.pack("<d", value), struct.pack(">d", value)]
        return texts


def _cell_points() -> tuple[tuple[float, float], tuple[float, float]]:
    x, y = TO_EQUAL_AREA.transform(*NEAR)
    size = LEVEL_KM * 1000.0
    x0, y0 = math.floor(x / size) * size, math.floor(y / size) * size
    exact = FROM_EQUAL_AREA.transform(x0 + 1500.3791, y0 + 1500.8117)
    generalised = FROM_EQUAL_AREA.transform(x0 + size / 2, y0 + size / 2)
    return exact, generalised


def _taxon(
    conn, name: str, statuses: list[tuple[str, str]], rank: str = "species", parent=None
) -> int:  # type: ignore[no-untyped-def]
    taxon = conn.execute(
        sa.text(
            "INSERT INTO taxa (rank, scientific_name, taxonomic_status, parent_id) "
            "VALUES (:r, :n, 'accepted', :p) RETURNING id"
        ),
        {"r": rank, "n": name, "p": parent},
    ).scalar_one()
    for list_name, category in statuses:
        conn.execute(
            sa.text("INSERT INTO taxon_statuses (taxon_id, list, category) VALUES (:t, :l, :c)"),
            {"t": taxon, "l": list_name, "c": category},
        )
    return int(taxon)


def _record(conn, key: str, taxon: int, point: tuple[float, float], status: str) -> int:  # type: ignore[no-untyped-def]
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, event_date, "
                "geom, locality, occurrence_remarks, coordinate_uncertainty_m, review_status) "
                "VALUES (:o, :t, 'HumanObservation', '2023-04-05', "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'hang đá vôi sau trạm kiểm lâm', "
                "'tổ trên vách đá', 25, :s) RETURNING id"
            ),
            {"o": PREFIX + key, "t": taxon, "x": point[0], "y": point[1], "s": status},
        ).scalar_one()
    )


def _protected_area(conn, code: str, outline: Polygon, status: str = "published") -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        sa.text(
            "INSERT INTO protected_areas (code, name_vi, name_en, legal_category, iucn_category, "
            "status, geom, review_status) VALUES (:c, 'Khu thử nghiệm', 'Test area', "
            "'nature_reserve', 'Ia', 'designated', ST_Multi(ST_GeomFromText(:g, 4326)), :s)"
        ),
        {"c": code, "g": outline.wkt, "s": status},
    )


def remove_site(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE :p"), {"p": PREFIX + "%"}
        )
        conn.execute(sa.text("DELETE FROM protected_areas WHERE code LIKE 'PA-TEST-%'"))
        names = ["Testus secretus", "Testus communis", "Testus draftus"]
        conn.execute(
            sa.text(
                "DELETE FROM taxon_statuses WHERE taxon_id IN "
                "(SELECT id FROM taxa WHERE scientific_name = ANY(:n))"
            ),
            {"n": names},
        )
        conn.execute(sa.text("DELETE FROM taxa WHERE scientific_name = ANY(:n)"), {"n": names})
        conn.execute(sa.text("DELETE FROM taxa WHERE scientific_name = :n"), {"n": CLASS})


@pytest.fixture(scope="module")
def site(engine) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    from vbis_geo.analysis.assignment import ensure_current

    exact, generalised = _cell_points()
    remove_site(engine)  # a run stopped half-way may have left it
    with engine.begin() as conn:
        group = _taxon(conn, CLASS, [], rank="class")
        secret_taxon = _taxon(conn, "Testus secretus", [("iucn_red_list", "CR")], parent=group)
        common_taxon = _taxon(conn, "Testus communis", [], parent=group)
        draft_taxon = _taxon(conn, "Testus draftus", [], parent=group)
        secret = _record(conn, "secret", secret_taxon, exact, "published")
        near = FROM_EQUAL_AREA.transform(*(v + 40.0 for v in TO_EQUAL_AREA.transform(*exact)))
        common = _record(conn, "common", common_taxon, near, "published")
        draft = _record(conn, "draft", draft_taxon, exact, "draft")
        made = Site(exact, generalised, secret_taxon, common_taxon, draft_taxon, secret, common,
                    draft)  # fmt: skip
        _protected_area(conn, "PA-TEST-EXACT", made.square(exact, 500))
        _protected_area(conn, "PA-TEST-GENERAL", made.square(generalised, 500))
        _protected_area(conn, "PA-TEST-DRAFT", made.square(exact, 500), "draft")
    try:
        ensure_current(engine, counts=True)
        with engine.connect() as conn:  # the site is as this module's tests expect
            level = conn.execute(
                sa.text("SELECT level_km FROM publish.occurrence_public WHERE id = :i"),
                {"i": secret},
            ).scalar_one()
            assert level == LEVEL_KM
            assert not made.square(exact, 500).intersects(box(*generalised, *generalised))
        yield made
    finally:
        remove_site(engine)


def _account(engine, username: str, role: str, grants=()) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from vbis_geo.auth.store import create_account

    with engine.begin() as conn:
        account = create_account(conn, username, role=role, grants=grants)
    return {"Authorization": f"Bearer {make_token(engine, account.id, 'audience tests')}"}


@pytest.fixture(scope="module")
def headers(engine) -> Iterator[dict[str, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """The request headers of each kind of asker: ``public`` (none), ``admin`` (exact),
    ``expert`` (no right to exact locations: the public's view), ``trusted`` (an expert granted
    exact locations); the accounts are removed after the module."""
    from vbis_geo.auth.store import Grant

    names = ["audience-admin", "audience-expert", "audience-trusted"]
    try:
        yield {
            "public": {},
            "admin": _account(engine, names[0], "national_admin"),
            "expert": _account(engine, names[1], "expert"),
            "trusted": _account(engine, names[2], "expert", [Grant("exact_locations")]),
        }
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("DELETE FROM auth.accounts WHERE username = ANY(:n)"), {"n": names}
            )


#: which of the askers see exact locations
SEES_EXACT = {"public": False, "admin": True, "expert": False, "trusted": True}
