"""Per-page checks of the signed-in viewer."""

from __future__ import annotations

import streamlit as st

from core.access import Viewer
from db.models import Role

VIEWER_KEY = "viewer"


def current_viewer() -> Viewer | None:
    """Return the signed-in viewer of this browser session, if any."""
    viewer = st.session_state.get(VIEWER_KEY)
    return viewer if isinstance(viewer, Viewer) else None


def require_viewer(*roles: Role) -> Viewer:
    """Return the signed-in viewer, or stop the page unless their role is allowed.

    The navigation already hides pages a role may not open; this second check
    protects a page that is run some other way.
    """
    viewer = current_viewer()
    if viewer is None:
        st.error("Sign in to open this page.")
        st.stop()
    if roles and viewer.role not in roles:
        st.error("Your role does not give access to this page.")
        st.stop()
    return viewer
