"""City data: the embedded bundles, their builder and the `City` loader (no Dash, no deck.gl)."""
