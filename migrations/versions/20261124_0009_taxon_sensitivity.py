"""The sensitivity level of every taxon: ``sensitivity_overrides`` and
``analysis.taxon_sensitivity``.

Exact locations of threatened species help poachers (../shared/DOMAIN.md, "Sensitive data");
GBIF, the Atlas of Living Australia and iNaturalist generalise them for the public to grid
cells of 1 to 25 km. A taxon's level is the size of that cell in km, 0 meaning not sensitive.

``analysis.taxon_sensitivity (taxon_id, level_km, rule)`` holds the *national* level of every
taxon, and in ``rule`` why. It is, for each taxon:

1. its national override (``sensitivity_overrides`` with a NULL province), if it has one:
   the override beats the rule, including everything inherited below;
2. otherwise the greatest of the levels its statuses give (the statuses of
   ../shared/DOMAIN.md, "Species"; lists in vbis_geo/db/models/taxa.py):

   ====== ===================================================================================
   10 km  CR or EN on the IUCN Red List or in the Vietnam Red Data Book (Sách Đỏ 2007); on the
          priority-protected list of Decree 64/2019/NĐ-CP; forest-law group IA or IB
          (Decree 06/2019/NĐ-CP as amended by 84/2021)
   1 km   VU on the IUCN Red List or in the Red Data Book; CITES Appendix I; forest-law group
          IIA or IIB
   0      anything else (NT, LC, DD, LR, EX, EW, CITES II/III, endemic, invasive, migratory,
          no status)
   ====== ===================================================================================

   and of the levels of the taxa it stands for, each taken by the same rule (its own override,
   if any, else its statuses and the taxa *it* stands for):

   * a synonym stands for its accepted name: the statuses are usually entered on the accepted
     name, and a record under an old name must not reveal what a record under the current one
     hides. Statuses entered on the synonym itself count too (the greater level wins);
   * a subspecies, variety or form stands for its parent (up to the species): its records count
     as the species' on every read path (``analysis.taxon_species``), so a level below the
     species' would reveal the species' exact locations through infraspecific records. So it
     takes the species' level when it has none of its own, *and* when its own is lower; a
     subspecies genuinely less at risk than its species gets a national override. A subspecies
     with a status of its own (Abies delavayi subsp. fansipanensis) keeps its higher level.

   Statuses of genera and higher taxa are not passed down, and a genus does not take its
   species' levels (records identified only to genus keep exact locations): migration 0017
   changed that.

``rule`` says what decided: ``national override``, the deciding statuses (``iucn_red_list EN,
priority_protected``), the same followed by ``(inherited from species <name>)``, or ``no
sensitive status``.

Provincial overrides (a non-NULL ``province_code``) stay in ``sensitivity_overrides`` only: a
record's level is the override of its taxon in the record's province if there is one, else the
taxon's national level here; the read path (the ``public_occurrences`` view) looks them up.

Kept current like ``analysis.taxon_species``: a statement trigger on ``taxa``,
``taxon_statuses`` and ``sensitivity_overrides`` marks ``taxon_sensitivity`` stale in
``analysis.state``, and :func:`vbis_geo.analysis.assignment.ensure_current` recomputes it
(``analysis.recompute_taxon_sensitivity()``, a few milliseconds per thousand taxa) before every
question reads.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SOURCES = ("taxa", "taxon_statuses", "sensitivity_overrides")

#: the level one status row gives (the rule of the docstring, in one place)
STATUS_LEVEL = """
    CASE
        WHEN (s.list IN ('iucn_red_list', 'vn_red_data_book') AND s.category IN ('CR', 'EN'))
          OR s.list = 'priority_protected'
          OR (s.list = 'forest_law_group' AND s.category IN ('IA', 'IB')) THEN 10
        WHEN (s.list IN ('iucn_red_list', 'vn_red_data_book') AND s.category = 'VU')
          OR (s.list = 'cites' AND s.category = 'I')
          OR (s.list = 'forest_law_group' AND s.category IN ('IIA', 'IIB')) THEN 1
        ELSE 0
    END
"""


#: the level of each taxon by its own statuses, and the statuses giving it (two CTEs)
RULE = f"""
status_level AS (
    SELECT s.taxon_id, s.list, s.category, {STATUS_LEVEL} AS level
    FROM taxon_statuses s
), rule AS (  -- each taxon's level by its own statuses, and the statuses giving it
    SELECT s.taxon_id, m.level,
           string_agg(s.list || coalesce(' ' || s.category, ''), ', '
                      ORDER BY s.list) AS why
    FROM status_level s JOIN (
        SELECT taxon_id, max(level) AS level FROM status_level GROUP BY taxon_id
    ) m ON m.taxon_id = s.taxon_id AND m.level = s.level
    WHERE m.level > 0
    GROUP BY s.taxon_id, m.level
)
"""

#: the function that recomputes the levels (the rule of the docstring)
RECOMPUTE = f"""
CREATE OR REPLACE FUNCTION analysis.recompute_taxon_sensitivity() RETURNS void LANGUAGE sql AS $$
    UPDATE analysis.state SET stale = false WHERE name = 'taxon_sensitivity';
    DELETE FROM analysis.taxon_sensitivity;
    WITH RECURSIVE {RULE}, own AS (
        -- each taxon's own level: its national override, else its statuses
        SELECT t.id, t.rank, t.scientific_name, o.id IS NOT NULL AS overridden,
               coalesce(o.level_km, r.level, 0) AS level,
               CASE WHEN o.id IS NOT NULL THEN 'national override'
                    WHEN r.level IS NOT NULL THEN r.why
                    ELSE 'no sensitive status' END AS why,
               -- the taxon it stands for: a synonym's accepted name, an
               -- infraspecific taxon's parent
               CASE WHEN t.taxonomic_status = 'synonym' THEN t.accepted_id
                    WHEN t.rank IN ('subspecies', 'variety', 'form') THEN t.parent_id
               END AS stands_for
        FROM taxa t
        LEFT JOIN sensitivity_overrides o
          ON o.taxon_id = t.id AND o.province_code IS NULL
        LEFT JOIN rule r ON r.taxon_id = t.id
    ), chain AS (  -- each taxon, then what it stands for, until an override or a stop
        SELECT id AS taxon_id, id AS node_id, 0 AS depth FROM own
        UNION ALL
        SELECT c.taxon_id, cur.stands_for, c.depth + 1
        FROM chain c JOIN own cur ON cur.id = c.node_id
        WHERE cur.stands_for IS NOT NULL AND NOT cur.overridden AND c.depth < 40
    )
    INSERT INTO analysis.taxon_sensitivity (taxon_id, level_km, rule)
    SELECT DISTINCT ON (c.taxon_id) c.taxon_id, n.level,
           CASE WHEN c.depth = 0 OR n.level = 0 THEN n.why
                ELSE n.why || ' (inherited from ' || n.rank || ' '
                     || n.scientific_name || ')' END
    FROM chain c JOIN own n ON n.id = c.node_id
    ORDER BY c.taxon_id, n.level DESC, c.depth;
$$
"""


def upgrade() -> None:
    op.create_table(
        "sensitivity_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taxon_id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=40), nullable=True),
        sa.Column("level_km", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column(
            "set_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "level_km IN (0, 1, 10, 25)", name=op.f("ck_sensitivity_overrides_level_km_allowed")
        ),
        sa.CheckConstraint(
            "char_length(btrim(reason)) > 0", name=op.f("ck_sensitivity_overrides_reason_given")
        ),
        sa.ForeignKeyConstraint(
            ["taxon_id"],
            ["taxa.id"],
            name=op.f("fk_sensitivity_overrides_taxon_id_taxa"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by"],
            ["auth.accounts.id"],
            name=op.f("fk_sensitivity_overrides_set_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensitivity_overrides")),
        sa.UniqueConstraint(
            "taxon_id",
            "province_code",
            name=op.f("uq_sensitivity_overrides_taxon_id_province_code"),
            postgresql_nulls_not_distinct=True,
        ),
    )

    op.execute(
        "CREATE TABLE analysis.taxon_sensitivity (taxon_id bigint PRIMARY KEY, "
        "level_km integer NOT NULL, rule text NOT NULL)"
    )
    op.execute("INSERT INTO analysis.state VALUES ('taxon_sensitivity', true)")
    op.execute(
        """
        CREATE FUNCTION analysis.taxon_sensitivity_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE analysis.state SET stale = true WHERE name = 'taxon_sensitivity' AND NOT stale;
            RETURN NULL;
        END $$
        """
    )
    op.execute(RECOMPUTE)
    for table in SOURCES:
        op.execute(
            f"CREATE TRIGGER analysis_taxon_sensitivity AFTER INSERT OR UPDATE OR DELETE OR "
            f"TRUNCATE ON {table} FOR EACH STATEMENT "
            "EXECUTE FUNCTION analysis.taxon_sensitivity_changed()"
        )
    op.execute("SELECT analysis.recompute_taxon_sensitivity()")


def downgrade() -> None:
    for table in SOURCES:
        op.execute(f"DROP TRIGGER IF EXISTS analysis_taxon_sensitivity ON {table}")
    op.execute("DROP FUNCTION IF EXISTS analysis.recompute_taxon_sensitivity()")
    op.execute("DROP FUNCTION IF EXISTS analysis.taxon_sensitivity_changed()")
    op.execute("DROP TABLE IF EXISTS analysis.taxon_sensitivity")
    op.execute("DELETE FROM analysis.state WHERE name = 'taxon_sensitivity'")
    op.drop_table("sensitivity_overrides")
