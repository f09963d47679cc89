"""Interoperability: NGSI-LD entities, the broker client, asset files, imports onto a bundle."""
