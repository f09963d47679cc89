"""The public view in French, Arabic (right to left) and English: catalogs complete, page marked."""

import ast
import json
from pathlib import Path

import pytest

from access.roles import Role
from layers.catalog import PUBLIC_LAYERS
from layers.details import DETAIL_FIELDS
from layers.hexagons import variable_options
from pages.i18n import LANGUAGES, catalog, pick_language, translator
from simulation.kinds import KINDS
from tests.conftest import TELEMETRY_DAY

PAGES = Path(__file__).resolve().parent.parent / "pages"


def translated_in_code() -> set[str]:
    """Every string literal the pages pass to their translator ``t``."""
    found = set()
    for path in PAGES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


def public_titles(twin, city_name) -> set[str]:
    """Titles the public page shows from the data: layers, legends, modes, KPIs, kinds."""
    bundle = twin.twin_bundle(city_name, TELEMETRY_DAY, Role.PUBLIC)
    titles = set()
    for manifest in bundle["layers"]:
        titles |= {manifest["title"], manifest["legendTitle"]}
    for mode in bundle["colors"]["lamps"]["manifest"]["modes"].values():
        titles |= {mode["title"], mode["legendTitle"]}
    titles |= {mode["title"] for mode in bundle["traffic"]["manifest"]["modes"].values()}
    titles |= {option["label"] for option in variable_options()}
    for kind in KINDS.values():
        titles |= {kind.title, *(kpi.label for kpi in kind.kpis)}
    for layer in PUBLIC_LAYERS & set(DETAIL_FIELDS):  # the details card of a clicked feature
        titles |= {label for _, label, _ in DETAIL_FIELDS[layer][1]}
    titles |= {"Density", "yes", "no", "unknown", "Lamp", "Road", "Building", "District"}
    return titles | set(twin.TIME_BAR_LABELS)


@pytest.mark.parametrize("code", ["fr", "ar"])
def test_every_string_of_the_public_view_has_its_translation(twin, city_name, code):
    table = catalog(code)
    assert table, f"no catalog for {code}"
    missing = sorted((translated_in_code() | public_titles(twin, city_name)) - set(table))
    assert not missing, f"{code} lacks {missing[:10]}"
    assert all(value.strip() for value in table.values())
    if code == "ar":  # really Arabic, not copies of the English
        arabic = [v for v in table.values() if any("\u0600" <= c <= "\u06ff" for c in v)]
        assert len(arabic) > 0.9 * len(table)


def test_the_page_speaks_the_asked_language_and_arabic_runs_right_to_left(twin, as_role):
    with as_role("public"):
        arabic = twin.layout(lang="ar")
        french = twin.layout(lang="fr")
        english = twin.layout(lang="xx")  # unknown: the browser's, here none -> English
    assert (arabic.dir, arabic.lang) == ("rtl", "ar")
    assert (french.dir, french.lang) == ("ltr", "fr")
    assert english.lang == "en"
    text = json.dumps(arabic.to_plotly_json(), default=str, ensure_ascii=False)
    assert "الطبقات" in text and "العرض العام" in text and "Layers" not in text
    assert "Couches" in json.dumps(french.to_plotly_json(), default=str, ensure_ascii=False)


def test_the_language_follows_the_browser_unless_asked(app):
    with app.server.test_request_context("/", headers={"Accept-Language": "ar-MA,fr;q=0.8"}):
        assert pick_language().code == "ar"
        assert pick_language("fr").code == "fr"
    with app.server.test_request_context("/", headers={"Accept-Language": "de"}):
        assert pick_language().code == "en"
    assert set(LANGUAGES) == {"en", "fr", "ar"}
    assert translator("fr")("Layers") == "Couches"
    assert translator("fr")("a string nobody translated") == "a string nobody translated"
    assert translator("klingon")("Layers") == "Layers"


def test_legends_follow_the_page_language(twin, city_name, legends_page):
    bundle = twin.twin_bundle(city_name, TELEMETRY_DAY, Role.PUBLIC)
    legends = legends_page.show_legends(
        ["lamps"], bundle, None, "technology", None, None, None, "fr"
    )
    assert "Points lumineux par technologie" in str(legends)


def test_the_details_card_speaks_the_page_language(as_role, city, details_page):
    building = {"layer": "buildings", "id": city.buildings.iloc[0]["building_id"]}
    with as_role("public"):
        arabic = str(details_page.show_details(building, "ar"))
        french = str(details_page.show_details(building, "fr"))
        english = str(details_page.show_details(building, None))
        hint = str(details_page.show_details(None, "fr"))
    assert "الارتفاع" in arabic and "مبنى" in arabic and "Height" not in arabic
    assert "Hauteur" in french and "Bâtiment" in french
    assert "Height" in english and "Building" in english
    assert "Cliquez sur" in hint
