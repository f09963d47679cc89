"""Saved scenarios: their records in an SQLite file, their results as NetCDF files beside it.

The store never holds a half-written run: results are written to a temporary file and renamed
into place before the record says ``done``, and every record change is one transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import math
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from data.errors import ScenarioStoreError
from data.settings import setting

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "instance"
DB_ENV = "MADINA_SCENARIO_DB"
STATUSES = ("queued", "running", "done", "failed", "cancelled")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    params TEXT NOT NULL,
    seed INTEGER,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    engine_versions TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    error TEXT,
    host TEXT,
    pid INTEGER,
    started_at TEXT,
    finished_at TEXT,
    runtime_s REAL,
    result_file TEXT,
    kpis TEXT,
    published_at TEXT,
    published_by TEXT,
    decision TEXT
);
CREATE INDEX IF NOT EXISTS scenarios_by_city ON scenarios (city, created_at);
"""
# Columns added since the first schema: (name, SQL type), added to older files on opening.
_ADDED_COLUMNS = (("published_at", "TEXT"), ("published_by", "TEXT"), ("decision", "TEXT"))
MAX_DECISION_LENGTH = 2000


@dataclass(frozen=True)
class ScenarioRecord:
    """One saved scenario: what was asked (parameters, seed, engine versions) and what came out.

    ``status`` is the stored one, except that a run whose process has died on this host reads
    as ``"interrupted"``.
    """

    id: str
    kind: str
    name: str
    city: str
    params: dict
    seed: int | None
    author: str
    created_at: str  # ISO 8601, UTC
    engine_versions: dict
    status: str
    progress: float  # 0-1
    message: str
    error: str | None
    started_at: str | None
    finished_at: str | None
    runtime_s: float | None
    result_file: str | None  # relative to the store's results folder
    kpis: dict | None
    published_at: str | None = None  # when it was published to the public view (UTC)
    published_by: str | None = None
    decision: str | None = None  # the decision taken on it, as published

    @property
    def finished(self) -> bool:
        """The run is over, well or not."""
        return self.status in ("done", "failed", "cancelled", "interrupted")


def default_db_path() -> Path:
    """``MADINA_SCENARIO_DB`` if set, else ``instance/scenarios.sqlite`` in the project."""
    return Path(setting(DB_ENV) or DEFAULT_DIR / "scenarios.sqlite")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _json_kpis(kpis: dict[str, float]) -> str:
    clean = {k: (float(v) if math.isfinite(float(v)) else None) for k, v in kpis.items()}
    return json.dumps(clean, sort_keys=True)


def _alive(host: str | None, pid: int | None) -> bool:
    if host != socket.gethostname() or not pid:
        return True  # another machine's run: trust its record
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.lru_cache(maxsize=8)
def open_store(path: str) -> ScenarioStore:
    """The store at ``path``, opened once per process (it holds no state but its paths)."""
    return ScenarioStore(path)


class ScenarioStore:
    """The scenario database at ``path`` (created on first use) and its results folder.

    Parameters
    ----------
    path : path-like, optional
        The SQLite file; default `default_db_path`. Results go to ``<stem>-results/`` beside it.
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path else default_db_path()
        self.results_dir = self.path.with_name(f"{self.path.stem}-results")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)
            present = {row["name"] for row in db.execute("PRAGMA table_info(scenarios)")}
            for name, sql_type in _ADDED_COLUMNS:
                if name not in present:
                    db.execute(f"ALTER TABLE scenarios ADD COLUMN {name} {sql_type}")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.row_factory = sqlite3.Row
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def add(
        self,
        *,
        kind: str,
        name: str,
        city: str,
        params: dict,
        seed: int | None,
        author: str,
        engine_versions: dict,
    ) -> ScenarioRecord:
        """Record a new scenario, ``queued``; returns its record."""
        if not name.strip():
            raise ScenarioStoreError("name: a scenario needs a name")
        if not author.strip():
            raise ScenarioStoreError("author: a scenario needs an author")
        scenario_id = uuid.uuid4().hex[:12]
        with self._connect() as db:
            db.execute(
                "INSERT INTO scenarios (id, kind, name, city, params, seed, author, created_at, "
                "engine_versions, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued')",
                (
                    scenario_id,
                    kind,
                    name.strip()[:200],
                    city,
                    json.dumps(params, sort_keys=True),
                    seed,
                    author.strip()[:100],
                    _now(),
                    json.dumps(engine_versions, sort_keys=True),
                ),
            )
        return self.get(scenario_id)

    def get(self, scenario_id: str) -> ScenarioRecord:
        """The record of ``scenario_id``; `ScenarioStoreError` if there is none."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM scenarios WHERE id = ?", (str(scenario_id),)).fetchone()
        if row is None:
            raise ScenarioStoreError(f"no scenario {scenario_id!r} in {self.path}")
        return _record(row)

    def records(
        self, *, city: str | None = None, published: bool = False, limit: int = 200
    ) -> list[ScenarioRecord]:
        """The newest records first (of ``city`` if given; only the published ones if asked)."""
        where, args = [], []
        if city is not None:
            where.append("city = ?")
            args.append(city)
        if published:
            where.append("published_at IS NOT NULL")
        query = "SELECT * FROM scenarios" + (" WHERE " + " AND ".join(where) if where else "")
        query += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        with self._connect() as db:
            rows = db.execute(query, (*args, int(limit))).fetchall()
        return [_record(row) for row in rows]

    def publish(self, scenario_id: str, *, by: str, decision: str) -> ScenarioRecord:
        """Publish a finished run to the public view with the decision taken on it."""
        decision = " ".join(str(decision or "").split())
        if len(decision) > MAX_DECISION_LENGTH:
            raise ScenarioStoreError(
                f"the decision is {len(decision)} characters; at most {MAX_DECISION_LENGTH}"
            )
        self._change(
            scenario_id,
            ("done",),
            "published_at = ?, published_by = ?, decision = ?",
            (_now(), str(by), decision),
        )
        return self.get(scenario_id)

    def withdraw(self, scenario_id: str) -> ScenarioRecord:
        """Take a run off the public view (its record and results stay)."""
        self._change(
            scenario_id,
            STATUSES,
            "published_at = NULL, published_by = NULL, decision = NULL",
            (),
        )
        return self.get(scenario_id)

    def start(self, scenario_id: str) -> None:
        """Mark a queued run as running in this process."""
        self._change(
            scenario_id,
            ("queued",),
            "status = 'running', started_at = ?, host = ?, pid = ?, progress = 0",
            (_now(), socket.gethostname(), os.getpid()),
        )

    def report(self, scenario_id: str, progress: float, message: str) -> None:
        """Record a running run's progress (0-1) and what it is doing."""
        self._change(
            scenario_id,
            ("running",),
            "progress = ?, message = ?",
            (min(max(float(progress), 0.0), 1.0), message[:200]),
        )

    def finish(
        self, scenario_id: str, results: xr.Dataset, kpis: dict[str, float], runtime_s: float
    ) -> ScenarioRecord:
        """Store a run's results (NetCDF, written then renamed) and KPIs; status ``done``."""
        record = self.get(scenario_id)
        if record.status != "running":
            raise ScenarioStoreError(f"scenario {scenario_id} is {record.status}, not running")
        name = f"{scenario_id}.nc"
        final = self.results_dir / name
        partial = self.results_dir / f".{name}.{os.getpid()}.partial"
        encoding = {
            v: {"zlib": True, "complevel": 4}
            for v in results.data_vars
            if results[v].dtype.kind in "fiu"
        }
        try:
            results.to_netcdf(partial, engine="netcdf4", encoding=encoding)
            os.replace(partial, final)
            self._change(
                scenario_id,
                ("running",),
                "status = 'done', progress = 1, message = 'done', finished_at = ?, "
                "runtime_s = ?, result_file = ?, kpis = ?",
                (_now(), float(runtime_s), name, _json_kpis(kpis)),
            )
        except BaseException:
            partial.unlink(missing_ok=True)
            if self.get(scenario_id).status != "done":
                final.unlink(missing_ok=True)
            raise
        return self.get(scenario_id)

    def fail(self, scenario_id: str, error: str) -> None:
        """Record that a run stopped on ``error``."""
        self._change(
            scenario_id,
            ("queued", "running"),
            "status = 'failed', error = ?, finished_at = ?",
            (error[:2000], _now()),
        )

    def cancel(self, scenario_id: str) -> bool:
        """Mark a queued or running run cancelled; False if it had already finished."""
        try:
            self._change(
                scenario_id,
                ("queued", "running"),
                "status = 'cancelled', message = 'cancelled', finished_at = ?",
                (_now(),),
            )
        except ScenarioStoreError:
            return False
        return True

    def results(self, scenario_id: str) -> xr.Dataset:
        """The stored results of a finished run, loaded into memory."""
        record = self.get(scenario_id)
        if record.status != "done" or not record.result_file:
            raise ScenarioStoreError(
                f"scenario {scenario_id} has no results: it is {record.status}"
            )
        return self.result_dataset(record)

    def result_path(self, record: ScenarioRecord) -> Path:
        """The NetCDF file of a finished run."""
        if not record.result_file:
            raise ScenarioStoreError(f"scenario {record.id} has no results: it is {record.status}")
        return self.results_dir / record.result_file

    def result_dataset(self, record: ScenarioRecord) -> xr.Dataset:
        """A finished run's results, loaded into memory (the file is closed again)."""
        with xr.open_dataset(self.result_path(record), engine="netcdf4") as ds:
            return ds.load()

    def _change(self, scenario_id: str, allowed: tuple[str, ...], assignments: str, args) -> None:
        # One conditional UPDATE: a check then a write would let a concurrent change (a
        # cancel between a worker's check and its start) be overwritten.
        marks = ", ".join("?" * len(allowed))
        with self._connect() as db:
            changed = db.execute(
                f"UPDATE scenarios SET {assignments} WHERE id = ? AND status IN ({marks})",
                (*args, scenario_id, *allowed),
            ).rowcount
            if changed:
                return
            row = db.execute("SELECT status FROM scenarios WHERE id = ?", (scenario_id,)).fetchone()
        if row is None:
            raise ScenarioStoreError(f"no scenario {scenario_id!r} in {self.path}")
        raise ScenarioStoreError(
            f"scenario {scenario_id} is {row['status']}; expected {' or '.join(allowed)}"
        )


def _record(row: sqlite3.Row) -> ScenarioRecord:
    status = row["status"]
    if status == "running" and not _alive(row["host"], row["pid"]):
        status = "interrupted"
    return ScenarioRecord(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        city=row["city"],
        params=json.loads(row["params"]),
        seed=row["seed"],
        author=row["author"],
        created_at=row["created_at"],
        engine_versions=json.loads(row["engine_versions"]),
        status=status,
        progress=float(row["progress"]),
        message=row["message"],
        error=row["error"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        runtime_s=row["runtime_s"],
        result_file=row["result_file"],
        kpis=json.loads(row["kpis"]) if row["kpis"] else None,
        published_at=row["published_at"],
        published_by=row["published_by"],
        decision=row["decision"],
    )
