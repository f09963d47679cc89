"""The city's base layers: districts, roads and buildings."""
