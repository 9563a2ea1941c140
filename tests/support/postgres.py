"""A throwaway PostgreSQL cluster for the test session, on loopback in a temp folder.

initdb + postgres run as the ``postgres`` system user when the tests run as root
(PostgreSQL refuses to run as root). Each test gets its own database cloned from a
migrated template, so tests never see each other's rows.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.support.binaries import find


def pg_bin_dir() -> str | None:
    initdb = find("initdb")
    if initdb:
        return str(Path(initdb).parent)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return str(Path(candidates[0]).parent) if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    def __init__(self, bin_dir: str) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="resilio-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_user, *argv], check=True, capture_output=True)

    def start(self) -> PostgresCluster:
        if self.as_user:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o755)
        self._run(f"{self.bin_dir}/initdb", "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync")
        return self.launch()

    def launch(self) -> PostgresCluster:
        """Start the server on the existing data folder (again, after ``halt``)."""
        log = open(self.root / "postgres.log", "ab")  # noqa: SIM115  (lives as long as the server)
        self.process = subprocess.Popen(
            [*self.as_user, f"{self.bin_dir}/postgres", "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=1000"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.admin_dsn, connect_timeout=1):
                    return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("PostgreSQL did not start: "
                                       + (self.root / "postgres.log").read_text()[-2000:]) from None
                time.sleep(0.1)

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as connection:
            suffix = f" TEMPLATE {template}" if template else ""
            connection.execute(f'CREATE DATABASE "{name}"{suffix}')
        return name

    def halt(self) -> None:
        """Stop the server but keep its data, as a database restart would."""
        if self.process and self.process.poll() is None:
            # fast mode: a "smart" shutdown would wait for the bot's pooled connections.
            self._run(f"{self.bin_dir}/pg_ctl", "stop", "-D", str(self.data), "-m", "fast",
                      "-w")
            self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)
