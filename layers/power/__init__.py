"""Electricity network layers: MV lines and stations."""
