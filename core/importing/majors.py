"""Canonical major names and the editable list of their spellings.

Files name one major in many ways (``CSE``, ``CS``, ``Computer Science and
Engineering``). Each spelling is looked up by its key (lower case, ``&`` read as
``and``, punctuation and repeated spaces removed) in the ``major_aliases`` table.
A major without an alias is kept as written.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import MajorAlias

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
    """Return the lookup key of a major's spelling."""
    lowered = text.lower().replace("&", " and ")
    words = re.sub(r"[^0-9a-z]+", " ", lowered).split()
    # Dotted abbreviations (E.C.E, C.S.E) read as the plain ones (ece, cse).
    if len(words) > 1 and all(len(word) == 1 for word in words):
        return "".join(words)
    return " ".join(words)


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
    """Return the alias list as a mapping from spelling key to canonical name."""
    return {major_key(alias): canonical for alias, canonical in alias_pairs(session)}


def canonical_major(text: str, aliases: dict[str, str]) -> str:
    """Return the canonical name of the major written as ``text``."""
    return aliases.get(major_key(text), " ".join(text.split()))


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
        MajorAlias(alias=alias.strip(), canonical=" ".join(canonical.split()))
        for alias, canonical in pairs
    )
    session.flush()
