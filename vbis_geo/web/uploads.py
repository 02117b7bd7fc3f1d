"""``POST /api/ingest/<layer>``: the ingest of ``vbis-geo ingest`` as an upload (portal, scripts).

The form carries ``file`` (the data: a zip for a Shapefile), optionally ``mapping`` (a mapping
file) and the options of the command (``crs``, ``province``, ``source_layer``, ``dry_run``,
``skip_rejected``, ``add_taxa``, ``accept_synonyms``). The answer is the report (JSON, or CSV
with ``Accept: text/csv``): 200 when loaded or validated, 422 when rows or the file were
rejected (nothing written). Requests above ``VBIS_MAX_UPLOAD_MB`` get 413 before being read.

Who may do what: anyone may validate (``dry_run``; nothing is written and the transaction is
rolled back). A dry run of an account also checks what its write would: whether it may write
the layer, and each row against its scope, so that the report of a dry run is the report the
write would give. Writing needs an authenticated account (an API token, or the portal session):
the public gets 401. A role that does not write the layer at all (an expert writes occurrences
only; the reference tables are the national administrator's) gets 403 before the file is read,
and so does ``add_taxa`` for anyone but a national administrator. Otherwise the rows are checked
against the account's scope (:func:`vbis_geo.auth.scope.staged_refusals`): a row out of scope
is a rejected row of the report ("outside your scope: lies in province VN-HN, you edit VN-44"),
and the load is all or nothing as for any rejected row. The rows are then written under
:func:`vbis_geo.auth.writer.writer`, so that the database checks them again; an expert's rows
go in as drafts for review. The dataset entry records the account as ``loaded_by``, the history
of replaced rows the account and the file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, jsonify, request
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from vbis_geo.auth import require_editing_role
from vbis_geo.errors import InvalidInput, VbisError
from vbis_geo.ingest.load import IngestOptions, ingest_file, require_write_access
from vbis_geo.ingest.targets import target
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
    writes = not flags["dry_run"]
    if writes:
        require_editing_role(who, "writing an upload (send dry_run=true to validate only)")
    with tempfile.TemporaryDirectory(prefix="vbis-upload-") as tmp:
        path = Path(tmp) / name
        options = IngestOptions(
            **{o: (request.form.get(o) or None) for o in TEXT_OPTIONS},
            **flags,
            loaded_by=f"{who.username} (api upload)" if who.is_authenticated else "api upload",
            principal=who if who.is_authenticated else None,
            reason=f"upload of {upload.filename}",
        )
        if writes:  # before reading the file: a 403 costs nothing
            require_write_access(target(layer).table.name, options)
        upload.save(path)
        if "mapping" in request.files and request.files["mapping"].filename:
            options.mapping = Path(tmp) / "mapping.yml"
            request.files["mapping"].save(options.mapping)
        engine = db.engine()
        try:
            with engine.connect() as conn, conn.begin() as transaction:
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
