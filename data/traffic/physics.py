"""Physics of a road's traffic: lane capacity, peak load, the speed-flow curve, the day's shape.

Sourced constants and pure functions, shared by the telemetry, the demand and the engines.
"""

from __future__ import annotations

import numpy as np

# Capacity per lane (vehicles/h): Highway Capacity Manual orders of magnitude, reduced on
# urban classes for signals and friction (assumption).
LANE_CAPACITY_VEH_H = {
    "motorway": 1800, "trunk": 1500, "primary": 900, "secondary": 800,
    "tertiary": 600, "residential": 300, "service": 150,
}  # fmt: skip

# Volume/capacity at the evening peak (assumption for Casablanca's "dense traffic": arterials
# near saturation, local streets light).
PEAK_VC = {
    "motorway": 0.95, "trunk": 0.9, "primary": 0.9, "secondary": 0.8,
    "tertiary": 0.6, "residential": 0.3, "service": 0.2,
}  # fmt: skip

# Bureau of Public Roads speed-flow curve: v = v_free / (1 + BPR_ALPHA * (V/C) ** BPR_BETA).
BPR_ALPHA, BPR_BETA = 0.15, 4.0

# Roads the traffic engine carries count its baseline weekday instead (written into the bundle
# by `simulation.traffic.baseline`): hourly flow and speed per road. Other roads, and bundles
# without the file, keep the class model above.
TRAFFIC_BASELINE_FILE = "traffic_baseline.parquet"


def traffic_profile(hour: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """Share of the evening-peak volume at each local hour (weekday and weekend shapes).

    Weekdays: morning peak 08:30, evening peak 18:30, midday plateau, night minimum ~8%.
    Weekends: no morning peak, a midday and an evening hump (assumption, typical urban counts).
    """

    def bump(centre, width):
        return np.exp(-0.5 * ((hour - centre) / width) ** 2)

    weekday = 0.08 + 0.45 * bump(13.0, 3.0) + 0.85 * bump(8.5, 1.2) + 0.92 * bump(18.5, 1.5)
    weekend_shape = 0.08 + 0.55 * bump(13.0, 3.0) + 0.5 * bump(20.0, 2.0)
    return np.clip(np.where(weekend, weekend_shape, weekday), 0, 1)
