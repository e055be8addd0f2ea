"""polebench: measure police intelligence search against synthetic POLE corpora with known truth."""

__version__ = "0.1.0"
