"""Benchmark of the trajectory engine: ``python -m benchmarks.scoring``.

For each size (college: 2,000 students x 20,000 alumni; university: 50,000 x
200,000) it generates synthetic rows in a fresh SQLite file and reports:

- end to end: ``rescore_students`` from the database back to the database, twice
  on the same database: the first rescoring after the import, which also stores
  every alumnus's feature vector, and a repeat in a new process, which reuses them;
- matching alone: the engine's ``Matcher`` (fit and query) on the same arrays as
  scikit-learn's ``NearestNeighbors`` with ``brute`` and ``kd_tree`` over all alumni;
- peak memory (maximum resident set size) of each step, each measured in a child
  process of its own so that one step's peak does not hide another's.

Each step runs ``--repeats`` times (default 3) and the fastest run is reported,
because other work on a shared machine only ever slows a run down.

Pass ``--postgres`` to run the end-to-end step on a throwaway PostgreSQL 15 server
as well (it uses ``tests.pg_server``), and ``--sizes college`` to run one size.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, text

SIZES = {"college": (2_000, 20_000), "university": (50_000, 200_000)}
MAJORS = (
    "Computer Science",
    "Information Technology",
    "Electronics",
    "Mechanical",
    "Civil",
    "Electrical",
    "Chemical",
    "Biotechnology",
)
K = 15
SEED = 7
# Warm calls timed after the first one in each matching child process, and the
# largest size (students x alumni) they are made for: a brute-force search of the
# university size takes minutes, so there the first call is the figure.
WARM_CALLS = 5
WARM_CALLS_MAX_PAIRS = 2_000 * 20_000


def _alumni_rows(count: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    gpa = np.clip(rng.normal(7.2, 1.1, count), 0, 10).round(2)
    attendance = np.clip(rng.normal(82, 9, count), 0, 100).round(1)
    internships = rng.integers(0, 4, count)
    chance = 1 / (1 + np.exp(-(gpa - 7.0) * 1.5 - internships * 0.4))
    placed = rng.random(count) < chance
    tier = np.where(gpa > 8.5, "Tier1", np.where(gpa > 7.5, "Tier2", "Tier3"))
    majors = rng.choice(MAJORS, count)
    return [
        {
            "major": majors[i],
            "graduation_year": 2018 + i % 7,
            "gpa": float(gpa[i]),
            "attendance": float(attendance[i]),
            "placement_status": "Placed" if placed[i] else "Not Placed",
            "company_tier": str(tier[i]) if placed[i] else None,
            "role_title": "Engineer" if placed[i] else None,
            "salary_text": "6-8 LPA" if placed[i] else None,
            "extra_features": {"internship_count": int(internships[i])},
        }
        for i in range(count)
    ]


def _student_rows(count: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    gpa = np.clip(rng.normal(7.0, 1.2, count), 0, 10).round(2)
    attendance = np.clip(rng.normal(80, 10, count), 0, 100).round(1)
    majors = rng.choice(MAJORS, count)
    return [
        {
            "roll_number": f"B{i:07d}",
            "name": f"Student {i}",
            "major": majors[i],
            "semester": 5,
            "expected_graduation_year": 2027,
            "gpa": float(gpa[i]),
            "attendance": float(attendance[i]),
            "weekly_study_hours": float(i % 30),
            "project_count": i % 4,
            "internship_count": i % 3,
        }
        for i in range(count)
    ]


def _skill_rows(students: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    proficiency = rng.integers(20, 100, students * 2)
    return [
        {
            "student_id": 1 + i // 2,
            "name": ("Python", "SQL")[i % 2],
            "proficiency": float(proficiency[i]),
            "market_weight": (2.0, 1.0)[i % 2],
        }
        for i in range(students * 2)
    ]


def build_database(url: str, students: int, alumni: int) -> None:
    """Migrate ``url`` and fill it with synthetic students, skills and alumni."""
    from db.migrate import upgrade_to_head
    from db.models import Alumnus, Skill, Student
    from db.session import make_engine

    engine = make_engine(url)
    upgrade_to_head(engine)
    rng = np.random.default_rng(SEED)
    with engine.begin() as connection:
        connection.execute(insert(Alumnus), _alumni_rows(alumni, rng))
        connection.execute(insert(Student), _student_rows(students, rng))
        connection.execute(insert(Skill), _skill_rows(students, rng))
    engine.dispose()


def _arrays(students: int, alumni: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    return pd.DataFrame(_alumni_rows(alumni, rng)), pd.DataFrame(
        _student_rows(students, rng)
    )


def _child_end_to_end(url: str) -> dict[str, Any]:
    from core.engine.service import rescore_students
    from db.session import make_engine

    engine: Engine = make_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    started = time.perf_counter()
    cpu_started = time.process_time()
    summary = rescore_students(engine)
    return {
        "seconds": time.perf_counter() - started,
        # CPU time of this process alone; the database server's is not included.
        "cpu_seconds": time.process_time() - cpu_started,
        "students": summary.students_scored,
        "recommendations": summary.recommendations,
    }


def _child_matching(students: int, alumni: int, method: str) -> dict[str, Any]:
    from sklearn.neighbors import NearestNeighbors

    from core.engine.features import Scaling
    from core.engine.matching import Matcher

    alumni_frame, student_frame = _arrays(students, alumni)
    features = ["gpa", "attendance"]
    alumni_frame["internship_count"] = [
        extra["internship_count"] for extra in alumni_frame["extra_features"]
    ]
    features.append("internship_count")

    def search() -> None:
        if method == "engine":
            matcher = Matcher(alumni_frame, features, K)
            matcher.neighbours(student_frame)
            return
        # scikit-learn on the same features, scaled once over all alumni.
        matrix = alumni_frame[features].to_numpy(dtype=float)
        scaling = Scaling.fit(matrix)
        fitted, _ = scaling.transform(matrix)
        queries, _ = scaling.transform(student_frame[features].to_numpy(dtype=float))
        index = NearestNeighbors(n_neighbors=K, algorithm=method).fit(fitted)
        index.kneighbors(queries)

    # The first call in a fresh process pays one-time costs (lazy imports and
    # caches in NumPy, pandas and scikit-learn) that are as large as a college
    # search itself, so it is reported apart and the warm calls are timed.
    started = time.perf_counter()
    search()
    first_call = time.perf_counter() - started
    warm: list[tuple[float, float]] = []
    for _ in range(WARM_CALLS if students * alumni <= WARM_CALLS_MAX_PAIRS else 0):
        started = time.perf_counter()
        cpu_started = time.process_time()
        search()
        warm.append((time.perf_counter() - started, time.process_time() - cpu_started))
    seconds, cpu_seconds = min(warm) if warm else (first_call, first_call)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "first_call_seconds": first_call,
    }


def _run_child(arguments: list[str]) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.scoring", "--child", *arguments],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _child(arguments: list[str]) -> None:
    kind = arguments[0]
    if kind == "end-to-end":
        result = _child_end_to_end(arguments[1])
    else:
        result = _child_matching(int(arguments[1]), int(arguments[2]), arguments[3])
    # ru_maxrss is in KiB on Linux.
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    # The fastest of several runs is the one least slowed by other work on a
    # shared machine; peak memory is the largest seen.
    best = min(runs, key=lambda run: float(run["seconds"]))
    return {
        **best,
        "peak_mib": max(float(run["peak_mib"]) for run in runs),
        "runs": len(runs),
    }


def _first_and_repeat(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    # The first run after the import also stores every alumnus's feature vector.
    # The repeat, in a fresh process, reuses them and finds a score history.
    return _run_child(["end-to-end", url]), _run_child(["end-to-end", url])


def _sqlite_end_to_end(
    folder: str, template: Path, repeats: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    firsts, repeated = [], []
    for number in range(repeats):
        # Each pair of runs starts from the same untouched copy.
        copy = Path(folder) / f"run{number}.sqlite3"
        shutil.copyfile(template, copy)
        first, again = _first_and_repeat(f"sqlite:///{copy}")
        firsts.append(first)
        repeated.append(again)
        copy.unlink()
    return _best(firsts), _best(repeated)


def run(sizes: list[str], postgres: bool, repeats: int) -> list[dict[str, Any]]:
    """Run the benchmark for ``sizes`` and return one row per measured step."""
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            students, alumni = SIZES[size]
            label = f"{size} ({students:,} x {alumni:,})"
            template = Path(folder) / f"{size}.sqlite3"
            build_database(f"sqlite:///{template}", students, alumni)
            databases = [("SQLite", _sqlite_end_to_end(folder, template, repeats))]
            if postgres:
                databases.append(
                    ("PostgreSQL", _postgres_end_to_end(students, alumni, repeats))
                )
            for name, (first, again) in databases:
                results.append(
                    {"size": label, "step": f"first rescoring, {name}", **first}
                )
                results.append({"size": label, "step": f"rescoring, {name}", **again})
            for method in ("engine", "kd_tree", "brute"):
                step = "matching, engine" if method == "engine" else f"sklearn {method}"
                # Brute force on the university size takes minutes: run it once.
                count = 1 if method == "brute" and size == "university" else repeats
                arguments = ["matching", str(students), str(alumni), method]
                runs = [_run_child(arguments) for _ in range(count)]
                results.append({"size": label, "step": step, **_best(runs)})
            print(json.dumps(results[-7:], indent=1), file=sys.stderr, flush=True)
    return results


def _postgres_end_to_end(
    students: int, alumni: int, repeats: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    from db.session import make_engine
    from tests.pg_server import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        admin = make_engine(server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE benchmark_template"))
        build_database(server.url("benchmark_template"), students, alumni)
        firsts, repeated = [], []
        for number in range(repeats):
            name = f"benchmark_{number}"
            with admin.connect() as connection:
                connection.execute(
                    text(f"CREATE DATABASE {name} TEMPLATE benchmark_template")
                )
            first, again = _first_and_repeat(server.url(name))
            firsts.append(first)
            repeated.append(again)
        admin.dispose()
        return _best(firsts), _best(repeated)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--postgres", action="store_true", help="also time PostgreSQL")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per step; the fastest is kept"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    results = run(args.sizes, args.postgres, args.repeats)
    print(f"Machine: {_machine()}; run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        "| size | step | best seconds | CPU seconds | first call seconds | runs "
        "| peak memory (MiB) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in results:
        first_call = row.get("first_call_seconds")
        first = "-" if first_call is None else f"{first_call:.2f}"
        print(
            f"| {row['size']} | {row['step']} | {row['seconds']:.2f} "
            f"| {row['cpu_seconds']:.2f} | {first} | {row['runs']} "
            f"| {row['peak_mib']:.0f} |"
        )


if __name__ == "__main__":
    main()
