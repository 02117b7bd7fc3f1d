"""Checklists into the taxonomy backbone: names, tree, synonyms and status lists."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.ingest.helpers import counts, ingest

pytestmark = pytest.mark.db

ROWS = [
    # a species already in the backbone, with Vietnamese column names and statuses
    {
        "ten_khoa_hoc": "Nomascus annamensis Thinh, Mootnick, Thanh, Nadler & Roos, 2010",
        "bac": "loài",
        "gioi": "Animalia",
        "nganh": "Chordata",
        "lop": "Mammalia",
        "bo": "Primates",
        "ho": "Hylobatidae",
        "chi": "Nomascus",
        "ten_tieng_viet": "Vượn má vàng phía nam",
        "sach_do_viet_nam": "",
        "iucn": "EN",
        "nd64": "x",
        "dac_huu": "không",
    },
    # an existing species: its vernacular name and one status updated
    {
        "ten_khoa_hoc": "Panthera tigris",
        "bac": "loài",
        "gioi": "Animalia",
        "nganh": "Chordata",
        "lop": "Mammalia",
        "bo": "Carnivora",
        "ho": "Felidae",
        "chi": "Panthera",
        "ten_tieng_viet": "Hổ Đông Dương",
        "iucn": "EN",
    },
    # a subspecies whose parent is the species above, by name
    {
        "ten_khoa_hoc": "Panthera tigris corbetti",
        "bac": "phân loài",
        "ten_bac_tren": "Panthera tigris",
        "ten_tieng_viet": "Hổ Đông Dương",
        "gioi": "Animalia",
    },
    # a species whose whole classification the backbone lacks (the mosquito of the Aedes data)
    {
        "ten_khoa_hoc": "Aedes aegypti (Linnaeus, 1762)",
        "bac": "loài",
        "gioi": "Animalia",
        "nganh": "Arthropoda",
        "lop": "Insecta",
        "bo": "Diptera",
        "ho": "Culicidae",
        "chi": "Aedes",
        "ten_tieng_viet": "Muỗi vằn",
    },
    # a synonym of the first species, listed in the same file
    {
        "ten_khoa_hoc": "Hylobates annamensis",
        "bac": "loài",
        "tinh_trang_danh_phap": "đồng nghĩa",
        "ten_chap_nhan": "Nomascus annamensis",
        "gioi": "Animalia",
    },
]


def write(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "danh_luc.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def taxon(conn, name: str):  # type: ignore[no-untyped-def]
    return conn.execute(
        sa.text(
            "SELECT t.*, p.scientific_name AS parent, a.scientific_name AS accepted FROM taxa t "
            "LEFT JOIN taxa p ON p.id = t.parent_id LEFT JOIN taxa a ON a.id = t.accepted_id "
            "WHERE t.scientific_name = :n"
        ),
        {"n": name},
    ).one()


def statuses(conn, name: str) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    return dict(
        conn.execute(
            sa.text(
                "SELECT s.list, s.category FROM taxon_statuses s JOIN taxa t ON t.id = s.taxon_id "
                "WHERE t.scientific_name = :n AND t.rank = 'species'"
            ),
            {"n": name},
        ).all()
    )


def test_checklist_loads_tree_synonyms_and_statuses(conn, tmp_path: Path) -> None:
    tiger_before = statuses(conn, "Panthera tigris")
    gibbon_before = statuses(conn, "Nomascus annamensis")
    lacking = "('Aedes', 'Culicidae')"
    assert not conn.execute(
        sa.text(f"SELECT count(*) FROM taxa WHERE scientific_name IN {lacking}")  # noqa: S608
    ).scalar_one()
    report = ingest(conn, "taxa", write(tmp_path, ROWS))
    assert report.written and report.ok, report.summary()
    gibbon = taxon(conn, "Nomascus annamensis")
    assert gibbon.rank == "species" and gibbon.parent == "Nomascus"
    assert gibbon.vernacular_name_vi == "Vượn má vàng phía nam"
    expected = {**gibbon_before, "iucn_red_list": "EN", "priority_protected": None}
    assert statuses(conn, "Nomascus annamensis") == expected
    # the classification the backbone lacked was added, each level under the one above
    mosquito = taxon(conn, "Aedes aegypti")
    assert mosquito.parent == "Aedes" and mosquito.vernacular_name_vi == "Muỗi vằn"
    chain = ["Aedes", "Culicidae", "Diptera", "Insecta", "Arthropoda", "Animalia"]
    assert [taxon(conn, child).parent for child in chain[:-1]] == chain[1:]
    tiger = taxon(conn, "Panthera tigris")
    assert tiger.vernacular_name_vi == "Hổ Đông Dương"
    assert statuses(conn, "Panthera tigris") == {**tiger_before, "iucn_red_list": "EN"}
    sub = taxon(conn, "Panthera tigris corbetti")
    assert sub.rank == "subspecies" and sub.parent == "Panthera tigris"
    synonym = taxon(conn, "Hylobates annamensis")
    assert synonym.taxonomic_status == "synonym" and synonym.accepted == "Nomascus annamensis"
    # the same file again: nothing changes
    again = ingest(conn, "taxa", write(tmp_path, ROWS))
    assert (again.n_inserted, again.n_updated) == (0, 0) and again.n_unchanged == len(ROWS)


def test_bad_checklist_rows_are_rejected(conn, tmp_path: Path) -> None:
    rows = [
        {**ROWS[0], "iucn": "Endangered"},
        {**ROWS[4], "ten_chap_nhan": ""},
        {**ROWS[1], "bac": "loai phu"},
    ]
    before = counts(conn)
    report = ingest(conn, "taxa", write(tmp_path, rows))
    assert not report.written and counts(conn) == before
    rejected = {(i.row, i.field) for i in report.issues if i.action == "rejected"}
    assert rejected == {(2, "iucn_red_list"), (3, "accepted_name"), (4, "rank")}
