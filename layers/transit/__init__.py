"""Public-transport layers (tram and busway lines, their stops)."""
