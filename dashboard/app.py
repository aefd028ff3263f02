"""Entry point of the Streamlit app: migrate once, then show the pages of the role."""

from __future__ import annotations

import logging

import streamlit as st

from dashboard.guard import needs_password_change, resolve_viewer, sync_cookie
from dashboard.navigation import PAGES_DIR, pages_for
from dashboard.resources import app_engine
from db.migrate import upgrade_to_head

logger = logging.getLogger(__name__)


@st.cache_resource(show_spinner="Preparing the database...")
def _migrate_once(url: str) -> bool:
    upgrade_to_head(app_engine())
    return True


def main() -> None:
    st.set_page_config(
        page_title="Trajectory", page_icon=":material/trending_up:", layout="wide"
    )
    _migrate_once(str(app_engine().url))

    viewer = resolve_viewer()
    sync_cookie()
    if viewer is None:
        sign_in = st.Page(
            PAGES_DIR / "sign_in.py", title="Sign in", icon=":material/login:"
        )
        st.navigation([sign_in], position="hidden").run()
        return

    if needs_password_change():
        # Until the one-time password is replaced, the account page is all
        # there is, so a handed-out password cannot be used for anything else.
        account = st.Page(
            PAGES_DIR / "account.py", title="Account", icon=":material/account_circle:"
        )
        st.navigation([account], position="hidden").run()
        return

    sections: dict[str, list[st.Page]] = {}
    for spec in pages_for(viewer.role):
        if not spec.path.exists():
            # st.Page raises for a missing script; one missing page should not
            # take every other page down with it.
            logger.warning("page script %s is missing; left out of the menu", spec.path)
            continue
        page = st.Page(spec.path, title=spec.title, icon=spec.icon)
        sections.setdefault(spec.section, []).append(page)
    st.sidebar.caption(f"Signed in as **{viewer.username}** ({viewer.role.value})")
    st.navigation(sections).run()


logging.basicConfig(
    level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
)
main()
