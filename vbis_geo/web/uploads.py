"""``POST /api/ingest/<layer>``: the ingest of ``vbis-geo ingest`` as an upload (portal, scripts).

The form carries ``file`` (the data: a zip for a Shapefile), optionally ``mapping`` (a mapping
file) and the options of the command (``crs``, ``province``, ``source_layer``, ``dry_run``,
``skip_rejected``, ``add_taxa``, ``accept_synonyms``). The answer is the report (JSON, or CSV
with ``Accept: text/csv``): 200 when loaded or validated, 422 when rows or the file were
rejected (nothing written). Requests above ``VBIS_MAX_UPLOAD_MB`` get 413 before being read.

Who may do what, as enforced here: anyone may validate (``dry_run``; nothing is written and
the transaction is rolled back). Writing needs an authenticated account (an API token, or the
portal session): the public gets 401. Until the rows of an upload are checked against the
account's scopes (its provinces, areas or taxa; the next step of issue 6), only a national
administrator may write; the scoped roles (provincial editor, reserve board, expert) get 403
and may validate. The dataset entry records the account as ``loaded_by``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, jsonify, request
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from vbis_geo.auth import require_editing_role
from vbis_geo.db.history import set_change_context
from vbis_geo.errors import Forbidden, InvalidInput, VbisError
from vbis_geo.ingest.load import IngestOptions, ingest_file
from vbis_geo.web import db
from vbis_geo.web.accounts import principal

bp = Blueprint("uploads", __name__)
FLAGS = ("dry_run", "skip_rejected", "add_taxa", "accept_synonyms", "wdpa")
TEXT_OPTIONS = ("crs", "province", "source_layer")


@bp.post("/ingest/<layer>")
def ingest_upload(layer: str) -> tuple[Response, int]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("no file in the form", hint="send the data as the form field 'file'")
    name = secure_filename(upload.filename)
    if not name or "." not in name:
        raise InvalidInput(f"file name {upload.filename!r} has no usable name and suffix")
    flags = {f: _flag(f) for f in FLAGS}
    who = principal()
    if not flags["dry_run"]:
        require_editing_role(who, "writing an upload (send dry_run=true to validate only)")
        if not who.is_admin:
            # a scoped account could otherwise load rows outside its provinces or areas
            raise Forbidden(
                "writing an upload is for national administrators until uploads are checked "
                "against an account's scopes",
                hint="send dry_run=true to validate the file; an administrator can load it",
            )
    with tempfile.TemporaryDirectory(prefix="vbis-upload-") as tmp:
        path = Path(tmp) / name
        upload.save(path)
        mapping = None
        if "mapping" in request.files and request.files["mapping"].filename:
            mapping = Path(tmp) / "mapping.yml"
            request.files["mapping"].save(mapping)
        options = IngestOptions(
            **{o: (request.form.get(o) or None) for o in TEXT_OPTIONS},
            **flags,
            mapping=mapping,
            loaded_by=f"{who.username} (api upload)" if who.is_authenticated else "api upload",
        )
        engine = db.engine()
        try:
            with engine.connect() as conn, conn.begin() as transaction:
                # who and why, for the history of every row the load replaces (migration 0010)
                set_change_context(conn, who.account_id, f"upload of {upload.filename}")
                report = ingest_file(conn, layer, path, options)
                if not report.written:
                    transaction.rollback()
        except VbisError as exc:
            # name the files as the user sent them, not by the server's temporary folder
            exc.message = exc.message.replace(tmp, "upload")
            exc.hint = exc.hint.replace(tmp, "upload") if exc.hint else exc.hint
            raise
    report.source = upload.filename
    status = 200 if report.ok or report.written else 422
    if request.accept_mimetypes.best == "text/csv":
        return Response(report.csv_text(), mimetype="text/csv; charset=utf-8"), status
    return jsonify(report.as_dict()), status


def _flag(name: str) -> bool:
    value = (request.form.get(name) or request.args.get(name) or "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise InvalidInput(f"{name}={value!r}: expected true or false")
