"""Bundle builders and their sources (OSM, census, the embedded Casablanca).

`python -m data.build <city>` builds a bundle (`data/build/__main__.py`).
"""
