"""The ``vbis-geo`` command.

Every failure the user can fix (no database, wrong URL, PostGIS missing, bad input) ends with
one message saying what to do and exit status 2, never a traceback.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from vbis_geo import __version__
from vbis_geo.auth.scope import REVIEWED
from vbis_geo.db.history import TABLES as HISTORY_TABLES
from vbis_geo.db.models.accounts import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, ROLES
from vbis_geo.errors import VbisError
from vbis_geo.settings import Settings

if TYPE_CHECKING:
    from vbis_geo.analysis.sensitivity import TaxonSensitivity
    from vbis_geo.auth.store import AccountRow, Grant


@click.group()
@click.version_option(__version__, prog_name="vbis-geo")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """vbis-geo: the GIS core of Vietnam's National Biodiversity Information System."""
    if ctx.obj is None:  # tests hand their settings in (CliRunner.invoke(..., obj=settings))
        ctx.obj = Settings.from_env()


# -- database ---------------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """The database: the embedded development cluster and the schema migrations."""


@db.command("start")
@click.pass_obj
def db_start(settings: Settings) -> None:
    """Create (if needed) and start the embedded PostgreSQL cluster."""
    from vbis_geo.db.cluster import EmbeddedCluster

    if not settings.embedded_database:
        click.echo("VBIS_DATABASE_URL is set: using that database, no embedded cluster to start")
        return
    cluster = EmbeddedCluster(settings)
    started = cluster.start()
    state = "started" if started else "already running"
    click.echo(f"embedded PostgreSQL {state} on 127.0.0.1:{cluster.port} ({cluster.data_dir})")


@db.command("stop")
@click.pass_obj
def db_stop(settings: Settings) -> None:
    """Stop the embedded PostgreSQL cluster."""
    from vbis_geo.db.cluster import EmbeddedCluster

    if not settings.embedded_database:
        click.echo("VBIS_DATABASE_URL is set: no embedded cluster to stop")
        return
    stopped = EmbeddedCluster(settings).stop()
    click.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")


@db.command("destroy")
@click.confirmation_option(prompt="Delete the embedded cluster and all its data?")
@click.pass_obj
def db_destroy(settings: Settings) -> None:
    """Stop the embedded cluster and delete its files."""
    from vbis_geo.db.cluster import EmbeddedCluster

    EmbeddedCluster(settings).destroy()
    click.echo("embedded PostgreSQL removed")


@db.command("status")
@click.pass_obj
def db_status(settings: Settings) -> None:
    """Where the database is, its versions and its schema revision."""
    from vbis_geo.db.engine import make_engine, server_info
    from vbis_geo.db.migrate import current_revision, head_revision

    click.echo(f"database: {settings.database_url.render_as_string(hide_password=True)}")
    engine = make_engine(settings)
    try:
        info = server_info(engine)
        click.echo(f"PostgreSQL {info.postgresql}, PostGIS {info.postgis}")
        click.echo(f"schema revision: {current_revision(engine)} (head: {head_revision()})")
    finally:
        engine.dispose()


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(settings: Settings, revision: str) -> None:
    """Migrate the schema up to REVISION (default: head)."""
    from vbis_geo.db.engine import make_engine
    from vbis_geo.db.migrate import current_revision, upgrade

    engine = make_engine(settings)
    try:
        before = current_revision(engine)
        upgrade(engine, revision)
        after = current_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"schema at {after}" + ("" if before != after else " (unchanged)"))


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(settings: Settings, revision: str) -> None:
    """Migrate the schema down to REVISION ('base' empties the database)."""
    from vbis_geo.db.engine import make_engine
    from vbis_geo.db.migrate import current_revision, downgrade

    engine = make_engine(settings)
    try:
        downgrade(engine, revision)
        click.echo(f"schema at {current_revision(engine)}")
    finally:
        engine.dispose()


# -- data -------------------------------------------------------------------------------------
@cli.group()
def demo() -> None:
    """The generated demo dataset."""


@demo.command("load")
@click.option(
    "--occurrences",
    "n_occurrences",
    type=click.IntRange(min=0),
    default=None,
    help="number of occurrence records (default 200000; benchmarks use 1000000 or 10000000)",
)
@click.option(
    "--size",
    type=click.Choice(["demo", "1m", "10m"]),
    default="demo",
    show_default=True,
    help="shortcut for --occurrences 200000 / 1000000 / 10000000",
)
@click.option("--seed", type=int, default=20251, show_default=True)
@click.pass_obj
def demo_load(settings: Settings, n_occurrences: int | None, size: str, seed: int) -> None:
    """Generate the demo dataset deterministically and load it (skipped if already loaded)."""
    from vbis_geo.db.engine import make_engine
    from vbis_geo.demo.loader import DemoParameters, load_demo

    sizes = {"demo": 200_000, "1m": 1_000_000, "10m": 10_000_000}
    params = DemoParameters(
        seed=seed, n_occurrences=n_occurrences if n_occurrences is not None else sizes[size]
    )
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            result = load_demo(conn, params, echo=click.echo)
        if not result.skipped:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
    finally:
        engine.dispose()
    click.echo(result.summary())


@cli.group("admin-units")
def admin_units() -> None:
    """Provincial-level administrative units (63 until 2025-06-30, 34 from 2025-07-01)."""


@admin_units.command("load")
@click.option(
    "--data-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="folder with vn-provinces-63-odv/ and vn-provinces-34-2025/ (default VBIS_SHARED_DATA)",
)
@click.option("--if-present", is_flag=True, help="do nothing (exit 0) when the folder is missing")
@click.pass_obj
def admin_units_load(settings: Settings, data_dir: Path | None, if_present: bool) -> None:
    """Load the 63 and 34 province sets with their validity dates and the 63->34 lineage."""
    from vbis_geo.db.engine import make_engine
    from vbis_geo.ingest.admin_units import load_vietnam_provinces

    data_dir = data_dir or settings.shared_data_dir
    if not data_dir.is_dir():
        if if_present:
            click.echo(f"no province data at {data_dir}: admin_units left as they are")
            return
        raise click.BadParameter(f"{data_dir} does not exist", param_hint="--data-dir")
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            counts = load_vietnam_provinces(conn, data_dir)
    finally:
        engine.dispose()
    click.echo(
        f"admin_units: {counts['63']} provinces valid until 2025-06-30, {counts['34']} units "
        f"from 2025-07-01, {counts['lineage']} lineage links"
        + (" (already loaded: unchanged)" if counts["unchanged"] else "")
    )


# -- rasters ------------------------------------------------------------------------------------
@cli.group()
def raster() -> None:
    """Raster layers (layers/rasters/*.yml), published as OGC API Coverages."""


@raster.command("load")
@click.argument("raster_id")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--if-present", is_flag=True, help="do nothing (exit 0) when the file is missing")
@click.pass_obj
def raster_load(settings: Settings, raster_id: str, path: Path | None, if_present: bool) -> None:
    """Store the raster at PATH (default: the layer's demo source in the shared data) as the
    Cloud-Optimised GeoTIFF of RASTER_ID, with its datasets entry."""
    from vbis_geo.db.engine import make_engine
    from vbis_geo.ingest.rasters import load_raster, raster_layers
    from vbis_geo.settings import PROJECT_DIR

    if path is None:
        layer = {r.id: r for r in raster_layers(PROJECT_DIR / "layers")}.get(raster_id)
        if layer is None or not layer.demo_source:
            raise click.BadParameter(f"give the file of {raster_id!r}", param_hint="PATH")
        path = settings.shared_data_dir / layer.demo_source
    if not path.exists():
        if if_present:
            click.echo(f"no raster at {path}: {raster_id} left as it is")
            return
        raise click.BadParameter(f"{path} does not exist", param_hint="PATH")
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            target = load_raster(conn, settings, raster_id, path)
    finally:
        engine.dispose()
    click.echo(f"{raster_id}: {path.name} stored as {target}")


# -- ingest -----------------------------------------------------------------------------------
@cli.command()
@click.argument("layer")
@click.argument("source")
@click.option(
    "--crs",
    help="the file's CRS, over its own: EPSG:4326, EPSG:3405, "
    "vn2000-tm3:<province>, vn2000-tm3:105-45, any CRS PROJ knows",
)
@click.option("--province", help="the province the data are from: features must lie in it")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML mapping: fields (field: source column), values, constants",
)
@click.option("--source-layer", help="the layer of a GeoPackage with several")
@click.option("--dry-run", is_flag=True, help="validate and report; write nothing")
@click.option(
    "--skip-rejected",
    is_flag=True,
    help="load the valid rows even if some are rejected (default: all or nothing)",
)
@click.option(
    "--add-taxa",
    is_flag=True,
    help="add names missing from the taxonomy backbone, with the file's classification",
)
@click.option(
    "--accept-synonyms",
    is_flag=True,
    help="record synonyms under their accepted names (reported as repairs)",
)
@click.option("--wdpa", is_flag=True, help="protected areas with WDPA field names")
@click.option(
    "--since-field",
    help="harvests: the remote property holding each row's last change; only rows changed "
    "since the last harvest are fetched",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="where to write the CSV report (default: ./<source name>.report.csv)",
)
@click.pass_obj
def ingest(
    settings: Settings,
    layer: str,
    source: str,
    crs: str | None,
    province: str | None,
    mapping: Path | None,
    source_layer: str | None,
    dry_run: bool,
    skip_rejected: bool,
    add_taxa: bool,
    accept_synonyms: bool,
    wdpa: bool,
    since_field: str | None,
    report_path: Path | None,
) -> None:
    """Load SOURCE into LAYER, all or nothing, with a report of every rejected row.

    SOURCE is a file (Shapefile or its folder or .zip, GeoPackage, GeoJSON, KML/KMZ, CSV, XLSX,
    Darwin Core Archive) or a remote layer to harvest: an OGC API Features collection URL, or
    WFS:<url>?TYPENAME=<layer>.

    Exit status: 0 loaded (or a clean dry run), 1 rows or the file rejected (nothing written),
    2 an error (file unreadable, no database).
    """
    from vbis_geo.db.engine import make_engine
    from vbis_geo.db.history import set_change_context
    from vbis_geo.ingest.load import IngestOptions, ingest_file

    bar = _ProgressBar()
    options = IngestOptions(
        crs=crs,
        province=province,
        mapping=mapping,
        source_layer=source_layer,
        dry_run=dry_run,
        skip_rejected=skip_rejected,
        add_taxa=add_taxa,
        accept_synonyms=accept_synonyms,
        wdpa=wdpa,
        since_field=since_field,
        progress=bar,
    )
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            with conn.begin() as transaction:
                # the history of replaced rows says why (a system change: no account)
                set_change_context(conn, None, f"vbis-geo ingest {layer} {source}")
                report = ingest_file(conn, layer, source, options)
                if not report.written:
                    transaction.rollback()
    finally:
        bar.close()
        engine.dispose()
    click.echo(report.summary())
    if report.issues:
        name = source.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or "harvest"
        target = report_path or Path(name + ".report.csv")
        report.write_csv(target)
        click.echo(f"report: {target} ({len(report.issues):,} issues)")
    if not report.ok and not (skip_rejected and report.written):
        sys.exit(1)


@cli.command("export")
@click.argument("layer")
@click.option(
    "--format", "fmt", required=True, type=click.Choice(["gpkg", "shp", "geojson", "csv", "dwca"])
)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--bbox", help="lon0,lat0,lon1,lat1 in EPSG:4326")
@click.option("--province", help="ISO 3166-2 code, unit code or name (63 or 34)")
@click.option("--protected-area", help="code of a protected area")
@click.option("--taxon", help="scientific name (with its lower ranks)")
@click.option("--wdpa", is_flag=True, help="protected areas under WDPA field names")
@click.option(
    "--audience",
    type=click.Choice(["public", "exact"]),
    default="public",
    show_default=True,
    help="whose view of the occurrences: the public's (sensitive species generalised, for "
    "publication) or exact locations (the operator's own use, not for publication)",
)
@click.pass_obj
def export(
    settings: Settings,
    layer: str,
    fmt: str,
    output: Path,
    bbox: str | None,
    province: str | None,
    protected_area: str | None,
    taxon: str | None,
    wdpa: bool,
    audience: str,
) -> None:
    """Write LAYER's published rows to a file (gpkg, shp, geojson, csv) or a Darwin Core
    Archive (dwca), as the public sees them unless --audience exact."""
    from vbis_geo.analysis.access import Audience
    from vbis_geo.analysis.assignment import ensure_current
    from vbis_geo.db.engine import make_engine
    from vbis_geo.errors import InvalidInput
    from vbis_geo.export import ExportFilters, export_layer

    box = None
    if bbox:
        try:
            x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
        except ValueError:
            raise InvalidInput(
                f"--bbox {bbox!r}: expected four numbers lon0,lat0,lon1,lat1"
            ) from None
        box = (x0, y0, x1, y1)
    filters = ExportFilters(box, province, protected_area, taxon)
    engine = make_engine(settings)
    try:
        ensure_current(engine)  # the generalised points of sensitive records
        with engine.connect() as conn:
            n = export_layer(
                conn, layer, fmt, output, filters, wdpa=wdpa, audience=Audience(audience)
            )
    finally:
        engine.dispose()
    seen = "exact locations" if audience == "exact" else "as the public sees them"
    click.echo(f"{layer}: {n:,} published rows written to {output} ({fmt}, {seen})")


class _ProgressBar:
    """Shows the stage of a load, and a bar while rows are written."""

    def __init__(self) -> None:
        self._bar: object | None = None
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._bar is not None and stage in ("validating", "reprojecting"):
            return  # a load in slices checks the next slice while writing: one bar for it all
        if stage != self._stage:
            self.close()
            self._stage = stage
            if stage == "writing" and total > 50_000:
                self._bar = click.progressbar(length=total, label="writing", file=sys.stderr)
                self._bar.__enter__()  # type: ignore[attr-defined]
            else:
                if sys.stderr.isatty():  # stages are for people watching, not for logs
                    click.echo(f"{stage}...", err=True)
        if self._bar is not None:
            self._bar.update(done - self._bar.pos)  # type: ignore[attr-defined]

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)  # type: ignore[attr-defined]
            self._bar = None


# -- history ------------------------------------------------------------------------------------
@cli.command("history")
@click.argument("table", type=click.Choice(HISTORY_TABLES))
@click.argument("row_id", metavar="ID", type=int)
@click.pass_obj
def history(settings: Settings, table: str, row_id: int) -> None:
    """Every version of row ID of TABLE: who changed it, when, how and why, and what changed."""
    from vbis_geo.db.history import changed_fields, row_history

    with _transaction(settings) as conn:
        versions = row_history(conn, table, row_id)
        ids = sorted({v.changed_by for v in versions if v.changed_by is not None})
        names = dict(
            conn.execute(
                sa.text("SELECT id, username FROM auth.accounts WHERE id = ANY(:ids)"),
                {"ids": ids},
            ).all()
        )
    if not versions:
        raise click.ClickException(f"{table} {row_id}: no such row and no history")
    click.echo(f"{table} {row_id}: {len(versions)} versions")
    for i, version in enumerate(versions):
        if version.current:
            click.echo(f"  current since {version.started or 'the start'}")
            continue
        who = (
            "system"
            if version.changed_by is None
            else f"{names.get(version.changed_by, 'deleted account')} (#{version.changed_by})"
        )
        reason = version.change_reason or "-"
        click.echo(f"  {version.ended}  {version.change_kind:<6}  by {who}  reason: {reason}")
        if version.change_kind == "update" and i + 1 < len(versions):
            for name, (old, new) in changed_fields(version.values, versions[i + 1].values).items():
                click.echo(f"      {name}: {old!r} -> {new!r}")
    if not versions[-1].current:
        click.echo("  deleted: no current row")


# -- review -------------------------------------------------------------------------------------
@cli.group()
def review() -> None:
    """Drafts (experts' contributions) and their review: list, publish, reject.

    Publishing and rejecting act as a named account (--as USERNAME), whose scope the database
    checks and whom the history records as the reviewer; the operator has no account of its
    own. Listing without --as shows every draft.
    """


@review.command("list")
@click.argument("layer", type=click.Choice(REVIEWED))
@click.option("--as", "username", help="the drafts this account may review (default: all)")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, 1_000_000))
@click.pass_obj
def review_list(
    settings: Settings, layer: str, username: str | None, limit: int, offset: int
) -> None:
    """The drafts of LAYER, oldest first."""
    from vbis_geo import review as reviews

    with _transaction(settings) as conn:
        who = reviews.reviewer(conn, username) if username else None
        page = reviews.queue(conn, who, layer, limit=limit, offset=offset)
    click.echo(
        f"{layer}: {page.number_matched:,} drafts" + (f" {username} may review" if who else "")
    )
    for feature in page.features:
        props = feature["properties"]
        label = props.get("occurrence_id") or props.get("code") or ""
        by = props.get("submitted_by_username") or "-"
        click.echo(f"  {feature['id']}  {label}  submitted by {by}  {props.get('created_at')}")
    if offset + len(page.features) < page.number_matched:
        click.echo(f"  ... more with --offset {offset + len(page.features)}")


@review.command("publish")
@click.argument("layer", type=click.Choice(REVIEWED))
@click.argument("row_id", metavar="ID", type=int)
@click.option("--as", "username", required=True, help="the reviewing account")
@click.option("--reason", help="why (optional)")
@click.pass_obj
def review_publish(
    settings: Settings, layer: str, row_id: int, username: str, reason: str | None
) -> None:
    """Publish draft ID of LAYER."""
    _decide(settings, layer, row_id, username, "publish", reason)


@review.command("reject")
@click.argument("layer", type=click.Choice(REVIEWED))
@click.argument("row_id", metavar="ID", type=int)
@click.option("--as", "username", required=True, help="the reviewing account")
@click.option("--reason", required=True, help="why (the contributor reads it)")
@click.pass_obj
def review_reject(settings: Settings, layer: str, row_id: int, username: str, reason: str) -> None:
    """Reject draft ID of LAYER, with a reason."""
    _decide(settings, layer, row_id, username, "reject", reason)


def _decide(
    settings: Settings, layer: str, row_id: int, username: str, action: str, reason: str | None
) -> None:
    from vbis_geo import review as reviews

    with _transaction(settings) as conn:
        decision = reviews.decide(
            conn, reviews.reviewer(conn, username), layer, row_id, action, reason
        )
    why = f": {decision.review_reason}" if decision.review_reason else ""
    click.echo(f"{layer} {row_id}: {decision.review_status} by {decision.reviewed_by}{why}")


# -- accounts -----------------------------------------------------------------------------------
@contextmanager
def _transaction(settings: Settings) -> Iterator[Connection]:
    from vbis_geo.db.engine import make_engine

    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _scope_options(fn):  # type: ignore[no-untyped-def]
    """The options naming scopes, shared by ``users add``, ``grant`` and ``revoke``."""
    options = [
        click.option(
            "--province",
            "provinces",
            multiple=True,
            help="admin_units code, of the 63 (VN-HN) or of the 34 (VN34-AN-GIANG); repeatable",
        ),
        click.option(
            "--protected-area", "protected_areas", multiple=True, help="protected area code"
        ),
        click.option("--facility", "facilities", multiple=True, help="conservation facility code"),
        click.option(
            "--taxon",
            "taxa",
            multiple=True,
            help="taxon id or accepted scientific name (with its descendants)",
        ),
        click.option(
            "--exact-locations", is_flag=True, help="may see exact locations of sensitive taxa"
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _grants(
    provinces: tuple[str, ...],
    protected_areas: tuple[str, ...],
    facilities: tuple[str, ...],
    taxa: tuple[str, ...],
    exact_locations: bool,
) -> list[Grant]:
    from vbis_geo.auth.store import Grant

    grants = [Grant("province", c) for c in provinces]
    grants += [Grant("protected_area", c) for c in protected_areas]
    grants += [Grant("facility", c) for c in facilities]
    grants += [Grant("taxon", t) for t in taxa]
    if exact_locations:
        grants.append(Grant("exact_locations"))
    return grants


def _read_password() -> str:
    """A password from the terminal (typed twice, not echoed) or the first line of standard
    input; never from the command line, where other users and shell histories see it."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _echo_account(account: AccountRow) -> None:
    state = "active" if account.active else "deactivated"
    click.echo(f"{account.username}: {account.display_name} ({account.role}, {state})")
    if account.email:
        click.echo(f"  email: {account.email}")
    click.echo(f"  password: {'set' if account.has_password else 'none (token-only)'}")
    by = f" by {account.created_by}" if account.created_by else ""
    click.echo(f"  created: {account.created_at:%Y-%m-%d %H:%M}{by}")
    for scope in account.scopes:
        target = "" if scope.target is None else f" {scope.target}"
        click.echo(f"  scope: {scope.kind}{target}")


@cli.group()
def users() -> None:
    """Accounts, their scopes and API tokens."""


@users.command("add")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLES),
)
@click.option("--name", "display_name", help="the name shown (default: the username)")
@click.option("--email")
@click.option(
    "--password",
    "with_password",
    is_flag=True,
    help="give the account a password: prompted for, or read from standard input "
    "(without it the account uses API tokens only)",
)
@_scope_options
@click.pass_obj
def users_add(
    settings: Settings,
    username: str,
    role: str,
    display_name: str | None,
    email: str | None,
    with_password: bool,
    provinces: tuple[str, ...],
    protected_areas: tuple[str, ...],
    facilities: tuple[str, ...],
    taxa: tuple[str, ...],
    exact_locations: bool,
) -> None:
    """Create the account USERNAME with a role and its scopes."""
    from vbis_geo.auth.store import create_account

    password = _read_password() if with_password else None
    grants = _grants(provinces, protected_areas, facilities, taxa, exact_locations)
    with _transaction(settings) as conn:
        account = create_account(
            conn,
            username,
            role=role,
            display_name=display_name,
            email=email,
            password=password,
            grants=grants,
        )
    click.echo(f"account {account.username} created")
    _echo_account(account)


@users.command("list")
@click.pass_obj
def users_list(settings: Settings) -> None:
    """Every account: username, role, state, number of scopes."""
    from vbis_geo.auth.store import list_accounts

    with _transaction(settings) as conn:
        accounts = list_accounts(conn)
    for a in accounts:
        state = "active" if a.active else "deactivated"
        click.echo(f"{a.username:<24} {a.role:<18} {state:<12} {len(a.scopes)} scopes")
    click.echo(f"{len(accounts)} accounts")


@users.command("show")
@click.argument("username")
@click.pass_obj
def users_show(settings: Settings, username: str) -> None:
    """An account with its scopes."""
    from vbis_geo.auth.store import get_account

    with _transaction(settings) as conn:
        _echo_account(get_account(conn, username))


@users.command("grant")
@click.argument("username")
@_scope_options
@click.pass_obj
def users_grant(settings: Settings, username: str, **scopes: Any) -> None:
    """Add scopes to USERNAME (they must fit its role)."""
    from vbis_geo.auth.store import grant

    _change_scopes(settings, grant, username, scopes)


@users.command("revoke")
@click.argument("username")
@_scope_options
@click.pass_obj
def users_revoke(settings: Settings, username: str, **scopes: Any) -> None:
    """Remove scopes from USERNAME."""
    from vbis_geo.auth.store import revoke

    _change_scopes(settings, revoke, username, scopes)


def _change_scopes(
    settings: Settings, change: Callable[..., Any], username: str, scopes: dict[str, Any]
) -> None:
    grants = _grants(**scopes)
    if not grants:
        raise click.UsageError("name at least one scope (--province, --taxon, ...)")
    with _transaction(settings) as conn:
        _echo_account(change(conn, username, grants))


@users.command("set-password")
@click.argument("username")
@click.pass_obj
def users_set_password(settings: Settings, username: str) -> None:
    """Set USERNAME's password (prompted for, or read from standard input); its portal sessions
    end."""
    from vbis_geo.auth.store import set_password

    password = _read_password()
    with _transaction(settings) as conn:
        set_password(conn, username, password)
    click.echo(f"password of {username.strip().lower()} set")


@users.command("deactivate")
@click.argument("username")
@click.pass_obj
def users_deactivate(settings: Settings, username: str) -> None:
    """Deactivate USERNAME: its sessions and tokens stop working (nothing is deleted)."""
    from vbis_geo.auth.store import deactivate

    with _transaction(settings) as conn:
        account = deactivate(conn, username)
    click.echo(f"account {account.username} deactivated")


@users.group("token")
def users_token() -> None:
    """API tokens (for QGIS and scripts): created, listed, revoked."""


@users_token.command("create")
@click.argument("username")
@click.option("--name", required=True, help="what or where the token is used, e.g. 'QGIS laptop'")
@click.option(
    "--days",
    type=click.IntRange(1, MAX_TOKEN_DAYS),
    default=DEFAULT_TOKEN_DAYS,
    show_default=True,
    help="days until it expires (at most 365)",
)
@click.pass_obj
def users_token_create(settings: Settings, username: str, name: str, days: int) -> None:
    """Create a token for USERNAME and print it: it is shown this once, only its digest is
    kept. Standard output is the token alone (TOKEN=$(vbis-geo users token create ...))."""
    from vbis_geo.auth.store import create_token, get_account

    with _transaction(settings) as conn:
        account = get_account(conn, username)
        row, secret = create_token(conn, account.id, name, days)
    click.echo(secret)
    click.echo(
        f"token {row.id} ({row.prefix}...) for {account.username}, expires "
        f"{row.expires_at:%Y-%m-%d}: store it now, it is not shown again",
        err=True,
    )


@users_token.command("list")
@click.argument("username")
@click.pass_obj
def users_token_list(settings: Settings, username: str) -> None:
    """USERNAME's tokens: id, name, prefix, expiry, last use, state."""
    from vbis_geo.auth.store import get_account, list_tokens

    with _transaction(settings) as conn:
        account = get_account(conn, username)
        tokens = list_tokens(conn, account.id)
        now = conn.execute(sa.text("SELECT now()")).scalar_one()
    for t in tokens:
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        click.echo(
            f"{t.id:>6}  {t.prefix}...  {t.name:<24} expires {t.expires_at:%Y-%m-%d}  "
            f"used {used:<16} {t.state(now)}"
        )
    click.echo(f"{len(tokens)} tokens")


@users_token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_obj
def users_token_revoke(settings: Settings, token_id: int) -> None:
    """Revoke the token TOKEN_ID (as `token list` shows it)."""
    from vbis_geo.auth.store import revoke_token

    with _transaction(settings) as conn:
        row = revoke_token(conn, token_id)
    click.echo(f"token {row.id} ({row.prefix}...) of {row.username} revoked")


# -- taxa ---------------------------------------------------------------------------------------
@cli.group()
def taxa() -> None:
    """The taxonomy backbone."""


@taxa.group("sensitivity")
def taxa_sensitivity() -> None:
    """Sensitivity levels (km of the public grid cell; 0 = exact): the rule and overrides."""


def _echo_sensitivity(s: TaxonSensitivity) -> None:
    click.echo(f"{s.scientific_name} (id {s.taxon_id}, {s.rank}, {s.taxonomic_status})")
    click.echo(f"  national level: {s.level_km} km ({s.rule})")
    for o in s.overrides:
        where = o.province_code or "national"
        by = f" by {o.set_by}" if o.set_by else ""
        click.echo(
            f"  override {where}: {o.level_km} km, {o.reason} ({o.set_at:%Y-%m-%d %H:%M}{by})"
        )


_LEVEL = click.Choice(["0", "1", "10", "25"])
_PROVINCE = click.option(
    "--province",
    help="admin_units code, of the 63 (VN-HN) or of the 34 (VN34-AN-GIANG); default: national",
)


@taxa_sensitivity.command("show")
@click.argument("taxon")
@click.pass_obj
def taxa_sensitivity_show(settings: Settings, taxon: str) -> None:
    """TAXON's national level, why, and its overrides (TAXON: id or scientific name)."""
    from vbis_geo.analysis.sensitivity import get_sensitivity

    with _transaction(settings) as conn:
        _echo_sensitivity(get_sensitivity(conn, taxon))


@taxa_sensitivity.command("set")
@click.argument("taxon")
@click.option("--level", type=_LEVEL, required=True, help="km of the public grid cell; 0 = exact")
@_PROVINCE
@click.option("--reason", required=True, help="why, for the record (e.g. a decision's number)")
@click.pass_obj
def taxa_sensitivity_set(
    settings: Settings, taxon: str, level: str, province: str | None, reason: str
) -> None:
    """Override TAXON's level, nationally or in one province."""
    from vbis_geo.analysis.sensitivity import set_override

    with _transaction(settings) as conn:
        _echo_sensitivity(set_override(conn, taxon, int(level), reason, province=province))


@taxa_sensitivity.command("clear")
@click.argument("taxon")
@_PROVINCE
@click.option("--reason", required=True, help="why, for the record (kept in its history)")
@click.pass_obj
def taxa_sensitivity_clear(
    settings: Settings, taxon: str, province: str | None, reason: str
) -> None:
    """Remove TAXON's override (national, or of one province): the rule applies again."""
    from vbis_geo.analysis.sensitivity import clear_override

    with _transaction(settings) as conn:
        _echo_sensitivity(clear_override(conn, taxon, reason, province=province))


# -- publishing and serving -------------------------------------------------------------------
@cli.command()
@click.option("--check", is_flag=True, help="exit 1 if ogc_config/ is not up to date")
@click.pass_obj
def publish(settings: Settings, check: bool) -> None:
    """Render ogc_config/ (pygeoapi's configuration and OpenAPI document) from layers/*.yml."""
    from vbis_geo.catalog import load_layers
    from vbis_geo.publish.config import dump_config, render_config, write_if_changed
    from vbis_geo.publish.openapi import dump_openapi, render_openapi
    from vbis_geo.web.ogc import config_path, layers_dir, openapi_path

    config = render_config(load_layers(layers_dir()))
    files = {
        config_path(settings): dump_config(config),
        openapi_path(settings): dump_openapi(render_openapi(config)),
    }
    if check:
        stale = [
            path
            for path, text in files.items()
            if not path.exists() or path.read_text(encoding="utf-8") != text
        ]
        for path in stale:
            click.echo(f"{path} is stale: run `vbis-geo publish`", err=True)
        if stale:
            sys.exit(1)
        for path in files:
            click.echo(f"{path} is up to date")
        return
    for path, text in files.items():
        click.echo(f"{path} {'written' if write_if_changed(text, path) else 'unchanged'}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.pass_obj
def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve the platform with gunicorn (portal /, spatial API /api, OGC API /ogc)."""
    from vbis_geo.db.engine import make_engine, server_info
    from vbis_geo.settings import DEFAULT_PUBLIC_URL
    from vbis_geo.web.wsgi import run_gunicorn

    if settings.public_url == DEFAULT_PUBLIC_URL:
        # no public address configured: links point at the address served
        settings = dataclasses.replace(settings, public_url=f"http://{host}:{port}")
    engine = make_engine(settings)
    try:
        server_info(engine)  # fail here, clearly, rather than in every worker
    finally:
        engine.dispose()
    click.echo(
        f"serving vbis-geo {__version__}: the portal at http://{host}:{port}/ "
        "(OGC API at /ogc, maps at /maps, the spatial API at /api; Ctrl-C stops)"
    )
    run_gunicorn(settings, host=host, port=port, workers=workers)


def main() -> None:
    """Entry point: run the command, turning expected failures into one clear message."""
    try:
        cli.main(standalone_mode=False)
    except VbisError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except OperationalError as exc:
        from vbis_geo.db.engine import database_unavailable

        click.echo(
            f"error: {database_unavailable(Settings.from_env().database_url, exc)}", err=True
        )
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
