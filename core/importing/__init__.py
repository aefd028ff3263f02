"""Importing alumni spreadsheets and student rosters.

The steps, each in its own module: ``reading`` opens CSV and Excel files as text
cells, ``mapping`` proposes which column means which field, ``values`` parses
cells, ``validation`` builds records and the report of bad cells, ``preview``
ties these together without writing, ``writing`` and ``roster`` write in one
transaction, and ``history`` lists and undoes imports.
"""

from core.importing.errors import ImportFailure
from core.importing.history import find_earlier_import, list_imports, undo_import
from core.importing.preview import PreparedFile, make_plan, prepare_file, validate_file
from core.importing.validation import CellProblem, ImportPlan, Report
from core.importing.writing import ImportResult, import_alumni

__all__ = [
    "CellProblem",
    "ImportFailure",
    "ImportPlan",
    "ImportResult",
    "PreparedFile",
    "Report",
    "find_earlier_import",
    "import_alumni",
    "list_imports",
    "make_plan",
    "prepare_file",
    "undo_import",
    "validate_file",
]
