"""Score history of the demo students: weekly snapshots, each one scored.

Students drift a little between runs (see ``generate.generate_drift``), so the
history shows improving, stable and declining trajectories.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, update

from core.demo.generate import DemoFrames
from core.engine.service import rescore_students
from db.models import Student
from db.session import write_scope


def snapshots(frames: DemoFrames) -> list[pd.DataFrame]:
    """Return the students as they were at each run, oldest first.

    The last snapshot equals ``frames.students``. Earlier ones undo the drift
    that came after them.
    """
    runs = int(frames.drift["run"].max()) + 1
    result = []
    for column, low, high, decimals in (
        ("gpa", 0.0, 10.0, 2),
        ("attendance", 0.0, 100.0, 1),
    ):
        changes = frames.drift.pivot(
            index="student_index", columns="run", values=f"{column}_change"
        ).to_numpy()
        # Change still to come after run r: total minus what happened up to r.
        remaining = changes.sum(axis=1, keepdims=True) - np.cumsum(changes, axis=1)
        final = frames.students[column].to_numpy()[:, None]
        result.append(np.round(np.clip(final - remaining, low, high), decimals))

    gpa_runs, attendance_runs = result
    frames_by_run = []
    for run in range(runs):
        snapshot = frames.students.copy()
        snapshot["gpa"] = gpa_runs[:, run]
        snapshot["attendance"] = attendance_runs[:, run]
        frames_by_run.append(snapshot)
    frames_by_run[-1] = frames.students.copy()
    return frames_by_run


def _apply_snapshot(
    engine: Engine, student_ids: np.ndarray, snapshot: pd.DataFrame
) -> None:
    rows = [
        {"id": int(student_id), "gpa": float(gpa), "attendance": float(attendance)}
        for student_id, gpa, attendance in zip(
            student_ids, snapshot["gpa"], snapshot["attendance"], strict=True
        )
    ]
    with write_scope(engine) as session:
        session.execute(update(Student), rows)


# Called with the number of runs done (fractional within a run) and a message.
HistoryProgress = Callable[[float, str], None]


def _report_chunk(
    progress: HistoryProgress, run: int, runs: int, done: int, total: int
) -> None:
    progress(run + done / max(total, 1), f"scoring run {run + 1} of {runs}")


def write_history(
    engine: Engine,
    frames: DemoFrames,
    student_ids: np.ndarray,
    run_times: list[datetime],
    progress: HistoryProgress,
) -> tuple[int, int]:
    """Move students through their snapshots and rescore them at each run time.

    Each run is a real rescoring by the trajectory engine, stamped with its
    back-dated run time, so trends and velocities come from the engine too.
    Returns the number of score rows and of recommendations written.
    """
    scores = 0
    recommendations = 0
    for run, (snapshot, computed_at) in enumerate(
        zip(snapshots(frames), run_times, strict=True)
    ):
        if run > 0:
            _apply_snapshot(engine, student_ids, snapshot)
        summary = rescore_students(
            engine,
            student_ids=[int(value) for value in student_ids],
            now=computed_at,
            progress=functools.partial(_report_chunk, progress, run, len(run_times)),
        )
        scores += summary.students_scored
        recommendations += summary.recommendations
        progress(
            run + 1, f"scored run {run + 1} of {len(run_times)} ({computed_at:%F})"
        )
    return scores, recommendations
