"""The candidates' score totals (candidates.models.CandidateScore): each candidate's number of
assessments and the sum of each criterion's scores, kept exact by database triggers on the
assessments; the lists' means and weighted totals are computed from them (with_scores()).

Computed from the assessments on every read (four correlated subqueries per candidate), a page
of candidates built and compiled them on every request, and ordering or filtering the
candidates by weighted total computed them for every candidate: 30–55 ms at scale 10. A
candidate's assessments change a few times while it is under review.

As for the progress tallies (progress/tally.py, progress/report_tally.py), the triggers are the
only writer in normal operation, so every path that writes assessments keeps the totals right
in the same transaction; `rebuild()` recomputes them for writers that bypass triggers (the
national data generator's COPY). On SQLite a migration that remakes candidates_assessment
(adding or altering a column) drops its triggers: such a migration must install them again.
"""

from __future__ import annotations

from council import sql

TABLE = "candidates_candidatescore"
SOURCE = "candidates_assessment"
SCORES = ("user_need", "expected_effect", "feasibility")

_ADD = (
    f"INSERT INTO {TABLE} (candidate_id, assessors, {', '.join(SCORES)}) "
    f"VALUES (NEW.candidate_id, 1, {', '.join(f'NEW.{c}' for c in SCORES)}) "
    f"ON CONFLICT (candidate_id) DO UPDATE SET assessors = {TABLE}.assessors + 1, "
    + ", ".join(f"{c} = {TABLE}.{c} + excluded.{c}" for c in SCORES)
    + ";"
)
_REMOVE = (
    f"UPDATE {TABLE} SET assessors = assessors - 1, "
    + ", ".join(f"{c} = {c} - OLD.{c}" for c in SCORES)
    + " WHERE candidate_id = OLD.candidate_id;"
)
REBUILD = [
    f"DELETE FROM {TABLE};",
    f"INSERT INTO {TABLE} (candidate_id, assessors, {', '.join(SCORES)}) "
    f"SELECT candidate_id, COUNT(*), {', '.join(f'SUM({c})' for c in SCORES)} FROM {SOURCE} GROUP BY candidate_id;",
]

# Saving an assessment writes every column: only its candidate or a score moves the totals.
TRIGGERS = sql.counting_triggers("candidates_score_totals", SOURCE, _REMOVE, _ADD, ("candidate_id", *SCORES), REBUILD)
install, uninstall = TRIGGERS.install, TRIGGERS.uninstall
rebuild = TRIGGERS.rebuild  # recompute the totals from the assessments (in the caller's transaction)
