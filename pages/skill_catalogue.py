"""Skill catalogue: admins set each skill's market weight and the reason for it."""

from __future__ import annotations

import streamlit as st

from core.access import Viewer
from core.engine import views
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import MARKET_WEIGHTS, Role
from db.session import session_scope, write_scope

WEIGHT_LABELS = {0.5: "0.5 (low demand)", 1.0: "1.0 (normal)", 2.0: "2.0 (high demand)"}


def _entry_form(viewer: Viewer, names: list[str], suggestions: list[str]) -> None:
    choice = st.selectbox(
        "Skill", ["New skill", *names, *suggestions], key="catalogue_choice"
    )
    with st.form("catalogue_form"):
        name = st.text_input(
            "Skill name", value="" if choice == "New skill" else choice
        )
        weight = st.radio(
            "Market weight",
            MARKET_WEIGHTS,
            index=1,
            format_func=WEIGHT_LABELS.__getitem__,
            horizontal=True,
        )
        reasoning = st.text_area("Reasoning (shown with the weight)")
        submitted = st.form_submit_button("Save weight", type="primary")
    if not submitted:
        return
    try:
        with write_scope(app_engine()) as session:
            applied = views.save_catalogue_entry(
                session, viewer, name, float(weight), reasoning
            )
    except ValueError as error:
        st.error(str(error))
        return
    st.success(
        f"Saved {name.strip()!r} at weight {weight}; {applied} student skills updated. "
        "Scores change at the next rescoring run."
    )


def main() -> None:
    viewer = require_viewer(Role.ADMIN)
    st.title("Skill catalogue")
    st.caption(
        "A skill's market weight (0.5 low, 1.0 normal, 2.0 high demand) scales it in "
        "each student's readiness. Every change is written to the audit log."
    )
    with session_scope(app_engine()) as session:
        catalogue = views.skill_catalogue(session, viewer)
        suggestions = views.uncatalogued_skills(session, viewer)
    if catalogue.empty:
        st.info("The catalogue is empty. Add the first skill below.")
    else:
        st.dataframe(catalogue, hide_index=True, use_container_width=True)
    if suggestions:
        st.caption(
            "Skills students entered that the catalogue does not list yet: "
            + ", ".join(suggestions)
        )
    _entry_form(viewer, list(catalogue["name"]), suggestions)


main()
