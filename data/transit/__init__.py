"""Public transport: tram and busway lines and stops (`data.transit.network`)."""
