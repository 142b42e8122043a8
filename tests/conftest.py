"""Shared fixtures: real SQLite files, a real PostgreSQL, a real Redis, real server processes.

Services that are missing make their tests skip with a reason, except in CI
(CI=true), where a missing service is a failure.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.settings import Settings
# `yingji seed demo`'s own function, run in the test process (the CLI is tested by test_cli_beside_running): a CLI
# process would import the whole gateway again for every seeding, a third of its time.
from gateway.tools.seed import seed_demo_store as seed_demo

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("YINGJI_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("YINGJI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DEMO_PASSWORD = "yingji2026"
ADMIN = ("root", "root-password-1")


def screenshot_dir() -> Path:
    """Where browser tests save screenshots: test-artifacts/ by default (not tracked);
    `YINGJI_SCREENSHOTS=docs/screenshots` refreshes the README's pictures."""
    path = ROOT / os.environ.get("YINGJI_SCREENSHOTS", "test-artifacts/screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _unavailable(what: str, why: str) -> None:
    message = f"{what} not available ({why})"
    if IN_CI:
        pytest.fail(message + " — required in CI", pytrace=False)
    pytest.skip(message)


def postgres_or_skip() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as e:  # noqa: BLE001
        _unavailable("PostgreSQL at " + PG_URL, str(e).splitlines()[0] if str(e) else type(e).__name__)
    return PG_URL


def redis_or_skip() -> str:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as e:  # noqa: BLE001
        _unavailable("Redis at " + REDIS_URL, str(e) or type(e).__name__)
    return REDIS_URL


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh, empty store on the given backend (a new schema on PostgreSQL)."""
    if backend == "postgres":
        postgres_or_skip()
        schema = "t_" + uuid.uuid4().hex[:12]
        yield Settings(data_dir=tmp_path, database_url=PG_URL, database_schema=schema, secret_key="test-secret-of-at-least-32-bytes!")
        drop_schema(schema)
    else:
        yield Settings(data_dir=tmp_path, secret_key="test-secret-of-at-least-32-bytes!")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_of(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YINGJI_")}
    env.update(
        YINGJI_DATA_DIR=str(settings.data_dir),
        YINGJI_DATABASE_URL=settings.database_url,
        YINGJI_DATABASE_SCHEMA=settings.database_schema,
        YINGJI_SECRET_KEY=settings.secret_key or "test-secret-of-at-least-32-bytes!",
        YINGJI_BOOTSTRAP_ADMIN=f"{ADMIN[0]}:{ADMIN[1]}",
        PYTHONUNBUFFERED="1",
    )
    return env


def yingji(settings: Settings, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess against `settings`."""
    return subprocess.run(
        [sys.executable, "-m", "gateway.entrypoints.cli", *args], cwd=ROOT, env=env_of(settings), capture_output=True, text=True, check=check, timeout=300
    )


class Server:
    """A real `yingji serve` process on a loopback port."""

    def __init__(self, settings: Settings, extra_env: dict[str, str] | None = None):
        self.settings = settings
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path(settings.data_dir) / f"server-{self.port}.log"

    def start(self) -> Server:
        env = env_of(self.settings) | self.extra_env
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.entrypoints.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60  # a loaded CI machine may take more than half of this to start one
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-3000:]}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()

    def client(self, username: str, password: str = DEMO_PASSWORD) -> Api:
        return Api(self.base_url, username, password)


class Api:
    """An httpx client signed in as one user."""

    def __init__(self, base_url: str, username: str, password: str):
        self.http = httpx.Client(base_url=base_url + "/api/v1", timeout=30)
        r = self.http.post("/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        self.token = r.json()["access_token"]
        self.user = r.json()["user"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, json: Any = None, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", {})
        if key:
            headers["Idempotency-Key"] = key
        return self.http.post(path, json=json, headers=headers, **kw)

    def ok(self, path: str, json: Any = None, key: str | None = None) -> dict[str, Any]:
        r = self.post(path, json, key)
        assert r.status_code in (200, 201), f"{path}: {r.status_code} {r.text}"
        return r.json()  # type: ignore[no-any-return]

    def events(self) -> list[dict[str, Any]]:
        """The whole log as GET /events gives it, page by page (the demo's log is longer than one page)."""
        found: list[dict[str, Any]] = []
        while items := self.get("/events", params={"after": found[-1]["position"] if found else 0, "limit": 1000}).json()["items"]:
            found += items
        return found

    def close(self) -> None:
        self.http.close()


def clone_schema(source: str, target: str) -> None:
    """Copy a PostgreSQL schema, tables, sequences and rows, under another name (pg_dump's text, renamed)."""
    dump = subprocess.run(["pg_dump", "--dbname", PG_URL, "--schema", source, "--no-owner", "--no-privileges"],
                          capture_output=True, text=True, check=True, timeout=120).stdout
    assert f"{source}." in dump, "pg_dump wrote no qualified names: the renaming below would do nothing"
    renamed = re.sub(rf"\b{source}\b", target, dump)  # the names are random hex: only the schema is named so
    subprocess.run(["psql", "--dbname", PG_URL, "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1"], input=renamed,
                   capture_output=True, text=True, check=True, timeout=120)


# Seeding the demo district takes ~3 s (1,100 commands, 13 password hashes; 4-5 times that on PostgreSQL, a
# round trip a statement) and some 75 tests start from it: one seeded store (SQLite) or schema (PostgreSQL) is
# copied for each, and seeded afresh once it is a minute old, since the demo is written relative to the moment
# of seeding (an incident 12 minutes old, a dispatch to acknowledge within 5) and a test may count on those margins.
DEMO_TEMPLATE_MAX_AGE = 60.0
_demo_templates: dict[str, dict[str, Any]] = {}


def _drop_templates() -> None:
    if "postgres" in _demo_templates:
        drop_schema(_demo_templates["postgres"]["schema"])


atexit.register(_drop_templates)


def copy_demo(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Fill `settings`' empty store with the demo district: a copy of a store or schema seeded at most a minute ago."""
    backend = "postgres" if settings.is_postgres else "sqlite"
    template = _demo_templates.get(backend)
    if template is None or time.monotonic() - template["at"] > DEMO_TEMPLATE_MAX_AGE:
        at, where = time.monotonic(), tmp_path_factory.mktemp("demo-template")
        schema = "tpl_" + uuid.uuid4().hex[:12] if settings.is_postgres else None
        seed_demo(settings.model_copy(update={"data_dir": where, "database_schema": schema or settings.database_schema}))
        if template is not None and template["schema"]:
            drop_schema(template["schema"])
        template = _demo_templates[backend] = {"at": at, "dir": where, "schema": schema}
    if settings.is_postgres:
        clone_schema(template["schema"], settings.database_schema)
    shutil.copytree(template["dir"], settings.data_dir, dirs_exist_ok=True)  # what lives beside the store
    return settings


@pytest.fixture
def demo_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store with the demo district seeded."""
    return copy_demo(settings, tmp_path_factory)


@pytest.fixture
def server(demo_settings: Settings) -> Iterator[Server]:
    srv = Server(demo_settings).start()
    yield srv
    srv.stop()
