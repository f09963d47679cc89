"""The scenario store: runs in SQLite, their results as NetCDF files."""
