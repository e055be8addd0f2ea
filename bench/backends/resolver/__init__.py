"""The reference profile's engine: entity-resolution candidate search beside the embedded index."""
