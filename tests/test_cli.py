"""The command line: one clear message and a non-zero exit for what the user can fix."""

import os
import subprocess
import sys

import pytest

from tests.conftest import create_database, drop_database

CLI = [sys.executable, "-m", "vbis_geo.cli"]


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


def assert_one_clear_error(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
    for text in expected:
        assert text in result.stderr


def test_unreachable_database():
    result = run_cli("db", "status", VBIS_DATABASE_URL="postgresql://vbis@127.0.0.1:9/vbis")
    assert_one_clear_error(result, "cannot connect to", "127.0.0.1:9", "VBIS_DATABASE_URL")


def test_malformed_url():
    result = run_cli("db", "upgrade", VBIS_DATABASE_URL="mysql://root@localhost/vbis")
    assert_one_clear_error(result, "needs PostgreSQL", "postgresql://USER")


@pytest.mark.db
def test_database_that_does_not_exist(server_url):
    url = server_url.set(database="vbis_no_such_db").render_as_string(hide_password=False)
    result = run_cli("db", "status", VBIS_DATABASE_URL=url)
    assert_one_clear_error(result, "does not exist", "create the database")


@pytest.mark.db
def test_postgis_missing(server_url):
    url = create_database(server_url, "vbis_test_nopostgis")
    try:
        result = run_cli(
            "db", "status", VBIS_DATABASE_URL=url.render_as_string(hide_password=False)
        )
        assert_one_clear_error(result, "has no PostGIS extension", "vbis-geo db upgrade")
    finally:
        drop_database(url)


@pytest.mark.db
def test_upgrade_creates_postgis_and_is_idempotent(server_url):
    url = create_database(server_url, "vbis_test_cli")
    env = {"VBIS_DATABASE_URL": url.render_as_string(hide_password=False)}
    try:
        first = run_cli("db", "upgrade", **env)
        assert first.returncode == 0, first.stderr
        second = run_cli("db", "upgrade", **env)
        assert second.returncode == 0 and "(unchanged)" in second.stdout
        status = run_cli("db", "status", **env)
        assert "PostGIS 3" in status.stdout
    finally:
        drop_database(url)


def test_published_ogc_config_is_current_and_valid():
    result = run_cli("publish", "--check")
    assert result.returncode == 0, result.stderr + result.stdout


def test_ogc_config_validates_against_pygeoapi_schema(monkeypatch):
    from pygeoapi.config import validate_config
    from pygeoapi.util import yaml_load

    from vbis_geo.publish.config import CONFIG_VARIABLES
    from vbis_geo.settings import PROJECT_DIR

    for name in CONFIG_VARIABLES:
        monkeypatch.setenv(name, "5432" if name.endswith("PORT") else "http://h/ogc")
    with (PROJECT_DIR / "ogc_config" / "pygeoapi-config.yml").open(encoding="utf-8") as fh:
        assert validate_config(yaml_load(fh))


@pytest.mark.parametrize("stale_file", ["pygeoapi-config.yml", "openapi.yml"])
def test_stale_ogc_config_is_detected(tmp_path, stale_file):
    from vbis_geo.settings import PROJECT_DIR

    rendered = tmp_path / "ogc_config"
    rendered.mkdir()
    for name in ("pygeoapi-config.yml", "openapi.yml"):
        (rendered / name).write_text(
            (PROJECT_DIR / "ogc_config" / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    assert run_cli("publish", "--check", VBIS_HOME=str(tmp_path)).returncode == 0
    with (rendered / stale_file).open("a", encoding="utf-8") as fh:
        fh.write("# an edit by hand\n")
    result = run_cli("publish", "--check", VBIS_HOME=str(tmp_path))
    assert result.returncode == 1
    assert f"{stale_file} is stale" in result.stderr
    other = ({"pygeoapi-config.yml", "openapi.yml"} - {stale_file}).pop()
    assert f"{other} is stale" not in result.stderr


def _db_env(test_settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"VBIS_DATABASE_URL": test_settings.database_url.render_as_string(hide_password=False)}


@pytest.mark.db
def test_ingest_exit_status_and_report(test_settings, tmp_path):  # type: ignore[no-untyped-def]
    good = tmp_path / "sightings.csv"
    good.write_text(
        "occurrenceID,scientificName,eventDate,basisOfRecord,decimalLongitude,decimalLatitude\n"
        "cli:1,Panthera tigris,2024-01-02,HumanObservation,105.6,20.3\n",
        encoding="utf-8",
    )
    env = _db_env(test_settings)
    result = subprocess.run(
        [*CLI, "ingest", "occurrences", str(good), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "1 rows read, 0 rejected" in result.stdout and "dry run" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text().replace("20.3", "hai mươi"), encoding="utf-8")
    result = subprocess.run(
        [*CLI, "ingest", "occurrences", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "1 rejected" in result.stdout and "nothing loaded" in result.stdout
    report = (tmp_path / "bad.csv.report.csv").read_text(encoding="utf-8-sig")
    assert "2,latitude,rejected,not a number" in report
    missing = run_cli("ingest", "occurrences", str(tmp_path / "none.csv"), **env)
    assert_one_clear_error(missing, "none.csv: no such file")


@pytest.mark.db
def test_export_command(test_settings, tmp_path):  # type: ignore[no-untyped-def]
    out = tmp_path / "pa.gpkg"
    result = run_cli(
        "export",
        "protected_areas",
        "--format",
        "gpkg",
        "-o",
        str(out),
        "--bbox",
        "105.5,20.2,105.8,20.4",
        **_db_env(test_settings),
    )
    assert result.returncode == 0, result.stderr
    assert out.exists() and "rows written" in result.stdout
    bad = run_cli(
        "export",
        "protected_areas",
        "--format",
        "gpkg",
        "-o",
        str(out),
        "--bbox",
        "north",
        **_db_env(test_settings),
    )
    assert_one_clear_error(bad, "--bbox 'north'", "four numbers")
