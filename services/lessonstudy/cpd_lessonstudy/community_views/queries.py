"""Trust and school views of learning communities, in SQL: per community and per school,
members, meetings and the days between them (cadence)."""

from __future__ import annotations

GAPS = """
gaps AS (
    SELECT m.community_id, m.held_on,
           m.held_on - lag(m.held_on) OVER (PARTITION BY m.community_id ORDER BY m.held_on, m.id)
               AS gap
    FROM community_meetings m
    WHERE m.community_id = ANY(CAST(:ids AS uuid[]))
)
"""

PER_COMMUNITY = (
    "WITH "
    + GAPS
    + """,
cadence AS (
    SELECT community_id, count(*) AS meetings, max(held_on) AS last_met_on,
           round(avg(gap), 1) AS mean_gap
    FROM gaps GROUP BY community_id
),
members AS (
    SELECT community_id, count(*) FILTER (WHERE NOT former_member) AS members
    FROM community_members WHERE community_id = ANY(CAST(:ids AS uuid[]))
    GROUP BY community_id
),
work AS (
    SELECT community_id, max(cycle) AS cycles,
           count(*) FILTER (WHERE kind = 'lesson_study') AS lesson_studies,
           count(*) FILTER (WHERE kind = 'peer_coaching') AS coaching_pairs
    FROM community_activities WHERE community_id = ANY(CAST(:ids AS uuid[]))
    GROUP BY community_id
),
meeting_cycles AS (
    SELECT community_id, max(cycle) AS cycles FROM community_meetings
    WHERE community_id = ANY(CAST(:ids AS uuid[])) GROUP BY community_id
),
shares AS (
    SELECT community_id, count(*) AS shares FROM community_shares
    WHERE community_id = ANY(CAST(:ids AS uuid[])) GROUP BY community_id
)
SELECT c.id AS community_id, c.name, c.school_ids, c.starts_on, c.ends_on,
       coalesce(mb.members, 0) AS members,
       coalesce(cd.meetings, 0) AS meetings, cd.last_met_on, cd.mean_gap,
       greatest(coalesce(w.cycles, 0), coalesce(mc.cycles, 0)) AS cycles,
       coalesce(w.lesson_studies, 0) AS lesson_studies,
       coalesce(w.coaching_pairs, 0) AS coaching_pairs,
       coalesce(sh.shares, 0) AS shares
FROM learning_communities c
LEFT JOIN cadence cd ON cd.community_id = c.id
LEFT JOIN members mb ON mb.community_id = c.id
LEFT JOIN work w ON w.community_id = c.id
LEFT JOIN meeting_cycles mc ON mc.community_id = c.id
LEFT JOIN shares sh ON sh.community_id = c.id
WHERE c.id = ANY(CAST(:ids AS uuid[]))
ORDER BY c.name, c.id
"""
)

PER_SCHOOL = (
    "WITH "
    + GAPS
    + """,
school_communities AS (
    SELECT sc.school_id, c.id AS community_id, c.starts_on, c.ends_on
    FROM learning_communities c
    CROSS JOIN LATERAL unnest(c.school_ids) AS sc(school_id)
    WHERE c.id = ANY(CAST(:ids AS uuid[]))
      AND (CAST(:only AS uuid[]) IS NULL OR sc.school_id = ANY(CAST(:only AS uuid[])))
)
SELECT s.school_id,
       coalesce(max(schools.name), 'Unknown school') AS school_name,
       count(DISTINCT s.community_id) AS communities,
       count(DISTINCT s.community_id) FILTER (WHERE s.starts_on <= :today AND s.ends_on >= :today)
           AS running,
       (SELECT count(DISTINCT cm.person_id) FROM community_members cm
        JOIN school_communities s2 ON s2.community_id = cm.community_id
        WHERE s2.school_id = s.school_id AND cm.person_id IS NOT NULL) AS members,
       (SELECT count(*) FROM gaps g JOIN school_communities s3 ON s3.community_id = g.community_id
        WHERE s3.school_id = s.school_id) AS meetings,
       (SELECT max(g.held_on) FROM gaps g
        JOIN school_communities s4 ON s4.community_id = g.community_id
        WHERE s4.school_id = s.school_id) AS last_met_on,
       (SELECT round(avg(g.gap), 1) FROM gaps g
        JOIN school_communities s5 ON s5.community_id = g.community_id
        WHERE s5.school_id = s.school_id) AS mean_gap
FROM school_communities s
LEFT JOIN schools ON schools.id = s.school_id
GROUP BY s.school_id
ORDER BY school_name, s.school_id
"""
)

TOTALS = (
    "WITH "
    + GAPS
    + """
SELECT
    (SELECT count(*) FROM learning_communities WHERE id = ANY(CAST(:ids AS uuid[]))) AS communities,
    (SELECT count(*) FROM learning_communities WHERE id = ANY(CAST(:ids AS uuid[]))
        AND starts_on <= :today AND ends_on >= :today) AS running,
    (SELECT count(DISTINCT person_id) FROM community_members
        WHERE community_id = ANY(CAST(:ids AS uuid[])) AND person_id IS NOT NULL) AS members,
    (SELECT count(*) FROM gaps) AS meetings,
    (SELECT max(held_on) FROM gaps) AS last_met_on,
    (SELECT round(avg(gap), 1) FROM gaps) AS mean_gap
"""
)
