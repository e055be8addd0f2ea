"""The modelled analyst: how a need is read (reader.py) under a declared behaviour (model.py)."""
