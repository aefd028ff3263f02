"""My skills: a student adds, edits and removes their own skills."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.student_data import SkillRow, list_skills, remove_skill, save_skill
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import Role
from db.session import session_scope, write_scope

NOTICE_KEY = "skills_notice"


def _skills_table(skills: list[SkillRow]) -> None:
    if not skills:
        st.info("No skills yet. Add your first one below.")
        return
    frame = pd.DataFrame(
        {
            "Skill": [skill.name for skill in skills],
            "Proficiency": [skill.proficiency for skill in skills],
            "Quiz score": [skill.quiz_score for skill in skills],
            "Voice score": [skill.voice_score for skill in skills],
            "Market weight": [skill.market_weight for skill in skills],
        }
    )
    st.dataframe(frame, hide_index=True, width="stretch")


def _optional_score(label: str, current: float | None, key: str) -> float | None:
    value = st.number_input(
        label, min_value=0.0, max_value=100.0, value=current, step=1.0, key=key
    )
    return None if value is None else float(value)


def _edit_form(skills: list[SkillRow]) -> None:
    by_name = {skill.name: skill for skill in skills}
    choice = st.selectbox("Skill to edit", ["New skill", *by_name], key="skill_choice")
    existing = by_name.get(choice)
    # Widget keys carry the chosen skill, because a widget keeps its first value
    # under a fixed key and would not show the next skill chosen for editing.
    suffix = str(existing.skill_id) if existing else "new"
    with st.form(f"skill_form_{suffix}", clear_on_submit=existing is None):
        name = st.text_input(
            "Skill name",
            value=existing.name if existing else "",
            key=f"skill_name_{suffix}",
        )
        proficiency = st.slider(
            "Proficiency (0-100)",
            0,
            100,
            int(existing.proficiency) if existing else 50,
            key=f"skill_proficiency_{suffix}",
        )
        quiz = _optional_score(
            "Quiz score (0-100, optional)",
            existing.quiz_score if existing else None,
            f"skill_quiz_{suffix}",
        )
        voice = _optional_score(
            "Voice interview score (0-100, optional)",
            existing.voice_score if existing else None,
            f"skill_voice_{suffix}",
        )
        submitted = st.form_submit_button("Save skill", type="primary")
    if not submitted:
        return
    try:
        with write_scope(app_engine()) as session:
            save_skill(session, viewer, name, float(proficiency), quiz, voice)
    except ValueError as error:
        st.error(str(error))
        return
    st.session_state[NOTICE_KEY] = f"Saved {name.strip()}."
    st.rerun()


def _remove_control(skills: list[SkillRow]) -> None:
    if not skills:
        return
    by_name = {skill.name: skill.skill_id for skill in skills}
    name = st.selectbox("Skill to remove", list(by_name), key="skill_remove")
    if st.button("Remove skill", icon=":material/delete:"):
        with write_scope(app_engine()) as session:
            remove_skill(session, viewer, by_name[name])
        st.session_state[NOTICE_KEY] = f"Removed {name}."
        st.rerun()


viewer = require_viewer(Role.STUDENT)
assert viewer.student_id is not None  # a CHECK constraint links student accounts

st.title("My skills")
st.caption(
    "Scores run from 0 to 100. The market weight is set by the placement office "
    "for skills in its catalogue (0.5 low, 1.0 normal, 2.0 high demand); other "
    "skills count as 1.0."
)
notice = st.session_state.pop(NOTICE_KEY, None)
if notice:
    st.success(notice)

with session_scope(app_engine()) as session:
    my_skills = list_skills(session, viewer, viewer.student_id)

_skills_table(my_skills)
st.subheader("Add or edit a skill")
_edit_form(my_skills)
st.subheader("Remove a skill")
_remove_control(my_skills)
