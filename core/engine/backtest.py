"""Backtesting the engine on alumni alone, next to two baselines in the same run.

Split: when at least two graduation years are known, alumni of the newest year are
predicted from all older years, and rows without a year are left out. Otherwise the
split is ``FOLDS``-fold cross-validation with a fixed shuffle seed. Each test alumnus is
scored as if it were a student, on the same features.

Baselines: ``base_rate`` predicts the training outcome shares for everyone;
``logistic_regression`` is a multinomial logistic regression on the same features
(median-imputed, standardised) plus a one-hot major. Gender is never a feature; it is
used only to break the metrics down.

Metrics, on the binary "placed" outcome with P(placed) = 1 - P(not placed): ROC AUC,
Brier score, a 10-bin reliability curve; tier accuracy over the four outcome classes;
coverage, the share of test rows not abstained. The engine's metrics are over the
rows it scored.
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
from core.engine.features import BASE_FEATURES
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

# Alumni columns that are never features: outcomes, identity, protected attributes.
NON_FEATURES = frozenset(
    {
        "id",
        "name",
        "major",
        "graduation_year",
        "placement_status",
        "company_tier",
        "role_title",
        "salary_text",
        "salary_min_lpa",
        "salary_max_lpa",
        "role_to_major_match_score",
        "gender",
    }
)


def backtest_features(alumni: pd.DataFrame) -> list[str]:
    """Return GPA, attendance and the numeric columns most ``alumni`` rows have.

    Parameters
    ----------
    alumni : DataFrame
        The training alumni.

    Returns
    -------
    list of str
        ``BASE_FEATURES``, then every numeric column that is not excluded and is
        observed for more than half of the rows. A column from another file, seen
        on a minority of rows, would otherwise be median-imputed for the rest and
        dominate the baselines.
    """
    extra = [
        column
        for column in alumni.columns
        if column not in NON_FEATURES
        and column not in BASE_FEATURES
        and pd.api.types.is_numeric_dtype(alumni[column])
        and alumni[column].notna().mean() > 0.5
    ]
    return [*BASE_FEATURES, *extra]


def _splits(alumni: pd.DataFrame) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    if "graduation_year" in alumni.columns:
        years = pd.to_numeric(alumni["graduation_year"], errors="coerce")
    else:
        years = pd.Series(np.nan, index=alumni.index)
    if years.nunique() >= 2:
        newest = years.max()
        test = np.flatnonzero(years == newest)
        train = np.flatnonzero(years < newest)
        return f"train before {int(newest)}, test {int(newest)}", [(train, test)]
    folds = KFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    return f"{FOLDS}-fold cross-validation", list(folds.split(np.arange(len(alumni))))


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


def _metrics(
    placed: np.ndarray,
    probabilities: np.ndarray,
    codes: np.ndarray,
    scored: np.ndarray,
    tested: np.ndarray,
) -> dict[str, Any]:
    # Coverage counts the test rows only, the same denominator for every model.
    coverage = float(scored[tested].mean()) if tested.any() else 0.0
    placed, probabilities, codes = placed[scored], probabilities[scored], codes[scored]
    if not len(placed):
        return {"auc": None, "brier": None, "coverage": coverage, "tier_accuracy": None}
    placed_probability = 1.0 - probabilities[:, NOT_PLACED]
    auc = (
        float(roc_auc_score(placed, placed_probability))
        if len(np.unique(placed)) == 2
        else None
    )
    observed, predicted = calibration_curve(
        placed, placed_probability, n_bins=RELIABILITY_BINS, strategy="uniform"
    )
    return {
        "auc": auc,
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
    """Return the share of rows whose most likely class is their outcome class.

    Placed alumni without a tier have no true class, so they are left out.
    """
    known = codes != PLACED_NO_TIER
    if not known.any():
        return None
    return float((probabilities[known].argmax(axis=1) == codes[known]).mean())


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
        ``brier``, ``coverage``, ``tier_accuracy``, ``rows``, ``reliability``),
        ``split``, ``features``, ``fairness`` (``major`` and ``gender`` breakdowns
        of the engine) and ``duration_seconds``.
    """
    started = time.perf_counter()
    if len(alumni) < MIN_ALUMNI:
        return _empty_report(f"too few alumni ({len(alumni)}, at least {MIN_ALUMNI})")
    alumni = alumni.reset_index(drop=True)
    if "company_tier" not in alumni.columns:
        alumni["company_tier"] = None
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
    for train_rows, test_rows in splits:
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
        "engine": _metrics(placed, engine_p, codes, engine_scored & tested, tested),
        "base_rate": _metrics(placed, base_p, codes, tested, tested),
        "logistic_regression": _metrics(placed, logistic_p, codes, tested, tested),
    }
    probability = 1.0 - np.nan_to_num(engine_p[:, NOT_PLACED], nan=0.0)
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


def _empty_report(split: str) -> dict[str, Any]:
    empty = {
        "auc": None,
        "brier": None,
        "coverage": 0.0,
        "tier_accuracy": None,
        "rows": 0,
    }
    return {
        "split": split,
        "features": [],
        "engine": dict(empty),
        "base_rate": dict(empty),
        "logistic_regression": dict(empty),
        "fairness": {"major": [], "gender": []},
        "duration_seconds": 0.0,
    }
