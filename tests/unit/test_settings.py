import pytest

from vbis_geo.errors import ConfigError
from vbis_geo.settings import DEFAULT_EMBEDDED_PORT, Settings, parse_database_url


def test_embedded_database_by_default():
    settings = Settings.from_env({})
    assert settings.embedded_database
    assert settings.database_url.port == DEFAULT_EMBEDDED_PORT
    assert settings.database_url.host == "127.0.0.1"
    assert settings.var_dir.name == "var"


def test_database_url_from_environment_forces_psycopg3():
    settings = Settings.from_env(
        {"VBIS_DATABASE_URL": "postgresql://u:secret@db.example:6543/nbis"}
    )
    assert not settings.embedded_database
    assert settings.database_url.drivername == "postgresql+psycopg"
    assert settings.database_url.port == 6543


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://u@h/db", "needs PostgreSQL"),
        ("postgresql://u@h", "names no database"),
    ],
)
def test_bad_database_url_names_the_problem(raw, expected):
    with pytest.raises(ConfigError, match=expected) as info:
        parse_database_url(raw)
    assert "postgresql://USER" in info.value.hint


def test_password_is_not_echoed_in_errors():
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"VBIS_DATABASE_URL": "mysql://u:hunter2@h/db"})
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("port", ["abc", "80", "70000"])
def test_bad_port(port):
    with pytest.raises(ConfigError, match="VBIS_DB_PORT"):
        Settings.from_env({"VBIS_DB_PORT": port})


def test_public_url_must_be_http():
    with pytest.raises(ConfigError, match="VBIS_PUBLIC_URL"):
        Settings.from_env({"VBIS_PUBLIC_URL": "ftp://x"})


def test_secret_key_is_generated_once_into_the_var_dir(tmp_path):
    settings = Settings.from_env({"VBIS_VAR_DIR": str(tmp_path / "var")})
    assert settings.secret_key is None
    key = settings.session_secret()
    path = tmp_path / "var" / "secret_key"
    assert len(key) >= 32 and path.stat().st_mode & 0o777 == 0o600
    assert Settings.from_env({"VBIS_VAR_DIR": str(tmp_path / "var")}).session_secret() == key


def test_secret_key_from_the_environment(tmp_path):
    key = "k" * 40
    settings = Settings.from_env({"VBIS_SECRET_KEY": key, "VBIS_VAR_DIR": str(tmp_path)})
    assert settings.session_secret() == key
    assert not (tmp_path / "secret_key").exists()
    with pytest.raises(ConfigError, match="VBIS_SECRET_KEY is 5 characters") as info:
        Settings.from_env({"VBIS_SECRET_KEY": "short"})
    assert "short" not in str(info.value)
