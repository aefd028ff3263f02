"""Synthetic demo data, so that a first run shows full dashboards.

``load_demo_data`` generates alumni, students, skills, wellbeing rows and score
history from a seed and writes them into an empty database.
"""

from core.demo.load import (
    DEFAULT_ALUMNI,
    DEFAULT_SEED,
    DEFAULT_STUDENTS,
    DemoAccount,
    DemoDatabaseNotEmpty,
    DemoSummary,
    ProgressCallback,
    load_demo_data,
)

__all__ = [
    "DEFAULT_ALUMNI",
    "DEFAULT_SEED",
    "DEFAULT_STUDENTS",
    "DemoAccount",
    "DemoDatabaseNotEmpty",
    "DemoSummary",
    "ProgressCallback",
    "load_demo_data",
]
