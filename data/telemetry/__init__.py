"""Telemetry: sensors, readings (synthetic, stored), ingest, H3 x time cubes, Dask, privacy."""
