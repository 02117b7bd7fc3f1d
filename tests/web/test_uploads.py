"""The upload endpoint: the same load as the command, over HTTP, with its limits; uploads by
the scoped roles."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import make_token
from vbis_geo.auth.store import Grant
from vbis_geo.settings import Settings

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def upload_client(test_settings: Settings):  # type: ignore[no-untyped-def]
    from vbis_geo.web import create_app

    settings = dataclasses.replace(test_settings, max_upload_bytes=1024 * 1024)
    app = create_app(settings, mount_ogc=False)
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture
def editor(make_account, engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The Authorization header of a national administrator's API token (everything is in
    its scope; the scoped roles are in test_uploads_scoped.py)."""
    account = make_account("upload-editor", role="national_admin")
    return {"Authorization": f"Bearer {make_token(engine, account.id, 'uploads')}"}


@pytest.fixture
def cleanup(engine) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Uploads that write commit: remove what they wrote."""
    yield
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE 'upload:%'"))
        conn.execute(
            sa.text(
                "DELETE FROM datasets WHERE code LIKE 'ingest:occurrences:%' AND loaded_by LIKE "
                "'%api upload%' AND NOT EXISTS (SELECT 1 FROM occurrences o WHERE o.dataset_id = "
                "datasets.id)"
            )
        )


def sightings_csv(**changes: str) -> bytes:
    frame = pd.DataFrame(
        {
            "occurrenceID": ["upload:1", "upload:2"],
            "scientificName": ["Panthera tigris", "Pygathrix nemaeus"],
            "eventDate": ["2023-04-01", "2023-05"],
            "basisOfRecord": ["HumanObservation", "HumanObservation"],
            "decimalLongitude": ["105.6", "108.3"],
            "decimalLatitude": ["20.3", "16.1"],
        }
    )
    for key, value in changes.items():
        column, row = key.rsplit("_", 1)
        frame.loc[int(row), column] = value
    return frame.to_csv(index=False).encode()


def post(client, data: bytes, name: str = "sightings.csv", headers=None, **form):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/ingest/occurrences",
        data={"file": (io.BytesIO(data), name), **form},
        headers=headers or {},
        content_type="multipart/form-data",
    )


def occurrence_count(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM occurrences WHERE occurrence_id LIKE 'upload:%'")
        ).scalar_one()


def test_dry_run_needs_no_token_and_writes_nothing(upload_client, engine) -> None:  # type: ignore[no-untyped-def]
    response = post(upload_client, sightings_csv(), dry_run="true")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["dry_run"] and not body["written"] and body["counts"]["read"] == 2
    # the report says which column fed which field
    assert body["columns"]["latitude"] == "decimalLatitude"
    assert body["columns"]["scientific_name"] == "scientificName"
    assert occurrence_count(engine) == 0


def test_writing_needs_an_editing_account(upload_client, engine, editor, cleanup) -> None:  # type: ignore[no-untyped-def]
    response = post(upload_client, sightings_csv())
    assert response.status_code == 401 and "needs an account" in response.json["description"]
    wrong = {"Authorization": "Bearer not-the-token"}
    response = post(upload_client, sightings_csv(), headers=wrong)
    assert response.status_code == 401
    assert response.json["description"] == "the API token is not valid"
    # a well-formed token that is not one, and another scheme
    forged = {"Authorization": editor["Authorization"][:-4] + "AAAA"}
    assert post(upload_client, sightings_csv(), headers=forged).status_code == 401
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert post(upload_client, sightings_csv(), headers=basic).status_code == 401
    # a bad token is refused even for a dry run: credentials sent are credentials checked
    assert post(upload_client, sightings_csv(), headers=wrong, dry_run="1").status_code == 401
    assert occurrence_count(engine) == 0
    response = post(upload_client, sightings_csv(), headers=editor)
    assert response.status_code == 200, response.json
    assert response.json["counts"]["inserted"] == 2 and response.json["written"]
    assert occurrence_count(engine) == 2
    with engine.connect() as conn:
        loaded_by = conn.execute(
            sa.text(
                "SELECT d.loaded_by FROM datasets d JOIN occurrences o ON o.dataset_id = d.id "
                "WHERE o.occurrence_id = 'upload:1'"
            )
        ).scalar_one()
    assert loaded_by == "upload-editor (api upload)"


def test_a_deactivated_account_cannot_write(upload_client, engine, editor) -> None:  # type: ignore[no-untyped-def]
    from vbis_geo.auth.store import deactivate

    with engine.begin() as conn:
        deactivate(conn, "upload-editor")
    response = post(upload_client, sightings_csv(), headers=editor)
    assert response.status_code == 401 and "deactivated" in response.json["description"]
    assert occurrence_count(engine) == 0


def test_rejected_rows_come_back_with_the_report(upload_client, engine, editor) -> None:  # type: ignore[no-untyped-def]
    good = editor
    data = sightings_csv(decimalLatitude_1="mười sáu")
    response = post(upload_client, data, headers=good)
    assert response.status_code == 422
    (issue,) = [i for i in response.json["issues"] if i["action"] == "rejected"]
    assert (issue["row"], issue["field"], issue["value"]) == (3, "latitude", "mười sáu")
    assert occurrence_count(engine) == 0
    as_csv = post(upload_client, data, headers={**good, "Accept": "text/csv"})
    assert as_csv.status_code == 422 and as_csv.mimetype == "text/csv"
    assert "3,latitude,rejected,not a number" in as_csv.get_data(as_text=True)


def test_declared_two_gigabytes_is_refused_unread(upload_client) -> None:  # type: ignore[no-untyped-def]
    response = upload_client.post(
        "/api/ingest/occurrences",
        data=b"",
        content_type="multipart/form-data; boundary=x",
        environ_overrides={"CONTENT_LENGTH": str(2 * 1024**3)},
    )
    assert response.status_code == 413
    assert "1,048,576 bytes accepted" in response.json["description"]


def test_file_name_cannot_climb_out(upload_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    response = post(upload_client, sightings_csv(), name="../../../../tmp/evil.csv", dry_run="1")
    assert response.status_code == 200
    assert response.json["source"] == "../../../../tmp/evil.csv"  # reported as sent, stored safely
    response = post(upload_client, b"x", name="../..", dry_run="1")
    assert response.status_code == 400


def test_field_names_never_reach_sql(upload_client) -> None:  # type: ignore[no-untyped-def]
    evil = b'occurrenceID,"scientificName); DROP TABLE taxa; --",decimalLongitude\nupload:9,x,1\n'
    response = post(upload_client, evil, dry_run="1")
    assert response.status_code == 422
    columns = [i for i in response.json["issues"] if i["row"] is None]
    assert any("DROP TABLE" in i["field"] and "not loaded" in i["problem"] for i in columns)


def test_an_upload_that_replaces_rows_keeps_them_with_who_and_why(  # type: ignore[no-untyped-def]
    upload_client, engine, editor, cleanup
) -> None:
    assert post(upload_client, sightings_csv(), headers=editor).status_code == 200
    changed = sightings_csv(eventDate_0="2024-01-15")
    response = post(upload_client, changed, name="corrected.csv", headers=editor)
    assert response.status_code == 200 and response.json["counts"]["updated"] == 1
    with engine.connect() as conn:
        kept = conn.execute(
            sa.text(
                "SELECT h.event_date, h.change_kind, h.change_reason, a.username "
                "FROM history.occurrences h JOIN auth.accounts a ON a.id = h.changed_by "
                "WHERE h.occurrence_id = 'upload:1'"
            )
        ).one()
    assert str(kept.event_date) == "2023-04-01" and kept.change_kind == "update"
    assert kept.change_reason == "upload of corrected.csv" and kept.username == "upload-editor"


# -- the scoped roles ----------------------------------------------------------------------------
# Rows out of the account's scope are rejected rows of the report (all or nothing), an expert's
# rows go in as drafts, and a role that does not write a layer gets 403 before its file is read.
# The database checks the same rows again (tests/auth/test_writes.py shows it refusing them when
# the application does not ask).
#: sightings_csv's rows: line 2 lies in Thanh Hóa (VN-21), line 3 in Đà Nẵng (VN-DN)
DA_NANG = "VN-DN / VN34-DA-NANG"


def bearer(engine, account) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {make_token(engine, account.id, 'uploads')}"}


def rejected(response) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    return [
        (i["row"], i["field"], i["problem"])
        for i in response.json["issues"]
        if i["action"] == "rejected"
    ]


def uploaded(engine) -> list[tuple]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT o.occurrence_id, o.review_status, a.username FROM occurrences o "
                    "LEFT JOIN auth.accounts a ON a.id = o.submitted_by "
                    "WHERE o.occurrence_id LIKE 'upload:%' ORDER BY 1"
                )
            )
        ]


def test_a_provincial_editor_loads_its_province_and_not_another(  # type: ignore[no-untyped-def]
    upload_client, engine, make_account, cleanup
) -> None:
    account = make_account(
        "upload-thanh-hoa", role="provincial_editor", grants=[Grant("province", "VN-21")]
    )
    headers = bearer(engine, account)
    out_of_scope = [
        (3, "geometry", f"outside your scope: lies in province {DA_NANG}, you edit VN-21")
    ]
    # the account's dry run reports what its write will: the same rows, the same words
    response = post(upload_client, sightings_csv(), headers=headers, dry_run="1")
    assert response.status_code == 422 and response.json["dry_run"]
    assert rejected(response) == out_of_scope
    response = post(upload_client, sightings_csv(), headers=headers)
    assert response.status_code == 422 and not response.json["written"]
    assert rejected(response) == out_of_scope
    assert occurrence_count(engine) == 0  # all or nothing
    # both rows in Thanh Hóa: loaded, published (an editor publishes what it writes)
    inside = sightings_csv(decimalLongitude_1="105.5", decimalLatitude_1="19.9")
    response = post(upload_client, inside, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["counts"]["inserted"] == 2
    assert uploaded(engine) == [
        ("upload:1", "published", "upload-thanh-hoa"),
        ("upload:2", "published", "upload-thanh-hoa"),
    ]
    with engine.connect() as conn:
        loaded_by = conn.execute(
            sa.text(
                "SELECT DISTINCT d.loaded_by FROM datasets d JOIN occurrences o "
                "ON o.dataset_id = d.id WHERE o.occurrence_id LIKE 'upload:%'"
            )
        ).scalar_one()
    assert loaded_by == "upload-thanh-hoa (api upload)"


def test_skip_rejected_loads_the_rows_in_scope(  # type: ignore[no-untyped-def]
    upload_client, engine, make_account, cleanup
) -> None:
    account = make_account(
        "upload-skip", role="provincial_editor", grants=[Grant("province", "VN34-THANH-HOA")]
    )
    response = post(
        upload_client, sightings_csv(), headers=bearer(engine, account), skip_rejected="1"
    )
    assert response.status_code == 200 and response.json["written"]
    assert response.json["counts"]["inserted"] == 1
    assert [r[0] for r in uploaded(engine)] == ["upload:1"]


def test_an_upload_cannot_replace_a_row_out_of_scope(  # type: ignore[no-untyped-def]
    upload_client, engine, make_account, cleanup
) -> None:
    admin = make_account("upload-admin", role="national_admin")
    assert post(upload_client, sightings_csv(), headers=bearer(engine, admin)).status_code == 200
    editor = make_account(
        "upload-mover", role="provincial_editor", grants=[Grant("province", "VN-21")]
    )
    # the Đà Nẵng record, "moved" into Thanh Hóa by an editor of Thanh Hóa
    moved = sightings_csv(decimalLongitude_1="105.5", decimalLatitude_1="19.9")
    response = post(upload_client, moved, headers=bearer(engine, editor))
    assert response.status_code == 422
    assert rejected(response) == [
        (
            3,
            "geometry",
            "outside your scope: the existing occurrences row it would replace lies in "
            f"province {DA_NANG}, you edit VN-21",
        )
    ]
    with engine.connect() as conn:
        lon = conn.execute(
            sa.text("SELECT ST_X(geom) FROM occurrences WHERE occurrence_id = 'upload:2'")
        ).scalar_one()
    assert lon == pytest.approx(108.3)


def test_an_expert_uploads_drafts_of_its_group_only(  # type: ignore[no-untyped-def]
    upload_client, engine, make_account, cleanup
) -> None:
    expert = make_account("upload-primates", role="expert", grants=[Grant("taxon", "Primates")])
    headers = bearer(engine, expert)
    response = post(upload_client, sightings_csv(), headers=headers)
    assert response.status_code == 422
    assert rejected(response) == [
        (
            2,
            "scientific_name",
            "outside your scope: Panthera tigris is not in your taxa (Primates)",
        )
    ]
    assert occurrence_count(engine) == 0
    primates = sightings_csv(scientificName_0="Pygathrix nemaeus")
    response = post(upload_client, primates, headers=headers)
    assert response.status_code == 200, response.json
    assert uploaded(engine) == [
        ("upload:1", "draft", "upload-primates"),
        ("upload:2", "draft", "upload-primates"),
    ]
    from vbis_geo.analysis.assignment import ensure_current

    ensure_current(engine)  # as every reader of the public view does first
    with engine.connect() as conn:
        public = conn.execute(
            sa.text(
                "SELECT count(*) FROM publish.public_occurrences "
                "WHERE occurrence_id LIKE 'upload:%'"
            )
        ).scalar_one()
    assert public == 0  # drafts are not published


def test_a_role_that_does_not_write_a_layer_is_refused_before_reading(  # type: ignore[no-untyped-def]
    upload_client, engine, make_account
) -> None:
    expert = make_account("upload-areas", role="expert", grants=[Grant("taxon", "Primates")])
    response = upload_client.post(
        "/api/ingest/protected_areas",
        data={"file": (io.BytesIO(b"not read"), "areas.csv")},
        headers=bearer(engine, expert),
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert "does not write protected_areas" in response.json["description"]
    editor = make_account(
        "upload-add-taxa", role="provincial_editor", grants=[Grant("province", "VN-21")]
    )
    response = post(upload_client, sightings_csv(), headers=bearer(engine, editor), add_taxa="1")
    assert response.status_code == 403 and "taxonomy backbone" in response.json["description"]
    # validating is anyone's; an account's dry run says what its write would be told
    inside = sightings_csv(decimalLongitude_1="105.5", decimalLatitude_1="19.9")
    response = post(upload_client, inside, headers=bearer(engine, editor), dry_run="1")
    assert response.status_code == 200 and rejected(response) == []
    response = post(
        upload_client, inside, headers=bearer(engine, editor), dry_run="1", add_taxa="1"
    )
    assert response.status_code == 422
    ((row, field, problem),) = rejected(response)
    assert (row, field) == (None, "file") and problem.startswith("a write would be refused: ")
    assert "taxonomy backbone" in problem
    assert occurrence_count(engine) == 0
