"""Saving and running scenarios: validate, record, run, store — the one path every run takes.

The dashboard's background runs and the batch CLI both call `submit` then `execute`, so their
runs land in the same database the same way. A run that raises is recorded as failed with its
error; it never takes its caller down.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable

from data.errors import MadinaError, RunCancelled
from data.store.scenarios import ScenarioRecord, ScenarioStore, ScenarioStoreError
from simulation.kinds import canonical, engine_versions, kind_of

Progress = Callable[[float, str], None]


def prepare(kind: str, params: object, city: str) -> tuple[object, dict]:
    """The scenario and canonical parameters, validated for ``city``; raises naming the field."""
    scenario_kind = kind_of(kind)
    scenario, canonical_params = canonical(scenario_kind, params)
    scenario_kind.validate(city, scenario)
    return scenario, canonical_params


def submit(
    store: ScenarioStore, *, kind: str, params: object, city: str, name: str, author: str
) -> ScenarioRecord:
    """Validate a scenario and record it ``queued``; nothing is stored if it is invalid."""
    _, canonical_params = prepare(kind, params, city)
    scenario_kind = kind_of(kind)
    return store.add(
        kind=kind,
        name=name,
        city=city,
        params=canonical_params,
        seed=scenario_kind.seed(canonical_params),
        author=author,
        engine_versions=engine_versions(scenario_kind),
    )


def execute(
    store: ScenarioStore, scenario_id: str, progress: Progress | None = None
) -> ScenarioRecord:
    """Run a queued scenario, storing its progress, results and KPIs (or its error).

    ``progress(fraction, message)`` is also told. Returns the final record: ``done``,
    ``failed`` (with the error) or ``cancelled`` (if its record was cancelled meanwhile).
    """
    record = store.get(scenario_id)
    try:
        store.start(scenario_id)
    except ScenarioStoreError:
        if store.get(scenario_id).status == "cancelled":  # cancelled before it started
            return store.get(scenario_id)
        raise
    started = time.perf_counter()

    def report(fraction: float, message: str) -> None:
        try:
            store.report(scenario_id, fraction, message)
        except ScenarioStoreError:
            if store.get(scenario_id).status == "cancelled":
                raise RunCancelled(f"scenario {scenario_id} was cancelled") from None
            raise
        if progress is not None:
            progress(fraction, message)

    try:
        scenario_kind = kind_of(record.kind)
        report(0.02, "validating the parameters")
        scenario, _ = prepare(record.kind, record.params, record.city)
        run = scenario_kind.run(record.city, scenario, report)
        report(0.95, "writing the results")
        return store.finish(scenario_id, run.results, run.kpis, time.perf_counter() - started)
    except RunCancelled:
        return store.get(scenario_id)
    except Exception as err:  # any engine error is the run's outcome, not the caller's crash
        message = f"{type(err).__name__}: {err}"
        if not isinstance(err, MadinaError):
            message += "\n" + "".join(traceback.format_exception(err)[-3:])
        try:
            store.fail(scenario_id, message)
        except ScenarioStoreError:  # cancelled meanwhile: that is the outcome
            pass
        return store.get(scenario_id)


def rerun(store: ScenarioStore, scenario_id: str, *, author: str) -> ScenarioRecord:
    """A new queued record with the parameters (and seed) of ``scenario_id``."""
    old = store.get(scenario_id)
    return submit(
        store,
        kind=old.kind,
        params=old.params,
        city=old.city,
        name=f"{old.name} (re-run)",
        author=author,
    )
