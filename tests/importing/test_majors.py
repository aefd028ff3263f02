"""The editable list of major spellings and its effect on imports."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from core.importing.majors import (
    alias_pairs,
    canonical_major,
    load_aliases,
    major_key,
    save_aliases,
)
from db.session import session_scope, write_scope
from tests.importing.helpers import alumni_rows, run_import


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CSE", "Computer Science"),
        ("cs", "Computer Science"),
        ("Computer Science & Engineering", "Computer Science"),
        ("E.C.E", "Electronics and Communication"),
        ("Electronics And Communication", "Electronics and Communication"),
        ("Mech", "Mechanical"),
        ("EEE", "Electrical"),
        ("Sci&Tech", "Sci&Tech"),
        ("  Marine   Engineering ", "Marine Engineering"),
    ],
)
def test_default_aliases(engine: Engine, text: str, expected: str) -> None:
    with session_scope(engine) as session:
        aliases = load_aliases(session)

    assert canonical_major(text, aliases) == expected


def test_major_key_normalises_punctuation() -> None:
    assert major_key(" Comp.  Sci & Engg ") == "comp sci and engg"


def test_saved_aliases_used_by_import(engine: Engine) -> None:
    with session_scope(engine) as session:
        pairs = alias_pairs(session)
    with write_scope(engine) as session:
        save_aliases(session, [*pairs, ("Comp Engg", "Computer Science")])

    run_import(engine, b"name,branch,placed\nAsha,Comp Engg,yes\n", "alias.csv")

    assert alumni_rows(engine)[0].major == "Computer Science"
    with session_scope(engine) as session:
        assert ("Comp Engg", "Computer Science") in alias_pairs(session)


def test_save_aliases_rejects_repeated_spelling(engine: Engine) -> None:
    with write_scope(engine) as session:
        with pytest.raises(ValueError, match="'cse' is listed twice"):
            save_aliases(session, [("CSE", "Computer Science"), ("cse", "CS")])


def test_save_aliases_rejects_empty_name(engine: Engine) -> None:
    with write_scope(engine) as session:
        with pytest.raises(ValueError, match="incomplete"):
            save_aliases(session, [("CSE", " ")])
