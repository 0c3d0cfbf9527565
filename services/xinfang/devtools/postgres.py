"""Find or start a PostgreSQL server for tests and development; no Docker needed.

Order: ``XINFANG_TEST_POSTGRES_URL`` if set (any database on a server where that
role may ``CREATE DATABASE``) → a throwaway cluster made with the server binaries
under ``/usr/lib/postgresql/<ver>/bin`` (or ``XINFANG_PG_BINDIR``): ``initdb`` into a
temporary folder, ``pg_ctl start`` on a free port on 127.0.0.1 with its Unix socket
in that folder, trust authentication, no fsync (it is thrown away). ``stop()`` stops
it and deletes the folder; a cluster left by a killed test run is removed the next
time one starts.

``initdb`` and ``pg_ctl`` refuse to run as root: as root, the folder is handed to the
``postgres`` system user (made by the Debian package) and they run through
``runuser -u postgres --``.

The throwaway server's TimeZone is Asia/Shanghai (if the zone is installed), so tests
see what a node in China sees and code that assumes UTC sessions fails here first.

``python -m xinfang.devtools.postgres`` starts one, prints its URL and waits for Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from ..domain.errors import ConfigurationError
from ..store.database import make_engine
from ..store.tables import metadata
from .broker import free_port

ENV_URL = "XINFANG_TEST_POSTGRES_URL"
ENV_BINDIR = "XINFANG_PG_BINDIR"
SUPERUSER = "xinfang"
_PREFIX = "xinfang-pg-"
_OWNER_FILE = "owner.pid"


class PostgresUnavailable(ConfigurationError, RuntimeError):
    """No PostgreSQL server could be found or started for a developer tool."""

    code = "XF-POSTGRES-UNAVAILABLE"
    zh = "没有可用的 PostgreSQL"
    en = "No PostgreSQL server is available"


@dataclass
class Timings:
    initdb_s: float = 0.0
    start_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.initdb_s + self.start_s


@dataclass
class PostgresServer:
    """A server on which fresh databases can be made; ``url`` names its maintenance db."""

    url: str
    kind: str  # "env" | "throwaway"
    timings: Timings = field(default_factory=Timings)
    folder: Path | None = None
    _bindir: Path | None = field(default=None, repr=False)
    _admin: Engine | None = field(default=None, repr=False)
    _version: int | None = field(default=None, repr=False)

    @property
    def admin(self) -> Engine:
        if self._admin is None:
            self._admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        return self._admin

    def database_url(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def create_database(self, prefix: str = "xf") -> str:
        """Create an empty database with a unique name; returns its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            if self._version is None:
                self._version = int(conn.execute(text("SHOW server_version_num")).scalar_one())
            # PostgreSQL 15+ copies the template through the WAL by default; copying the
            # files is about twice as fast for a small database.
            strategy = " STRATEGY FILE_COPY" if self._version >= 150000 else ""
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0{strategy}'))
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        force = " WITH (FORCE)" if (self._version or 0) >= 130000 else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"{force}'))

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
            self._admin = None
        if self.kind == "throwaway" and self.folder is not None:
            assert self._bindir is not None
            _remove_cluster(self._bindir, self.folder)
            self.folder = None


class DatabasePool:
    """Node databases at the newest schema, lent out one test at a time.

    ``acquire`` hands out an idle database (or makes and migrates a new one);
    ``release`` empties it (every row deleted, id sequences restarted: as good as new,
    and far cheaper than CREATE DATABASE + migrations) and takes it back. The caller
    closes its own engines first. ``close`` drops them all.
    """

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self._idle: list[str] = []
        self._engines: dict[str, Engine] = {}  # one kept connection per database, to empty it
        self._lock = threading.Lock()
        statements = ["SET LOCAL lock_timeout = '10s'"]  # a leaked session fails, never hangs
        # the operator trail refuses DELETE (decision 027); TRUNCATE fires no row trigger
        statements += [
            f'TRUNCATE "{t.name}"' if t.name == "operator_trail" else f'DELETE FROM "{t.name}"'
            for t in reversed(metadata.sorted_tables)
        ]
        statements += [
            f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', '{col.name}'), 1, false)"
            for t in metadata.sorted_tables
            if (col := t.autoincrement_column) is not None
        ]
        self._empty_sql = ";\n".join(statements)

    def acquire(self) -> str:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        url = self.server.create_database("xfpool")
        make_engine(url).dispose()  # migrate once; every later use opens it at head
        with self._lock:
            self._engines[url] = create_engine(url, pool_size=1, max_overflow=0)
        return url

    def release(self, url: str) -> None:
        engine = self._engines[url]
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(self._empty_sql)
        except Exception:
            with self._lock:
                self._engines.pop(url).dispose()
            self.server.drop_database(url)  # never lend out a database in an unknown state
            raise
        with self._lock:
            self._idle.append(url)

    def close(self) -> None:
        with self._lock:
            engines, self._engines, self._idle = self._engines, {}, []
        for url, engine in engines.items():
            engine.dispose()
            self.server.drop_database(url)


def find_or_start_postgres() -> PostgresServer:
    env_url = os.environ.get(ENV_URL, "").strip()
    if env_url:
        url = make_url(env_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        server = PostgresServer(url.render_as_string(hide_password=False), kind="env")
        began = time.monotonic()
        try:
            with server.admin.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            server.stop()
            raise PostgresUnavailable(f"{ENV_URL} does not answer: {exc}") from exc
        server.timings.start_s = time.monotonic() - began  # time to connect
        return server
    return start_throwaway_cluster()


def find_bindir() -> Path:
    configured = os.environ.get(ENV_BINDIR)
    candidates = [Path(configured)] if configured else []

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.name))

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin; "
        f"install the Debian package `postgresql`, set {ENV_BINDIR}, or set {ENV_URL}"
    )


def _as_server_user(cmd: list[str]) -> list[str]:
    """initdb/pg_ctl refuse root: run them as the postgres system user when we are root."""
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(_shell_quote(c) for c in cmd)]


def _shell_quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def _run(cmd: list[str], folder: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _as_server_user(cmd),
        cwd=folder,  # the server user may not be allowed into our cwd
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "LC_ALL": "C"},
    )


def _make_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix=_PREFIX))
    (folder / _OWNER_FILE).write_text(str(os.getpid()))
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam("postgres")
        except KeyError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise PostgresUnavailable(
                "running as root and there is no `postgres` system user for initdb"
            ) from exc
        os.chown(folder, server_user.pw_uid, server_user.pw_gid)
    return folder


def _server_options(port: int, folder: Path) -> str:
    options = [
        "-c listen_addresses=127.0.0.1",
        f"-p {port}",
        f"-k {folder}",
        "-c fsync=off",
        "-c synchronous_commit=off",
        "-c full_page_writes=off",
        "-c max_connections=200",
    ]
    if Path("/usr/share/zoneinfo/Asia/Shanghai").exists():
        options.append("-c timezone=Asia/Shanghai")
    return " ".join(options)


def start_throwaway_cluster(attempts: int = 3) -> PostgresServer:
    bindir = find_bindir()
    remove_stale_clusters(bindir)
    folder = _make_folder()
    timings = Timings()
    try:
        began = time.monotonic()
        init = _run(
            [
                str(bindir / "initdb"),
                "-D", str(folder / "data"),
                "-U", SUPERUSER,
                "-A", "trust",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            folder,
        )  # fmt: skip
        timings.initdb_s = time.monotonic() - began
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip() or init.stdout}")
        for attempt in range(attempts):
            port = free_port()
            began = time.monotonic()
            start = _run(
                [
                    str(bindir / "pg_ctl"),
                    "start", "-w", "-t", "60",
                    "-D", str(folder / "data"),
                    "-l", str(folder / "server.log"),
                    "-o", _server_options(port, folder),
                ],
                folder,
            )  # fmt: skip
            timings.start_s = time.monotonic() - began
            if start.returncode == 0:
                url = URL.create(
                    "postgresql+psycopg",
                    username=SUPERUSER,
                    host="127.0.0.1",
                    port=port,
                    database="postgres",
                )
                return PostgresServer(
                    url.render_as_string(hide_password=False),
                    kind="throwaway",
                    timings=timings,
                    folder=folder,
                    _bindir=bindir,
                )
            log_text = _tail(folder / "server.log")
            if "could not bind" not in log_text or attempt == attempts - 1:
                raise PostgresUnavailable(
                    f"pg_ctl start failed: {start.stderr.strip() or start.stdout}\n{log_text}"
                )
    except BaseException:
        _remove_cluster(bindir, folder)
        raise
    raise AssertionError("unreachable")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _remove_cluster(bindir: Path, folder: Path) -> None:
    if (folder / "data" / "postmaster.pid").exists():
        stop = _run(
            [str(bindir / "pg_ctl"), "stop", "-D", str(folder / "data"), "-m", "immediate", "-w"],
            folder,
            timeout=60,
        )
        if stop.returncode != 0:
            _kill_postmaster(folder)
    shutil.rmtree(folder, ignore_errors=True)


def _kill_postmaster(folder: Path) -> None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((folder / "data" / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGQUIT)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_clusters(bindir: Path) -> None:
    """Stop and delete throwaway clusters whose creating process is gone."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        try:
            owner = int((folder / _OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if owner != os.getpid() and not _alive(owner):
            _remove_cluster(bindir, folder)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGINT, _interrupt)  # even when started in the background
    signal.signal(signal.SIGTERM, _interrupt)
    server = find_or_start_postgres()
    try:
        print(server.url, flush=True)
        if server.kind == "throwaway":
            print(f"(started in {server.timings.total_s:.2f}s; Ctrl-C stops and deletes it)")
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
