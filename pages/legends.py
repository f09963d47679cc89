"""The map's legends: one per visible layer, and the hexagons' at the shown resolution.

Built server-side in the page's language from the layers' manifests (`layers`).
"""

from __future__ import annotations

from dash import Input, Output, State, callback, html

from pages.i18n import translator


def legend_block(manifest: dict, t=str) -> html.Div:
    """One legend: title plus a swatch per entry (in the language of ``t``)."""
    rows = [
        html.Li(
            [
                html.Span(
                    className="swatch",
                    style={"backgroundColor": "rgb({},{},{})".format(*entry["color"][:3])},
                ),
                t(entry["label"]),
            ]
        )
        for entry in manifest["legend"]
    ]
    return html.Div(
        [html.H4(t(manifest["legendTitle"])), html.Ul(rows)],
        className="legend",
        id=f"legend-{manifest['id']}",
    )


@callback(
    Output("legends", "children"),
    Input("layer-toggles", "value"),
    Input("twin-bundle", "data"),
    Input("hex-view", "data"),
    Input("lamp-color", "value"),
    Input("pipe-color", "value"),
    Input("tr-mode", "value"),
    State("hex-manifest", "data"),
    State("twin-lang", "data"),
)
def show_legends(
    shown: list[str] | None,
    bundle: dict | None,
    hex_view: dict | None,
    lamp_color: str | None = None,
    pipe_color: str | None = None,
    traffic_mode: str | None = None,
    hexagons: dict | None = None,
    lang: str | None = None,
) -> list[html.Div]:
    """A legend for every visible layer, top layer first, in the page's language.

    Lamps in their colour mode; telemetry or a scenario's hexagons at the shown resolution.
    """
    if not bundle:
        return []
    t = translator(lang)
    shown = set(shown or [])
    colors = bundle["colors"]["lamps"]["manifest"]
    mode = {**colors["modes"], "dimming": colors["dimming"]}.get(lamp_color or "technology")
    pipes = bundle["colors"].get("water-pipes", {}).get("manifest", {}).get("modes", {})
    pipes = pipes.get(pipe_color or "", {})
    traffic = bundle["traffic"]["manifest"]["modes"].get(traffic_mode or "congestion", {})
    modes = {
        "lamps": mode or {},
        "water-pipes": pipes,
        "traffic": {"legendTitle": f"{t('Traffic')}: {t(traffic['title']).lower()}", **traffic}
        if traffic
        else {},
    }
    blocks = [
        legend_block({**m, **modes.get(m["id"], {})}, t)
        for m in reversed(bundle["layers"])
        if m["id"] in shown
    ]
    res = str((hex_view or {}).get("res") or "")
    if hexagons and res in hexagons["resolutions"]:
        legend = {
            "id": "hexagons",
            "legendTitle": f"{t(hexagons['title'])} ({hexagons['unit']}), "
            f"{t('H3 resolution')} {res}"
            + (f" — {hexagons['scenario']}" if hexagons.get("scenario") else "")
            + (
                f" — {t('cells of fewer than')} {hexagons['minContributors']} "
                f"{t('meters merged into their parent')}"
                if hexagons.get("minContributors")
                else ""
            )
            + (
                " — " + t("cells of fewer than {k} buildings withheld").format(k=buildings)
                if (buildings := hexagons.get("minBuildings"))
                else ""
            ),
            "legend": hexagons["resolutions"][res]["legend"],
        }
        blocks.insert(0, legend_block(legend, t))
    return blocks
