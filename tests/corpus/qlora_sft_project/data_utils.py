"""Dataset loading / formatting helpers."""
from datasets import load_dataset


def load_chat_dataset(name: str, split: str = "train", limit: int | None = None):
    ds = load_dataset(name, split=split)
    if limit:
        ds = ds.select(range(min(limit, len(ds))))
    return ds


def formatting_func(example):
    # guanaco rows already look like "### Human: ... ### Assistant: ..."
    return example["text"]
