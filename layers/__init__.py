"""Map layers: pure functions turning a `City` into deck.gl layer specs (no Dash callbacks)."""
