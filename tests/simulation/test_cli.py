import json
import subprocess
import sys
from pathlib import Path

from data.store.scenarios import ScenarioStore

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simulation", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_plan_runs_into_the_database_with_a_progress_bar(tmp_path):
    db = tmp_path / "twin.sqlite"
    done = _cli("run", str(ROOT / "examples" / "plan.yaml"), "--db", str(db), "--author", "ci")
    assert done.returncode == 0, done.stderr
    assert "[1/3] LED everywhere" in done.stderr and "100%" in done.stderr
    records = ScenarioStore(db).records()
    assert sorted(r.name for r in records) == [
        "Feeder CAS-F001 trips at 18:00",
        "LED + Estonian dimming",
        "LED everywhere",
    ]
    assert {r.status for r in records} == {"done"} and {r.author for r in records} == {"ci"}
    for r in records:
        assert ScenarioStore(db).result_path(r).is_file()
    listing = _cli("list", "--db", str(db))
    assert listing.returncode == 0 and listing.stdout.count(" done ") == 3


def test_a_bad_plan_names_the_entry_and_field_and_stores_nothing(tmp_path):
    db = tmp_path / "twin.sqlite"
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "scenarios": [
                    {"kind": "lighting", "name": "fine", "params": {"led_share_pct": 20}},
                    {
                        "kind": "outage",
                        "name": "typo",
                        "params": {"element_id": "CAS-F001", "duration_h": -1},
                    },
                ]
            }
        )
    )
    failed = _cli("run", str(plan), "--db", str(db))
    assert failed.returncode == 2
    assert "scenarios[1] (typo): duration_h" in failed.stderr
    assert ScenarioStore(db).records() == []
    for text, message in [
        ("scenarios: [", "not valid YAML"),
        ("", "a plan is a mapping"),
        ("scenarios: [{kind: lighting, colour: red}]", "unknown key(s) ['colour']"),
    ]:
        broken = tmp_path / "broken.yaml"
        broken.write_text(text)
        result = _cli("run", str(broken), "--db", str(db))
        assert result.returncode == 2 and message in result.stderr, result.stderr
    missing = _cli("run", str(tmp_path / "nope.yaml"), "--db", str(db))
    assert missing.returncode == 2 and "nope.yaml: cannot read it" in missing.stderr
