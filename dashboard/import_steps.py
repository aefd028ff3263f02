"""Steps shared by the alumni and roster upload pages: read, map, check, confirm.

``upload_and_import`` runs them in order; the pages add only their own text and
what follows an import.

Every widget change reruns the page script, so each step is keyed on the
file's SHA-256. The validation report is reused while the mapping and options
stay the same. An import runs only when its confirm button is pressed, and
only once per file content.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from core.access import Viewer
from core.exports import csv_bytes, export_file_name
from core.importing import ImportFailure, ImportResult, PreparedFile, Report
from core.importing.history import find_earlier_import
from core.importing.mapping import (
    EXTRA_PREFIX,
    IGNORE,
    fields_for,
    target_options,
    targets_from_options,
)
from core.importing.preview import (
    file_sha256,
    make_plan,
    prepare_file,
    preview_frame,
    sample_values,
    validate_file,
)
from core.importing.reading import MAX_UPLOAD_BYTES, list_sheets
from core.importing.validation import ImportPlan
from core.importing.writing import Importer
from db.models import ImportKind
from db.session import session_scope

UPLOAD_TYPES = ["csv", "txt", "xlsx", "xls"]
RESULTS_KEY = "import_results"
REPORT_KEY = "import_report"

Runner = Callable[
    [PreparedFile, ImportPlan, bool, Callable[[int, int], None]], ImportResult
]


def read_upload(label: str, key: str, prompt: str) -> tuple[bytes, str, str] | None:
    """Show the uploader; return (content, file name, SHA-256) of a usable file.

    ``prompt`` is shown only while no file is chosen, so that it never appears
    beside the error about an unusable file.
    """
    upload = st.file_uploader(label, type=UPLOAD_TYPES, key=key)
    if upload is None:
        st.info(prompt)
        return None
    # The uploader's type filter looks only at the name and AppTest ignores the
    # size limit, so both are checked here on the content itself.
    data = upload.getvalue()
    if not data:
        st.error(f"{upload.name} is empty: choose a file that contains a table.")
        return None
    if len(data) > MAX_UPLOAD_BYTES:
        st.error(
            f"{upload.name} is {len(data) / 2**20:.0f} MiB, above the upload limit "
            f"of {MAX_UPLOAD_BYTES // 2**20} MiB: import it with the command line."
        )
        return None
    return data, upload.name, file_sha256(data)


def prepare_upload(
    engine: Engine, data: bytes, name: str, sha: str, kind: ImportKind
) -> PreparedFile | None:
    """Offer the sheet choice of a workbook, then open the file and find its header."""
    sheets = list_sheets(data)
    sheet = None
    if len(sheets) > 1:
        sheet = st.selectbox("Sheet", sheets, key=f"sheet-{sha}")
    try:
        with session_scope(engine) as session:
            prepared = prepare_file(session, data, kind, file_name=name, sheet=sheet)
    except ImportFailure as error:
        st.error(str(error))
        return None
    st.caption(
        f"Read as {prepared.table.description}; the header is row "
        f"{prepared.header_row}, about {prepared.rows_estimate:,} rows below it."
    )
    with session_scope(engine) as session:
        earlier = find_earlier_import(session, kind, prepared.sha256)
    if earlier is not None:
        st.warning(earlier.describe_in_preview())
    return prepared


def _label(kind: ImportKind) -> Callable[[str], str]:
    labels = {spec.name: spec.label for spec in fields_for(kind)}
    labels[IGNORE] = "(ignore this column)"

    def label(option: str) -> str:
        if option.startswith(EXTRA_PREFIX):
            return f"extra feature: {option.removeprefix(EXTRA_PREFIX)}"
        return labels.get(option, option)

    return label


def edit_mapping(prepared: PreparedFile, sha: str) -> list[str | None]:
    """Show one choice per column, preset to the proposed field; return the targets."""
    st.subheader("Columns")
    if prepared.mapping_remembered:
        st.info("This mapping was confirmed earlier for a file with the same headers.")
    options = target_options(prepared.kind, prepared.proposed_targets)
    samples = sample_values(prepared)
    label = _label(prepared.kind)
    choices = []
    grid = st.columns(3)
    for position, header in enumerate(prepared.headers):
        proposed = prepared.proposed_targets[position] or IGNORE
        with grid[position % 3]:
            choice = st.selectbox(
                header,
                options,
                index=options.index(proposed),
                format_func=label,
                key=f"map-{sha}-{position}",
                help=f"Example value: {samples[position]!r}",
            )
        choices.append(choice)
    return targets_from_options(choices)


def ask_constants(
    prepared: PreparedFile, sha: str, targets: list[str | None]
) -> dict[str, str]:
    """Ask for one value per field the file lacks (such as the graduation year)."""
    missing = [spec for spec in fields_for(prepared.kind) if spec.name not in targets]
    if not missing:
        return {}
    required = any(spec.required for spec in missing)
    constants: dict[str, str] = {}
    with st.expander("Values for fields the file lacks", expanded=required):
        st.caption("A value given here is used for every row of the file.")
        for spec in missing:
            suffix = " (required)" if spec.required else ""
            constants[spec.name] = st.text_input(
                spec.label + suffix, key=f"const-{sha}-{spec.name}"
            )
    return constants


def build_plan(
    engine: Engine,
    prepared: PreparedFile,
    targets: list[str | None],
    constants: dict[str, str],
    gpa_from_percent: bool,
) -> ImportPlan | None:
    """Return the plan, or show why the mapping cannot be imported."""
    try:
        with session_scope(engine) as session:
            return make_plan(
                session, prepared, targets, constants, gpa_from_percent=gpa_from_percent
            )
    except ImportFailure as error:
        st.error(str(error))
        return None


def checked_report(prepared: PreparedFile, plan: ImportPlan, sha: str) -> Report:
    """Validate the whole file once per file, mapping and options."""
    key: tuple[Any, ...] = (
        sha,
        prepared.table.sheet,
        tuple(plan.targets),
        tuple(sorted(plan.constants.items())),
        plan.gpa_from_percent,
    )
    cached = st.session_state.get(REPORT_KEY)
    if cached is not None and cached[0] == key:
        return cached[1]
    bar = st.progress(0.0, text="Checking every row...")

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{done:,} rows checked")

    report = validate_file(prepared, plan, progress)
    bar.empty()
    st.session_state[REPORT_KEY] = (key, report)
    return report


def show_preview(prepared: PreparedFile, report: Report) -> None:
    """Show the first rows, the counts and every bad cell with a download."""
    st.subheader("Preview")
    st.dataframe(preview_frame(prepared), width="stretch")
    rows, valid, invalid = st.columns(3)
    rows.metric("Rows", f"{report.rows_total:,}")
    valid.metric("Valid rows", f"{report.rows_valid:,}")
    invalid.metric("Rows with invalid cells", f"{report.rows_rejected:,}")
    for note in report.notes:
        st.warning(note)
    if report.rows_total == 0:
        st.warning(
            f"{prepared.table.file_name} has no data rows below the header "
            f"(row {prepared.header_row}): add rows to the file and upload it again."
        )
        return
    if not report.problem_count:
        st.success("Every row is valid.")
        return
    st.error(
        f"{report.problem_count:,} invalid cells in {report.rows_rejected:,} rows. "
        "Row numbers are as in your spreadsheet."
    )
    if report.problem_count > len(report.problems):
        st.caption(f"The first {len(report.problems):,} invalid cells are listed.")
    st.dataframe(report.frame(), hide_index=True, width="stretch")
    st.download_button(
        "Download the report (CSV)",
        csv_bytes(report.frame()),
        file_name=export_file_name("import-report", "csv"),
        mime="text/csv",
    )


def confirm_and_run(
    sha: str, report: Report, plan: ImportPlan, prepared: PreparedFile, run: Runner
) -> ImportResult | None:
    """Show the confirm button and run the import once; return its result.

    The result is kept per file content for this browser session, so later
    reruns show it instead of importing again. A rejected run is not kept, so
    the user can change the options and confirm again.
    """
    results: dict[str, ImportResult] = st.session_state.setdefault(RESULTS_KEY, {})
    if sha in results:
        return results[sha]
    if report.rows_total == 0:
        return None

    only_valid = False
    if report.rows_rejected:
        choice = st.radio(
            "Some rows are invalid.",
            [
                "Fix the file and upload it again",
                f"Import only the {report.rows_valid:,} valid rows",
            ],
            key=f"only-valid-{sha}",
        )
        only_valid = choice.startswith("Import only")
    blocked = (report.rows_rejected > 0 and not only_valid) or report.rows_valid == 0
    pressed = st.button(
        f"Import {report.rows_valid:,} rows",
        type="primary",
        disabled=blocked,
        key=f"confirm-{sha}",
    )
    if not pressed:
        return None

    bar = st.progress(0.0, text="Importing...")

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{done:,} rows processed")

    try:
        result = run(prepared, plan, only_valid, progress)
    except ImportFailure as error:
        st.error(str(error))
        return None
    bar.progress(1.0, text="Done")
    if result.status != "rejected":
        results[sha] = result
    return result


def show_result(result: ImportResult) -> None:
    """Show what the import did."""
    if result.status == "imported":
        st.success(result.message)
    elif result.status == "already_imported":
        st.warning(result.message)
    else:
        st.error(result.message)


def upload_and_import(
    engine: Engine,
    viewer: Viewer,
    kind: ImportKind,
    importer: Importer,
    *,
    page: str,
    label: str,
    key: str,
    prompt: str,
    offer_gpa_percent: bool = False,
) -> tuple[ImportResult, str] | None:
    """Run every step from the uploader to the import, and show the result.

    ``label``, ``key`` and ``prompt`` are the uploader's, and ``page`` is
    recorded in the audit entry. ``offer_gpa_percent`` adds the option to read
    the GPA column as percentages. Returns the result and the file's SHA-256,
    or ``None`` while a step waits for the user or has shown an error.
    """
    upload = read_upload(label, key=key, prompt=prompt)
    if upload is None:
        return None
    data, name, sha = upload
    prepared = prepare_upload(engine, data, name, sha, kind)
    if prepared is None:
        return None

    targets = edit_mapping(prepared, sha)
    constants = ask_constants(prepared, sha, targets)
    gpa_from_percent = False
    if offer_gpa_percent:
        gpa_from_percent = st.checkbox(
            "The GPA column holds percentages: convert them as percentage / 10",
            key=f"gpa-percent-{sha}",
            help="A linear rescale to the 0-10 scale, not an official equivalence.",
        )
    plan = build_plan(engine, prepared, targets, constants, gpa_from_percent)
    if plan is None:
        return None

    report = checked_report(prepared, plan, sha)
    show_preview(prepared, report)

    def run(
        prepared: PreparedFile,
        plan: ImportPlan,
        only_valid: bool,
        progress: Callable[[int, int], None],
    ) -> ImportResult:
        return importer(
            engine,
            viewer,
            prepared,
            plan,
            only_valid=only_valid,
            progress=progress,
            page=page,
        )

    result = confirm_and_run(sha, report, plan, prepared, run)
    if result is None:
        return None
    show_result(result)
    return result, sha
