"""Traffic what-ifs on UXsim (and Eclipse SUMO): the day, its baseline, trips and outputs."""
