"""Model definitions for the distributed tabular trainer."""
