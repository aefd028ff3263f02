"""Import benchmark, and the generated alumni files it and the tests use.

``python -m benchmarks.importing`` imports generated files of 10,000, 100,000
and 1,000,000 rows into SQLite and PostgreSQL, each run in its own process.
It prints seconds, rows per second and peak memory (maximum resident set size)
of each import. Beside them it prints a bare load of the same rows in the same
run: sqlite3 ``executemany`` or psycopg ``COPY``, with only the conversions
that the table's types need. The files use everyday headers and spellings (``CGPA``,
``Placed?``, ``85%``, ``Tier 1``, ``12 LPA``) so that an import exercises the
mapping and every value parser, not only the writer.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from core.importing import import_alumni, make_plan, prepare_file
from db.migrate import upgrade_to_head
from db.models import ImportKind
from db.session import make_engine, session_scope
from tests.pg_server import PostgresServer

HEADERS = (
    "Name",
    "Branch",
    "Year of Passing",
    "CGPA",
    "Attendance %",
    "Placed?",
    "Company Tier",
    "Designation",
    "CTC",
    "Internships",
    "Backlogs",
)
BRANCHES = ("CSE", "ECE", "IT", "Mech", "EEE", "Civil")
ROLES = ("SDE", "Analyst", "Design Engineer", "Trainee", "Consultant")
SALARY_BY_TIER = {"Tier 1": "15-20 LPA", "Tier 2": "6-8 LPA", "Tier 3": "3.5 LPA"}


def alumni_row(number: int, rng: random.Random) -> list[str]:
    """Return one generated alumni row; ``number`` makes the name unique."""
    gpa = round(rng.uniform(5.0, 9.8), 2)
    placed = rng.random() < min(0.95, max(0.05, (gpa - 5.0) / 4.0))
    tier = rng.choice(tuple(SALARY_BY_TIER)) if placed else ""
    return [
        f"Alumnus {number:07d}",
        rng.choice(BRANCHES),
        str(rng.randint(2015, 2025)),
        f"{gpa}",
        f"{rng.randint(55, 100)}%",
        "Yes" if placed else "No",
        tier,
        rng.choice(ROLES) if placed else "",
        SALARY_BY_TIER[tier] if placed else "",
        str(rng.randint(0, 3)),
        str(rng.choice((0, 0, 0, 1, 2))),
    ]


def write_alumni_csv(path: Path, rows: int, seed: int = 7) -> Path:
    """Write a UTF-8 alumni CSV of ``rows`` data rows to ``path``, row by row."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADERS)
        for number in range(1, rows + 1):
            writer.writerow(alumni_row(number, rng))
    return path


# --- The benchmark: python -m benchmarks.importing [--sizes 10000 100000 ...] ---

BARE_COLUMNS = (
    "name",
    "major",
    "graduation_year",
    "gpa",
    "attendance",
    "placement_status",
    "company_tier",
    "role_title",
    "salary_text",
    "extra_features",
)
BARE_CHUNK_ROWS = 20_000


def _bare_rows(path: Path) -> Iterator[list[tuple[object, ...]]]:
    # The minimum conversion that the table's types and checks require.
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        next(reader)
        batch: list[tuple[object, ...]] = []
        for row in reader:
            tier = row[6].replace("Tier ", "Tier") or None
            batch.append(
                (
                    row[0],
                    row[1],
                    int(row[2]),
                    float(row[3]),
                    float(row[4].rstrip("%")),
                    "Placed" if row[5] == "Yes" else "Not Placed",
                    tier,
                    row[7] or None,
                    row[8] or None,
                    "{}",
                )
            )
            if len(batch) == BARE_CHUNK_ROWS:
                yield batch
                batch = []
        if batch:
            yield batch


def _bare_load(url: str, path: Path) -> int:
    columns = ", ".join(BARE_COLUMNS)
    rows = 0
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        placeholders = ", ".join("?" for _ in BARE_COLUMNS)
        with connection:
            for batch in _bare_rows(path):
                connection.executemany(
                    f"INSERT INTO alumni ({columns}) VALUES ({placeholders})", batch
                )
                rows += len(batch)
        connection.close()
        return rows
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY alumni ({columns}) FROM STDIN") as copy:
            for batch in _bare_rows(path):
                for row in batch:
                    copy.write_row(row)
                rows += len(batch)
    return rows


def _validated_import(url: str, path: Path) -> int:
    engine = make_engine(url)
    with session_scope(engine) as session:
        prepared = prepare_file(session, path, ImportKind.ALUMNI)
        plan = make_plan(session, prepared)
    result = import_alumni(engine, None, prepared, plan)
    engine.dispose()
    if result.status != "imported":
        raise RuntimeError(f"benchmark import failed: {result.message}")
    return result.rows_written


def _child(mode: str, url: str, path: Path) -> None:
    started = time.perf_counter()
    rows = _bare_load(url, path) if mode == "bare" else _validated_import(url, path)
    seconds = time.perf_counter() - started
    # ru_maxrss is in KiB on Linux.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_bytes": peak}))


def _measure(mode: str, url: str, path: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.importing", "--child", mode, url, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


class _Databases:
    """Fresh, migrated databases: SQLite files, and PostgreSQL from a template."""

    def __init__(self, folder: Path, backends: list[str]) -> None:
        self.folder = folder
        self.server: PostgresServer | None = None
        self.numbers = iter(range(1, 10_000))
        template = make_engine(f"sqlite:///{folder / 'template.sqlite3'}")
        upgrade_to_head(template)
        template.dispose()
        if "postgresql" in backends:
            self.server = PostgresServer()
            self.server.start()
            self._admin("CREATE DATABASE bench_template")
            pg_template = make_engine(self.server.url("bench_template"))
            upgrade_to_head(pg_template)
            pg_template.dispose()

    def _admin(self, statement: str) -> None:
        assert self.server is not None
        admin = make_engine(self.server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(statement)
        admin.dispose()

    def fresh(self, backend: str) -> str:
        number = next(self.numbers)
        if backend == "sqlite":
            path = self.folder / f"bench-{number}.sqlite3"
            shutil.copyfile(self.folder / "template.sqlite3", path)
            return f"sqlite:///{path}"
        assert self.server is not None
        self._admin(f"CREATE DATABASE bench_{number} TEMPLATE bench_template")
        return self.server.url(f"bench_{number}")

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.importing")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["sqlite", "postgresql"],
        choices=["sqlite", "postgresql"],
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "URL", "FILE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        mode, url, file = args.child
        _child(mode, url, Path(file))
        return

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}"
    )
    print(
        "| rows | database | bare load s | bare rows/s | import s | import rows/s "
        "| import / bare | import peak MiB |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="trajectory-bench-") as folder:
        databases = _Databases(Path(folder), args.backends)
        try:
            for size in args.sizes:
                path = write_alumni_csv(Path(folder) / f"alumni-{size}.csv", size)
                for backend in args.backends:
                    bare = _measure("bare", databases.fresh(backend), path)
                    full = _measure("import", databases.fresh(backend), path)
                    print(
                        f"| {size:,} | {backend} | {bare['seconds']:.2f} "
                        f"| {bare['rows'] / bare['seconds']:,.0f} "
                        f"| {full['seconds']:.2f} "
                        f"| {full['rows'] / full['seconds']:,.0f} "
                        f"| {full['seconds'] / bare['seconds']:.2f} "
                        f"| {full['peak_bytes'] / 2**20:,.0f} |",
                        flush=True,
                    )
                path.unlink()
        finally:
            databases.close()


if __name__ == "__main__":
    main()
