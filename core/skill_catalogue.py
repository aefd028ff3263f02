"""Data layer of the skill catalogue, where admins set each skill's market weight.

Catalogue entries and students' skills match by ``skill_key``, the name trimmed
and case-folded, so ``Python``, ``python`` and ``PYTHON `` are one skill. Every
lookup and update here applies that key in Python, because SQL ``lower()`` folds
only ASCII letters in SQLite. The engine's SQL join in ``core.engine.data``
compares ``lower()`` of both names instead, which agrees with ``skill_key`` for
ASCII names. Where that join misses a non-ASCII name, the engine uses the
skill's own weight, which ``save_skill`` and ``save_catalogue_entry`` set to the
catalogue's.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

import pandas as pd
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core import audit
from core.access import Viewer, require_role
from db.models import MARKET_WEIGHTS, Role, Skill, SkillCatalogueEntry

ADMINS = frozenset({Role.ADMIN})

CATALOGUE_COLUMNS = ["name", "market_weight", "reasoning", "students", "updated_at"]

# Length of the name columns of skill_catalogue and skills.
SKILL_NAME_MAX_CHARS = 120


def skill_key(name: str) -> str:
    """Return the key that skill names match by: NFKC form, trimmed, case-folded.

    NFKC makes "Café" typed with a combining accent (as macOS writes it) match
    the precomposed one.
    """
    return unicodedata.normalize("NFKC", name).strip().casefold()


def check_name_length(name: str) -> None:
    """Raise ValueError when ``name`` is longer than ``SKILL_NAME_MAX_CHARS``."""
    if len(name) > SKILL_NAME_MAX_CHARS:
        raise ValueError(
            f"skill name {name[:40]!r}... has {len(name)} characters: shorten it "
            f"to {SKILL_NAME_MAX_CHARS}"
        )


def matching_entries(session: Session, name: str) -> list[SkillCatalogueEntry]:
    """Return the catalogue entries whose name has the key of ``name``, oldest first.

    More than one entry is returned only for entries saved before names matched
    without regard to case. ``save_catalogue_entry`` merges them.
    """
    key = skill_key(name)
    entries = session.scalars(
        select(SkillCatalogueEntry).order_by(SkillCatalogueEntry.id)
    )
    return [entry for entry in entries if skill_key(entry.name) == key]


def find_entry(session: Session, name: str) -> SkillCatalogueEntry | None:
    """Return the catalogue entry of skill ``name``, or ``None`` if it has none."""
    entries = matching_entries(session, name)
    return entries[0] if entries else None


def skill_catalogue(session: Session, viewer: Viewer) -> pd.DataFrame:
    """Return the catalogue with how many student skills use each entry (admins).

    Columns are ``CATALOGUE_COLUMNS``, one row per entry, sorted by name.
    """
    require_role(session, viewer, ADMINS, "view skill catalogue")
    usage: Counter[str] = Counter()
    counts = session.execute(
        select(Skill.name, func.count(Skill.id)).group_by(Skill.name)
    )
    for name, count in counts:
        usage[skill_key(name)] += count
    entries = session.scalars(select(SkillCatalogueEntry))
    rows = [
        (
            entry.name,
            entry.market_weight,
            entry.reasoning,
            usage[skill_key(entry.name)],
            entry.updated_at,
        )
        for entry in sorted(entries, key=lambda entry: skill_key(entry.name))
    ]
    return pd.DataFrame(rows, columns=CATALOGUE_COLUMNS)


def uncatalogued_skills(session: Session, viewer: Viewer) -> list[str]:
    """Return skill names students entered that the catalogue does not list.

    Names that differ only in case are listed once, in their first spelling in
    sort order.
    """
    require_role(session, viewer, ADMINS, "view skill catalogue")
    listed = {
        skill_key(name) for name in session.scalars(select(SkillCatalogueEntry.name))
    }
    found: dict[str, str] = {}
    for name in session.scalars(select(Skill.name).distinct().order_by(Skill.name)):
        key = skill_key(name)
        if key not in listed:
            found.setdefault(key, name)
    return sorted(found.values(), key=skill_key)


def save_catalogue_entry(
    session: Session, viewer: Viewer, name: str, market_weight: float, reasoning: str
) -> int:
    """Create or change a catalogue entry and apply its weight to students' skills.

    An existing entry whose name differs only in case is changed and takes the
    new spelling. Further entries with that name, saved before names matched
    without regard to case, are deleted, so the engine's join finds one entry
    per skill. Every student skill with the name's key gets the new weight and
    reasoning.

    Returns the number of student skills whose weight was set. Raises ValueError
    for an empty name or one longer than ``SKILL_NAME_MAX_CHARS``, a weight other
    than 0.5, 1.0 or 2.0, or empty reasoning.
    """
    require_role(session, viewer, ADMINS, "change market weight")
    name = unicodedata.normalize("NFC", name).strip()
    reasoning = reasoning.strip()
    if not name:
        raise ValueError("skill name is empty: enter the skill's name")
    check_name_length(name)
    if market_weight not in MARKET_WEIGHTS:
        raise ValueError(
            f"market weight {market_weight} is invalid: use one of {MARKET_WEIGHTS}"
        )
    if not reasoning:
        raise ValueError("reasoning is empty: say why the skill has this weight")

    entries = matching_entries(session, name)
    old_weight = entries[0].market_weight if entries else None
    merged = [entry.name for entry in entries[1:]]
    if merged:
        session.execute(
            delete(SkillCatalogueEntry).where(
                SkillCatalogueEntry.id.in_([entry.id for entry in entries[1:]])
            )
        )
    entry = entries[0] if entries else SkillCatalogueEntry()
    if not entries:
        session.add(entry)
    entry.name = name
    entry.market_weight = market_weight
    entry.reasoning = reasoning
    entry.updated_by_id = viewer.user_id

    # The entry's id is the audit target, because names may be longer than the
    # audit log's target_id column.
    session.flush()
    applied = _apply_weight(session, name, market_weight, reasoning)
    detail: dict[str, object] = {
        "name": name,
        "old_weight": old_weight,
        "new_weight": market_weight,
    }
    if merged:
        detail["merged_entries"] = merged
    audit.record(
        session,
        viewer,
        "market_weight_change",
        target_kind="skill_catalogue",
        target_id=entry.id,
        page="skill_catalogue",
        detail=detail,
    )
    return applied


def _apply_weight(
    session: Session, name: str, market_weight: float, reasoning: str
) -> int:
    key = skill_key(name)
    spellings = [
        spelling
        for spelling in session.scalars(select(Skill.name).distinct())
        if skill_key(spelling) == key
    ]
    if not spellings:
        return 0
    result = session.execute(
        update(Skill)
        .where(Skill.name.in_(spellings))
        .values(market_weight=market_weight, weight_reasoning=reasoning)
    )
    return int(getattr(result, "rowcount", 0) or 0)
