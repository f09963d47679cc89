"""Scenario simulators: (city, scenario) -> result Dataset + KPIs. Nothing here knows Dash."""
