"""Dash pages: layout and thin callbacks only."""
