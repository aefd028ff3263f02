"""Sessions in a real browser: reload, new tab and sign-out.

Drives ``streamlit run`` in Debian's Chromium, because only a browser shows
whether the session cookie set by the page script is stored and sent back.
"""

from __future__ import annotations

import itertools
import time

import pytest
from playwright.sync_api import BrowserContext, Page

from core.settings import session_idle_minutes
from tests.browser import conftest as browser_fixtures
from tests.browser.conftest import LiveApp

# The live server and Chromium settings live in the browser tests' conftest,
# which pytest does not apply to this folder; binding them here registers them.
live_app = browser_fixtures.live_app
browser_type_launch_args = browser_fixtures.browser_type_launch_args

pytestmark = pytest.mark.browser

PASSWORD = "browser session password"
TIMEOUT_MS = 30_000
_numbers = itertools.count(1)


def _account(live_app: LiveApp) -> str:
    # The live server's database may have no admin yet; sign-in needs one, or
    # the page shows the first-run form instead.
    number = next(_numbers)
    live_app.cli(
        "create-user",
        f"session-admin-{number}",
        "--role",
        "admin",
        "--password",
        PASSWORD,
    )
    return f"session-admin-{number}"


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="User name").fill(username)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    _expect_signed_in(page, username)


def _expect_signed_in(page: Page, username: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text(f"Signed in as {username}").wait_for(timeout=TIMEOUT_MS)


def _session_cookie(context: BrowserContext) -> dict[str, object]:
    cookies = [c for c in context.cookies() if c["name"] == "trajectory_session"]
    return dict(cookies[0]) if cookies else {}


def _component_deprecations(live_app: LiveApp) -> list[str]:
    # Streamlit 1.67 logs "Please replace `st.components.v1.html` with
    # `st.iframe`" on every call of the deprecated component functions.
    return [
        line for line in live_app.server_log().splitlines() if "components.v1" in line
    ]


def test_session_survives_reload_and_tab(
    live_app: LiveApp, page: Page, context: BrowserContext
) -> None:
    username = _account(live_app)
    _sign_in(page, live_app.url, username)
    page.wait_for_function(
        "document.cookie.includes('trajectory_session=')", timeout=TIMEOUT_MS
    )

    cookie = _session_cookie(context)
    assert cookie["value"]
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    # Max-Age makes the cookie persistent, and Playwright reports -1 for a
    # cookie that ends with the browser session. The server inherits this
    # process's environment, so both read the same idle limit.
    assert isinstance(cookie["expires"], float)
    assert cookie["expires"] > time.time()
    assert cookie["expires"] <= time.time() + session_idle_minutes() * 60

    page.reload()
    _expect_signed_in(page, username)

    tab = context.new_page()
    tab.goto(live_app.url)
    _expect_signed_in(tab, username)
    tab.close()

    assert _component_deprecations(live_app) == []


def test_sign_out_ends_session(
    live_app: LiveApp, page: Page, context: BrowserContext
) -> None:
    username = _account(live_app)
    _sign_in(page, live_app.url, username)
    page.wait_for_function(
        "document.cookie.includes('trajectory_session=')", timeout=TIMEOUT_MS
    )
    stolen = _session_cookie(context)

    page.goto(f"{live_app.url}/account")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function(
        "!document.cookie.includes('trajectory_session=')", timeout=TIMEOUT_MS
    )
    assert _session_cookie(context) == {}

    page.reload()
    page.get_by_role("button", name="Sign in").wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_test_id("stSidebar").count() == 0

    # The old token is revoked on the server, so a copy of the cookie is useless.
    context.add_cookies([stolen])  # type: ignore[list-item]
    page.reload()
    page.get_by_role("button", name="Sign in").wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_test_id("stSidebar").count() == 0

    assert _component_deprecations(live_app) == []
