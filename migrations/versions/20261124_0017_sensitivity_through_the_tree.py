"""Sensitivity levels through the whole taxonomic tree: a status entered on a genus or a family
reaches every taxon under it, and a record identified only to a genus or higher is generalised
as much as the most sensitive taxon under that name.

Migration 0009 passed a level from a synonym's accepted name and from an infraspecific taxon's
species, and no further. Two leaks were left (vbis_geo/auth/SECURITY.md):

* **down**: the lists often name a whole genus or family, and a status is then entered on it
  (CITES lists "Tylototriton spp." and "Goniurosaurus spp.", vbis_geo/demo/reference/
  species.yml). A species of such a genus with no status of its own kept its exact locations. Now every accepted taxon stands for its parent too, so a taxon's level is
  the greatest of its own and of every taxon above it (up to an override, which stops the walk
  as before: an override beats the rule, including everything inherited);
* **up**: a record identified only as "Manis sp." is a pangolin's location. A taxon above the
  species rank now takes at least the greatest level of the accepted taxa under it (by their
  own statuses and what they inherit, never by what a sibling gives the genus: Dendrobium
  nobile does not become sensitive because Dendrobium sp. is). A genus synonym takes its
  accepted genus' level from below too. A genus or family may be given a national override,
  as any taxon can, when this is too strict: "Dendrobium sp." records of a province where no
  threatened Dendrobium grows, say, by a provincial override.

``rule`` says so: ``forest_law_group IA (inherited from genus Paphiopedilum)`` and
``iucn_red_list CR, ... (greatest under it: species Manis pentadactyla)``.

Provincial overrides still apply to their own taxon only.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

from vbis_geo.db.migrate import earlier_migration

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

#: the ranks a record can be identified to without naming one species
ABOVE_SPECIES = ("kingdom", "phylum", "class", "order", "family", "genus")


def _recompute() -> str:
    ranks = ", ".join(f"'{rank}'" for rank in ABOVE_SPECIES)
    return f"""
CREATE OR REPLACE FUNCTION analysis.recompute_taxon_sensitivity() RETURNS void LANGUAGE sql
-- hash joins whatever the statistics say: right after a backbone is loaded, before ANALYZE,
-- the planner takes the tree for a few rows and a nested loop would take hours; and no JIT:
-- the recursive parts' estimates are so large that compiling took 0.6 s of a 1.4 s run (102,000
-- taxa), for a query of milliseconds per thousand taxa
SET enable_nestloop = off SET jit = off AS $$
    UPDATE analysis.state SET stale = false WHERE name = 'taxon_sensitivity';
    WITH RECURSIVE {earlier_migration("0009").RULE}, own AS (
        -- each taxon's own level: its national override, else its statuses
        SELECT t.id, t.rank, t.scientific_name, t.parent_id, t.accepted_id,
               t.taxonomic_status = 'synonym' AS synonym,
               o.id IS NOT NULL AS overridden,
               coalesce(o.level_km, r.level, 0) AS level,
               CASE WHEN o.id IS NOT NULL THEN 'national override'
                    WHEN r.level IS NOT NULL THEN r.why
                    ELSE 'no sensitive status' END AS why,
               -- the taxon it stands for: a synonym's accepted name, else its parent
               CASE WHEN t.taxonomic_status = 'synonym' THEN t.accepted_id
                    ELSE t.parent_id END AS stands_for
        FROM taxa t
        LEFT JOIN sensitivity_overrides o
          ON o.taxon_id = t.id AND o.province_code IS NULL
        LEFT JOIN rule r ON r.taxon_id = t.id
    ), down AS (
        -- each taxon's level from itself and the taxa it stands for, from the roots down: its
        -- own if overridden or not lower, else what it stands for gives (and who gave it)
        SELECT id AS taxon_id, level, why, NULL::text AS source,
               rank || ' ' || scientific_name AS label, 0 AS depth
        FROM own WHERE stands_for IS NULL
        UNION ALL
        SELECT c.id,
               CASE WHEN c.overridden OR c.level >= d.level THEN c.level ELSE d.level END,
               CASE WHEN c.overridden OR c.level >= d.level THEN c.why ELSE d.why END,
               CASE WHEN c.overridden OR c.level >= d.level THEN NULL
                    ELSE coalesce(d.source, d.label) END,
               c.rank || ' ' || c.scientific_name, d.depth + 1
        FROM down d JOIN own c ON c.stands_for = d.taxon_id
        WHERE d.depth < 40
    ), levels AS (  -- a taxon in a cycle of the backbone (no root) keeps its own level
        SELECT o.id AS taxon_id, coalesce(d.level, o.level) AS level,
               coalesce(d.why, o.why) || coalesce(' (inherited from ' || d.source || ')', '')
                   AS why
        FROM own o LEFT JOIN down d ON d.taxon_id = o.id
    ), above AS (  -- each sensitive accepted taxon, and the accepted taxa above it
        SELECT o.parent_id AS higher_id, o.id AS taxon_id, 1 AS depth
        FROM own o JOIN levels l ON l.taxon_id = o.id
        WHERE l.level > 0 AND NOT o.synonym AND o.parent_id IS NOT NULL
        UNION ALL
        SELECT p.parent_id, a.taxon_id, a.depth + 1
        FROM above a JOIN own p ON p.id = a.higher_id
        WHERE p.parent_id IS NOT NULL AND NOT p.synonym AND a.depth < 40
    ), up AS (  -- the most sensitive taxon under each taxon above the species, nearest first
        SELECT DISTINCT ON (a.higher_id) a.higher_id, l.level,
               l.why || ' (greatest under it: ' || n.rank || ' ' || n.scientific_name || ')'
                   AS why
        FROM above a
        JOIN own h ON h.id = a.higher_id
        JOIN own n ON n.id = a.taxon_id
        JOIN levels l ON l.taxon_id = a.taxon_id
        WHERE h.rank IN ({ranks}) AND NOT h.synonym AND NOT h.overridden
        ORDER BY a.higher_id, l.level DESC, a.depth, n.scientific_name
    ), computed AS (
        SELECT o.id AS taxon_id, greatest(l.level, u.level) AS level_km,
               CASE WHEN u.level > l.level THEN u.why ELSE l.why END AS rule
        FROM own o JOIN levels l ON l.taxon_id = o.id
        -- a genus synonym is "Manis sp." as much as its accepted genus
        LEFT JOIN up u ON u.higher_id = CASE WHEN o.synonym AND NOT o.overridden
                                             THEN o.accepted_id ELSE o.id END
    ), gone AS (  -- of a deleted taxon (computed holds every taxon)
        DELETE FROM analysis.taxon_sensitivity s
        WHERE NOT EXISTS (SELECT FROM taxa t WHERE t.id = s.taxon_id)
    )
    -- only what changed is written: a status edit rewrites a few rows, not the backbone's
    INSERT INTO analysis.taxon_sensitivity AS s (taxon_id, level_km, rule)
    SELECT taxon_id, level_km, rule FROM computed
    ON CONFLICT (taxon_id) DO UPDATE SET level_km = excluded.level_km, rule = excluded.rule
    WHERE (s.level_km, s.rule) IS DISTINCT FROM (excluded.level_km, excluded.rule);
$$
"""


def _levels_changed() -> None:
    op.execute(
        "UPDATE analysis.state SET stale = true "
        "WHERE name IN ('taxon_sensitivity', 'occurrence_public')"
    )


def upgrade() -> None:
    op.execute(_recompute())
    _levels_changed()


def downgrade() -> None:
    op.execute(earlier_migration("0009").RECOMPUTE)
    _levels_changed()
