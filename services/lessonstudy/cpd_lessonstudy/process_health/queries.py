"""Process-health SQL: how faithfully a study follows the lesson study process.

Per taught research lesson (the cells are its stages x the case pupils the study had when it
was taught):
- predictions made before teaching: cells whose prediction was written before the lesson was
  marked taught;
- observation coverage: cells with at least one observation;
- discussion started from pupil evidence: every case pupil was observed in the lesson, and
  every case pupil's reflection was recorded before what to change was agreed;
- days since the previous cycle's lesson.
"""

from __future__ import annotations

PER_LESSON = """
lessons AS (
    SELECT l.id, l.study_id, l.cycle, l.status, l.taught_on, l.marked_taught_at
    FROM research_lessons l
    WHERE l.study_id = ANY(CAST(:study_ids AS uuid[])) AND l.status IN ('taught', 'completed')
),
lesson_pupils AS (
    SELECT le.id AS lesson_id, cp.id AS case_pupil_id
    FROM lessons le
    JOIN case_pupils cp ON cp.study_id = le.study_id AND cp.created_at <= le.marked_taught_at
),
cell_stats AS (
    SELECT
        lp.lesson_id,
        count(*) AS cells,
        count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM predictions pr
            WHERE pr.stage_id = s.id AND pr.case_pupil_id = lp.case_pupil_id
              AND pr.created_at <= le.marked_taught_at
        )) AS predicted_before_teaching,
        count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM observations o
            WHERE o.stage_id = s.id AND o.case_pupil_id = lp.case_pupil_id
        )) AS cells_observed
    FROM lesson_pupils lp
    JOIN lessons le ON le.id = lp.lesson_id
    JOIN lesson_stages s ON s.lesson_id = lp.lesson_id
    GROUP BY lp.lesson_id
),
pupil_evidence AS (
    SELECT
        lp.lesson_id,
        count(*) AS pupils,
        count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM observations o
            WHERE o.lesson_id = lp.lesson_id AND o.case_pupil_id = lp.case_pupil_id
        )) AS pupils_observed,
        count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM discussions d
            JOIN pupil_reflections r ON r.discussion_id = d.id
            WHERE d.lesson_id = lp.lesson_id AND r.case_pupil_id = lp.case_pupil_id
              AND (d.what_to_change_at IS NULL OR r.created_at <= d.what_to_change_at)
        )) AS pupils_reflected_first
    FROM lesson_pupils lp
    GROUP BY lp.lesson_id
),
per_lesson AS (
    SELECT
        le.id AS lesson_id,
        le.study_id,
        le.cycle,
        le.status,
        le.taught_on,
        coalesce(cs.cells, 0) AS cells,
        coalesce(cs.predicted_before_teaching, 0) AS predicted_before_teaching,
        coalesce(cs.cells_observed, 0) AS cells_observed,
        d.id IS NOT NULL AS discussion_held,
        (d.id IS NOT NULL AND coalesce(pe.pupils, 0) > 0
            AND pe.pupils_observed = pe.pupils
            AND pe.pupils_reflected_first = pe.pupils) AS discussion_from_pupil_evidence,
        le.taught_on - lag(le.taught_on) OVER (PARTITION BY le.study_id ORDER BY le.cycle)
            AS days_since_previous
    FROM lessons le
    LEFT JOIN cell_stats cs ON cs.lesson_id = le.id
    LEFT JOIN pupil_evidence pe ON pe.lesson_id = le.id
    LEFT JOIN discussions d ON d.lesson_id = le.id
),
per_study AS (
    SELECT
        s.id AS study_id,
        s.title,
        s.status,
        s.school_ids,
        s.planned_cycles AS cycles_planned,
        count(pl.lesson_id) FILTER (WHERE pl.status = 'completed') AS cycles_completed,
        count(pl.lesson_id) AS lessons_taught,
        coalesce(sum(pl.cells), 0) AS prediction_cells,
        coalesce(sum(pl.predicted_before_teaching), 0) AS predictions_before_teaching,
        coalesce(sum(pl.cells_observed), 0) AS cells_observed,
        count(pl.lesson_id) FILTER (WHERE pl.discussion_held) AS discussions_held,
        count(pl.lesson_id) FILTER (WHERE pl.discussion_from_pupil_evidence)
            AS discussions_from_pupil_evidence,
        coalesce(array_agg(pl.days_since_previous ORDER BY pl.cycle)
            FILTER (WHERE pl.days_since_previous IS NOT NULL), '{}') AS days_between_cycles,
        round(avg(pl.days_since_previous), 1) AS mean_days_between_cycles
    FROM lesson_studies s
    LEFT JOIN per_lesson pl ON pl.study_id = s.id
    WHERE s.id = ANY(CAST(:study_ids AS uuid[]))
    GROUP BY s.id
)
"""

LESSON_ROWS = "WITH " + PER_LESSON + " SELECT * FROM per_lesson ORDER BY study_id, cycle"

STUDY_ROWS = "WITH " + PER_LESSON + " SELECT * FROM per_study ORDER BY study_id"

SCHOOL_ROWS = (
    "WITH "
    + PER_LESSON
    + """
SELECT
    sc.school_id,
    coalesce(max(schools.name), 'Unknown school') AS school_name,
    count(*) AS studies,
    sum(ps.cycles_planned) AS cycles_planned,
    sum(ps.cycles_completed) AS cycles_completed,
    sum(ps.prediction_cells) AS prediction_cells,
    sum(ps.predictions_before_teaching) AS predictions_before_teaching,
    sum(ps.cells_observed) AS cells_observed,
    sum(ps.discussions_held) AS discussions_held,
    sum(ps.discussions_from_pupil_evidence) AS discussions_from_pupil_evidence,
    (SELECT round(avg(pl.days_since_previous), 1)
        FROM per_lesson pl JOIN per_study p2 ON p2.study_id = pl.study_id
        WHERE sc.school_id = ANY(p2.school_ids)) AS mean_days_between_cycles
FROM per_study ps
CROSS JOIN LATERAL unnest(ps.school_ids) AS sc(school_id)
LEFT JOIN schools ON schools.id = sc.school_id
GROUP BY sc.school_id
ORDER BY school_name, sc.school_id
"""
)

TOTALS = (
    "WITH "
    + PER_LESSON
    + """
SELECT
    (SELECT count(*) FROM per_study) AS studies,
    (SELECT coalesce(sum(cycles_planned), 0) FROM per_study) AS cycles_planned,
    (SELECT coalesce(sum(cycles_completed), 0) FROM per_study) AS cycles_completed,
    (SELECT coalesce(sum(prediction_cells), 0) FROM per_study) AS prediction_cells,
    (SELECT coalesce(sum(predictions_before_teaching), 0) FROM per_study)
        AS predictions_before_teaching,
    (SELECT coalesce(sum(cells_observed), 0) FROM per_study) AS cells_observed,
    (SELECT coalesce(sum(discussions_held), 0) FROM per_study) AS discussions_held,
    (SELECT coalesce(sum(discussions_from_pupil_evidence), 0) FROM per_study)
        AS discussions_from_pupil_evidence,
    (SELECT round(avg(days_since_previous), 1) FROM per_lesson) AS mean_days_between_cycles
"""
)
