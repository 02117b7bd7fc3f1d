"""Who is asking, on every request; login, logout, ``/api/me`` and API tokens.

:func:`init_app` configures the portal session cookie (signed with ``VBIS_SECRET_KEY``,
HttpOnly, SameSite=Lax, Secure when the public URL is https) and registers the hook that sets
``g.principal`` before any view runs, on the portal, ``/api`` and ``/ogc`` alike: from
``Authorization: Bearer <token>`` when the request has one (a bad one is a 401), else from the
session, else the public. A request without credentials costs no database query.

A request authenticated by its session cookie that changes something (POST, PUT, PATCH,
DELETE) and carries an ``Origin`` other than the site's own is refused (403): SameSite=Lax
already keeps the cookie off cross-site POSTs in browsers; this is the second lock.

Routes (``/api``): ``POST /login`` (username and password, JSON or form), ``POST /logout``,
``GET /me``, ``GET /tokens`` (own; an admin names ``account``), ``POST /tokens`` (a token is
created from a portal login, never by another token, so that a leaked token cannot outlive
itself), ``DELETE /tokens/<id>`` (own; an admin any).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, g, jsonify, request, session
from werkzeug.wrappers import Response

from vbis_geo.auth import (
    PUBLIC,
    Principal,
    attempt_login,
    authenticate,
    require_authenticated,
    session_data,
)
from vbis_geo.auth.authenticate import LOGIN_FAILED, SESSION_LIFETIME
from vbis_geo.auth.store import (
    create_token,
    get_account,
    get_token,
    list_tokens,
    revoke_token,
)
from vbis_geo.db.models.accounts import DEFAULT_TOKEN_DAYS
from vbis_geo.errors import Forbidden, InvalidInput, NotAuthorized, NotFound
from vbis_geo.settings import Settings
from vbis_geo.web import db

bp = Blueprint("accounts", __name__)
SESSION_COOKIE = "vbis_session"
_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def init_app(app: Flask, settings: Settings) -> None:
    app.secret_key = settings.session_secret()
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.before_request(_set_principal)


def principal() -> Principal:
    """The request's principal (the public outside a request that set one)."""
    return g.get("principal", PUBLIC)  # type: ignore[no-any-return]


def _set_principal() -> None:
    g.principal = PUBLIC
    header = request.headers.get("Authorization")
    # the cookie, not the session object: touching that would add "Vary: Cookie" to every
    # response (tiles included) and cost a signature check for nothing
    if not header and (SESSION_COOKIE not in request.cookies or not session):
        return  # (a cookie that fails its signature check is an empty session)
    conn = db.connection()
    try:
        who = authenticate(conn, header, None if header else session)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()  # last_used_at; and the request's own queries start a fresh transaction
    if not header and not who.is_authenticated:
        session.clear()  # expired, deactivated, or the password changed since
    g.principal = who
    if who.via == "session" and request.method in _UNSAFE_METHODS and not _same_origin():
        raise Forbidden("a request from another site cannot use the portal session")


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    settings: Settings = current_app.config["VBIS_SETTINGS"]
    allowed = {_origin_of(settings.public_url), _origin_of(request.host_url)}
    return _origin_of(origin) in allowed


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _body() -> dict[str, Any]:
    """The request's fields: a JSON object, or a form."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidInput("the body is not a JSON object")
        return body
    return request.form.to_dict()


def _text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{name} is missing")
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidInput(f"{name} is not text")
    return value


@bp.post("/login")
def login() -> Response:
    body = _body()
    username = _text_field(body, "username")
    password = _text_field(body, "password")
    assert username is not None and password is not None
    with db.engine().begin() as conn:  # committed whatever the result: failures are counted
        who = attempt_login(conn, username, password, request.remote_addr)
    if who is None:
        raise NotAuthorized(LOGIN_FAILED)
    session.clear()
    session.update(session_data(who))
    session.permanent = True
    g.principal = who
    return jsonify(who.as_dict())


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return jsonify(PUBLIC.as_dict())


@bp.get("/me")
def me() -> Response:
    return jsonify(principal().as_dict())


@bp.get("/tokens")
def tokens() -> Response:
    who = principal()
    require_authenticated(who, "listing API tokens")
    account = request.args.get("account")
    conn = db.connection()
    account_id = _account_for(conn, who, account)
    now = dt.datetime.now(dt.UTC)
    return jsonify({"tokens": [t.as_dict(now) for t in list_tokens(conn, account_id)]})


@bp.post("/tokens")
def new_token() -> tuple[Response, int]:
    who = principal()
    require_authenticated(who, "creating an API token")
    if who.via != "session":
        raise Forbidden(
            "an API token cannot create tokens", hint="log in to the portal to create one"
        )
    body = _body()
    name = _text_field(body, "name")
    days = body.get("days", DEFAULT_TOKEN_DAYS)
    if isinstance(days, str):
        days = int(days) if days.strip().isdigit() and len(days) < 6 else days
    account = _text_field(body, "account", required=False)
    with db.engine().begin() as conn:
        account_id = _account_for(conn, who, account)
        row, secret = create_token(conn, account_id, name or "", days)
    answer = {"token": secret, **row.as_dict(dt.datetime.now(dt.UTC))}
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response, 201


@bp.delete("/tokens/<int:token_id>")
def delete_token(token_id: int) -> Response:
    who = principal()
    require_authenticated(who, "revoking an API token")
    with db.engine().begin() as conn:
        row = get_token(conn, token_id)
        # another account's token is "not found", not "forbidden": ids are not a directory
        if row is None or (row.account_id != who.account_id and not who.is_admin):
            raise NotFound(f"you have no token {token_id}")
        row = revoke_token(conn, token_id)
    return jsonify(row.as_dict(dt.datetime.now(dt.UTC)))


def _account_for(conn: Any, who: Principal, username: str | None) -> int:
    """The account a token request is about: the caller's own, or (admins) the one named."""
    assert who.account_id is not None
    if username is None or username.strip().lower() == who.username:
        return who.account_id
    if not who.is_admin:
        raise Forbidden("only a national_admin manages other accounts' tokens")
    return get_account(conn, username).id
