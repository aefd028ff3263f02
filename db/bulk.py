"""Bulk inserts of many rows of one table, inside the caller's transaction.

Rows go to PostgreSQL with ``COPY`` and to other databases with one driver
``executemany``. Each column's own bind processor converts the values, as
SQLAlchemy would, but without its per-row bookkeeping, which costs more than the
insert itself for batches of thousands of rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import orjson
from sqlalchemy import JSON, Connection, Table, bindparam


def table_of(model: type[Any]) -> Table:
    """Return the ``Table`` of a declarative model class."""
    return cast(Table, model.__table__)


def dump_json(value: Any) -> str:
    """Serialise ``value`` as JSON text (NaN becomes null, NumPy values are allowed).

    An ``orjson.Fragment`` is already JSON and is written as it is.

    orjson is several times faster than the standard library's encoder, which
    took a large share of writing the explanation stored with every score.
    """
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _bind_processor(
    table: Table, name: str, connection: Connection
) -> Callable[[Any], Any] | None:
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return dump_json
    # The dialect's own implementation of the type: SQLite, for one, formats
    # timestamps differently from the driver's default adapter.
    dialect_type = column_type.dialect_impl(connection.dialect)
    return dialect_type.bind_processor(connection.dialect)


def insert_rows(
    connection: Connection, table: Table, rows: list[dict[str, Any]]
) -> None:
    """Insert ``rows`` (the same keys in each) into ``table``.

    Enum columns take their values as plain strings. A value that is the very
    same object in every row (the run's timestamp) is converted once.
    """
    if not rows:
        return
    names = list(rows[0])
    processors = {name: _bind_processor(table, name, connection) for name in names}
    columns: list[list[Any]] = []
    for name, processor in processors.items():
        if processor is None:
            columns.append([row[name] for row in rows])
        elif all(row[name] is rows[0][name] for row in rows):
            columns.append([processor(rows[0][name])] * len(rows))
        else:
            columns.append([processor(row[name]) for row in rows])
    converted = list(zip(*columns, strict=True))
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, table, names, converted)
        return
    # inline() keeps the statement free of RETURNING for the primary key.
    compiled = (
        table.insert()
        .inline()
        .values({name: bindparam(name) for name in names})
        .compile(dialect=connection.dialect)
    )
    parameters: list[Any]
    if compiled.positional:
        position_of = {name: index for index, name in enumerate(names)}
        order = [position_of[name] for name in compiled.positiontup or []]
        parameters = [tuple(values[index] for index in order) for values in converted]
    else:
        parameters = [dict(zip(names, values, strict=True)) for values in converted]
    connection.exec_driver_sql(str(compiled), parameters)


def _copy_rows(
    connection: Connection,
    table: Table,
    names: list[str],
    rows: list[tuple[Any, ...]],
) -> None:
    # COPY is several times faster than a pipelined executemany on PostgreSQL and
    # runs on the same driver connection, so inside the caller's transaction.
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def insert_returning_ids(
    connection: Connection, table: Table, rows: list[dict[str, Any]]
) -> list[int]:
    """Insert ``rows`` into ``table`` and return their new ids in the same order.

    On PostgreSQL the ids are taken from the table's id sequence beforehand, so
    no query reads them back. Elsewhere the rows are inserted under the
    transaction's write lock, which ``db.session.write_scope`` takes on SQLite
    before the first statement, so the ids above the previous maximum are the
    new rows, ascending in insertion order.
    """
    if not rows:
        return []
    if connection.dialect.name == "postgresql":
        reserved = sorted(
            connection.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) "
                "FROM generate_series(1, %(count)s)",
                {"table": table.name, "count": len(rows)},
            ).scalars()
        )
        insert_rows(
            connection,
            table,
            [{"id": new_id, **row} for new_id, row in zip(reserved, rows, strict=True)],
        )
        return reserved
    before = (
        connection.execute(
            table.select()
            .with_only_columns(table.c.id)
            .order_by(table.c.id.desc())
            .limit(1)
        ).scalar()
        or 0
    )
    insert_rows(connection, table, rows)
    new_ids = list(
        connection.execute(
            table.select()
            .with_only_columns(table.c.id)
            .where(table.c.id > before)
            .order_by(table.c.id)
        ).scalars()
    )
    if len(new_ids) != len(rows):
        raise RuntimeError(
            f"inserted {len(rows)} rows into {table.name} but found {len(new_ids)} "
            "new ids: run the insert inside db.session.write_scope"
        )
    return new_ids
