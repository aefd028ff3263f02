"""Helpers to run the Streamlit app under ``streamlit.testing.v1.AppTest``."""

from __future__ import annotations

import streamlit as st
from streamlit.testing.v1 import AppTest

from core.access import Viewer
from core.settings import PROJECT_ROOT
from dashboard.guard import VIEWER_KEY

APP_PATH = str(PROJECT_ROOT / "dashboard" / "app.py")

# Importing plotly and scikit-learn alone takes about 2 s here, above the 3 s default.
TIMEOUT_SECONDS = 60


def clear_streamlit_caches() -> None:
    """Empty Streamlit's caches, which persist across AppTest runs in one process."""
    st.cache_data.clear()
    st.cache_resource.clear()


def app_as(viewer: Viewer | None, page: str | None = None) -> AppTest:
    """Return the app signed in as ``viewer`` and switched to ``page`` (a file name).

    The app has run once when this returns.
    """
    clear_streamlit_caches()
    app = AppTest.from_file(APP_PATH, default_timeout=TIMEOUT_SECONDS)
    if viewer is not None:
        app.session_state[VIEWER_KEY] = viewer
    app.run()
    if page is not None:
        app.switch_page(str(PROJECT_ROOT / "pages" / page))
        app.run()
    return app
