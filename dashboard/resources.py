"""Resources shared by every session of the app process."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from core.settings import database_url
from db.session import make_engine


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def app_engine() -> Engine:
    """Return the engine of the configured database, created once per URL."""
    return _engine_for(database_url())
