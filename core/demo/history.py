"""Score history of the demo students: weekly snapshots, each one scored.

Students drift a little between runs (see ``generate.generate_drift``), so the
history shows improving, stable and declining trajectories.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, update

from core.demo.generate import MAJORS, DemoFrames
from db.models import Student, TrajectoryScore
from db.session import write_scope

# Engine version written on generated score rows, so they are never mistaken for
# rows of the real engine.
GENERATED_ENGINE_VERSION = "demo-generated"

# Velocity, in score points per 30 days, beyond which a trend is not stable.
STABLE_VELOCITY = 2.0


def snapshots(frames: DemoFrames) -> list[pd.DataFrame]:
    """Return the students as they were at each run, oldest first.

    The last snapshot equals ``frames.students``; earlier ones undo the drift
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


def _placement_probabilities(snapshot: pd.DataFrame) -> np.ndarray:
    """Return P(Tier1, Tier2, Tier3, not placed) per student, rows summing to 1.

    The same latent strength that generated the alumni outcomes, without noise.
    """
    effect = {name: major_effect for name, _, _, major_effect in MAJORS}
    strength = (
        (snapshot["gpa"] - 7.2)
        + 0.04 * (snapshot["attendance"] - 80)
        + 0.45 * snapshot["internship_count"]
        + 0.15 * snapshot["project_count"]
        + snapshot["major"].map(effect).fillna(0.0)
    ).to_numpy(dtype=float)
    placed = 1.0 / (1.0 + np.exp(-(1.6 * strength + 0.7)))
    tier1 = placed / (1.0 + np.exp(-2.0 * (strength - 1.6)))
    tier3 = placed / (1.0 + np.exp(2.0 * (strength - 0.5)))
    return np.column_stack([tier1, placed - tier1 - tier3, tier3, 1.0 - placed])


def _generated_rows(
    snapshot: pd.DataFrame,
    student_ids: np.ndarray,
    computed_at: datetime,
    previous: tuple[datetime, np.ndarray] | None,
    confidence: np.ndarray,
) -> tuple[list[dict[str, object]], np.ndarray]:
    probabilities = _placement_probabilities(snapshot)
    outcomes = ("Tier1", "Tier2", "Tier3", "Not Placed")
    score = np.round(100.0 * probabilities[:, :3].sum(axis=1), 1)
    margin = np.round(4.0 + 20.0 * (1.0 - confidence), 1)
    predicted = np.array(outcomes)[probabilities.argmax(axis=1)]

    velocity = np.full(score.shape, np.nan)
    if previous is not None:
        previous_at, previous_score = previous
        days = (computed_at - previous_at).total_seconds() / 86_400
        velocity = np.round((score - previous_score) * 30.0 / days, 2)
    trend = np.full(score.shape, "stable", dtype=object)
    trend[velocity > STABLE_VELOCITY] = "improving"
    trend[velocity < -STABLE_VELOCITY] = "declining"
    trend[np.isnan(velocity)] = None

    rows: list[dict[str, object]] = []
    for index, student_id in enumerate(student_ids):
        rows.append(
            {
                "student_id": int(student_id),
                "computed_at": computed_at,
                "score": float(score[index]),
                "confidence": float(confidence[index]),
                "margin_of_error": float(margin[index]),
                "trend": trend[index],
                "velocity": None
                if np.isnan(velocity[index])
                else float(velocity[index]),
                "predicted_tier": str(predicted[index]),
                "probabilities": dict(
                    zip(
                        outcomes,
                        np.round(probabilities[index], 4).tolist(),
                        strict=True,
                    )
                ),
                "similar_alumni_count": 0,
                "explanation": {"source": "generated by the demo-data command"},
                "engine_version": GENERATED_ENGINE_VERSION,
            }
        )
    return rows, score


HistoryProgress = Callable[[int, str], None]


def write_history(
    engine: Engine,
    frames: DemoFrames,
    student_ids: np.ndarray,
    run_times: list[datetime],
    progress: HistoryProgress,
    rng: np.random.Generator,
) -> tuple[int, str]:
    """Move students through their snapshots and score them at each run time.

    Returns the number of score rows written and a sentence naming what
    produced them.
    """
    # NOTE: the scores are generated from the same formula that produced the
    # alumni outcomes, not computed by the trajectory engine, and carry the engine
    # version "demo-generated". A rescoring run afterwards adds engine scores.
    confidence = np.round(rng.uniform(0.45, 0.9, len(student_ids)), 3)
    previous: tuple[datetime, np.ndarray] | None = None
    written = 0
    for run, (snapshot, computed_at) in enumerate(
        zip(snapshots(frames), run_times, strict=True)
    ):
        if run > 0:
            _apply_snapshot(engine, student_ids, snapshot)
        rows, score = _generated_rows(
            snapshot, student_ids, computed_at, previous, confidence
        )
        with write_scope(engine) as session:
            session.execute(insert(TrajectoryScore), rows)
        written += len(rows)
        previous = (computed_at, score)
        progress(
            run + 1, f"scored run {run + 1} of {len(run_times)} ({computed_at:%F})"
        )
    source = (
        f"generated by the demo command (engine version {GENERATED_ENGINE_VERSION})"
    )
    return written, source
