"""Steel surface defect classification."""
__version__ = "0.3.1"
