"""Hyper-parameters for the QLoRA SFT run (kept out of train.py for easy sweeps)."""
from dataclasses import dataclass, field


@dataclass
class SFTConfigLocal:
    base_model: str = "mistralai/Mistral-7B-v0.1"
    dataset_name: str = "timdettmers/openassistant-guanaco"
    max_seq_length: int = 1024
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    learning_rate: float = 2e-4
    epochs: int = 1
    per_device_batch_size: int = 4
    grad_accum: int = 4
    output_dir: str = "qlora-out"
