"""Backtesting the engine on alumni alone, next to two baselines in the same run.

Split: when at least two graduation years are known and the newest year has at least
``MIN_NEWEST_YEAR_ROWS`` alumni, alumni of the newest year are predicted from all
older years, and rows without a year are left out. Otherwise the split is
``FOLDS``-fold cross-validation with a fixed shuffle seed, and the split description
names the reason. Each test alumnus is scored as if it were a student.

Features: the ones live rescoring uses, ``shared_features`` over the training rows
with the student attributes as candidates: GPA, attendance and each student
attribute that at least one training alumnus has. Alumni-only columns (age, hostel,
backlogs) are not features, so the figures are those of the model that scores
students. A feature value that is not finite or is at or above
``NUMBER_ABS_MAX`` in absolute value is treated as missing, because the importer
rejects such values and they overflow the scaling.

Baselines: ``base_rate`` predicts the training outcome shares for everyone;
``logistic_regression`` is a multinomial logistic regression on the same features
(median-imputed, standardised) plus a one-hot major. Gender is never a feature; it is
used only to break the metrics down.

Metrics, on the binary "placed" outcome with P(placed) = 1 - P(not placed), clipped
to [0, 1] against rounding: ROC AUC, Brier score and a 10-bin reliability curve. AUC
is the mean of the folds' AUCs (one fold for a year split), because the folds'
models differ; it is None, with the reason in ``auc_note``, when no fold's scored
rows have both outcomes.
Tier accuracy is the share of placed test alumni with a known tier whose most likely
class is that tier, and None when there are none. Coverage is the share of test rows
not abstained. The engine's metrics are over the rows it scored.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sqlalchemy import Engine

from core import audit
from core.access import Viewer
from core.engine import ENGINE_VERSION
from core.engine.data import load_alumni
from core.engine.features import (
    BASE_FEATURES,
    NUMBER_ABS_MAX,
    STUDENT_NUMERIC_FEATURES,
    shared_features,
)
from core.engine.scoring import (
    NOT_PLACED,
    OUTCOMES,
    PLACED_NO_TIER,
    TrajectoryModel,
    outcome_codes,
    outcome_rows,
)
from db.models import EngineRun
from db.session import write_scope

FOLDS = 5
SEED = 0
RELIABILITY_BINS = 10

# Fewer alumni than this cannot fill the cross-validation folds.
MIN_ALUMNI = 2 * FOLDS

# The newest graduation year is the test set only when it has at least this many
# alumni, because with fewer a single alumnus moves an accuracy by over 1/30.
MIN_NEWEST_YEAR_ROWS = 30


def backtest_features(alumni: pd.DataFrame) -> list[str]:
    """Return the features live rescoring would use with ``alumni`` as its alumni.

    Parameters
    ----------
    alumni : DataFrame
        The training alumni.

    Returns
    -------
    list of str
        ``BASE_FEATURES``, then each of ``STUDENT_NUMERIC_FEATURES`` that at least
        one row has, as ``features.shared_features`` returns them. Gender and other
        alumni-only columns are never among them.
    """
    return shared_features(alumni, STUDENT_NUMERIC_FEATURES)


def _clear_out_of_range(alumni: pd.DataFrame) -> int:
    """Set candidate feature values that are not finite or not below
    ``NUMBER_ABS_MAX`` in absolute value to NaN, and return how many there were.
    """
    cleared = 0
    for name in [*BASE_FEATURES, *STUDENT_NUMERIC_FEATURES]:
        if name not in alumni.columns:
            continue
        values = pd.to_numeric(alumni[name], errors="coerce").astype(float)
        invalid = values.notna() & ~(values.abs() < NUMBER_ABS_MAX)
        cleared += int(invalid.sum())
        alumni[name] = values.mask(invalid)
    return cleared


def _splits(alumni: pd.DataFrame) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    if "graduation_year" in alumni.columns:
        years = pd.to_numeric(alumni["graduation_year"], errors="coerce")
    else:
        years = pd.Series(np.nan, index=alumni.index)
    reason = ""
    if years.nunique() >= 2:
        newest = int(years.max())
        test = np.flatnonzero(years == newest)
        if len(test) >= MIN_NEWEST_YEAR_ROWS:
            train = np.flatnonzero(years < newest)
            return f"train before {newest}, test {newest}", [(train, test)]
        alumni_count = "1 alumnus" if len(test) == 1 else f"{len(test)} alumni"
        reason = (
            f", because the newest year, {newest}, has {alumni_count}, "
            f"fewer than {MIN_NEWEST_YEAR_ROWS}"
        )
    folds = KFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    split = f"{FOLDS}-fold cross-validation{reason}"
    return split, list(folds.split(np.arange(len(alumni))))


def _logistic_probabilities(
    train: pd.DataFrame, test: pd.DataFrame, features: list[str], labels: np.ndarray
) -> np.ndarray:
    # One extra column for placed alumni without a tier, spread over the tiers below.
    probabilities = np.zeros((len(test), len(OUTCOMES) + 1))
    classes = np.unique(labels)
    if len(classes) == 1:
        probabilities[:, classes[0]] = 1.0
        return _spread_unknown_tier(probabilities, labels)
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    columns = ColumnTransformer(
        [
            ("numeric", numeric, features),
            ("major", OneHotEncoder(handle_unknown="ignore"), ["major"]),
        ]
    )
    # Columns with no value at all cannot be imputed; they carry no information.
    usable = [name for name in features if train[name].notna().any()]
    columns.transformers[0] = ("numeric", numeric, usable)
    model = make_pipeline(columns, LogisticRegression(max_iter=1000))
    model.fit(train[[*usable, "major"]], labels)
    probabilities[:, model.classes_] = model.predict_proba(test[[*usable, "major"]])
    return _spread_unknown_tier(probabilities, labels)


def _spread_unknown_tier(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Spread the placed-without-tier column over Tier1-3 by the known tier shares.

    The shares are those of the training labels, or equal thirds when no training
    tier is known, as in ``scoring.outcome_rows``.
    """
    counts = np.bincount(labels[labels < NOT_PLACED], minlength=3)[:3].astype(float)
    shares = counts / counts.sum() if counts.sum() else np.full(3, 1 / 3)
    spread = probabilities[:, : len(OUTCOMES)].copy()
    spread[:, :3] += probabilities[:, [PLACED_NO_TIER]] * shares
    return spread


def _placed_probability(probabilities: np.ndarray) -> np.ndarray:
    # The outcome probabilities sum to 1 only up to rounding, so 1 - P(not placed)
    # can come out at -1e-16, which scikit-learn's metrics reject.
    return np.clip(1.0 - probabilities[:, NOT_PLACED], 0.0, 1.0)


def _fold_auc(placed: np.ndarray, probability: np.ndarray, folds: np.ndarray) -> float:
    """Return the mean over folds of each fold's AUC (folds with both outcomes).

    Pooling the folds' predictions into one AUC would compare probabilities
    from models trained on different rows. The base rate, constant within each
    fold, then scored far below 0.5, because a fold with more placed test rows
    had fewer placed training rows.
    """
    values = [
        roc_auc_score(placed[folds == fold], probability[folds == fold])
        for fold in np.unique(folds)
        if len(np.unique(placed[folds == fold])) == 2
    ]
    return float(np.mean(values))


def _metrics(
    placed: np.ndarray,
    probabilities: np.ndarray,
    codes: np.ndarray,
    scored: np.ndarray,
    tested: np.ndarray,
    folds: np.ndarray,
) -> dict[str, Any]:
    # Coverage counts the test rows only, the same denominator for every model.
    coverage = float(scored[tested].mean()) if tested.any() else 0.0
    placed, probabilities, codes = placed[scored], probabilities[scored], codes[scored]
    folds = folds[scored]
    if not len(placed):
        return {
            "auc": None,
            "auc_note": "AUC is undefined because no test alumnus was scored",
            "brier": None,
            "coverage": coverage,
            "tier_accuracy": None,
            "rows": 0,
        }
    placed_probability = _placed_probability(probabilities)
    auc, auc_note = None, None
    if any(len(np.unique(placed[folds == fold])) == 2 for fold in np.unique(folds)):
        auc = _fold_auc(placed, placed_probability, folds)
    elif len(np.unique(placed)) == 2:
        auc = None
        auc_note = "AUC is undefined because no test fold has both outcomes"
    else:
        outcome = "Placed" if placed[0] else "Not Placed"
        auc_note = f"AUC is undefined because every scored test alumnus is {outcome}"
    observed, predicted = calibration_curve(
        placed, placed_probability, n_bins=RELIABILITY_BINS, strategy="uniform"
    )
    return {
        "auc": auc,
        "auc_note": auc_note,
        "brier": float(brier_score_loss(placed, placed_probability)),
        "coverage": coverage,
        "tier_accuracy": _tier_accuracy(probabilities, codes),
        "rows": int(len(placed)),
        "reliability": {
            "predicted": [round(float(v), 4) for v in predicted],
            "observed": [round(float(v), 4) for v in observed],
        },
    }


def _tier_accuracy(probabilities: np.ndarray, codes: np.ndarray) -> float | None:
    """Return the share of placed rows with a known tier whose most likely class is
    that tier, or None when no row is placed with a known tier.

    Not Placed rows are left out, because a model that predicts Not Placed for
    everyone would otherwise score its base rate. Placed rows without a tier have
    no true class.
    """
    tiered = codes < NOT_PLACED
    if not tiered.any():
        return None
    return float((probabilities[tiered].argmax(axis=1) == codes[tiered]).mean())


def _breakdown(
    groups: pd.Series, placed: np.ndarray, probability: np.ndarray, scored: np.ndarray
) -> list[dict[str, Any]]:
    rows = []
    for name, members in pd.Series(np.arange(len(groups))).groupby(
        groups.fillna("unknown").astype(str).to_numpy()
    ):
        index = members.to_numpy()
        index = index[scored[index]]
        if not len(index):
            continue
        outcome, predicted = placed[index], probability[index]
        rows.append(
            {
                "group": str(name),
                "rows": int(len(index)),
                "placed_rate": round(float(outcome.mean()), 4),
                "mean_predicted": round(float(predicted.mean()), 4),
                "brier": round(float(brier_score_loss(outcome, predicted)), 4),
                "auc": (
                    round(float(roc_auc_score(outcome, predicted)), 4)
                    if len(np.unique(outcome)) == 2
                    else None
                ),
            }
        )
    return rows


def run_backtest(alumni: pd.DataFrame) -> dict[str, Any]:
    """Backtest the engine and both baselines on an alumni frame.

    Parameters
    ----------
    alumni : DataFrame
        Columns ``major``, ``placement_status``, ``company_tier``, GPA, attendance,
        optional ``graduation_year`` and ``gender``, and further numeric columns.

    Returns
    -------
    dict
        ``engine``, ``base_rate`` and ``logistic_regression`` (each with ``auc``,
        ``auc_note``, ``brier``, ``coverage``, ``tier_accuracy``, ``rows`` and,
        when a row was scored, ``reliability``), ``split``, ``features``,
        ``test_rows``, ``notes`` (warnings about the figures, one sentence each),
        ``fairness`` (``major`` and ``gender`` breakdowns of the engine) and
        ``duration_seconds``. With fewer than ``MIN_ALUMNI`` alumni, nothing is
        evaluated and ``skipped_reason`` says why.
    """
    started = time.perf_counter()
    if len(alumni) < MIN_ALUMNI:
        return _empty_report(
            f"there are {len(alumni)} alumni and a backtest needs at least {MIN_ALUMNI}"
        )
    alumni = alumni.reset_index(drop=True)
    if "company_tier" not in alumni.columns:
        alumni["company_tier"] = None
    cleared = _clear_out_of_range(alumni)
    split_name, splits = _splits(alumni)
    # Features come from the rows that train in some split, so every fold uses
    # the same columns and no test row decides which columns count.
    training = np.unique(np.concatenate([train for train, _ in splits]))
    features = backtest_features(alumni.iloc[training])
    for name in features:
        if name not in alumni.columns:
            alumni[name] = np.nan
    codes = outcome_codes(alumni)
    placed = (codes != NOT_PLACED).astype(int)

    engine_p = np.full((len(alumni), len(OUTCOMES)), np.nan)
    base_p = np.full((len(alumni), len(OUTCOMES)), np.nan)
    logistic_p = np.full((len(alumni), len(OUTCOMES)), np.nan)
    engine_scored = np.zeros(len(alumni), dtype=bool)
    tested = np.zeros(len(alumni), dtype=bool)
    folds = np.full(len(alumni), -1)
    for number, (train_rows, test_rows) in enumerate(splits):
        folds[test_rows] = number
        train, test = alumni.iloc[train_rows], alumni.iloc[test_rows]
        result = TrajectoryModel(train, features).score(test)
        engine_p[test_rows] = result.probabilities
        engine_scored[test_rows] = result.predicted >= 0
        base_p[test_rows] = outcome_rows(train).mean(axis=0)
        logistic_p[test_rows] = _logistic_probabilities(
            train, test, features, codes[train_rows]
        )
        tested[test_rows] = True

    report: dict[str, Any] = {
        "split": split_name,
        "features": features,
        "test_rows": int(tested.sum()),
        "engine": _metrics(
            placed, engine_p, codes, engine_scored & tested, tested, folds
        ),
        "base_rate": _metrics(placed, base_p, codes, tested, tested, folds),
        "logistic_regression": _metrics(
            placed, logistic_p, codes, tested, tested, folds
        ),
    }
    report["notes"] = _notes(report, cleared)
    probability = _placed_probability(np.nan_to_num(engine_p, nan=0.0))
    scored = engine_scored & tested
    report["fairness"] = {
        "major": _breakdown(alumni["major"], placed, probability, scored),
        "gender": (
            _breakdown(alumni["gender"], placed, probability, scored)
            if "gender" in alumni.columns and alumni["gender"].notna().any()
            else []
        ),
    }
    report["duration_seconds"] = round(time.perf_counter() - started, 3)
    return report


def backtest_database(
    engine: Engine, *, triggered_by: Viewer | None = None
) -> dict[str, Any]:
    """Backtest on every stored alumnus and log the run as an ``EngineRun``.

    Returns
    -------
    dict
        The report of ``run_backtest`` with the run's id under ``run_id``.
    """
    with engine.connect() as connection:
        alumni = load_alumni(connection)
    report = run_backtest(alumni)
    with write_scope(engine) as session:
        run = EngineRun(
            kind="backtest",
            engine_version=ENGINE_VERSION,
            duration_seconds=report["duration_seconds"],
            rows_scored=int(report["engine"].get("rows") or 0),
            metrics=report,
            triggered_by_id=triggered_by.user_id if triggered_by else None,
        )
        session.add(run)
        session.flush()
        if triggered_by is not None:
            audit.record(
                session,
                triggered_by,
                "backtest",
                target_kind="engine_run",
                target_id=run.id,
            )
        report["run_id"] = run.id
    return report


def _notes(report: dict[str, Any], cleared: int) -> list[str]:
    """Return one warning sentence for each reason to distrust the report's figures."""
    notes = []
    if report["test_rows"] < MIN_NEWEST_YEAR_ROWS:
        notes.append(
            f"Only {report['test_rows']} alumni were tested, fewer than "
            f"{MIN_NEWEST_YEAR_ROWS}, so the figures are unreliable."
        )
    auc_note = report["base_rate"].get("auc_note")
    if auc_note:
        notes.append(f"{auc_note}.")
    if report["base_rate"]["tier_accuracy"] is None:
        notes.append(
            "Tier accuracy is not reported, because no placed test alumnus has a "
            "known tier."
        )
    if cleared:
        notes.append(
            f"{cleared} feature values were not finite or not below "
            f"{NUMBER_ABS_MAX:,.0f} in absolute value, and were treated as missing."
        )
    return notes


def _empty_report(reason: str) -> dict[str, Any]:
    empty = {
        "auc": None,
        "auc_note": f"AUC is undefined because {reason}",
        "brier": None,
        "coverage": 0.0,
        "tier_accuracy": None,
        "rows": 0,
    }
    return {
        "split": "none",
        "skipped_reason": reason,
        "features": [],
        "test_rows": 0,
        "notes": [f"Nothing was evaluated, because {reason}."],
        "engine": dict(empty),
        "base_rate": dict(empty),
        "logistic_regression": dict(empty),
        "fairness": {"major": [], "gender": []},
        "duration_seconds": 0.0,
    }
