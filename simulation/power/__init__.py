"""Electricity what-ifs on pandapower: outages and the AC load flow."""
