"""Bulk inserts through the database driver, inside the caller's transaction.

One ORM object per row costs more than the validation itself at 100,000 rows,
so rows go to PostgreSQL through psycopg 3 ``COPY`` and to SQLite through the
sqlite3 module's ``executemany``. Both run on the connection of the caller's
session, so they commit or roll back with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

ALUMNI_COLUMNS = (
    "name",
    "major",
    "graduation_year",
    "gpa",
    "attendance",
    "placement_status",
    "company_tier",
    "role_title",
    "salary_text",
    "salary_min_lpa",
    "salary_max_lpa",
    "role_to_major_match_score",
    "gender",
    "extra_features",
    "natural_key",
    "source_row",
    "import_id",
)


def insert_columns(
    session: Session, table: str, columns: Sequence[str], values: dict[str, list[Any]]
) -> None:
    """Insert rows given column by column (``values[column][row]``) into ``table``.

    Columns missing from ``values`` are inserted as NULL.
    """
    size = len(next(iter(values.values()), []))
    if not size:
        return
    rows = list(
        zip(*(values.get(column, [None] * size) for column in columns), strict=True)
    )
    connection = session.connection()
    driver = connection.connection.driver_connection
    column_list = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", rows
        )
    finally:
        cursor.close()
