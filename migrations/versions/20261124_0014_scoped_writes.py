"""Scoped writes, checked by the database: the role ``vbis_writer``, row-level security on the
editable tables, and the review rules (issue 6; vbis_geo/auth/SECURITY.md, "Scoped writes").

**The role.** ``vbis_writer`` (NOLOGIN, no BYPASSRLS, owns nothing) is what every write made
for a user runs as: the application's connection user switches to it for the transaction
(``SET LOCAL ROLE``, :func:`vbis_geo.auth.writer.writer`) and names the account in the
setting ``vbis.account_id``. It is granted the DML of the 11 editable tables (``EDITABLE``, as
in 0010) and the use of their sequences, nothing else. The role is created here when missing
(roles belong to the cluster: other databases of the cluster may hold grants to it, and the
downgrade drops it only when none does) and the user running the migration is made a member of
it, which a non-superuser needs to ``SET ROLE``. A non-superuser owner of the tables needs
CREATEROLE for that, or a superuser creates the role beforehand.

**Row-level security.** Enabled, not forced, on the editable tables. Forcing it would subject
the tables' owner too, and PostgreSQL refuses ``COPY FROM`` into a table under row-level
security even with a policy letting everything through: the operator's loads (``vbis-geo
ingest``, ``admin-units load``, ``demo load``) would fail wherever the application's user owns
the tables without being a superuser. The owner is exempt (migrations, the operator's commands,
the rebuilds, the application's reads), as a superuser is; the writer never owns a table, and
the migration refuses a writer that is a member of the owner's role (members share the owner's
exemption). The policies, for the writer:

* ``vbis_writer_read``: the writer sees every row (it must, to update one; users read through
  the application's views, never as the writer);
* ``vbis_writer_insert``/``_update``/``_delete``: a row may be written when the rule of its
  table (``RULES``) holds for the writer's scope: on the new row (``WITH CHECK``) and on the
  old one (``USING``), so that an edit cannot move a row out of scope. An expert deletes only
  its own contributions that are not published.

The rules are SQL functions of a scope (``auth.write_scope``: the account, its role, the ids
of its provinces' units, of its protected areas, the codes of its facilities, the ids of its
taxa) and of the row's columns:

* ``auth.account_scope(account)``: the scope of an active account from ``auth.account_scopes``
  (a deactivated or unknown account has none). Provinces: the granted codes and the pre-2025
  provinces merged whole into a granted 2025 unit (the rule of ``Principal.scopes``), each code
  as the unit in force today (else its last version). Taxa: the granted groups, everything below
  them through ``parent_id``, and their synonyms (``accepted_id``), recursively;
* ``auth.writer_scope()``: the scope of the account in ``vbis.account_id``. A policy calls it
  in a scalar subquery, so that it is computed once per statement, not once per row;
* ``auth.may_write_occurrence``: national_admin; provincial_editor where the point lies in one
  of its units; reserve_board inside one of its protected areas; expert for its taxa (and inside
  its granted provinces or protected areas, if it has any);
* ``auth.may_write_protected_area``/``_zone``/``_facility``: national_admin; provincial_editor
  by geometry; reserve_board by the area's code, the zone's area, the facility's code;
* ``auth.may_write_area`` (wetlands, ecosystems, planning zones): national_admin, and
  provincial_editor by geometry;
* ``auth.may_write_reference`` (admin_units, taxa, taxon_statuses, pa_designations):
  national_admin only.

The application checks uploads with the same functions (``vbis_geo.auth.scope``), so that a row
out of scope is reported by its row number before the database would refuse it.

**Review rules.** A trigger ``review_rules`` (BEFORE INSERT OR UPDATE, on the reviewed tables of
0011, for the writer only: ``current_user = 'vbis_writer'``) enforces what the policies cannot
see, comparing the old row and the new: ``submitted_by`` is the writing account on every insert
and edit (never taken from the client); an expert's inserts and edits are drafts; setting
``published`` or ``rejected`` is a review, which the policies allow only within scope, and
records ``reviewed_by``/``reviewed_at``; an expert does not review its own contribution; a
new row is never ``rejected``. The ``rejected`` reason is required by 0011's CHECK.

**Triggers as the writer.** The statement triggers of the editable tables keep tables in
``publish`` and ``analysis`` (tile grid, row counts, assignments, generalised points, the
public points of sensitive records). Their functions become SECURITY DEFINER with a fixed
search_path (``auth.secure_trigger_functions()``), so the writer needs no right there: a
writer able to delete a row of ``publish.occurrence_public`` could reveal an exact location.
The history functions (0010) are SECURITY DEFINER already. A later migration that creates or
replaces a trigger function on an editable table calls ``SELECT
auth.secure_trigger_functions()`` after it (a test checks every one is).

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None

WRITER = "vbis_writer"
#: the tables users edit (0010)
EDITABLE = (
    "admin_units",
    "protected_areas",
    "pa_designations",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "occurrences",
    "taxa",
    "taxon_statuses",
)
#: the tables whose rows are reviewed (0011)
REVIEWED = (
    "occurrences",
    "protected_areas",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
)
#: per editable table: the rule deciding whether a scope may write a row, and its arguments
RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "occurrences": ("may_write_occurrence", ("geom", "taxon_id")),
    "protected_areas": ("may_write_protected_area", ("code", "geom")),
    "pa_zones": ("may_write_zone", ("protected_area_id", "geom")),
    "conservation_facilities": ("may_write_facility", ("code", "geom")),
    "wetlands": ("may_write_area", ("geom",)),
    "ecosystems": ("may_write_area", ("geom",)),
    "planning_zones": ("may_write_area", ("geom",)),
    "admin_units": ("may_write_reference", ()),
    "taxa": ("may_write_reference", ()),
    "taxon_statuses": ("may_write_reference", ()),
    "pa_designations": ("may_write_reference", ()),
}
#: the functions of the rules, which the writer calls (the policies are evaluated as the writer)
FUNCTIONS = (
    "may_write_occurrence(auth.write_scope, geometry, integer)",
    "may_write_protected_area(auth.write_scope, text, geometry)",
    "may_write_zone(auth.write_scope, integer, geometry)",
    "may_write_facility(auth.write_scope, text, geometry)",
    "may_write_area(auth.write_scope, geometry)",
    "may_write_reference(auth.write_scope)",
    "may_delete_reviewed(auth.write_scope, integer, text)",
    "in_units(geometry, integer[])",
    "in_protected_areas(geometry, integer[])",
    "writer_scope()",
    "account_scope(integer)",
)
#: run by triggers and migrations only
MAINTENANCE_FUNCTIONS = ("review_rules()", "secure_trigger_functions()")
_DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
#: the trigger functions 0011 created with this search_path already (kept by the downgrade)
_HAD_SEARCH_PATH = (
    "publish.occurrence_public_inserted()",
    "publish.occurrence_public_deleted()",
    "publish.occurrence_public_updated()",
)

ROLE = f"""
DO $$
DECLARE
    r record;
BEGIN
    SELECT rolsuper, rolbypassrls, rolcanlogin INTO r FROM pg_roles WHERE rolname = '{WRITER}';
    IF NOT FOUND THEN
        BEGIN
            CREATE ROLE {WRITER} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        EXCEPTION
            WHEN duplicate_object THEN NULL;  -- created meanwhile by a migration of another database
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'the role {WRITER} does not exist and % may not create it',
                    current_user
                    USING HINT = 'a superuser runs: CREATE ROLE {WRITER} NOLOGIN; GRANT '
                        || '{WRITER} TO ' || quote_ident(current_user) || ';';
        END;
    ELSIF r.rolsuper OR r.rolbypassrls OR r.rolcanlogin THEN
        RAISE EXCEPTION 'the role {WRITER} exists with SUPERUSER, BYPASSRLS or LOGIN: '
            'row-level security would not hold'
            USING HINT = 'ALTER ROLE {WRITER} NOSUPERUSER NOBYPASSRLS NOLOGIN';
    END IF;
    -- the connection user switches to it (SET ROLE needs membership unless superuser)
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, '{WRITER}', 'MEMBER') THEN
        EXECUTE format('GRANT {WRITER} TO %I', current_user);
    END IF;
    -- a member of the owner's role would share the owner's exemption from row-level security
    IF pg_has_role('{WRITER}', (SELECT relowner FROM pg_class
                               WHERE oid = 'public.occurrences'::regclass), 'MEMBER') THEN
        RAISE EXCEPTION '{WRITER} is a member of the role owning the tables: it would have '
            'the owner''s rights';
    END IF;
END $$
"""

SCOPE = f"""
CREATE TYPE auth.write_scope AS (
    account integer,
    role text,
    units integer[],
    protected_areas integer[],
    facilities text[],
    taxa integer[]
);

CREATE FUNCTION auth.account_scope(account_id integer) RETURNS auth.write_scope
LANGUAGE sql STABLE {_DEFINER} AS $$
    WITH RECURSIVE
    account AS (
        SELECT a.id, a.role FROM auth.accounts a WHERE a.id = account_id AND a.active
    ),
    granted AS (
        SELECT s.kind, s.admin_unit_code, s.protected_area_code, s.facility_code, s.taxon_id
        FROM auth.account_scopes s JOIN account a ON a.id = s.account_id
    ),
    provinces AS (
        SELECT admin_unit_code AS code FROM granted WHERE kind = 'province'
    ),
    codes AS (
        SELECT code FROM provinces
        UNION
        -- the pre-2025 provinces merged whole into a granted 2025 unit
        SELECT p.code
        FROM public.admin_units n
        JOIN public.admin_unit_lineage l ON l.successor_id = n.id
        JOIN public.admin_units p ON p.id = l.predecessor_id
        WHERE n.code IN (SELECT code FROM provinces)
          AND NOT EXISTS (
              SELECT 1 FROM public.admin_unit_lineage o
              JOIN public.admin_units u ON u.id = o.successor_id
              WHERE o.predecessor_id = l.predecessor_id
                AND u.code NOT IN (SELECT code FROM provinces))
    ),
    units AS (
        -- each code as the unit in force today, else its last version
        SELECT DISTINCT ON (u.code) u.id
        FROM public.admin_units u JOIN codes c ON c.code = u.code
        ORDER BY u.code,
                 (u.valid_from <= current_date
                  AND (u.valid_to IS NULL OR u.valid_to >= current_date)) DESC,
                 u.valid_from DESC
    ),
    groups (id) AS (
        SELECT taxon_id FROM granted WHERE kind = 'taxon'
        UNION
        -- below a taxon, and its synonyms
        SELECT t.id FROM public.taxa t JOIN groups g ON t.parent_id = g.id OR t.accepted_id = g.id
    )
    SELECT a.id, a.role,
           ARRAY(SELECT id FROM units ORDER BY id),
           ARRAY(SELECT p.id FROM public.protected_areas p
                 JOIN granted g ON g.protected_area_code = p.code ORDER BY p.id),
           ARRAY(SELECT facility_code FROM granted WHERE kind = 'facility' ORDER BY 1),
           ARRAY(SELECT id FROM groups ORDER BY id)
    FROM account a
$$;

CREATE FUNCTION auth.writer_scope() RETURNS auth.write_scope
LANGUAGE sql STABLE {_DEFINER} AS $$
    SELECT auth.account_scope(
        CAST(nullif(current_setting('vbis.account_id', true), '') AS integer))
$$;

CREATE FUNCTION auth.in_units(g geometry, units integer[]) RETURNS boolean
LANGUAGE sql STABLE {_DEFINER} AS $$
    SELECT EXISTS (SELECT 1 FROM public.admin_units a
                   WHERE a.id = ANY (units) AND ST_Intersects(a.geom, g))
$$;

CREATE FUNCTION auth.in_protected_areas(g geometry, areas integer[]) RETURNS boolean
LANGUAGE sql STABLE {_DEFINER} AS $$
    SELECT EXISTS (SELECT 1 FROM public.protected_areas p
                   WHERE p.id = ANY (areas) AND ST_Intersects(p.geom, g))
$$;

CREATE FUNCTION auth.may_write_occurrence(s auth.write_scope, g geometry, taxon integer)
RETURNS boolean LANGUAGE sql STABLE {_DEFINER} AS $$
    SELECT coalesce(CASE s.role
        WHEN 'national_admin' THEN true
        WHEN 'provincial_editor' THEN auth.in_units(g, s.units)
        WHEN 'reserve_board' THEN auth.in_protected_areas(g, s.protected_areas)
        WHEN 'expert' THEN taxon = ANY (s.taxa) AND (
            (cardinality(s.units) = 0 AND cardinality(s.protected_areas) = 0)
            OR auth.in_units(g, s.units) OR auth.in_protected_areas(g, s.protected_areas))
    END, false)
$$;

CREATE FUNCTION auth.may_write_protected_area(s auth.write_scope, area_code text, g geometry)
RETURNS boolean LANGUAGE sql STABLE {_DEFINER} AS $$
    SELECT coalesce(CASE s.role
        WHEN 'national_admin' THEN true
        WHEN 'provincial_editor' THEN auth.in_units(g, s.units)
        WHEN 'reserve_board' THEN EXISTS (
            SELECT 1 FROM public.protected_areas p
            WHERE p.id = ANY (s.protected_areas) AND p.code = area_code)
    END, false)
$$;

CREATE FUNCTION auth.may_write_zone(s auth.write_scope, area integer, g geometry)
RETURNS boolean LANGUAGE sql STABLE {_DEFINER} AS $$
    SELECT coalesce(CASE s.role
        WHEN 'national_admin' THEN true
        WHEN 'provincial_editor' THEN auth.in_units(g, s.units)
        WHEN 'reserve_board' THEN area = ANY (s.protected_areas)
    END, false)
$$;

CREATE FUNCTION auth.may_write_facility(s auth.write_scope, facility_code text, g geometry)
RETURNS boolean LANGUAGE sql STABLE {_DEFINER} AS $$
    SELECT coalesce(CASE s.role
        WHEN 'national_admin' THEN true
        WHEN 'provincial_editor' THEN auth.in_units(g, s.units)
        WHEN 'reserve_board' THEN facility_code = ANY (s.facilities)
    END, false)
$$;

CREATE FUNCTION auth.may_write_area(s auth.write_scope, g geometry)
RETURNS boolean LANGUAGE sql STABLE {_DEFINER} AS $$
    SELECT coalesce(CASE s.role
        WHEN 'national_admin' THEN true
        WHEN 'provincial_editor' THEN auth.in_units(g, s.units)
    END, false)
$$;

CREATE FUNCTION auth.may_write_reference(s auth.write_scope)
RETURNS boolean LANGUAGE sql STABLE {_DEFINER} AS $$
    SELECT coalesce(s.role = 'national_admin', false)
$$;

-- an expert deletes only its own contributions that are not published
CREATE FUNCTION auth.may_delete_reviewed(s auth.write_scope, submitter integer, status text)
RETURNS boolean LANGUAGE sql STABLE {_DEFINER} AS $$
    SELECT coalesce(s.role <> 'expert' OR (submitter = s.account AND status <> 'published'),
                    false)
$$;
"""

REVIEW_RULES = f"""
CREATE FUNCTION auth.review_rules() RETURNS trigger
LANGUAGE plpgsql {_DEFINER} AS $$
DECLARE
    -- the writing account and its role only (once per row: not the scope, which the policies
    -- compute once per statement)
    s record;
    row_name text := format('%s %s', TG_TABLE_NAME,
                            coalesce(to_jsonb(NEW) ->> 'code', to_jsonb(NEW) ->> 'occurrence_id',
                                     NEW.id::text));
    review_columns text[] := ARRAY['review_status', 'reviewed_at', 'review_reason',
                                   'submitted_by', 'reviewed_by', 'updated_at'];
    edited boolean;
BEGIN
    SELECT a.id AS account, a.role INTO s FROM auth.accounts a
    WHERE a.id = CAST(nullif(current_setting('vbis.account_id', true), '') AS integer)
      AND a.active;
    IF s.account IS NULL THEN
        RAISE EXCEPTION '%: no active account is writing (vbis.account_id)', row_name
            USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.submitted_by := s.account;
        IF NEW.review_status = 'rejected' THEN
            RAISE EXCEPTION '%: a new row cannot be rejected', row_name
                USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
        END IF;
        IF s.role = 'expert' AND NEW.review_status <> 'draft' THEN
            RAISE EXCEPTION '%: an expert''s contributions are drafts until reviewed '
                '(review_status draft, not %)', row_name, NEW.review_status
                USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
        END IF;
        IF NEW.review_status = 'published' THEN  -- published directly: its writer reviewed it
            NEW.reviewed_by := s.account;
            NEW.reviewed_at := now();
        ELSE
            NEW.reviewed_by := NULL;
            NEW.reviewed_at := NULL;
        END IF;
        RETURN NEW;
    END IF;

    edited := (to_jsonb(NEW) - review_columns) IS DISTINCT FROM (to_jsonb(OLD) - review_columns);
    IF edited THEN
        NEW.submitted_by := s.account;
        IF s.role = 'expert' AND NEW.review_status <> 'draft' THEN
            RAISE EXCEPTION '%: an expert''s edits are drafts until reviewed '
                '(review_status draft, not %)', row_name, NEW.review_status
                USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
        END IF;
    ELSE
        NEW.submitted_by := OLD.submitted_by;
    END IF;
    IF NEW.review_status IS DISTINCT FROM OLD.review_status THEN
        IF NEW.review_status IN ('published', 'rejected') THEN
            -- a review (whether the row is within the reviewer's scope is the policies' part)
            IF s.role = 'expert' AND OLD.submitted_by = s.account THEN
                RAISE EXCEPTION '%: you submitted it; another reviewer publishes or rejects it',
                    row_name USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
            END IF;
            NEW.reviewed_by := s.account;
            NEW.reviewed_at := now();
        ELSE
            NEW.reviewed_by := NULL;
            NEW.reviewed_at := NULL;
            NEW.review_reason := NULL;
        END IF;
    ELSIF edited AND NEW.review_status = 'published' THEN
        -- an edit published directly: its writer reviewed it
        NEW.reviewed_by := s.account;
        NEW.reviewed_at := now();
    ELSE
        NEW.reviewed_by := OLD.reviewed_by;
        NEW.reviewed_at := OLD.reviewed_at;
        NEW.review_reason := OLD.review_reason;
    END IF;
    RETURN NEW;
END $$;
"""

SECURE_TRIGGERS = f"""
CREATE FUNCTION auth.secure_trigger_functions() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT DISTINCT p.oid::regprocedure
        FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE NOT t.tgisinternal
          AND t.tgrelid = ANY (ARRAY[{", ".join(f"'public.{t}'::regclass" for t in EDITABLE)}])
          AND NOT (p.prosecdef AND EXISTS (
              SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%'))
    LOOP
        EXECUTE format('ALTER FUNCTION %s {_DEFINER}', fn);
    END LOOP;
END $f$;
"""


def _policy(table: str) -> str:
    """The rule of ``table`` applied to the writer's scope. The scalar subqueries are computed
    once per statement (InitPlans), not once per row; a national admin's rows need no call."""
    function, columns = RULES[table]
    scope = "(SELECT auth.writer_scope())"
    admin = "(SELECT (auth.writer_scope()).role = 'national_admin')"
    return f"({admin} OR auth.{function}({', '.join([scope, *columns])}))"


def upgrade() -> None:
    op.execute(ROLE)
    op.execute(SCOPE)
    op.execute(REVIEW_RULES)
    op.execute(SECURE_TRIGGERS)
    op.execute("SELECT auth.secure_trigger_functions()")

    # what the writer may call, and nobody else (the owner may anyway)
    for function in (*FUNCTIONS, *MAINTENANCE_FUNCTIONS):
        op.execute(f"REVOKE ALL ON FUNCTION auth.{function} FROM PUBLIC")
    for function in FUNCTIONS:
        op.execute(f"GRANT EXECUTE ON FUNCTION auth.{function} TO {WRITER}")
    op.execute(f"GRANT USAGE ON SCHEMA auth TO {WRITER}")
    op.execute(f"GRANT USAGE ON TYPE auth.write_scope TO {WRITER}")

    for table in EDITABLE:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON public.{table} TO {WRITER}")
        op.execute(
            f"""
            DO $$
            DECLARE
                seq regclass;
            BEGIN
                FOR seq IN SELECT d.objid::regclass FROM pg_depend d
                           JOIN pg_class c ON c.oid = d.objid AND c.relkind = 'S'
                           WHERE d.refobjid = 'public.{table}'::regclass
                             AND d.deptype IN ('a', 'i')
                LOOP
                    EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO {WRITER}', seq);
                END LOOP;
            END $$
            """
        )
        op.execute(f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY")
        rule = _policy(table)
        op.execute(
            f"CREATE POLICY vbis_writer_read ON public.{table} FOR SELECT TO {WRITER} USING (true)"
        )
        op.execute(
            f"CREATE POLICY vbis_writer_insert ON public.{table} FOR INSERT TO {WRITER} "
            f"WITH CHECK ({rule})"
        )
        op.execute(
            f"CREATE POLICY vbis_writer_update ON public.{table} FOR UPDATE TO {WRITER} "
            f"USING ({rule}) WITH CHECK ({rule})"
        )
        delete = rule
        if table in REVIEWED:
            delete += (
                " AND auth.may_delete_reviewed((SELECT auth.writer_scope()), submitted_by, "
                "review_status)"
            )
        op.execute(
            f"CREATE POLICY vbis_writer_delete ON public.{table} FOR DELETE TO {WRITER} "
            f"USING ({delete})"
        )
    for table in REVIEWED:
        op.execute(
            f"CREATE TRIGGER review_rules BEFORE INSERT OR UPDATE ON public.{table} "
            f"FOR EACH ROW WHEN (current_user = '{WRITER}') EXECUTE FUNCTION auth.review_rules()"
        )


def downgrade() -> None:
    for table in REVIEWED:
        op.execute(f"DROP TRIGGER IF EXISTS review_rules ON public.{table}")
    for table in EDITABLE:
        for policy in ("read", "insert", "update", "delete"):
            op.execute(f"DROP POLICY IF EXISTS vbis_writer_{policy} ON public.{table}")
        op.execute(f"ALTER TABLE public.{table} DISABLE ROW LEVEL SECURITY")
    # the trigger functions as they were: invoker's rights (history's aside: 0010 made them
    # SECURITY DEFINER), with the search_path only those of 0011 had
    kept = ", ".join(f"'{f}'" for f in _HAD_SEARCH_PATH)
    op.execute(
        f"""
        DO $$
        DECLARE
            fn regprocedure;
        BEGIN
            FOR fn IN
                SELECT DISTINCT p.oid::regprocedure
                FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE NOT t.tgisinternal AND n.nspname NOT IN ('history', 'auth')
                  AND t.tgrelid = ANY (ARRAY[{", ".join(f"'public.{t}'::regclass" for t in EDITABLE)}])
            LOOP
                EXECUTE format('ALTER FUNCTION %s SECURITY INVOKER', fn);
                IF fn::text NOT IN ({kept}) THEN
                    EXECUTE format('ALTER FUNCTION %s RESET search_path', fn);
                END IF;
            END LOOP;
        END $$
        """
    )
    for function in MAINTENANCE_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS auth.{function}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS auth.{function}")
    op.execute("DROP TYPE IF EXISTS auth.write_scope")
    # the role's rights in this database; the role itself unless another database uses it
    op.execute(
        f"""
        DO $$
        BEGIN
            IF to_regrole('{WRITER}') IS NULL THEN
                RETURN;
            END IF;
            EXECUTE 'DROP OWNED BY {WRITER}';  -- it owns nothing: this revokes its grants here
            IF NOT EXISTS (
                SELECT 1 FROM pg_shdepend d
                WHERE d.refclassid = 'pg_authid'::regclass
                  AND d.refobjid = to_regrole('{WRITER}')
                  AND d.dbid <> (SELECT oid FROM pg_database WHERE datname = current_database())
            ) THEN
                EXECUTE 'DROP ROLE {WRITER}';
            END IF;
        EXCEPTION
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'the role {WRITER} is kept: % may not drop it', current_user;
        END $$
        """
    )
