"""A throwaway PostgreSQL 15 server for the test suite.

PostgreSQL refuses to run as root, so when the tests run as root the cluster is
created and started as the ``postgres`` system user. It listens on 127.0.0.1 only,
on a free port, with its data in a temporary folder removed at exit.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

POSTGRES_BIN = Path(os.environ.get("TRAJECTORY_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class PostgresServer:
    """Start, use and stop one temporary PostgreSQL cluster."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="trajectory-pg-"))
        self.data_dir = self.directory / "data"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        if not (POSTGRES_BIN / "initdb").exists():
            raise RuntimeError(
                f"PostgreSQL 15 not found in {POSTGRES_BIN}: install the Debian "
                "package postgresql-15 (make test does this when run as root)"
            )
        if os.geteuid() == 0:
            shutil.chown(self.directory, user="postgres")
        subprocess.run(
            _as_server_user(
                [
                    str(POSTGRES_BIN / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        # fsync off and a small WAL: a test server needs speed, not durability.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.directory} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self.process = subprocess.Popen(
            _as_server_user(
                [
                    str(POSTGRES_BIN / "postgres"),
                    "-D",
                    str(self.data_dir),
                    *options.split(),
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=open(self.directory / "server.log", "wb"),  # noqa: SIM115
        )
        self._wait_until_ready()

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                log = (self.directory / "server.log").read_text(errors="replace")
                raise RuntimeError(f"PostgreSQL exited during start-up:\n{log}")
            ready = subprocess.run(
                [
                    str(POSTGRES_BIN / "pg_isready"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                ],
                capture_output=True,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not accept connections within {timeout} s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)
