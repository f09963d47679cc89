import re
from pathlib import Path

import pytest

from data.errors import AccessError, PrivacyError
from data.settings import SETTINGS, SettingError, setting, settings_table

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_table_is_the_settings_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- settings:[^>]*-->\n(.*?)\n<!-- /settings -->", readme, re.S)
    assert table is not None, "the README has no generated settings table"
    assert table.group(1) == settings_table(), "README out of date: paste settings_table()"


def test_every_variable_the_code_reads_is_a_setting():
    sources = [*ROOT.glob("*.py"), *(p for top in ("data", "simulation", "layers", "access",
               "video", "pages", "api") for p in (ROOT / top).rglob("*.py"))]  # fmt: skip
    read = set()
    for path in sources:
        read |= set(re.findall(r"\bMADINA_[A-Z_]+\b", path.read_text(encoding="utf-8")))
    # names the app keeps in its Flask config under the same spelling are settings too
    assert read <= set(SETTINGS), f"undocumented: {sorted(read - set(SETTINGS))}"


def test_unset_or_empty_gives_the_default_and_values_are_checked():
    assert setting("MADINA_SESSION_HOURS", {}) == 8.0
    assert setting("MADINA_SESSION_HOURS", {"MADINA_SESSION_HOURS": "  "}) == 8.0
    assert setting("MADINA_MIN_CONTRIBUTORS", {"MADINA_MIN_CONTRIBUTORS": " 20 "}) == 20
    assert setting("MADINA_RENDER_URL", {}) is None
    assert setting("PORT", {"PORT": "8051"}) == 8051
    assert setting("MADINA_SECURE_COOKIES", {"MADINA_SECURE_COOKIES": "1"}) is True


@pytest.mark.parametrize(
    ("name", "value", "error", "message"),
    [
        ("MADINA_MIN_CONTRIBUTORS", "ten", PrivacyError, "MADINA_MIN_CONTRIBUTORS='ten' is not"),
        ("MADINA_SESSION_HOURS", "a day", AccessError, "MADINA_SESSION_HOURS='a day' is not"),
        ("MADINA_SESSION_HOURS", "-1", AccessError, "more than 0 hours"),
        ("MADINA_LOGIN_LIMIT", "often", AccessError, "MADINA_LOGIN_LIMIT='often' is not a rate"),
        ("PORT", "80800", SettingError, "PORT='80800' is not a TCP port"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(name, value, error, message):
    with pytest.raises(error, match=re.escape(message)):
        setting(name, {name: value})


def test_an_unknown_setting_is_refused_by_name():
    with pytest.raises(SettingError, match="unknown setting 'MADINA_NOPE'"):
        setting("MADINA_NOPE")
