"""Edit history: ``history.<table>`` keeps every version an update or a delete replaces, with
who, when and why (issue 6; vbis_geo/auth/SECURITY.md, "History").

For each editable table ``history.<table>`` has the table's columns (``LIKE``, without
constraints, defaults, identity or generated expressions: NOT NULLs are dropped too, so that a
column a later migration relaxes or drops cannot make an edit fail) and:

* ``history_id``     identity, the order of the changes (several in one transaction share
  ``changed_at``);
* ``changed_at``     when it was replaced (``now()``: the editing transaction's time). The
  version was current from the later of the row's ``created_at`` and its previous change
  until then; readers (``vbis_geo.db.history``) look the previous change up, so that the
  write path does no lookup;
* ``changed_by``     ``auth.accounts.id`` from the setting ``vbis.account_id`` (no foreign key:
  deleting an account keeps its history), NULL for a system change;
* ``change_kind``    'update' or 'delete';
* ``change_reason``  from the setting ``vbis.change_reason``.

Row triggers AFTER UPDATE (only when a column other than ``updated_at`` changed) and AFTER DELETE
copy OLD. INSERTs are not recorded (nothing is replaced), so a bulk load into an empty table
pays nothing. TRUNCATE is not recorded either: editing paths never truncate.

``history.enable(table)`` creates or brings up to date the history table, its trigger function
(explicit column lists, read from the catalog) and its triggers. A later migration that adds a
column to one of these tables calls ``SELECT history.enable('<table>')`` after it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

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

ENABLE = r"""
CREATE FUNCTION history.enable(tbl text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $enable$
DECLARE
    src regclass := format('public.%I', tbl)::regclass;
    col record;
    cols text;
    olds text;
    compared_old text;
    compared_new text;
BEGIN
    IF to_regclass(format('history.%I', tbl)) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE history.%I (history_id bigint GENERATED ALWAYS AS IDENTITY, '
            'LIKE public.%I, changed_at timestamptz NOT NULL, '
            'changed_by bigint, change_kind text NOT NULL, change_reason text, '
            'CONSTRAINT %I PRIMARY KEY (history_id), '
            'CONSTRAINT %I CHECK (change_kind IN (''update'', ''delete'')))',
            tbl, tbl, 'pk_history_' || tbl, 'ck_history_' || tbl || '_change_kind');
        EXECUTE format('CREATE INDEX %I ON history.%I (id, changed_at)',
                       'ix_history_' || tbl || '_id_changed_at', tbl);
        EXECUTE format('CREATE INDEX %I ON history.%I (changed_by)',
                       'ix_history_' || tbl || '_changed_by', tbl);
    END IF;
    -- columns the table gained since (a later migration calls enable() again)
    FOR col IN
        SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
        FROM pg_attribute a
        WHERE a.attrelid = src AND a.attnum > 0 AND NOT a.attisdropped
          AND NOT EXISTS (SELECT 1 FROM pg_attribute h
                          WHERE h.attrelid = format('history.%I', tbl)::regclass
                            AND h.attname = a.attname AND NOT h.attisdropped)
    LOOP
        EXECUTE format('ALTER TABLE history.%I ADD COLUMN %I %s', tbl, col.attname, col.type);
    END LOOP;
    -- a history row holds whatever the table held: no NOT NULL but the history's own
    FOR col IN
        SELECT a.attname FROM pg_attribute a
        WHERE a.attrelid = format('history.%I', tbl)::regclass AND a.attnum > 0
          AND NOT a.attisdropped AND a.attnotnull
          AND a.attname NOT IN ('history_id', 'changed_at', 'change_kind')
    LOOP
        EXECUTE format('ALTER TABLE history.%I ALTER COLUMN %I DROP NOT NULL', tbl, col.attname);
    END LOOP;

    SELECT string_agg(format('%I', attname), ', ' ORDER BY attnum),
           string_agg(format('OLD.%I', attname), ', ' ORDER BY attnum),
           string_agg(format('OLD.%I', attname), ', ' ORDER BY attnum)
               FILTER (WHERE attname <> 'updated_at'),
           string_agg(format('NEW.%I', attname), ', ' ORDER BY attnum)
               FILTER (WHERE attname <> 'updated_at')
    INTO cols, olds, compared_old, compared_new
    FROM pg_attribute WHERE attrelid = src AND attnum > 0 AND NOT attisdropped;

    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION history.%I() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
        BEGIN
            INSERT INTO history.%I (%s, changed_at, changed_by, change_kind,
                                    change_reason)
            VALUES (%s, now(),
                    CAST(nullif(current_setting('vbis.account_id', true), '') AS bigint),
                    lower(TG_OP),
                    nullif(current_setting('vbis.change_reason', true), ''));
            RETURN NULL;
        END $body$ $f$,
        'record_' || tbl, tbl, cols, olds);

    EXECUTE format('DROP TRIGGER IF EXISTS history_update ON public.%I', tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS history_delete ON public.%I', tbl);
    EXECUTE format(
        'CREATE TRIGGER history_update AFTER UPDATE ON public.%I FOR EACH ROW '
        'WHEN ((%s) IS DISTINCT FROM (%s)) EXECUTE FUNCTION history.%I()',
        tbl, compared_old, compared_new, 'record_' || tbl);
    EXECUTE format(
        'CREATE TRIGGER history_delete AFTER DELETE ON public.%I FOR EACH ROW '
        'EXECUTE FUNCTION history.%I()', tbl, 'record_' || tbl);
END $enable$
"""


def upgrade() -> None:
    op.execute("CREATE SCHEMA history")
    op.execute(ENABLE)
    for table in EDITABLE:
        op.execute(f"SELECT history.enable('{table}')")  # noqa: S608 (a constant table name)


def downgrade() -> None:
    for table in EDITABLE:
        op.execute(f"DROP TRIGGER IF EXISTS history_update ON public.{table}")
        op.execute(f"DROP TRIGGER IF EXISTS history_delete ON public.{table}")
    op.execute("DROP SCHEMA history CASCADE")
