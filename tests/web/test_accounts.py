"""Login, logout, /api/me and /api/tokens over HTTP; g.principal on every path, /ogc too."""

from __future__ import annotations

import dataclasses
import logging

import pytest
import sqlalchemy as sa
from flask import g

from tests.conftest import make_token
from vbis_geo.auth.authenticate import LOGIN_FAILED, LOGIN_FAILURE_LIMIT
from vbis_geo.auth.store import Grant, set_password

pytestmark = pytest.mark.db

PASSWORD = "Cát Tiên Bàu Sấu Ramsar 2005"


@pytest.fixture
def people(make_account):  # type: ignore[no-untyped-def]
    """An admin and a provincial editor with passwords, and a token-only expert."""
    return {
        "admin": make_account("web-admin", "national_admin", password=PASSWORD),
        "editor": make_account(
            "web-editor",
            "provincial_editor",
            password=PASSWORD,
            grants=[Grant("province", "VN-HN")],
        ),
        "expert": make_account("web-expert", "expert"),
    }


def login(client, username: str, password: str = PASSWORD, **kwargs):  # type: ignore[no-untyped-def]
    return client.post("/api/login", json={"username": username, "password": password}, **kwargs)


def test_login_me_logout_with_the_session_cookie(client, people) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/me").json == {
        "authenticated": False,
        "username": None,
        "display_name": None,
        "role": "public",
        "scopes": {
            "provinces": [],
            "province_codes": [],
            "protected_areas": [],
            "facilities": [],
            "taxa": [],
        },
        "exact_locations": False,
        "via": None,
    }
    response = login(client, "Web-Editor")
    assert response.status_code == 200 and response.json["username"] == "web-editor"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("vbis_session=") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Secure" not in cookie and "Expires=" in cookie
    me = client.get("/api/me").json
    assert (me["role"], me["via"], me["scopes"]["provinces"]) == (
        "provincial_editor",
        "session",
        ["VN-HN"],
    )
    assert client.post("/api/logout").json["authenticated"] is False
    assert client.get("/api/me").json["authenticated"] is False


def test_login_by_form(client, people) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/login", data={"username": "web-admin", "password": PASSWORD})
    assert response.status_code == 200 and response.json["role"] == "national_admin"


def test_the_cookie_is_secure_behind_https(test_settings, people) -> None:  # type: ignore[no-untyped-def]
    from vbis_geo.web import create_app

    app = create_app(
        dataclasses.replace(test_settings, public_url="https://geo.example.vn"), mount_ogc=False
    )
    response = login(app.test_client(), "web-admin")
    assert "Secure" in response.headers["Set-Cookie"]


def test_every_login_failure_looks_the_same(client, people) -> None:  # type: ignore[no-untyped-def]
    answers = [
        login(client, "web-editor", "not the password"),
        login(client, "no-such-user"),
        login(client, "web-expert", ""),  # token-only: no password can match
        client.post("/api/login", json={"username": "web-expert", "password": "x" * 2000}),
    ]
    bodies = {(r.status_code, r.get_data(as_text=True)) for r in answers[:2]}
    assert bodies == {(401, answers[0].get_data(as_text=True))}
    assert answers[0].json["description"] == LOGIN_FAILED
    assert answers[2].status_code == 400  # "password is missing"
    assert answers[3].status_code == 401
    assert "vbis_session" not in answers[0].headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "a"},
        {"username": 1, "password": 2},
        {"username": "a\x00", "password": "b"},
        ["username", "password"],
    ],
)
def test_malformed_logins_are_400(client, body) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/api/login", json=body).status_code == 400


def test_failed_logins_are_rate_limited_per_username_and_address(client, people) -> None:  # type: ignore[no-untyped-def]
    for _ in range(LOGIN_FAILURE_LIMIT):
        assert login(client, "web-editor", "guess, guess").status_code == 401
    blocked = login(client, "web-editor")  # the right password, too late
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    elsewhere = login(client, "web-editor", environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert elsewhere.status_code == 200
    assert login(client, "web-admin").status_code == 200


def test_a_new_password_ends_sessions(client, people, engine) -> None:  # type: ignore[no-untyped-def]
    assert login(client, "web-editor").status_code == 200
    with engine.begin() as conn:
        set_password(conn, "web-editor", "a brand new password")
    response = client.get("/api/me")
    assert response.json["authenticated"] is False
    assert "vbis_session=;" in response.headers.get("Set-Cookie", "")  # cleared


def test_tokens_through_the_api(client, app, people) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/api/tokens", json={"name": "x"}).status_code == 401
    assert client.get("/api/tokens").status_code == 401
    login(client, "web-editor")
    created = client.post("/api/tokens", json={"name": "QGIS desktop", "days": 30})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    secret, token_id = created.json["token"], created.json["id"]
    assert created.json["state"] == "active" and created.json["prefix"] == secret[:11]
    listing = client.get("/api/tokens").json["tokens"]
    assert [t["id"] for t in listing] == [token_id]
    assert secret not in str(listing) and "token" not in listing[0]

    other = app.test_client()  # no session: the token alone
    auth = {"Authorization": f"Bearer {secret}"}
    me = other.get("/api/me", headers=auth).json
    assert (me["username"], me["via"]) == ("web-editor", "token")
    # a token cannot make tokens (a leaked one would outlive itself)
    refused = other.post("/api/tokens", json={"name": "more"}, headers=auth)
    assert refused.status_code == 403
    assert other.get("/api/tokens", headers=auth).status_code == 200
    assert other.delete(f"/api/tokens/{token_id}", headers=auth).json["state"] == "revoked"
    response = other.get("/api/me", headers=auth)
    assert response.status_code == 401 and "revoked" in response.json["description"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_of_others(client, app, engine, people) -> None:  # type: ignore[no-untyped-def]
    admin_token = make_token(engine, people["admin"].id, "admin script")
    expert_token = make_token(engine, people["expert"].id, "expert script")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT name, id FROM auth.api_tokens WHERE name LIKE '% script'")
        ).all()
    ids = {name: token_id for name, token_id in rows}
    login(client, "web-editor")
    # another account's token is not found, not forbidden; a huge id too
    for token_id in (ids["admin script"], ids["expert script"], 2**31, 10**20):
        assert client.delete(f"/api/tokens/{token_id}").status_code == 404
    assert client.get("/api/tokens?account=web-expert").status_code == 403
    assert client.post("/api/tokens", json={"name": "x", "account": "web-admin"}).status_code == 403
    admin = {"Authorization": f"Bearer {admin_token}"}
    listed = app.test_client().get("/api/tokens?account=web-expert", headers=admin).json
    assert [t["name"] for t in listed["tokens"]] == ["expert script"]
    revoked = app.test_client().delete(f"/api/tokens/{ids['expert script']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json["state"] == "revoked"
    expert = {"Authorization": f"Bearer {expert_token}"}
    assert app.test_client().get("/api/me", headers=expert).status_code == 401


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"name": ""}, "name is missing"),
        ({"name": "x", "days": 0}, "1 to 365 days"),
        ({"name": "x", "days": "many"}, "1 to 365 days"),
        ({"name": "x", "days": 1.5}, "days"),
    ],
)
def test_bad_token_requests_are_400(client, people, body, problem) -> None:  # type: ignore[no-untyped-def]
    login(client, "web-editor")
    response = client.post("/api/tokens", json=body)
    assert response.status_code == 400 and problem in response.json["description"]


def test_a_session_is_not_usable_from_another_site(client, people) -> None:  # type: ignore[no-untyped-def]
    login(client, "web-editor")
    evil = client.post(
        "/api/tokens", json={"name": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    own = client.post("/api/tokens", json={"name": "x"}, headers={"Origin": "http://localhost"})
    assert own.status_code == 201


def test_the_principal_is_set_on_ogc_requests(app, client, engine, people) -> None:  # type: ignore[no-untyped-def]
    secret = make_token(engine, people["editor"].id, "qgis")
    with app.test_request_context(
        "/ogc/collections", headers={"Authorization": f"Bearer {secret}"}
    ):
        assert app.preprocess_request() is None
        assert (g.principal.username, g.principal.via) == ("web-editor", "token")
    with app.test_request_context("/ogc/collections"):
        app.preprocess_request()
        assert not g.principal.is_authenticated
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/ogc/collections?f=json", headers=headers).status_code == 200
    bad = client.get("/ogc/collections?f=json", headers={"Authorization": "Bearer vbis_nope"})
    assert bad.status_code == 401 and bad.json["description"] == "the API token is not valid"


def test_anonymous_requests_do_not_vary_on_cookies(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/health")
    assert "Cookie" not in response.headers.get("Vary", "")


def test_a_password_never_leaves(client, people, engine, caplog) -> None:  # type: ignore[no-untyped-def]
    wrong = "wrong-but-close " + PASSWORD
    with caplog.at_level(logging.DEBUG):
        answers = [
            login(client, "web-editor", wrong),
            login(client, PASSWORD, PASSWORD),  # typed into the username field
            login(client, "web-editor"),
            client.get("/api/me"),
        ]
    for response in answers:
        assert PASSWORD not in response.get_data(as_text=True)
        assert PASSWORD not in str(response.headers)
    assert PASSWORD not in caplog.text and wrong not in caplog.text
    with engine.connect() as conn:
        dump = " ".join(
            text
            for table in ("accounts", "login_failures")
            for text in conn.execute(
                sa.text(f"SELECT row_to_json(t)::text FROM auth.{table} t")  # noqa: S608 (the table names)
            ).scalars()
        )
    assert PASSWORD not in dump and "wrong-but-close" not in dump


def test_a_tampered_session_cookie_is_the_public(client, people) -> None:  # type: ignore[no-untyped-def]
    login(client, "web-admin")
    cookie = client.get_cookie("vbis_session")
    assert cookie is not None
    # the payload says another account; the signature no longer matches
    client.set_cookie("vbis_session", "x" + cookie.value[1:])
    assert client.get("/api/me").json["authenticated"] is False
    client.set_cookie("vbis_session", "not.a.signed.cookie")
    assert client.post("/api/tokens", json={"name": "x"}).status_code == 401


def test_a_logged_in_portal_user_reads_the_ogc_api(client, make_account) -> None:  # type: ignore[no-untyped-def]
    """pygeoapi answers with plain-dict headers; with a session Flask adds ``Vary: Cookie``
    to them (this was a 500 on every /ogc request of a logged-in user)."""
    from vbis_geo.auth.store import Grant

    make_account(
        "ogc_reader",
        role="provincial_editor",
        password="correct horse battery",
        grants=[Grant("province", "VN-HN")],
    )
    login = client.post(
        "/api/login", json={"username": "ogc_reader", "password": "correct horse battery"}
    )
    assert login.status_code == 200
    for path in (
        "/ogc/collections/admin_units/tiles/WebMercatorQuad/metadata?f=tilejson",
        "/ogc/collections/protected_areas/items?limit=2",
        "/ogc/collections?f=json",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Cookie" in response.headers.get("Vary", ""), path
