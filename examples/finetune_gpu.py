"""Fine-tune a small transformer for sentiment classification on a GPU (analysis example; not run in tests).

Downloads the model and dataset from the Hugging Face Hub, trains with mixed precision on CUDA, logs to
Weights & Biases when available, and saves the fine-tuned model to --output-dir.
"""

from __future__ import annotations

import argparse
import os

import torch
from datasets import load_dataset
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainingArguments,
)

try:
    import wandb
except ImportError:
    wandb = None

MODEL_NAME = "distilbert-base-uncased"


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--output-dir", default="/tmp/finetuned")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    if not torch.cuda.is_available():
        raise SystemExit("this example needs a CUDA GPU")
    device = torch.device("cuda")

    dataset = load_dataset("imdb")
    tokenizer = AutoTokenizer.from_pretrained(MODEL_NAME)
    tokenized = dataset.map(lambda batch: tokenizer(batch["text"], truncation=True), batched=True)
    model = AutoModelForSequenceClassification.from_pretrained(MODEL_NAME, num_labels=2).to(device)

    if wandb is not None and os.environ.get("WANDB_API_KEY"):
        wandb.init(project="mljobs-finetune")

    training_args = TrainingArguments(
        output_dir=args.output_dir,
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        fp16=True,
        report_to=["wandb"] if wandb is not None else [],
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["test"],
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    trainer.train()
    metrics = trainer.evaluate()
    trainer.save_model(args.output_dir)
    return metrics


if __name__ == "__main__":
    __return__ = main()
