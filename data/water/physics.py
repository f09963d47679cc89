"""Physics of the city's water: consumption, network yield, the day's demand and inlet pressure.

Sourced constants and pure functions, shared by the telemetry and the EPANET network.
"""

from __future__ import annotations

import numpy as np

# Billed consumption per inhabitant (assumption: 110 L/day, Moroccan urban average incl.
# non-domestic use is 100-120 L/day). Network yield 72.3% (Lydec figure in the white paper):
# 27.7% of the input volume is lost, mostly as leakage that runs day and night.
CONSUMPTION_L_PER_DAY = 110.0
NETWORK_YIELD = 0.723

STATIC_PRESSURE_BAR = 4.2  # inlet pressure with no demand (assumption)
PEAK_HEADLOSS_BAR = 1.6  # pressure drop at the daily peak demand (assumption)
LEAKAGE_EXPONENT = 1.0  # FAVAD N1 for mixed pipe materials: leak flow ~ pressure ** N1


def _water_shape(hour: np.ndarray) -> np.ndarray:
    def bump(centre, width):
        return np.exp(-0.5 * ((hour - centre) / width) ** 2)

    return 0.3 + 1.1 * bump(7.5, 1.5) + 0.7 * bump(13.0, 2.0) + 0.9 * bump(20.0, 2.0)


DAY_HOURS = np.arange(0, 24, 1 / 60)  # a day by the minute, for daily means
_WATER_SHAPE_MEAN = float(_water_shape(DAY_HOURS).mean())


def water_demand_profile(hour: np.ndarray) -> np.ndarray:
    """Demand over the daily mean (24-hour mean 1): peaks 07:30 and 20:00, night trough."""
    return _water_shape(np.asarray(hour, float)) / _WATER_SHAPE_MEAN


def inlet_pressure_bar(profile: np.ndarray) -> np.ndarray:
    """Inlet pressure (bar): static pressure less a headloss growing with demand squared."""
    peak = water_demand_profile(DAY_HOURS).max()
    return STATIC_PRESSURE_BAR - PEAK_HEADLOSS_BAR * (profile / peak) ** 2
