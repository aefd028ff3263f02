"""The signed-in viewer of a browser session, and per-page role checks.

A sign-in creates a server-side session (``core.sessions``) whose random token
is kept in ``st.session_state`` and in a browser cookie. Each script run checks
the token against the database once (``resolve_viewer``), so a sign-out in
another tab, an idle expiry, a deactivation or a role change takes effect on
the next interaction. A reload or a new tab has an empty ``st.session_state``
and resumes from the cookie, which Streamlit exposes read-only through
``st.context.cookies``. Streamlit cannot set a cookie from the server, so
``sync_cookie`` writes and deletes it with inline JavaScript through
``st.components.v2``.
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from core import audit, sessions
from core.access import Viewer
from core.settings import session_idle_minutes
from dashboard.resources import app_engine
from db.models import Role, User
from db.session import session_scope, write_scope

logger = logging.getLogger(__name__)

VIEWER_KEY = "viewer"
TOKEN_KEY = "session_token"
MUST_CHANGE_PASSWORD_KEY = "must_change_password"
NOTICE_KEY = "sign_in_notice"
CLEAR_COOKIE_KEY = "clear_session_cookie"

SESSION_COOKIE = "trajectory_session"


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
        allowed = ", ".join(sorted(role.value for role in roles))
        with session_scope(app_engine()) as session:
            audit.record_denial(
                session, viewer, "open a page", detail={"required_roles": allowed}
            )
        st.error("Your role does not give access to this page.")
        st.stop()
    return viewer


def begin_session(viewer: Viewer, must_change_password: bool) -> None:
    """Open a server-side session for ``viewer`` and keep it in this browser."""
    with write_scope(app_engine()) as session:
        token = sessions.start(session, viewer)
    st.session_state[VIEWER_KEY] = viewer
    st.session_state[TOKEN_KEY] = token
    st.session_state[MUST_CHANGE_PASSWORD_KEY] = must_change_password
    st.session_state.pop(CLEAR_COOKIE_KEY, None)


def end_session(notice: str | None = None, *, signed_out: bool = True) -> None:
    """Revoke the server-side session and forget the viewer in this browser.

    ``signed_out`` is false when the server already ended the session (idle
    expiry, deactivation), so that no ``sign_out`` entry is written for it.
    """
    token = st.session_state.get(TOKEN_KEY)
    viewer = current_viewer() if signed_out else None
    if token:
        with write_scope(app_engine()) as session:
            sessions.revoke(session, token, viewer)
    for key in (VIEWER_KEY, TOKEN_KEY, MUST_CHANGE_PASSWORD_KEY):
        st.session_state.pop(key, None)
    st.session_state[CLEAR_COOKIE_KEY] = True
    if notice:
        st.session_state[NOTICE_KEY] = notice


def renew_session(viewer: Viewer) -> None:
    """End every session of ``viewer`` and open a fresh one for this browser.

    Called after a password change, so that a session opened with the old
    password (on another device, say) cannot continue.
    """
    with write_scope(app_engine()) as session:
        sessions.revoke_all(session, viewer.user_id)
        st.session_state[TOKEN_KEY] = sessions.start(session, viewer)


def resolve_viewer() -> Viewer | None:
    """Check this browser's session against the database and return its viewer.

    Called once per script run by the entry point. A viewer placed in
    ``st.session_state`` without a token (as tests do) is taken as it is.
    """
    token = st.session_state.get(TOKEN_KEY)
    if token is None and current_viewer() is not None:
        return current_viewer()
    from_cookie = token is None
    if from_cookie:
        if st.session_state.get(CLEAR_COOKIE_KEY):
            # The cookie this connection was opened with belongs to the session
            # that was just ended; it is revoked, so skip the lookup.
            return None
        token = st.context.cookies.get(SESSION_COOKIE)
        # AppTest supplies no real cookies, so anything but text is ignored.
        if not isinstance(token, str) or not token:
            return None
    if not isinstance(token, str):
        # Only a token this module stored, which is text, can be resumed.
        return None

    with write_scope(app_engine()) as session:
        viewer = sessions.resume(session, token)
        must_change = False
        if viewer is not None:
            user = session.get(User, viewer.user_id)
            must_change = bool(user and user.must_change_password)

    if viewer is None:
        if not from_cookie:
            end_session("Your session has ended. Sign in again.", signed_out=False)
        return None
    st.session_state[VIEWER_KEY] = viewer
    st.session_state[TOKEN_KEY] = token
    st.session_state[MUST_CHANGE_PASSWORD_KEY] = must_change
    return viewer


def needs_password_change() -> bool:
    """Return whether the signed-in user must choose a new password first."""
    return bool(st.session_state.get(MUST_CHANGE_PASSWORD_KEY))


# Inline st.components.v2 JavaScript needs no build step and runs in the app's
# own page, so document.cookie is the app's cookie. Streamlit calls the default
# export on mount and whenever ``data`` changes. JavaScript cannot set HttpOnly.
# st.iframe, which the st.components.v1.html deprecation warning names, works too
# but needs a height of at least 1 px: "content" measured 150 px for a document
# that holds only a script (Chromium, Streamlit 1.67).
_COOKIE_SCRIPT = """
export default function ({ data }) {
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie =
    `${data.name}=${data.value}; Max-Age=${data.maxAge}; Path=/; SameSite=Strict` +
    secure;
}
"""

_cookie_component = st.components.v2.component(
    "trajectory_session_cookie", js=_COOKIE_SCRIPT
)


def sync_cookie() -> None:
    """Write the session cookie in the browser, or delete it after a sign-out.

    The cookie lives as long as the idle limit. Its data carries the current
    minute, so the script runs again once a minute of activity and renews it.
    """
    token = st.session_state.get(TOKEN_KEY)
    if token:
        value = token
        max_age_seconds = session_idle_minutes() * 60
        minute = int(time.time() // 60)
    elif st.session_state.get(CLEAR_COOKIE_KEY):
        # Max-Age=0 makes the browser delete the cookie.
        value = ""
        max_age_seconds = 0
        minute = 0
    else:
        return
    data = {
        "name": SESSION_COOKIE,
        "value": value,
        "maxAge": max_age_seconds,
        "minute": minute,
    }
    _cookie_component(key="session_cookie", data=data, height="content")
