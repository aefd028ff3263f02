"""The pages of each role, in menu order.

A page left out of the list given to ``st.navigation`` cannot be reached by URL,
so the list is built from the signed-in role on every run. Each page checks the
role again with ``dashboard.guard.require_viewer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from db.models import Role

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"

STUDENT = frozenset({Role.STUDENT})
OFFICERS = frozenset({Role.OFFICER, Role.ADMIN})
IMPORTERS = frozenset({Role.STAFF, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})
EVERYONE = frozenset(Role)


@dataclass(frozen=True)
class PageSpec:
    file_name: str
    title: str
    icon: str
    roles: frozenset[Role]
    section: str

    @property
    def path(self) -> Path:
        return PAGES_DIR / self.file_name


PAGE_SPECS: tuple[PageSpec, ...] = (
    # Officers and admins start on the cohort overview, since the trajectory page
    # needs a student chosen first. Students see no cohort page, so theirs stays
    # first.
    PageSpec(
        "cohort.py",
        "Cohort overview",
        ":material/groups:",
        OFFICERS,
        "Placement office",
    ),
    PageSpec(
        "trajectory.py",
        "Trajectory",
        ":material/trending_up:",
        STUDENT | OFFICERS,
        "Students",
    ),
    PageSpec("skills.py", "My skills", ":material/psychology:", STUDENT, "Students"),
    PageSpec(
        "wellbeing.py", "Wellbeing", ":material/self_improvement:", STUDENT, "Students"
    ),
    PageSpec("my_data.py", "My data", ":material/folder_shared:", STUDENT, "Students"),
    PageSpec(
        "corrections.py",
        "Correction requests",
        ":material/edit_note:",
        OFFICERS,
        "Placement office",
    ),
    PageSpec(
        "alumni_upload.py", "Upload alumni", ":material/upload_file:", IMPORTERS, "Data"
    ),
    PageSpec(
        "import_history.py", "Import history", ":material/history:", IMPORTERS, "Data"
    ),
    PageSpec("roster.py", "Student roster", ":material/badge:", IMPORTERS, "Data"),
    PageSpec(
        "users.py", "Users", ":material/manage_accounts:", ADMINS, "Administration"
    ),
    PageSpec(
        "skill_catalogue.py",
        "Skill catalogue",
        ":material/sell:",
        ADMINS,
        "Administration",
    ),
    PageSpec(
        "engine.py",
        "Engine accuracy",
        ":material/query_stats:",
        ADMINS,
        "Administration",
    ),
    PageSpec(
        "audit_log.py", "Audit log", ":material/policy:", ADMINS, "Administration"
    ),
    PageSpec("account.py", "Account", ":material/account_circle:", EVERYONE, "Account"),
)


def pages_for(role: Role) -> list[PageSpec]:
    """Return the pages ``role`` may open, in menu order."""
    return [spec for spec in PAGE_SPECS if role in spec.roles]
