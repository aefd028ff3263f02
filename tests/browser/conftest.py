"""A real ``streamlit run`` server and Debian's Chromium for browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.settings import PROJECT_ROOT

CHROMIUM = Path(os.environ.get("TRAJECTORY_CHROMIUM", "/usr/bin/chromium"))


@dataclass(frozen=True)
class LiveApp:
    url: str
    database_url: str
    # The server's stdout and stderr, which include Streamlit's own warnings.
    log_path: Path

    def server_log(self) -> str:
        """Return everything the server has written to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def cli(self, *arguments: str) -> str:
        """Run ``python -m core.cli`` on the app's database and return its output."""
        result = subprocess.run(
            [sys.executable, "-m", "core.cli", *arguments],
            env={**os.environ, "DATABASE_URL": self.database_url},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_health(
    url: str, process: subprocess.Popen[bytes], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode() == "ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not become healthy within {timeout} s")


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any],
) -> dict[str, Any]:
    # Playwright cannot download its own browser here; Debian's Chromium runs as
    # root only without the sandbox, and background networking is switched off
    # because the machine has no network beyond loopback.
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """Start the app on a free loopback port with its own SQLite database."""
    folder = tmp_path_factory.mktemp("live-app")
    database = folder / "trajectory.sqlite3"
    log_path = folder / "streamlit.log"
    database_url = f"sqlite:///{database}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "dashboard" / "app.py"),
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_health(url, process, timeout=60)
            yield LiveApp(url=url, database_url=database_url, log_path=log_path)
        finally:
            process.terminate()
            process.wait(timeout=20)
