"""Canonical major names and the editable list of their spellings.

Files name one major in many ways (``CSE``, ``CS``, ``Computer Science and
Engineering``). Each spelling is looked up by its key (``major_key``) in the
``major_aliases`` table. A major without an alias takes the spelling of a major
already stored under the same key, or else is kept as written. Every major is
stored in Unicode NFC form, so a file saved on macOS (NFD) stores the same text.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import delete, select, union
from sqlalchemy.orm import Session

from db.models import Alumnus, MajorAlias, Student

# Used while the major_aliases table is empty; staff edit the list afterwards.
DEFAULT_MAJOR_ALIASES: dict[str, tuple[str, ...]] = {
    "Computer Science": (
        "cse",
        "cs",
        "comp sci",
        "computer science",
        "computer science engineering",
        "computer science and engineering",
        "computer engineering",
    ),
    "Electronics and Communication": (
        "ece",
        "ec",
        "electronics",
        "electronics and communication",
        "electronics and communication engineering",
        "electronics communication",
    ),
    "Information Technology": ("it", "information technology", "info tech"),
    "Mechanical": ("mech", "me", "mechanical", "mechanical engineering"),
    "Electrical": (
        "eee",
        "ee",
        "electrical",
        "electrical engineering",
        "electrical and electronics",
        "electrical and electronics engineering",
    ),
    "Civil": ("civil", "ce", "civil engineering"),
    "Biotechnology": ("bt", "biotech", "biotechnology", "bio technology"),
    "Chemical": ("che", "chem", "chemical", "chemical engineering"),
}


def major_key(text: str) -> str:
    """Return the lookup key of a major's spelling.

    The key is the NFKC form, case-folded, with ``&`` read as ``and``. Letters,
    digits and combining marks of every script are kept, and every other run of
    characters becomes one space.
    """
    folded = unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")
    # Combining marks are kept because Indic vowel signs and viramas are marks,
    # not letters. Dropping them would split a Devanagari or Tamil word apart.
    separated = "".join(
        character
        if character.isalnum() or unicodedata.category(character).startswith("M")
        else " "
        for character in folded
    )
    words = separated.split()
    # Dotted abbreviations (E.C.E, C.S.E) read as the plain ones (ece, cse).
    if len(words) > 1 and all(len(word) == 1 for word in words):
        return "".join(words)
    return " ".join(words)


def normalize_major(text: str) -> str:
    """Return ``text`` as a major is stored: NFC form with single spaces."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


def alias_pairs(session: Session) -> list[tuple[str, str]]:
    """Return the (spelling, canonical name) pairs, or the defaults if none are stored.

    The defaults are not written here, so that reading stays read-only; the
    first save of the list stores them with the staff's edits.
    """
    rows = session.execute(
        select(MajorAlias.alias, MajorAlias.canonical).order_by(
            MajorAlias.canonical, MajorAlias.alias
        )
    ).all()
    if rows:
        return [(alias, canonical) for alias, canonical in rows]
    return [
        (alias, canonical)
        for canonical, aliases in DEFAULT_MAJOR_ALIASES.items()
        for alias in aliases
    ]


def load_aliases(session: Session) -> dict[str, str]:
    """Return the mapping from spelling key to the major to store.

    The alias list comes first. A key that no alias covers maps to the spelling
    of a major already stored for alumni or students (the first in sort order),
    so that a roster's ``génie électrique`` matches the alumni's
    ``Génie Électrique``.
    """
    known = session.scalars(union(select(Alumnus.major), select(Student.major))).all()
    aliases: dict[str, str] = {}
    for major in sorted(major for major in known if major):
        aliases.setdefault(major_key(major), normalize_major(major))
    for alias, canonical in alias_pairs(session):
        aliases[major_key(alias)] = normalize_major(canonical)
    aliases.pop("", None)
    return aliases


def canonical_major(text: str, aliases: dict[str, str]) -> str:
    """Return the major to store for the spelling ``text``, in NFC form."""
    return aliases.get(major_key(text), normalize_major(text))


def save_aliases(session: Session, pairs: list[tuple[str, str]]) -> None:
    """Replace the alias table with ``pairs`` of (spelling, canonical name).

    Raises ``ValueError`` naming the spelling when one is empty or listed twice.
    """
    seen: set[str] = set()
    for alias, canonical in pairs:
        key = major_key(alias)
        if not key or not canonical.strip():
            raise ValueError(
                f"alias {alias!r} -> {canonical!r} is incomplete: fill in both names"
            )
        if key in seen:
            raise ValueError(f"alias {alias!r} is listed twice: keep one row")
        seen.add(key)
    session.execute(delete(MajorAlias))
    session.add_all(
        MajorAlias(
            alias=unicodedata.normalize("NFC", alias.strip()),
            canonical=normalize_major(canonical),
        )
        for alias, canonical in pairs
    )
    session.flush()
