"""Model factory for the defect classifier."""
from .backbone import build_backbone

__all__ = ["build_backbone"]
