"""Small builders of database rows for tests."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from core.access import Viewer
from core.auth import create_user
from db.models import Alumnus, PlacementStatus, Role, Student

_numbers = itertools.count(1)

TEST_PASSWORD = "correct horse battery"


def make_student(session: Session, **values: Any) -> Student:
    number = next(_numbers)
    fields: dict[str, Any] = {
        "roll_number": f"R{number:05d}",
        "name": f"Student {number}",
        "major": "Computer Science",
        "semester": 5,
        "expected_graduation_year": 2027,
        "gpa": 7.5,
        "attendance": 85.0,
    }
    fields.update(values)
    student = Student(**fields)
    session.add(student)
    session.flush()
    return student


def make_alumnus(session: Session, **values: Any) -> Alumnus:
    fields: dict[str, Any] = {
        "major": "Computer Science",
        "graduation_year": 2024,
        "gpa": 7.5,
        "attendance": 85.0,
        "placement_status": PlacementStatus.PLACED,
    }
    fields.update(values)
    alumnus = Alumnus(**fields)
    session.add(alumnus)
    session.flush()
    return alumnus


def make_viewer(session: Session, role: Role, student: Student | None = None) -> Viewer:
    """Create a user of ``role``, linked to ``student`` if given, and its viewer."""
    number = next(_numbers)
    user = create_user(
        session,
        f"{role.value}{number}",
        TEST_PASSWORD,
        role,
        student_id=student.id if student else None,
    )
    return Viewer(
        user_id=user.id, username=user.username, role=role, student_id=user.student_id
    )
