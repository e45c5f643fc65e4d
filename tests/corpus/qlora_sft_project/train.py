"""QLoRA supervised fine-tuning of a 7B model with TRL's SFTTrainer.

Loads the base model in 4-bit NF4 (bitsandbytes), places it with
device_map="auto", attaches LoRA adapters (peft) and trains.
Weights & Biases logging is used if the package happens to be installed.
"""
import argparse
import os

import bitsandbytes as bnb
import torch
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, TrainingArguments
from trl import SFTTrainer

from config import SFTConfigLocal
from data_utils import formatting_func, load_chat_dataset

try:
    import wandb
except ImportError:  # optional experiment tracking
    wandb = None


def find_4bit_linear_names(model) -> list[str]:
    names = set()
    for name, module in model.named_modules():
        if isinstance(module, bnb.nn.Linear4bit):
            names.add(name.split(".")[-1])
    names.discard("lm_head")
    return sorted(names)


def main():
    cfg = SFTConfigLocal()
    ap = argparse.ArgumentParser()
    ap.add_argument("--output-dir", default=cfg.output_dir)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()

    bnb_config = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=torch.bfloat16,
        bnb_4bit_use_double_quant=True,
    )
    model = AutoModelForCausalLM.from_pretrained(
        cfg.base_model, quantization_config=bnb_config, device_map="auto",
        token=os.environ.get("HF_TOKEN"),
    )
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    tokenizer = AutoTokenizer.from_pretrained(cfg.base_model)
    tokenizer.pad_token = tokenizer.eos_token

    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=find_4bit_linear_names(model) or cfg.target_modules,
                      bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    model.print_trainable_parameters()

    if wandb is not None and os.environ.get("WANDB_API_KEY"):
        wandb.init(project="qlora-sft", config=vars(cfg))

    train_args = TrainingArguments(
        output_dir=args.output_dir,
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        bf16=True,
        logging_steps=10,
        save_strategy="epoch",
        optim="paged_adamw_8bit",
        report_to="none",
    )
    trainer = SFTTrainer(
        model=model,
        args=train_args,
        train_dataset=load_chat_dataset(cfg.dataset_name, limit=args.limit),
        formatting_func=formatting_func,
        tokenizer=tokenizer,
        max_seq_length=cfg.max_seq_length,
    )
    trainer.train()
    trainer.model.save_pretrained(os.path.join(args.output_dir, "adapter"))


if __name__ == "__main__":
    main()
