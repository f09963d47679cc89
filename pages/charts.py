"""Pieces the what-if charts share."""

from __future__ import annotations


def cursor_shape(frame: float = 0) -> dict:
    """The playback cursor: a vertical line at ``frame``, kept as a chart's first shape.

    The browser moves it (``madina.chartCursor``) as the time bar plays.
    """
    return {
        "type": "line",
        "x0": frame,
        "x1": frame,
        "yref": "paper",
        "y0": 0,
        "y1": 1,
        "line": {"color": "white", "width": 1},
    }
