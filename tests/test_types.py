"""mypy on the typed core ([tool.mypy] files in pyproject.toml), as part of the test command."""

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parent.parent


def test_the_typed_core_type_checks(monkeypatch):
    monkeypatch.chdir(ROOT)  # mypy reads [tool.mypy] (the files) from the project's pyproject
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, out + err
