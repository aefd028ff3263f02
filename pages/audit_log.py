"""Audit log: admins filter the trail and export it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from core import audit, exports
from core.audit import AuditFilter, list_actions, list_entries
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import Role
from db.session import session_scope, write_scope

PAGE = "Audit log"
ANY = "(any)"


def _filters(actions: list[str]) -> AuditFilter:
    today = datetime.now(UTC).date()
    left, middle, right = st.columns(3)
    first = left.date_input("From (UTC)", value=today - timedelta(days=30))
    last = left.date_input("To (UTC, inclusive)", value=today)
    action = middle.selectbox("Action", [ANY, *actions])
    actor = middle.text_input("User name of the actor")
    target_kind = right.text_input("Target kind (student, user...)")
    target_id = right.text_input("Target id")
    return AuditFilter(
        since=datetime.combine(first, time.min, tzinfo=UTC),
        until=datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC),
        action=None if action == ANY else action,
        actor_username=actor.strip() or None,
        target_kind=target_kind.strip() or None,
        target_id=target_id.strip() or None,
    )


viewer = require_viewer(Role.ADMIN)

st.title("Audit log")
st.caption(
    "Entries cannot be changed, and cannot be deleted for a year (database "
    "triggers enforce both)."
)
with session_scope(app_engine()) as session:
    conditions = _filters(list_actions(session))
    entries = list_entries(session, viewer, conditions)

st.write(f"{len(entries)} entries match.")
st.dataframe(entries, hide_index=True, width="stretch")

if st.button("Prepare CSV export", disabled=entries.empty):
    with write_scope(app_engine()) as session:
        audit.record(
            session,
            viewer,
            "audit_log_exported",
            page=PAGE,
            detail={"rows": len(entries)},
        )
    name = exports.export_file_name("audit-log", "csv")
    st.download_button(
        f"Download {name}", exports.csv_bytes(entries), file_name=name, mime="text/csv"
    )
