"""The trajectory engine: match students to similar alumni and score them.

Entry point for a rescoring run (the CLI, the admin page and the demo data call it)::

    from core.engine.service import rescore_students

    rescore_students(
        engine,                 # sqlalchemy.Engine
        *,
        student_ids=None,       # Sequence[int] | None: None rescores everyone
        now=None,               # datetime | None (UTC): time stamped on new rows
        progress=None,          # Callable[[int, int], None] | None: (done, total)
        triggered_by=None,      # core.access.Viewer | None: audited when given
        only_changed=False,     # skip students whose inputs did not change
    ) -> RescoreSummary

The method, step by step (each step is documented in its module):

1. ``features``: one pipeline for students and alumni. The matching features are GPA,
   attendance and every further numeric column both sides carry. Each major is
   standardised on its own alumni, and constant or empty columns get zero weight.
   Missing values are imputed with the pool mean, and the share of features actually
   compared with the neighbours lowers the confidence.
2. ``matching``: the k nearest alumni of the student's major, with a fallback to
   all majors when the major has fewer than ``MIN_MAJOR_ALUMNI`` alumni, and an
   explicit abstention when it has none. Only alumni that share an observed GPA
   or attendance value with the student are searched, k is clipped to how many
   there are, and a student with none abstains. Each alumnus's raw feature values
   are stored as a feature vector once and reused by later runs (``vectors``).
3. ``scoring``: Gaussian-weighted outcome shares of the neighbours, smoothed towards
   the pool's base rates, give the four outcome probabilities; the 0-100 score,
   its margin of error and the confidence follow from them.
4. ``explaining`` and ``recommending``: anonymised evidence, feature drivers, and
   recommendations whose points come from rescoring the student with a gap closed.
5. ``trends``: trend and velocity from the student's previous score.
"""

ENGINE_VERSION = "1.0"
