"""The main flow in a real browser: staff upload alumni, an officer reads the cohort."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveApp

pytestmark = pytest.mark.browser

PASSWORD = "browser test password"
TIMEOUT_MS = 60_000


def _sign_in(page: Page, app: LiveApp, username: str) -> None:
    page.goto(app.url)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible(
        timeout=TIMEOUT_MS
    )


def test_staff_upload_then_officer_cohort_chart(
    live_app: LiveApp, browser: Browser, shared_data: Path
) -> None:
    live_app.cli("demo", "--students", "60", "--alumni", "300", "--seed", "7")
    live_app.cli(
        "create-user", "browser-staff", "--role", "staff", "--password", PASSWORD
    )
    live_app.cli(
        "create-user", "browser-officer", "--role", "officer", "--password", PASSWORD
    )

    staff = browser.new_context().new_page()
    _sign_in(staff, live_app, "browser-staff")
    staff.get_by_role("link", name="Upload alumni").click()
    staff.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(shared_data / "collegePlace.csv")
    )
    confirm = staff.get_by_role("button", name="Import 2,966 rows")
    expect(confirm).to_be_enabled(timeout=TIMEOUT_MS)
    confirm.click()
    written = staff.locator('[data-testid="stAlert"]').filter(
        has_text="2,966 rows written"
    )
    expect(written).to_be_visible(timeout=TIMEOUT_MS)

    officer = browser.new_context().new_page()
    _sign_in(officer, live_app, "browser-officer")
    officer.get_by_role("link", name="Cohort overview").click()
    expect(officer.get_by_role("heading", name="Cohort overview")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    chart = officer.locator('[data-testid="stPlotlyChart"]').first
    expect(chart).to_be_visible(timeout=TIMEOUT_MS)
    expect(officer.get_by_text("No students yet")).to_have_count(0)
