"""The editable list of major spellings and its effect on imports."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import Engine, select

from core.importing import make_plan
from core.importing.majors import (
    alias_pairs,
    canonical_major,
    load_aliases,
    major_key,
    save_aliases,
)
from core.importing.roster import import_roster
from db.models import ImportKind, Student
from db.session import session_scope, write_scope
from tests.importing.helpers import alumni_rows, prepare, run_import


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


NFC_GENIE = unicodedata.normalize("NFC", "Génie Électrique")
NFD_GENIE = unicodedata.normalize("NFD", "Génie Électrique")
ROSTER_HEADER = "roll number,name,major,semester,expected graduation year,gpa\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("इलेक्ट्रॉनिक्स", "इलेक्ट्रॉनिक्स"),
        ("தமிழ்", "தமிழ்"),
        (NFC_GENIE, "génie électrique"),
        (NFD_GENIE, "génie électrique"),
        ("GÉNIE  ÉLECTRIQUE", "génie électrique"),
        ("Straßenbau", "strassenbau"),
        ("Ｃｉｖｉｌ", "civil"),
        ("Elektrotechnik/Informatik", "elektrotechnik informatik"),
    ],
)
def test_major_key_keeps_every_script(text: str, expected: str) -> None:
    assert major_key(text) == unicodedata.normalize("NFC", expected)


def test_major_key_keeps_vowel_signs() -> None:
    # Devanagari vowel signs are combining marks, not letters, but they tell
    # कि (ki) from का (kaa).
    assert major_key("कि") != major_key("का")


def test_save_aliases_accepts_non_latin_names(engine: Engine) -> None:
    with write_scope(engine) as session:
        save_aliases(
            session,
            [("इलेक्ट्रॉनिक्स", "Electronics and Communication"), ("தமிழ்", "Tamil")],
        )
    with session_scope(engine) as session:
        aliases = load_aliases(session)

    assert canonical_major("इलेक्ट्रॉनिक्स", aliases) == "Electronics and Communication"
    assert canonical_major(" தமிழ் ", aliases) == "Tamil"


def test_alias_matches_nfd_and_case(engine: Engine) -> None:
    with write_scope(engine) as session:
        save_aliases(session, [("génie électrique", NFD_GENIE)])
    with session_scope(engine) as session:
        aliases = load_aliases(session)

    for spelling in ("génie électrique", NFC_GENIE, NFD_GENIE, "GÉNIE ÉLECTRIQUE"):
        assert canonical_major(spelling, aliases) == NFC_GENIE


def test_import_stores_majors_in_nfc(engine: Engine) -> None:
    csv = f"name,branch,placed\nAsha,{NFD_GENIE},yes\n"
    run_import(engine, csv.encode("utf-8"), "nfd.csv")

    assert alumni_rows(engine)[0].major == NFC_GENIE


def test_roster_major_matches_alumni_spelling(engine: Engine) -> None:
    run_import(
        engine,
        f"name,branch,placed\nAsha,{NFC_GENIE},yes\n".encode(),
        "alumni.csv",
    )
    roster = (
        ROSTER_HEADER
        + f"CS1,Ravi,{NFD_GENIE},5,2027,8.1\n"
        + "CS2,Meena,génie électrique,5,2027,7.9\n"
    )
    prepared = prepare(engine, roster.encode("utf-8"), "roster.csv", ImportKind.ROSTER)
    with session_scope(engine) as session:
        plan = make_plan(session, prepared)
    result = import_roster(engine, None, prepared, plan)

    assert result.status == "imported"
    with session_scope(engine) as session:
        majors = set(session.scalars(select(Student.major)))
    assert majors == {NFC_GENIE}


def test_file_spellings_of_new_major_merge(engine: Engine) -> None:
    csv = (
        "name,branch,placed\n"
        f"Asha,{NFC_GENIE},yes\n"
        f"Ravi,{NFD_GENIE},no\n"
        "Meena,génie électrique,yes\n"
    )
    run_import(engine, csv.encode("utf-8"), "mixed.csv")

    assert {alumnus.major for alumnus in alumni_rows(engine)} == {NFC_GENIE}
