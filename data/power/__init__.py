"""The electricity network: substations, MV feeders, transformers and the lighting cabinets."""
