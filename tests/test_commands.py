"""`madina <command>`: the console script hands each command to its module's own CLI."""

import subprocess
import sys
from pathlib import Path

import app


def test_help_lists_every_command(capsys):
    assert app.main(["help"]) == 0
    out = capsys.readouterr().out
    for name in ("serve", "users", "build", "interop", "cubes", "scenarios", "video"):
        assert f"  {name} " in out


def test_an_unknown_command_is_named_and_refused(capsys):
    assert app.main(["colour"]) == 2
    assert "unknown command 'colour'" in capsys.readouterr().out


def test_scenarios_reach_the_scenario_cli(tmp_path, capsys):
    db = tmp_path / "twin.sqlite"
    assert app.main(["scenarios", "list", "--db", str(db)]) == 0
    assert db.is_file()  # the store the scenario CLI opened


def test_video_reaches_the_export_and_names_an_unknown_run(tmp_path, capsys):
    status = app.main(["video", "0123456789ab", "--db", str(tmp_path / "twin.sqlite")])
    assert status == 2 and "0123456789ab" in capsys.readouterr().err


def test_the_installed_script_runs():
    script = Path(sys.executable).parent / "madina"
    done = subprocess.run([script, "help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "scenarios" in done.stdout
