"""Time-lapse videos of stored runs, filmed from the twin's own page (not a simulation)."""
