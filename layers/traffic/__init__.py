"""Traffic layers: the arterials by congestion, speed or volume, and the trips."""
