"""Water network layers: pipes, junctions, sources and DMAs."""
