"""The signed-in viewer and the access rules every query applies.

Data-layer functions that return student data take a ``Viewer`` and call one of
the ``require_*`` functions before they read anything. A refusal raises
``AccessDenied`` and leaves an entry in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core import audit
from db.models import Role

# Roles that may read any student's record (placement officers and admins).
STUDENT_READERS = frozenset({Role.OFFICER, Role.ADMIN})


@dataclass(frozen=True)
class Viewer:
    """The signed-in user on whose behalf data is read or written."""

    user_id: int
    username: str
    role: Role
    student_id: int | None = None


class AccessDenied(PermissionError):
    """Raised when a viewer asks for data or an action their role does not allow."""


def require_role(
    session: Session, viewer: Viewer, roles: set[Role] | frozenset[Role], action: str
) -> None:
    """Raise ``AccessDenied`` unless ``viewer`` has one of ``roles``.

    The refusal is written to the audit log in its own transaction, so it
    survives a rollback of the caller's work.
    """
    if viewer.role in roles:
        return
    allowed = ", ".join(sorted(role.value for role in roles))
    audit.record_denial(session, viewer, action, detail={"required_roles": allowed})
    raise AccessDenied(
        f"{action} is not allowed for role {viewer.role.value}: it needs {allowed}"
    )


def require_student_access(
    session: Session, viewer: Viewer, student_id: int, action: str
) -> None:
    """Raise ``AccessDenied`` unless ``viewer`` may read student ``student_id``.

    A student reads only their own record; officers and admins read any.
    Staff read no student records through this check (they reach students only
    through import records), and never wellbeing data.
    """
    if viewer.role in STUDENT_READERS:
        return
    if viewer.role is Role.STUDENT and viewer.student_id == student_id:
        return
    audit.record_denial(
        session,
        viewer,
        action,
        target_kind="student",
        target_id=str(student_id),
        detail={},
    )
    raise AccessDenied(
        f"{action}: {viewer.role.value} {viewer.username!r} may not read this student"
    )


def require_own_student(session: Session, viewer: Viewer, action: str) -> int:
    """Return the viewer's own student id, or raise ``AccessDenied``.

    For actions only a student takes on their own record, such as entering
    skills or wellbeing data or granting consent.
    """
    if viewer.role is Role.STUDENT and viewer.student_id is not None:
        return viewer.student_id
    audit.record_denial(session, viewer, action, detail={"required_roles": "student"})
    raise AccessDenied(f"{action} is only allowed for a student on their own record")
