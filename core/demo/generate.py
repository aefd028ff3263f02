"""Synthetic alumni, students, skills and wellbeing rows for a demo database.

Everything is drawn from one ``numpy.random.Generator``, so a seed fixes every
value except timestamps, which are relative to the ``now`` passed in. Outcomes
are driven by a latent placement strength built from GPA, attendance,
internships, projects, backlogs and the major, so that the engine has real
signal to learn from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from core.student_data import focus_score

# Majors with their share of the intake, a code for roll numbers, and how much
# easier (positive) or harder placement is than average in that major.
MAJORS: tuple[tuple[str, float, str, float], ...] = (
    ("Computer Science", 0.26, "CS", 0.5),
    ("Information Technology", 0.18, "IT", 0.35),
    ("Electronics and Communication", 0.18, "EC", 0.0),
    ("Electrical", 0.14, "EE", -0.2),
    ("Mechanical", 0.14, "ME", -0.35),
    ("Civil", 0.10, "CE", -0.55),
)

FIRST_NAMES = (
    "Aarav", "Aditi", "Akash", "Ananya", "Arjun", "Bhavna", "Deepak", "Divya",
    "Farhan", "Gauri", "Harsh", "Isha", "Karan", "Kavya", "Manish", "Meera",
    "Neha", "Nikhil", "Pooja", "Pranav", "Priya", "Rahul", "Riya", "Rohan",
    "Sakshi", "Sanjay", "Shreya", "Siddharth", "Sneha", "Tanvi", "Varun", "Zoya",
)  # fmt: skip
LAST_NAMES = (
    "Agarwal", "Bose", "Chopra", "Das", "Fernandes", "Gupta", "Iyer", "Joshi",
    "Kapoor", "Khan", "Kulkarni", "Menon", "Mishra", "Nair", "Patel", "Rao",
    "Reddy", "Shah", "Sharma", "Singh", "Verma", "Yadav",
)  # fmt: skip

# Range (low, high) of the lower salary bound in LPA per tier. The upper bound
# is the lower bound plus 2 to 5 LPA.
SALARY_FLOOR_LPA = {"Tier1": (12, 28), "Tier2": (6, 12), "Tier3": (3, 6)}

ROLE_TITLES = {
    "Tier1": ("Software Engineer", "Data Scientist", "Product Analyst", "SDE II"),
    "Tier2": ("Systems Engineer", "Design Engineer", "Data Analyst", "Consultant"),
    "Tier3": ("Graduate Engineer Trainee", "Support Engineer", "Site Engineer"),
}

# Skill name, market weight (0.5 low, 1.0 normal, 2.0 high demand), reasoning,
# and the majors in which students usually list it (empty: every major).
SKILL_CATALOGUE: tuple[tuple[str, float, str, tuple[str, ...]], ...] = (
    ("Python", 2.0, "Listed in most software and data job posts.", ()),
    ("SQL", 2.0, "Asked for in nearly every data and backend role.", ()),
    (
        "Data Structures and Algorithms",
        2.0,
        "The core of technical interview rounds at product companies.",
        ("Computer Science", "Information Technology"),
    ),
    (
        "Machine Learning",
        2.0,
        "Demand for ML roles has grown faster than supply of graduates.",
        ("Computer Science", "Information Technology"),
    ),
    (
        "Cloud Computing",
        2.0,
        "Most recruiters now deploy on AWS, Azure or GCP.",
        ("Computer Science", "Information Technology"),
    ),
    ("Java", 1.0, "Steady demand from services and enterprise firms.", ()),
    (
        "JavaScript",
        1.0,
        "Common for web roles but with many candidates.",
        ("Computer Science", "Information Technology"),
    ),
    (
        "Embedded C",
        1.0,
        "Needed by electronics and automotive firms.",
        ("Electronics and Communication", "Electrical"),
    ),
    (
        "VLSI Design",
        2.0,
        "Semiconductor hiring exceeds the number of trained graduates.",
        ("Electronics and Communication",),
    ),
    (
        "MATLAB",
        1.0,
        "Used in core engineering roles, rarely decisive.",
        ("Electrical", "Electronics and Communication", "Mechanical"),
    ),
    (
        "AutoCAD",
        1.0,
        "Expected in design and site roles.",
        ("Mechanical", "Civil"),
    ),
    ("SolidWorks", 1.0, "Standard tool for mechanical design roles.", ("Mechanical",)),
    (
        "Structural Analysis",
        1.0,
        "Core requirement of civil engineering employers.",
        ("Civil",),
    ),
    ("Communication", 1.0, "Judged in every interview, across roles.", ()),
    ("Microsoft Excel", 0.5, "Widely held, so it rarely separates candidates.", ()),
    ("Photoshop", 0.5, "Seldom asked for in engineering placements.", ()),
)


@dataclass(frozen=True)
class DemoFrames:
    """Generated rows, one frame per table, not yet tied to database ids.

    ``skills``, ``consents``, ``wellbeing`` and ``drift`` refer to students by
    their row position in ``students`` (column ``student_index``).
    """

    alumni: pd.DataFrame
    students: pd.DataFrame
    catalogue: pd.DataFrame
    skills: pd.DataFrame
    consents: pd.DataFrame
    wellbeing: pd.DataFrame
    drift: pd.DataFrame


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


def _names(rng: np.random.Generator, count: int) -> np.ndarray:
    first = rng.choice(np.array(FIRST_NAMES), size=count)
    last = rng.choice(np.array(LAST_NAMES), size=count)
    return np.char.add(np.char.add(first, " "), last)


def _majors(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    shares = np.array([major[1] for major in MAJORS])
    index = rng.choice(len(MAJORS), size=count, p=shares / shares.sum())
    return index, np.array([major[0] for major in MAJORS])[index]


def _academics(
    rng: np.random.Generator, count: int, major_index: np.ndarray
) -> dict[str, np.ndarray]:
    """Draw GPA, attendance and activity counts, correlated through GPA."""
    gpa = np.clip(rng.normal(7.2, 1.0, count), 4.5, 10.0)
    attendance = np.clip(62 + 4.0 * (gpa - 5) + rng.normal(0, 7, count), 40, 100)
    internships = rng.poisson(np.clip(0.4 + 0.35 * (gpa - 6), 0.05, None))
    projects = rng.poisson(np.clip(2.0 + 0.6 * (gpa - 7), 0.3, None))
    backlogs = rng.poisson(np.clip(1.4 - 0.4 * (gpa - 5), 0.02, None))
    return {
        "gpa": np.round(gpa, 2),
        "attendance": np.round(attendance, 1),
        "internship_count": internships,
        "project_count": projects,
        "backlogs": backlogs,
        "major_effect": np.array([major[3] for major in MAJORS])[major_index],
    }


def _strength(rng: np.random.Generator, features: dict[str, np.ndarray]) -> np.ndarray:
    """Return the latent placement strength, about 0 for an average graduate."""
    noise = rng.normal(0, 0.7, features["gpa"].shape[0])
    return (
        1.0 * (features["gpa"] - 7.2)
        + 0.04 * (features["attendance"] - 80)
        + 0.45 * features["internship_count"]
        + 0.15 * features["project_count"]
        - 0.45 * features["backlogs"]
        + features["major_effect"]
        + noise
    )


def generate_alumni(
    rng: np.random.Generator, count: int, graduation_years: np.ndarray
) -> pd.DataFrame:
    """Generate ``count`` alumni with outcomes that follow their features."""
    major_index, majors = _majors(rng, count)
    features = _academics(rng, count, major_index)
    strength = _strength(rng, features)

    placed = rng.random(count) < _sigmoid(1.6 * strength + 1.1)
    tier_draw = strength + rng.normal(0, 0.5, count)
    tier = np.where(tier_draw > 0.5, "Tier2", "Tier3").astype(object)
    tier[tier_draw > 1.6] = "Tier1"
    tier[~placed] = None

    floors = np.zeros(count)
    for name, (low, high) in SALARY_FLOOR_LPA.items():
        in_tier = tier == name
        floors[in_tier] = rng.integers(low, high + 1, in_tier.sum())
    ceilings = floors + rng.integers(2, 6, count)
    salary_text = [
        f"{int(low)}-{int(high)} LPA" if is_placed else None
        for low, high, is_placed in zip(floors, ceilings, placed, strict=True)
    ]

    role_titles = np.full(count, None, dtype=object)
    for name, titles in ROLE_TITLES.items():
        in_tier = tier == name
        role_titles[in_tier] = rng.choice(np.array(titles), size=in_tier.sum())

    match = np.clip(rng.normal(72, 12, count) + 8 * (tier == "Tier1"), 20, 100)
    return pd.DataFrame(
        {
            "name": _names(rng, count),
            "major": majors,
            "graduation_year": rng.choice(graduation_years, size=count),
            "gpa": features["gpa"],
            "attendance": features["attendance"],
            "placement_status": np.where(placed, "Placed", "Not Placed"),
            "company_tier": tier,
            "role_title": role_titles,
            "salary_text": salary_text,
            "salary_min_lpa": np.where(placed, floors, np.nan),
            "salary_max_lpa": np.where(placed, ceilings, np.nan),
            "role_to_major_match_score": np.where(placed, np.round(match, 1), np.nan),
            "gender": rng.choice(np.array(["Female", "Male"]), size=count),
            "internship_count": features["internship_count"],
            "project_count": features["project_count"],
            "backlogs": features["backlogs"],
        }
    )


def generate_students(
    rng: np.random.Generator, count: int, today: date
) -> pd.DataFrame:
    """Generate ``count`` current students across majors and semesters 1 to 8."""
    major_index, majors = _majors(rng, count)
    features = _academics(rng, count, major_index)
    semester = rng.integers(1, 9, count)
    # Two semesters a year, so the eighth semester graduates this academic year.
    graduation_year = today.year + (8 - semester + 1) // 2
    codes = np.array([major[2] for major in MAJORS])[major_index]
    roll_numbers = [
        f"{code}{year % 100:02d}{number:04d}"
        for number, (code, year) in enumerate(
            zip(codes, graduation_year, strict=True), 1
        )
    ]
    study_hours = np.clip(rng.normal(14 + 2 * (features["gpa"] - 7), 5, count), 0, 60)
    return pd.DataFrame(
        {
            "roll_number": roll_numbers,
            "name": _names(rng, count),
            "major": majors,
            "semester": semester,
            "expected_graduation_year": graduation_year,
            "gpa": features["gpa"],
            "attendance": features["attendance"],
            "weekly_study_hours": np.round(study_hours, 1),
            # Earlier semesters have had less time for projects and internships.
            "project_count": np.minimum(features["project_count"], semester),
            "internship_count": np.where(
                semester >= 4, features["internship_count"], 0
            ),
        }
    )


def skill_catalogue() -> pd.DataFrame:
    """Return the demo skill catalogue: name, market weight and reasoning."""
    return pd.DataFrame(
        [(name, weight, reason) for name, weight, reason, _ in SKILL_CATALOGUE],
        columns=["name", "market_weight", "reasoning"],
    )


def generate_skills(rng: np.random.Generator, students: pd.DataFrame) -> pd.DataFrame:
    """Give each student 3 to 6 skills, mostly ones common in their major."""
    count = len(students)
    relevant = np.array(
        [
            [not majors or major in majors for *_, majors in SKILL_CATALOGUE]
            for major in students["major"]
        ]
    )
    # A random key per (student, skill), raised for skills of the student's major.
    # Each student keeps the skills with the largest keys.
    keys = rng.random((count, len(SKILL_CATALOGUE))) + 1.0 * relevant
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    skill_counts = rng.integers(3, 7, count)
    student_index, skill_index = np.nonzero(rank < skill_counts[:, None])

    size = student_index.size
    gpa = students["gpa"].to_numpy()[student_index]
    proficiency = np.clip(rng.normal(55 + 6 * (gpa - 7), 15, size), 5, 100)
    quiz = np.clip(proficiency + rng.normal(0, 10, size), 0, 100)
    voice = np.clip(proficiency + rng.normal(-5, 12, size), 0, 100)
    catalogue = skill_catalogue()
    return pd.DataFrame(
        {
            "student_index": student_index,
            "name": catalogue["name"].to_numpy()[skill_index],
            "proficiency": np.round(proficiency, 1),
            "quiz_score": np.where(rng.random(size) < 0.8, np.round(quiz, 1), np.nan),
            "voice_score": np.where(rng.random(size) < 0.5, np.round(voice, 1), np.nan),
            "market_weight": catalogue["market_weight"].to_numpy()[skill_index],
            "weight_reasoning": catalogue["reasoning"].to_numpy()[skill_index],
        }
    )


def generate_wellbeing(
    rng: np.random.Generator, student_count: int, today: date, days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return consents (about 60 % of students) and their daily wellbeing rows.

    Rows cover the ``days`` days before ``today``, one per consenting student
    and date.
    """
    consenting = np.flatnonzero(rng.random(student_count) < 0.6)
    consents = pd.DataFrame({"student_index": consenting})

    dates = np.array([today - timedelta(days=offset) for offset in range(days, 0, -1)])
    student_index = np.repeat(consenting, days)
    size = student_index.size

    # Each student has habits of their own, and each day varies around them.
    habit_screen = rng.normal(6.0, 1.5, student_count)[student_index]
    habit_sleep = rng.normal(7.0, 0.8, student_count)[student_index]
    screen = np.clip(habit_screen + rng.normal(0, 1.2, size), 0.5, 16)
    shares = rng.dirichlet([3.0, 2.0, 3.0], size)
    social = screen * shares[:, 0]
    study = screen * shares[:, 1]
    sleep = np.clip(habit_sleep + rng.normal(0, 0.9, size), 3, 11)
    wellbeing = pd.DataFrame(
        {
            "student_index": student_index,
            "date": np.tile(dates, consenting.size),
            "screen_time_hours": np.round(screen, 2),
            # Rounded down so that social + study never exceeds the rounded total.
            "social_hours": np.floor(social * 100) / 100,
            "study_app_hours": np.floor(study * 100) / 100,
            "sleep_hours": np.round(sleep, 2),
        }
    )
    # The wellbeing page's own formula, so demo rows match rows students enter.
    wellbeing["focus_score"] = list(
        map(
            focus_score,
            wellbeing["screen_time_hours"],
            wellbeing["social_hours"],
            wellbeing["study_app_hours"],
            wellbeing["sleep_hours"],
        )
    )
    return consents, wellbeing


def generate_drift(
    rng: np.random.Generator, student_count: int, runs: int
) -> pd.DataFrame:
    """Return per-run changes of GPA and attendance for the score history.

    About a quarter of the students improve, a quarter decline and the rest
    hold steady, so the cohort shows every trend. Frame columns:
    ``student_index``, ``run`` (0 is the oldest) and the changes applied
    before that run, ``gpa_change`` and ``attendance_change``.
    """
    direction = rng.choice(
        np.array([-1.0, 0.0, 1.0]), size=student_count, p=[0.25, 0.5, 0.25]
    )
    student_index = np.tile(np.arange(student_count), runs)
    run = np.repeat(np.arange(runs), student_count)
    size = student_index.size
    steps = direction[student_index]
    gpa_change = np.where(run == 0, 0.0, 0.12 * steps + rng.normal(0, 0.03, size))
    attendance_change = np.where(run == 0, 0.0, 2.0 * steps + rng.normal(0, 0.8, size))
    return pd.DataFrame(
        {
            "student_index": student_index,
            "run": run,
            "gpa_change": gpa_change,
            "attendance_change": attendance_change,
        }
    )


def generate(
    *,
    students: int,
    alumni: int,
    seed: int,
    now: datetime,
    wellbeing_days: int,
    runs: int,
) -> DemoFrames:
    """Generate every demo table from ``seed``, dated relative to ``now``."""
    rng = np.random.default_rng(seed)
    today = now.date()
    graduation_years = np.arange(today.year - 6, today.year)
    student_frame = generate_students(rng, students, today)
    consents, wellbeing = generate_wellbeing(rng, students, today, wellbeing_days)
    return DemoFrames(
        alumni=generate_alumni(rng, alumni, graduation_years),
        students=student_frame,
        catalogue=skill_catalogue(),
        skills=generate_skills(rng, student_frame),
        consents=consents,
        wellbeing=wellbeing,
        drift=generate_drift(rng, students, runs),
    )
