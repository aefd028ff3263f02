"""Skill catalogue: admins set each skill's market weight and the reason for it."""

from __future__ import annotations

import unicodedata

import pandas as pd
import streamlit as st

from core.access import Viewer
from core.skill_catalogue import (
    SKILL_NAME_MAX_CHARS,
    save_catalogue_entry,
    skill_catalogue,
    uncatalogued_skills,
)
from core.student_data import DEFAULT_MARKET_WEIGHT
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import MARKET_WEIGHTS, Role
from db.session import session_scope, write_scope

WEIGHT_LABELS = {0.5: "0.5 (low demand)", 1.0: "1.0 (normal)", 2.0: "2.0 (high demand)"}
NEW_SKILL_LABEL = "New skill"
SAVED_KEY = "catalogue_saved"

# NOTE: estimated widths of one character in the table's default font, in
# pixels. Wide characters (CJK) take about two narrow ones.
CHARACTER_WIDTH_PX = 8
NAME_PADDING_PX = 32
MIN_NAME_WIDTH_PX = 120


def _text_width(text: str) -> int:
    return sum(
        2 if unicodedata.east_asian_width(character) in "WF" else 1
        for character in text
    )


def _name_width(names: pd.Series) -> int:
    """Return a name column width in pixels that shows the longest name in full."""
    longest = max((_text_width(name) for name in names), default=0)
    return max(MIN_NAME_WIDTH_PX, longest * CHARACTER_WIDTH_PX + NAME_PADDING_PX)


def _show_catalogue(catalogue: pd.DataFrame) -> None:
    table = catalogue.assign(
        market_weight=catalogue["market_weight"].map(WEIGHT_LABELS)
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "name": st.column_config.TextColumn(
                "Skill", width=_name_width(catalogue["name"]), pinned=True
            ),
            "market_weight": st.column_config.TextColumn(
                "Market weight", help="Scales the skill in each student's readiness"
            ),
            "reasoning": st.column_config.TextColumn("Reasoning", width="large"),
            "students": st.column_config.NumberColumn(
                "Student skills",
                help="Students' skills with this name, in any letter case",
                format="%d",
            ),
            "updated_at": st.column_config.DatetimeColumn(
                "Last changed (UTC)", format="YYYY-MM-DD HH:mm", timezone="UTC"
            ),
        },
    )


def _entry_form(
    viewer: Viewer, catalogue: pd.DataFrame, suggestions: list[str]
) -> None:
    names = list(catalogue["name"])
    # None stands for a new skill, so a skill named "New skill" stays selectable.
    choice: str | None = st.selectbox(
        "Skill",
        [None, *names, *suggestions],
        format_func=lambda option: NEW_SKILL_LABEL if option is None else option,
        key="catalogue_choice",
    )
    entry = catalogue[catalogue["name"] == choice]
    # The keys name the chosen skill, so choosing another skill shows its values
    # in place of the previous skill's edits.
    suffix = "new" if choice is None else f"skill={choice}"
    current_weight = DEFAULT_MARKET_WEIGHT
    current_reasoning = ""
    if not entry.empty:
        current_weight = float(entry["market_weight"].iloc[0])
        current_reasoning = str(entry["reasoning"].iloc[0])
    with st.form("catalogue_form"):
        name = st.text_input(
            "Skill name",
            value="" if choice is None else choice,
            max_chars=SKILL_NAME_MAX_CHARS,
            key=f"catalogue_name:{suffix}",
        )
        weight = st.radio(
            "Market weight",
            MARKET_WEIGHTS,
            index=MARKET_WEIGHTS.index(current_weight),
            format_func=WEIGHT_LABELS.__getitem__,
            horizontal=True,
            key=f"catalogue_weight:{suffix}",
        )
        reasoning = st.text_area(
            "Reasoning (shown with the weight)",
            value=current_reasoning,
            key=f"catalogue_reasoning:{suffix}",
        )
        submitted = st.form_submit_button("Save weight", type="primary")
    if not submitted:
        return
    try:
        with write_scope(app_engine()) as session:
            applied = save_catalogue_entry(
                session, viewer, name, float(weight), reasoning
            )
    except ValueError as error:
        st.error(str(error))
        return
    message = (
        f"Saved {name.strip()!r} at weight {weight}; {applied} student skills updated. "
        "Scores change at the next rescoring run."
    )
    if choice is not None and name.strip() != choice:
        message += f" The entry was renamed from {choice!r}."
    # Rerun so the table above shows the saved weight.
    st.session_state[SAVED_KEY] = message
    st.rerun()


def main() -> None:
    viewer = require_viewer(Role.ADMIN)
    st.title("Skill catalogue")
    st.caption(
        "A skill's market weight (0.5 low, 1.0 normal, 2.0 high demand) scales it in "
        "each student's readiness. Skill names match without regard to letter case. "
        "Every change is written to the audit log."
    )
    with session_scope(app_engine()) as session:
        catalogue = skill_catalogue(session, viewer)
        suggestions = uncatalogued_skills(session, viewer)
    if catalogue.empty:
        st.info("The catalogue is empty. Add the first skill below.")
    else:
        _show_catalogue(catalogue)
    if suggestions:
        st.caption(
            "Skills students entered that the catalogue does not list yet: "
            + ", ".join(suggestions)
        )
    saved = st.session_state.pop(SAVED_KEY, None)
    if saved:
        st.success(saved)
    _entry_form(viewer, catalogue, suggestions)


main()
