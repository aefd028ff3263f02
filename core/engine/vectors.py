"""Stored feature vectors: the per-row stage of the feature pipeline, kept so that
a rescoring run does not recompute what did not change.

- An alumnus's vector contains its raw matching values: GPA, attendance and every
  numeric extra column of its source file, with missing values left out. Alumni
  rows are not edited after an import, so the first rescoring run that finds an
  alumnus without a vector of the current ``PIPELINE_VERSION`` writes one, and
  later runs read it in place of the extras. Per-pool scaling is not stored: it
  is fitted on every alumnus of a major, so each import changes it, and each run
  refits it.
- A student's vector contains the matching features and the readiness inputs.
  Its source hash also covers the alumni fingerprint, so ``rescore_students``
  with ``only_changed`` skips a student whose inputs and alumni did not change.
  A new vector replaces the student's previous one, which is deleted.

A vector is deleted with its owner: ``delete_owned_vectors`` runs before alumni or
students are deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import ColumnElement, Connection, delete, select
from sqlalchemy.orm import Session

from core.engine.data import ALUMNI_FRAME_COLUMNS
from core.engine.features import BASE_FEATURES, PIPELINE_VERSION
from db.bulk import insert_returning_ids, table_of
from db.models import Alumnus, FeatureVector, Student

# Alumni whose vectors are written in one transaction, which bounds memory.
ALUMNI_VECTOR_BATCH = 50_000

# Owner and vector id pairs linked per statement on databases other than
# PostgreSQL.
_SQLITE_LINK_BATCH = 10_000


def values_hash(values: dict[str, float]) -> str:
    """Return the SHA-256 hex digest of ``values`` as canonical JSON."""
    return hashlib.sha256(orjson.dumps(values, option=orjson.OPT_SORT_KEYS)).hexdigest()


def vector_values(matrix: np.ndarray, columns: Sequence[str]) -> list[dict[str, float]]:
    """Return one ``{feature: value}`` mapping per row, leaving out NaN."""
    names = list(columns)
    complete = ~np.isnan(matrix).any(axis=1)
    return [
        dict(zip(names, row, strict=True))
        if whole
        else {
            name: value
            for name, value in zip(names, row, strict=True)
            if value == value
        }
        for row, whole in zip(matrix.tolist(), complete.tolist(), strict=True)
    ]


def alumni_vector_columns(alumni: pd.DataFrame) -> list[str]:
    """Return the columns an alumnus vector stores: base features, then extras."""
    extras = [name for name in alumni.columns if name not in ALUMNI_FRAME_COLUMNS]
    return [*BASE_FEATURES, *extras]


def store_missing_alumni_vectors(
    connection: Connection, alumni: pd.DataFrame, now: datetime
) -> int:
    """Write and link a vector for each alumnus of ``alumni`` without a current one.

    ``alumni`` is the frame of ``data.load_alumni``; its ``vector_id`` column is
    updated in place. Returns how many vectors were written.
    """
    missing = np.flatnonzero(alumni["vector_id"].isna().to_numpy())
    if not len(missing):
        return 0
    columns = alumni_vector_columns(alumni)
    matrix = alumni[columns].to_numpy(dtype=float)
    alumni_ids = alumni["id"].to_numpy()
    for start in range(0, len(missing), ALUMNI_VECTOR_BATCH):
        positions = missing[start : start + ALUMNI_VECTOR_BATCH]
        values = vector_values(matrix[positions], columns)
        vector_ids = _insert_vectors(connection, "alumnus", values, None, now)
        owner_ids = [int(owner) for owner in alumni_ids[positions]]
        _link(connection, Alumnus, owner_ids, vector_ids)
        alumni.iloc[positions, alumni.columns.get_loc("vector_id")] = vector_ids
    return len(missing)


def store_student_vectors(
    connection: Connection,
    students: pd.DataFrame,
    columns: Sequence[str],
    now: datetime,
) -> None:
    """Write new vectors for ``students`` and delete the ones they replace.

    ``students`` needs ``id``, ``source_hash``, ``stored_vector_id`` and the
    ``columns`` stored in the vector.
    """
    if not len(students):
        return
    matrix = students.reindex(columns=list(columns)).to_numpy(dtype=float)
    values = vector_values(matrix, columns)
    vector_ids = _insert_vectors(
        connection, "student", values, students["source_hash"].tolist(), now
    )
    _link(connection, Student, [int(s) for s in students["id"]], vector_ids)
    replaced = pd.to_numeric(students["stored_vector_id"]).dropna().astype(int)
    if len(replaced):
        vectors = table_of(FeatureVector)
        connection.execute(delete(vectors).where(vectors.c.id.in_(replaced.tolist())))


def delete_owned_vectors(
    session: Session,
    owner: type[Alumnus] | type[Student],
    condition: ColumnElement[bool],
) -> None:
    """Delete the stored vectors of the ``owner`` rows that match ``condition``.

    Call it before deleting those rows, in the same transaction.
    """
    owned = select(owner.feature_vector_id).where(
        condition, owner.feature_vector_id.is_not(None)
    )
    session.execute(
        delete(FeatureVector).where(FeatureVector.id.in_(owned)),
        execution_options={"synchronize_session": False},
    )


def _insert_vectors(
    connection: Connection,
    owner_kind: str,
    values: list[dict[str, float]],
    source_hashes: list[str] | None,
    now: datetime,
) -> list[int]:
    # Each mapping is serialised once: the same canonical text is hashed and,
    # wrapped in orjson.Fragment, stored as it is by db.bulk.dump_json.
    texts = [orjson.dumps(row, option=orjson.OPT_SORT_KEYS) for row in values]
    hashes = source_hashes or [hashlib.sha256(text).hexdigest() for text in texts]
    return insert_returning_ids(
        connection,
        table_of(FeatureVector),
        [
            {
                "owner_kind": owner_kind,
                "pipeline_version": PIPELINE_VERSION,
                "source_hash": source_hash,
                "values": orjson.Fragment(text),
                "computed_at": now,
            }
            for text, source_hash in zip(texts, hashes, strict=True)
        ],
    )


def _link(
    connection: Connection,
    owner: type[Alumnus] | type[Student],
    owner_ids: list[int],
    vector_ids: list[int],
) -> None:
    """Point each owner's ``feature_vector_id`` at its new vector.

    Plain SQL runs no on-update defaults, so a student's ``updated_at`` keeps
    its value: a new stored vector is not an edit of the student.
    """
    table = table_of(owner)
    if connection.dialect.name == "postgresql":
        # One statement over two arrays: an executemany sends one UPDATE per row,
        # and waiting for those was a large share of a PostgreSQL run.
        connection.exec_driver_sql(
            f"UPDATE {table.name} SET feature_vector_id = new.vector_id "
            "FROM unnest(%(owners)s::integer[], %(vectors)s::integer[]) "
            f"AS new (owner_id, vector_id) WHERE {table.name}.id = new.owner_id",
            {"owners": owner_ids, "vectors": vector_ids},
        )
        return
    # SQLite runs one UPDATE per row of an executemany. An UPDATE ... FROM over a
    # VALUES list updates a batch in one statement, under SQLite's limit of
    # 32,766 bound parameters.
    for start in range(0, len(owner_ids), _SQLITE_LINK_BATCH):
        owners = owner_ids[start : start + _SQLITE_LINK_BATCH]
        vectors = vector_ids[start : start + _SQLITE_LINK_BATCH]
        pairs = ", ".join("(?, ?)" for _ in owners)
        connection.exec_driver_sql(
            f"UPDATE {table.name} SET feature_vector_id = new.column2 "
            f"FROM (VALUES {pairs}) AS new WHERE {table.name}.id = new.column1",
            tuple(
                value for pair in zip(owners, vectors, strict=True) for value in pair
            ),
        )
