from .model import FTTransformer  # noqa: F401
