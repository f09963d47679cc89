"""Public-lighting layers: light points, their colour modes, faults, cabinets, playback."""
