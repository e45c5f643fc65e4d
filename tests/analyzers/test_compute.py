"""GPU/CPU evidence per file (`scan_compute`) and the verdict with its multi-node hint (`decide_compute`)."""

from __future__ import annotations

import ast
import pickle
import textwrap

import pytest

from mljobs.analyzers.compute import ComputeRules, ComputeScan, decide_compute, scan_compute
from mljobs.analyzers.model import ComputeTarget, Confidence
from mljobs.analyzers.source import CellSpan, SourceFile
from mljobs.skill.knowledge import load_table

RULES = ComputeRules.from_data(load_table("gpu_patterns"))

C, L, G = "certain", "likely", "guess"


def source(code: str, path: str = "train.py", module: str = "") -> SourceFile:
    text = textwrap.dedent(code).lstrip("\n")
    return SourceFile(path=path, text=text, tree=ast.parse(text), module=module)


def scan(code: str, path: str = "train.py", module: str = "") -> ComputeScan:
    return scan_compute(source(code, path, module), RULES)


def findings_of(code: str) -> list[tuple[str, int, str]]:
    """(signal, line, confidence) of every GPU and CPU-forcing finding, in line order."""
    result = scan(code)
    return sorted((f.signal, f.location.line, f.confidence.value) for f in (*result.gpu, *result.cpu))


def check_findings(code: str, expected: list[tuple[str, int, str]]) -> None:
    actual = findings_of(code)
    if actual != sorted(expected):
        pytest.fail(
            f"\nsource:\n{textwrap.dedent(code).lstrip()}\nexpected: {sorted(expected)}\nactual:   {actual}",
            pytrace=False,
        )


def verdict_of(*codes: str):
    return decide_compute([scan(code, f"f{i}.py") for i, code in enumerate(codes)], RULES)


# --------------------------------------------------------------------------------------------------- GPU use

GPU_CASES = [
    pytest.param("""
        import torch
        model = torch.nn.Linear(2, 2)
        model.cuda()
        """, [("cuda_call", 3, C)], id="cuda_method__certain"),
    pytest.param("""
        import torch
        x = torch.zeros(3).cuda(non_blocking=True)
        """, [("cuda_call", 2, C)], id="cuda_on_call_result__certain"),
    pytest.param("""
        model.to("cuda")
        """, [("device_move", 1, C)], id="to_cuda_literal__certain"),
    pytest.param("""
        batch = batch.to("cuda:0", non_blocking=True)
        """, [("device_move", 1, C)], id="to_cuda_index_literal__certain"),
    pytest.param("""
        import torch
        model.to(torch.device("cuda"))
        """, [("device_move", 2, C)], id="to_torch_device_cuda__certain"),
    pytest.param("""
        import torch
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = torch.nn.Linear(2, 2).to(device)
        """, [("cuda_check", 2, L), ("device_move", 3, L)], id="to_conditional_device_var__likely"),
    pytest.param("""
        import torch as t
        device = t.device("cuda:0" if t.cuda.is_available() else "cpu")
        net.to(device)
        """, [("cuda_check", 2, L), ("device_move", 3, L)], id="torch_alias_device_ctor_conditional__likely"),
    pytest.param("""
        import torch
        def train(model):
            model.to(DEVICE)
        DEVICE = "cuda"
        """, [("device_move", 3, C)], id="module_constant_defined_after_use__certain"),
    pytest.param("""
        import argparse
        import torch
        parser = argparse.ArgumentParser()
        parser.add_argument("--device", default="cuda")
        args = parser.parse_args()
        model = torch.nn.Linear(2, 2).to(args.device)
        """, [("device_move", 6, C)], id="argparse_default_cuda__certain"),
    pytest.param("""
        import torch
        def get_device():
            if torch.cuda.is_available():
                return torch.device("cuda")
            return torch.device("cpu")
        device = get_device()
        model.to(device)
        """, [("cuda_check", 3, L), ("device_move", 7, L)], id="device_from_helper_function__likely"),
    pytest.param("""
        import torch
        class Runner:
            def __init__(self):
                self.device = torch.device("cuda:0")
            def run(self, x):
                return x.to(self.device)
        """, [("device_move", 6, C)], id="self_device_attribute__certain"),
    pytest.param("""
        def train(model, device="cuda"):
            model.to(device)
        """, [("device_move", 2, C)], id="parameter_default_cuda__certain"),
    pytest.param("""
        def worker(rank, world_size):
            model.to(rank)
        """, [("device_move", 2, L)], id="gpu_index_by_rank__likely"),
    pytest.param("""
        device = f"cuda:{local_rank}"
        model.to(device)
        """, [("device_move", 2, C)], id="fstring_cuda_device__certain"),
    pytest.param("""
        import torch
        x = torch.zeros(3, device="cuda")
        """, [("device_move", 2, C)], id="tensor_factory_device_kw__certain"),
    pytest.param("""
        import torch
        device = "cpu"
        if torch.cuda.is_available():
            device = "cuda"
        model.to(device)
        """, [("cuda_check", 3, L), ("device_move", 5, L)], id="device_reassigned_under_guard__likely"),
    pytest.param("""
        import torch as t
        t.cuda.set_device(0)
        """, [("cuda_api", 2, C)], id="alias_set_device__certain"),
    pytest.param("""
        from torch import cuda
        cuda.synchronize()
        """, [("cuda_api", 2, C)], id="from_torch_import_cuda__certain"),
    pytest.param("""
        import torch
        if torch.cuda.is_available():
            model.cuda()
        """, [("cuda_check", 2, L), ("cuda_call", 3, L)], id="cuda_inside_availability_guard__likely"),
    pytest.param("""
        if args.cuda:
            model.cuda()
        """, [("cuda_call", 2, L)], id="cuda_inside_user_flag_guard__likely"),
    pytest.param("""
        import torch
        assert torch.cuda.is_available(), "needs a GPU"
        """, [("cuda_check", 2, L), ("cuda_required", 2, C)], id="assert_gpu_present__certain"),
    pytest.param("""
        import sys
        import torch
        if not torch.cuda.is_available():
            sys.exit("this script needs a GPU")
        """, [("cuda_check", 3, L), ("cuda_required", 3, C)], id="exit_without_gpu__certain"),
    pytest.param("""
        import torch
        scaler = torch.cuda.amp.GradScaler()
        with torch.cuda.amp.autocast():
            pass
        """, [("half_precision", 2, C), ("half_precision", 3, C)], id="cuda_amp__certain"),
    pytest.param("""
        import torch
        with torch.amp.autocast("cuda"):
            pass
        scaler = torch.amp.GradScaler()
        """, [("half_precision", 2, C), ("half_precision", 4, C)], id="torch_amp_cuda__certain"),
    pytest.param("""
        from torch import autocast
        with autocast(device_type=device):
            pass
        device = "cuda" if use_gpu else "cpu"
        """, [("half_precision", 2, L)], id="autocast_conditional_device__likely"),
    pytest.param("""
        import torch
        print(torch.accelerator.is_available())
        """, [("cuda_check", 2, G)], id="torch_accelerator_check__guess"),
    pytest.param("""
        import torch
        torch.backends.cudnn.benchmark = True
        """, [("cuda_setting", 2, L)], id="cudnn_flag__hint"),
    pytest.param("""
        import cupy as cp
        a = cp.arange(10)
        """, [("gpu_library", 1, C)], id="cupy_import__certain"),
    pytest.param("""
        from numba import cuda
        @cuda.jit
        def kernel(x):
            pass
        """, [("gpu_library", 1, C)], id="numba_cuda_import__certain"),
    pytest.param("""
        try:
            import cudf as pd
        except ImportError:
            import pandas as pd
        """, [("gpu_library", 2, L)], id="optional_rapids_import__likely"),
    pytest.param("""
        from cuml.ensemble import RandomForestClassifier
        """, [("gpu_library", 1, C)], id="cuml_from_import__certain"),
    pytest.param("""
        from transformers import AutoModelForCausalLM
        m = AutoModelForCausalLM.from_pretrained("gpt2", device_map="auto")
        """, [("device_map", 2, C)], id="device_map_auto__certain"),
    pytest.param("""
        from transformers import AutoModel
        m = AutoModel.from_pretrained("gpt2", device_map={"": 0})
        """, [("device_map", 2, C)], id="device_map_dict__certain"),
    pytest.param("""
        from transformers import AutoModel
        m = AutoModel.from_pretrained("gpt2", load_in_8bit=True)
        """, [("quantization", 2, C)], id="load_in_8bit__certain"),
    pytest.param("""
        from transformers import BitsAndBytesConfig
        bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")
        """, [("quantization", 2, C)], id="bitsandbytes_config__certain"),
    pytest.param("""
        model = model.half()
        other = other.bfloat16()
        """, [("half_precision", 1, L), ("half_precision", 2, L)], id="half_and_bfloat16__likely"),
    pytest.param("""
        import torch as t
        from transformers import AutoModel
        m = AutoModel.from_pretrained("gpt2", torch_dtype=t.bfloat16)
        """, [("half_precision", 3, L)], id="torch_dtype_half_alias__likely"),
    pytest.param("""
        from transformers import TrainingArguments
        a = TrainingArguments("out", fp16=True)
        b = TrainingArguments("out", bf16=True)
        """, [("half_precision", 2, C), ("half_precision", 3, L)], id="training_args_fp16_bf16__gpu"),
    pytest.param("""
        import torch
        from transformers import TrainingArguments
        a = TrainingArguments("out", fp16=torch.cuda.is_available())
        """, [("cuda_check", 3, G), ("half_precision", 3, L)], id="fp16_when_available__likely"),
    pytest.param("""
        import lightning as L
        trainer = L.Trainer(precision="16-mixed")
        """, [("auto_device", 2, L), ("half_precision", 2, L)], id="lightning_precision_16_mixed__likely"),
    pytest.param("""
        import pytorch_lightning as pl
        trainer = pl.Trainer(accelerator="gpu", devices=2)
        """, [("accelerator", 2, C), ("auto_device", 2, L)], id="lightning_accelerator_gpu__certain"),
    pytest.param("""
        import pytorch_lightning as pl
        trainer = pl.Trainer(gpus=1, max_epochs=3)
        """, [("accelerator", 2, C), ("auto_device", 2, L)], id="lightning_gpus_n__certain"),
    pytest.param("""
        import torch.nn as nn
        model = nn.DataParallel(model)
        """, [("data_parallel", 2, C)], id="data_parallel__certain"),
    pytest.param("""
        import torch
        if torch.cuda.device_count() > 1:
            model = torch.nn.DataParallel(model)
        """, [("cuda_check", 2, L), ("data_parallel", 3, L)], id="data_parallel_when_several_gpus__likely"),
    pytest.param("""
        from torch.nn.parallel import DistributedDataParallel as DDP
        model = DDP(model)
        """, [("data_parallel", 2, L)], id="ddp__likely"),
    pytest.param("""
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        model = FSDP(model)
        """, [("data_parallel", 2, C)], id="fsdp__certain"),
    pytest.param("""
        import torch.distributed as dist
        dist.init_process_group(backend="nccl")
        """, [("data_parallel", 2, C)], id="init_process_group_nccl__certain"),
    pytest.param("""
        import xgboost as xgb
        clf = xgb.XGBClassifier(device="cuda", n_estimators=10)
        """, [("device_move", 2, C)], id="xgboost_alias_device_cuda__certain"),
    pytest.param("""
        import xgboost as xgb
        params = {"tree_method": "gpu_hist", "max_depth": 6}
        bst = xgb.train(params, dtrain)
        """, [("booster_gpu", 2, C)], id="xgboost_params_dict_gpu_hist__certain"),
    pytest.param("""
        params = {}
        params["tree_method"] = "gpu_hist"
        """, [("booster_gpu", 2, C)], id="params_subscript_store__certain"),
    pytest.param("""
        from xgboost import XGBRegressor
        m = XGBRegressor(gpu_id=0, predictor="gpu_predictor")
        """, [("booster_gpu", 2, C)], id="xgboost_gpu_id_predictor__certain"),
    pytest.param("""
        import lightgbm as lgb
        a = lgb.LGBMClassifier(device="gpu")
        b = lgb.train({"device_type": "gpu"}, data)
        """, [("booster_gpu", 3, C), ("device_move", 2, C)], id="lightgbm_device_gpu__certain"),
    pytest.param("""
        from catboost import CatBoostClassifier
        m = CatBoostClassifier(task_type="GPU", devices="0")
        """, [("booster_gpu", 2, C)], id="catboost_task_type_gpu__certain"),
    pytest.param("""
        USE_GPU = True
        clf = XGBClassifier(tree_method="gpu_hist" if USE_GPU else "hist")
        """, [("booster_gpu", 2, L)], id="booster_option_behind_flag__likely"),
    pytest.param("""
        from vllm import LLM, SamplingParams
        llm = LLM(model="facebook/opt-125m")
        """, [("gpu_library", 1, C), ("llm_engine", 2, C)], id="vllm__certain"),
    pytest.param("""
        import tensorflow as tf
        if tf.config.list_physical_devices("GPU"):
            print("gpu")
        """, [("cuda_check", 2, L)], id="tf_list_gpus_in_condition__likely"),
    pytest.param("""
        import tensorflow as tf
        with tf.device("/GPU:0"):
            y = model(x)
        """, [("framework_device", 2, C)], id="tf_device_gpu__certain"),
    pytest.param("""
        import jax
        gpu = jax.devices("gpu")[0]
        """, [("framework_device", 2, C)], id="jax_devices_gpu__certain"),
    pytest.param("""
        import os
        os.environ["CUDA_VISIBLE_DEVICES"] = "0,1"
        """, [("gpu_env", 2, L)], id="cuda_visible_devices_selects_gpus__hint"),
    pytest.param("""
        from transformers import pipeline
        clf = pipeline("sentiment-analysis", device=0)
        """, [("device_move", 2, C)], id="hf_pipeline_device_index__certain"),
    pytest.param("""
        import ray
        @ray.remote(num_gpus=1)
        def work():
            pass
        """, [("accelerator", 2, C)], id="ray_remote_num_gpus__certain"),
    pytest.param("""
        from ray.train import ScalingConfig
        cfg = ScalingConfig(num_workers=2, use_gpu=True)
        """, [("accelerator", 2, C)], id="ray_scaling_config_use_gpu__certain"),
    pytest.param("""
        import torch
        state = torch.load("ckpt.pt", map_location="cuda")
        """, [("device_move", 2, L)], id="torch_load_to_cuda__likely"),
    pytest.param("""
        from accelerate import Accelerator
        acc = Accelerator(mixed_precision="fp16")
        model = model.to(acc.device)
        """, [("auto_device", 2, L), ("device_move", 3, L), ("half_precision", 2, C)],
        id="accelerate_fp16__certain"),
    pytest.param("""
        from tensorflow import keras
        keras.mixed_precision.set_global_policy("mixed_float16")
        """, [("half_precision", 2, L)], id="keras_mixed_float16__likely"),
    pytest.param("""
        import torch
        torch.set_default_device("cuda")
        """, [("device_move", 2, C)], id="set_default_device_cuda__certain"),
    pytest.param("""
        from trl import SFTTrainer
        trainer = SFTTrainer(model=model, train_dataset=ds)
        """, [("auto_device", 2, L)], id="trl_sft_trainer__likely"),
    pytest.param("""
        model.to(cfg.device)
        """, [("device_move", 1, G)], id="device_from_config_object__guess"),
    pytest.param("""
        import torch
        model = Net().to(
            torch.device("cuda")
        )
        """, [("device_move", 2, C)], id="multiline_call__first_line"),
    pytest.param("""
        import torch
        device = torch.device("cuda" if args.cuda else "cpu")
        model.to(device)
        """, [("device_move", 3, L)], id="device_from_user_flag__likely"),
    pytest.param("""
        import tensorflow as tf
        print(tf.test.is_gpu_available())
        """, [("cuda_check", 2, G)], id="tf_is_gpu_available_printed__guess"),
    pytest.param("""
        import deepspeed
        import bitsandbytes as bnb
        """, [("gpu_library", 1, C), ("gpu_library", 2, C)], id="deepspeed_bitsandbytes_imports__certain"),
    pytest.param("""
        from snowflake.ml.modeling.distributors.pytorch import WorkerResourceConfig
        cfg = WorkerResourceConfig(num_cpus=4, num_gpus=1)
        """, [("accelerator", 2, C)], id="snowflake_worker_num_gpus__certain"),
    pytest.param("""
        import torch
        import torch.distributed as dist
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
        """, [("cuda_check", 3, L), ("data_parallel", 3, L)], id="nccl_when_available__likely"),
    pytest.param("""
        from ray.train import ScalingConfig
        ScalingConfig(num_workers=2, resources_per_worker={"CPU": 4, "GPU": 1})
        """, [("accelerator", 2, C)], id="ray_resources_gpu_key__certain"),
    pytest.param("""
        import os
        os.environ.update(CUDA_VISIBLE_DEVICES="1")
        """, [("gpu_env", 2, L)], id="environ_update_selects_gpu__hint"),
]


@pytest.mark.parametrize(("code", "expected"), GPU_CASES)
def test_scan_compute__gpu_patterns__found(code: str, expected: list[tuple[str, int, str]]) -> None:
    """Each GPU pattern is reported once, on its line, with the confidence its context allows."""
    check_findings(code, expected)


# --------------------------------------------------------------------------------------------------- not GPU

NOT_GPU_CASES = [
    pytest.param("""
        import torch
        # model.cuda()  -- disabled, see README
        x = torch.ones(3)
        """, [], id="comment_mention__nothing"),
    pytest.param('''
        """Train on the GPU with .cuda(), device_map="auto", cupy and tree_method="gpu_hist"."""
        import torch
        def f():
            """Call .to('cuda') for llama-7b."""
            return 1
        ''', [], id="docstring_mention__nothing"),
    pytest.param("""
        print("call model.to('cuda') or use device_map='auto'")
        note = "cuda"
        """, [], id="string_mention_and_unused_literal__nothing"),
    pytest.param("""
        preds = preds.to("cpu")
        y = y.cpu().numpy()
        """, [], id="to_cpu_literal__nothing"),
    pytest.param("""
        import torch
        buf = torch.zeros(3, device="cpu")
        """, [], id="torch_tensor_on_cpu__neutral"),
    pytest.param("""
        from transformers import TrainingArguments
        a = TrainingArguments("out", fp16=False, bf16=False)
        """, [], id="fp16_false__nothing"),
    pytest.param("""
        from transformers import AutoModel
        m = AutoModel.from_pretrained("gpt2", load_in_8bit=False, device_map=None)
        """, [], id="quantization_off_and_default_device_map__nothing"),
    pytest.param("""
        from transformers import TrainingArguments
        args = TrainingArguments("out", use_cpu=True)
        old = TrainingArguments("out", no_cuda=True)
        """, [("cpu_forced", 2, C), ("cpu_forced", 3, C)], id="use_cpu_no_cuda__cpu_forced"),
    pytest.param("""
        from ray.train import ScalingConfig
        cfg = ScalingConfig(num_workers=2, use_gpu=False)
        """, [("cpu_forced", 2, C)], id="use_gpu_false__cpu_forced"),
    pytest.param("""
        from transformers import AutoModel
        m = AutoModel.from_pretrained("gpt2", device_map="cpu")
        """, [("cpu_forced", 2, C)], id="device_map_cpu__cpu_forced"),
    pytest.param("""
        from catboost import CatBoostClassifier
        m = CatBoostClassifier(task_type="CPU")
        """, [("cpu_forced", 2, C)], id="catboost_cpu__cpu_forced"),
    pytest.param("""
        import os
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        """, [("cpu_forced", 2, C)], id="cuda_visible_devices_empty__cpu_forced"),
    pytest.param("""
        import os
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
        """, [("cpu_forced", 2, C)], id="cuda_visible_devices_minus_one__cpu_forced"),
    pytest.param("""
        import xgboost as xgb
        clf = xgb.XGBClassifier(device="cpu", tree_method="hist")
        """, [("cpu_forced", 2, C)], id="xgboost_device_cpu__cpu_forced"),
    pytest.param("""
        import lightning as L
        trainer = L.Trainer(accelerator="cpu", devices=1)
        """, [("auto_device", 2, L), ("cpu_forced", 2, C)], id="lightning_accelerator_cpu__cpu_forced"),
    pytest.param("""
        import torch
        device = torch.device("cpu")
        model.to(device)
        """, [("cpu_forced", 3, L)], id="device_var_always_cpu__cpu_forced"),
    pytest.param("""
        import torch
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            pass
        """, [], id="autocast_cpu__nothing"),
    pytest.param("""
        import xgboost as xgb
        clf = xgb.XGBClassifier(tree_method="hist", n_jobs=-1)
        """, [], id="xgboost_cpu_defaults__nothing"),
    pytest.param("""
        import numpy as np
        np.set_printoptions(precision=16)
        """, [], id="precision_outside_lightning__nothing"),
    pytest.param("""
        import torch
        x = x.to(torch.float16)
        inputs = inputs.to(model.device)
        """, [], id="to_dtype_and_model_device__nothing"),
    pytest.param("""
        flag = x.is_cuda
        version = info.cuda
        """, [], id="cuda_attribute_not_called__nothing"),
    pytest.param("""
        import cupy_helpers
        from mylib import cuda
        cuda.run()
        """, [], id="lookalike_module_names__nothing"),
    pytest.param("""
        cuda = False
        if cuda:
            x = 1
        """, [], id="local_flag_named_cuda__nothing"),
    pytest.param("""
        import torch
        device = torch.device("cuda")
        """, [], id="device_built_but_unused__nothing"),
    pytest.param("""
        from sklearn.ensemble import RandomForestClassifier
        import pandas as pd
        clf = RandomForestClassifier(n_jobs=-1).fit(X, y)
        """, [], id="sklearn_only__nothing"),
    pytest.param("""
        import torch
        print("CUDA available:", torch.cuda.is_available())
        """, [("cuda_check", 2, G)], id="print_availability__guess"),
    pytest.param("""
        import torch
        from torch.utils.data import DataLoader
        loader = DataLoader(ds, batch_size=32, num_workers=4, pin_memory=False)
        """, [], id="dataloader_workers__nothing"),
    pytest.param("""
        import pytorch_lightning as pl
        trainer = pl.Trainer(gpus=0)
        """, [("auto_device", 2, L), ("cpu_forced", 2, C)], id="lightning_gpus_zero__cpu_forced"),
    pytest.param("""
        import torch.distributed as dist
        dist.init_process_group("gloo")
        dist.init_process_group()
        """, [], id="gloo_or_default_backend__no_gpu_finding"),
    pytest.param("""
        from transformers import pipeline
        clf = pipeline("sentiment-analysis", device=-1)
        """, [("cpu_forced", 2, C)], id="hf_pipeline_device_minus_one__cpu_forced"),
    pytest.param("""
        import ray
        @ray.remote(num_gpus=0, num_cpus=2)
        def work():
            pass
        """, [("cpu_forced", 2, C)], id="ray_num_gpus_zero__cpu_forced"),
    pytest.param("""
        import tensorflow as tf
        with tf.device("/CPU:0"):
            y = model(x)
        """, [], id="tf_device_cpu__nothing"),
]


@pytest.mark.parametrize(("code", "expected"), NOT_GPU_CASES)
def test_scan_compute__mentions_and_cpu_options__no_gpu_finding(
    code: str, expected: list[tuple[str, int, str]]
) -> None:
    """Comments, strings, docstrings and CPU/False options never count as GPU use."""
    check_findings(code, expected)


# --------------------------------------------------------------------------------------------------- verdict

GPU, CPU = ComputeTarget.GPU, ComputeTarget.CPU

VERDICT_CASES = [
    pytest.param(["import sklearn\nfrom sklearn.linear_model import LogisticRegression\n"],
                 (CPU, Confidence.CERTAIN), id="sklearn_only__cpu_certain"),
    pytest.param(["import torch\nmodel = torch.nn.Linear(2, 2)\nmodel(torch.ones(2))\n"],
                 (CPU, Confidence.LIKELY), id="torch_without_device_code__cpu_likely"),
    pytest.param(["import torch\nprint(torch.cuda.is_available())\n"],
                 (CPU, Confidence.GUESS), id="only_prints_availability__cpu_guess"),
    pytest.param(["""
        import torch
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = Net().to(device)
        loss = model(x).sum()
        loss.backward()
        """], (GPU, Confidence.LIKELY), id="gpu_capable_training__gpu_likely"),
    pytest.param(["""
        import torch
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = Net().to(device)
        """], (CPU, Confidence.LIKELY), id="gpu_capable_inference_only__cpu_likely"),
    pytest.param(["import torch\nmodel = Net().cuda()\n"], (GPU, Confidence.CERTAIN),
                 id="cuda_call__gpu_certain"),
    pytest.param(["""
        import os, torch
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = Net().to(device)
        """], (CPU, Confidence.LIKELY), id="gpu_capable_but_hidden__cpu_likely"),
    pytest.param(["""
        import xgboost as xgb
        a = xgb.XGBClassifier(device="cuda")
        b = xgb.XGBClassifier(device="cpu")
        """], (GPU, Confidence.LIKELY), id="gpu_and_cpu_both_forced__gpu_likely"),
    pytest.param(["""
        from transformers import Trainer, TrainingArguments
        trainer = Trainer(model=model, args=TrainingArguments("out"))
        trainer.train()
        """], (GPU, Confidence.LIKELY), id="hf_trainer__gpu_likely"),
    pytest.param(["""
        from transformers import Trainer, TrainingArguments
        trainer = Trainer(model=model, args=TrainingArguments("out", use_cpu=True))
        """], (CPU, Confidence.LIKELY), id="hf_trainer_use_cpu__cpu_likely"),
    pytest.param(["""
        from transformers import AutoModelForCausalLM, AutoTokenizer
        tok = AutoTokenizer.from_pretrained("gpt2")
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        out = model.generate(**tok("hi", return_tensors="pt"))
        """], (CPU, Confidence.LIKELY), id="small_model_inference__cpu_likely"),
    pytest.param(["""
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-Instruct-v0.2")
        out = model.generate(ids)
        """], (GPU, Confidence.LIKELY), id="large_model_inference__gpu_likely"),
    pytest.param(["""
        import openai
        client = openai.OpenAI()
        r = client.chat.completions.create(model="meta-llama/Llama-3-70b-chat-hf", messages=[])
        """], (CPU, Confidence.CERTAIN), id="large_model_name_for_remote_api__cpu"),
    pytest.param(["""
        import torch
        model.to(cfg.device)
        loss.backward()
        """], (CPU, Confidence.GUESS), id="device_chosen_at_run_time__cpu_guess"),
    pytest.param(["""
        import torch
        if not torch.cuda.is_available():
            raise SystemExit("GPU required")
        """], (GPU, Confidence.CERTAIN), id="requires_gpu__gpu_certain"),
]


@pytest.mark.parametrize(("codes", "expected"), VERDICT_CASES)
def test_decide_compute__evidence__recommendation(codes: list[str], expected: tuple) -> None:
    """The verdict weighs work against hints and explicit CPU settings."""
    verdict = verdict_of(*codes)
    assert (verdict.recommendation, verdict.confidence) == expected, verdict.reason


def test_decide_compute__gpu_capable__reason_says_runs_on_cpu_too() -> None:
    """A GPU-capable script is recommended GPU, and the reason says it also runs on CPU."""
    verdict = verdict_of("""
        import torch
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = Net().to(device)
        model(x).sum().backward()
        """)
    assert "runs on CPU too" in verdict.reason
    assert "f0.py:3" in verdict.reason  # names the strongest evidence, the move, not the check


def test_decide_compute__evidence__strongest_first() -> None:
    """Evidence is ordered work before hints, certain before likely."""
    verdict = verdict_of("""
        import torch
        print(torch.cuda.is_available())
        model.half()
        model.cuda()
        """)
    assert [f.signal for f in verdict.evidence] == ["cuda_call", "half_precision", "cuda_check"]
    expected = "GPU: the code moves a model or tensor to a CUDA GPU, at f0.py:4:1: `model.cuda()`"
    assert verdict.reason.startswith(expected)


def test_decide_compute__cpu_forced__reason_names_the_setting() -> None:
    """A CPU verdict caused by an explicit setting cites that setting first."""
    verdict = verdict_of("""
        from transformers import Trainer, TrainingArguments
        Trainer(model=m, args=TrainingArguments("o", use_cpu=True))
        """)
    assert verdict.evidence[0].signal == "cpu_forced"
    assert "use_cpu=True" in verdict.reason


LARGE_MODEL_CASES = [
    pytest.param("""
        from transformers import AutoModelForCausalLM, Trainer
        from peft import LoraConfig, get_peft_model
        model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-2-7b-hf")
        model = get_peft_model(model, LoraConfig(r=8))
        Trainer(model=model).train()
        """, (GPU, Confidence.CERTAIN, False), id="lora_fine_tune_7b__gpu_certain"),
    pytest.param("""
        from transformers import AutoModelForCausalLM, Trainer
        MODEL_NAME = "Qwen/Qwen2-7B"
        model = AutoModelForCausalLM.from_pretrained(MODEL_NAME)
        Trainer(model=model).train()
        """, (GPU, Confidence.CERTAIN, True), id="full_fine_tune_7b__gpu_large_memory"),
    pytest.param("""
        import argparse
        from transformers import AutoModelForSequenceClassification
        p = argparse.ArgumentParser()
        p.add_argument("--model_name", default="bert-large-uncased")
        args = p.parse_args()
        model = AutoModelForSequenceClassification.from_pretrained(args.model_name)
        loss = model(**batch).loss
        loss.backward()
        """, (GPU, Confidence.LIKELY, False), id="bert_large_training_loop__gpu_likely"),
    pytest.param("""
        from transformers import AutoModelForCausalLM, Trainer, TrainingArguments
        model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B")
        Trainer(model=model, args=TrainingArguments("o", use_cpu=True)).train()
        """, (CPU, Confidence.LIKELY, True), id="large_fine_tune_forced_cpu__large_memory"),
    pytest.param("""
        from transformers import AutoModelForCausalLM, BitsAndBytesConfig
        q = BitsAndBytesConfig(load_in_4bit=True)
        model = AutoModelForCausalLM.from_pretrained("mistralai/Mixtral-8x7B-v0.1", quantization_config=q)
        """, (GPU, Confidence.CERTAIN, False), id="quantized_mixtral__gpu_no_large_memory"),
    pytest.param("""
        from transformers import AutoModelForCausalLM, Trainer
        model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct")
        Trainer(model=model).train()
        """, (GPU, Confidence.LIKELY, False), id="half_billion_model_trainer__not_large"),
    pytest.param("""
        import numpy as np
        X = np.random.rand(100_000_000, 64)
        """, (CPU, Confidence.CERTAIN, True), id="huge_array__large_memory"),
    pytest.param("""
        import numpy as np
        X = np.zeros((1000, 64))
        """, (CPU, Confidence.CERTAIN, False), id="small_array__no_large_memory"),
]


@pytest.mark.parametrize(("code", "expected"), LARGE_MODEL_CASES)
def test_decide_compute__large_models_and_memory__verdict(code: str, expected: tuple) -> None:
    """Large-model fine-tuning needs a GPU; full fine-tunes and CPU runs of 7B-class models need memory."""
    verdict = verdict_of(code)
    actual = (verdict.recommendation, verdict.confidence, verdict.needs_large_memory)
    assert actual == expected, verdict.reason


def test_decide_compute__model_name_in_other_file__fine_tune_across_files() -> None:
    """A model id in config.py and a Trainer in train.py together make a large fine-tune."""
    config = 'BASE_MODEL = "meta-llama/Llama-2-13b-hf"\n'
    train = "from transformers import Trainer\nTrainer(model=m).train()\n"
    verdict = decide_compute([scan(train, "train.py"), scan(config, "config.py")], RULES)
    assert verdict.recommendation is GPU and verdict.confidence is Confidence.CERTAIN
    assert "13" in verdict.reason and "config.py:1" in verdict.reason
    assert verdict.needs_large_memory


CROSS_FILE_CASES = [
    pytest.param("from config import DEVICE\nmodel.to(DEVICE)\nloss.backward()\n", "config",
                 'import torch\nDEVICE = "cuda" if torch.cuda.is_available() else "cpu"\n',
                 (GPU, Confidence.LIKELY), id="imported_conditional_device__gpu_likely"),
    pytest.param("import config\nmodel.to(config.DEVICE)\n", "config", 'DEVICE = "cuda:0"\n',
                 (GPU, Confidence.CERTAIN), id="module_attribute_device__gpu_certain"),
    pytest.param("from .utils import get_device\nmodel.to(get_device())\n", "pkg.utils",
                 'def get_device():\n    return "cuda"\n', (GPU, Confidence.CERTAIN),
                 id="relative_import_device_function__gpu_certain"),
    pytest.param("from config import DEVICE\nmodel.to(DEVICE)\n", "config", 'DEVICE = "cpu"\n',
                 (CPU, Confidence.CERTAIN), id="imported_cpu_device__cpu_forced"),
    pytest.param("from other import DEVICE\nmodel.to(DEVICE)\n", "config", 'DEVICE = "cuda"\n',
                 (CPU, Confidence.CERTAIN), id="device_from_unanalysed_module__no_finding"),
]


@pytest.mark.parametrize(("train", "module", "config", "expected"), CROSS_FILE_CASES)
def test_decide_compute__device_defined_in_other_file__resolved(
    train: str, module: str, config: str, expected: tuple
) -> None:
    """A device constant or helper defined in another analysed module decides `.to(DEVICE)`."""
    scans = [scan(train, "pkg/train.py", "pkg.train"), scan(config, f"{module}.py", module)]
    verdict = decide_compute(scans, RULES)
    assert (verdict.recommendation, verdict.confidence) == expected, verdict.reason
    if verdict.recommendation is GPU:
        assert verdict.evidence[0].location.path == "pkg/train.py"


# ----------------------------------------------------------------------------------------------- multi-node

MULTI_NODE_CASES = [
    pytest.param("import ray\nray.init()\n", ("ray", 2), id="ray_init__2"),
    pytest.param("import ray\n@ray.remote\ndef f():\n    pass\n", ("ray", 2), id="ray_remote_decorator__2"),
    pytest.param("""
        from ray.train import ScalingConfig
        from ray.train.torch import TorchTrainer
        trainer = TorchTrainer(fn, scaling_config=ScalingConfig(num_workers=4))
        """, ("ray", 4), id="ray_scaling_config_workers__4"),
    pytest.param("""
        from snowflake.ml.modeling.distributors.xgboost import XGBEstimator, XGBScalingConfig
        est = XGBEstimator(params={}, scaling_config=XGBScalingConfig(num_workers=3))
        """, ("snowflake_distributor", 3), id="snowflake_xgb_estimator__3"),
    pytest.param("""
        from snowflake.ml.modeling.distributors.pytorch import PyTorchDistributor, PyTorchScalingConfig
        cfg = PyTorchScalingConfig(num_nodes=2, num_workers_per_node=4)
        d = PyTorchDistributor(train, scaling_config=cfg)
        """, ("snowflake_distributor", 2), id="snowflake_pytorch_distributor__2"),
    pytest.param("""
        from snowflake.ml.modeling.distributors.lightgbm import LightGBMEstimator
        est = LightGBMEstimator(n_estimators=50)
        """, ("snowflake_distributor", 2), id="snowflake_lightgbm_estimator__default_2"),
    pytest.param("""
        from snowflake.ml.runtime_cluster import scale_cluster
        scale_cluster(5)
        """, ("snowflake_cluster", 5), id="snowflake_scale_cluster__5"),
    # Processes are not nodes: these run several processes that usually share one node (8 GPUs fit one).
    pytest.param("""
        import torch.distributed as dist
        WORLD = 8
        dist.init_process_group("nccl", world_size=WORLD)
        """, None, id="init_process_group_world_size_var__single_node"),
    pytest.param("""
        import os
        local_rank = int(os.environ["LOCAL_RANK"])
        """, None, id="local_rank_env_read__single_node"),
    pytest.param("""
        import os
        if "WORLD_SIZE" in os.environ:
            pass
        """, None, id="world_size_in_environ__single_node"),
    pytest.param("""
        import subprocess
        subprocess.run(["torchrun", "--standalone", "--nproc_per_node=4", "train.py"])
        """, None, id="torchrun_standalone__single_node"),
    pytest.param("""
        import subprocess
        subprocess.run(["torchrun", "--nnodes=1", "--nproc_per_node=8", "train.py"])
        """, None, id="torchrun_one_node__single_node"),
    pytest.param("""
        import os
        node_rank = int(os.environ["NODE_RANK"])
        """, ("torch_distributed", 2), id="node_rank_env_read__2"),
    pytest.param("""
        import os
        master = os.environ["MASTER_ADDR"]
        """, ("torch_distributed", 2), id="master_addr_env_read__2"),
    pytest.param("""
        import os
        os.environ["MASTER_ADDR"] = "localhost"
        """, None, id="master_addr_env_write__single_node"),
    pytest.param("""
        import subprocess
        subprocess.run(["accelerate", "launch", "--num_machines=2", "train.py"])
        """, ("accelerate", 2), id="accelerate_launch_two_machines__2"),
    pytest.param("""
        import subprocess
        subprocess.run("accelerate launch --num_processes=4 train.py".split())
        """, None, id="accelerate_launch_one_machine__single_node"),
    pytest.param("""
        import subprocess
        subprocess.run(["torchrun", "--nnodes=3", "--nproc_per_node=8", "train.py"])
        """, ("torch_distributed", 3), id="torchrun_launcher_nnodes__3"),
    pytest.param("""
        import os
        os.system("accelerate launch --num_machines 2 train.py")
        """, ("accelerate", 2), id="accelerate_launch_string__2"),
    pytest.param("""
        import deepspeed
        engine, *_ = deepspeed.initialize(model=model, config="ds.json")
        """, ("deepspeed", 2), id="deepspeed_initialize__2"),
    pytest.param("import horovod.torch as hvd\nhvd.init()\n", ("horovod", 2), id="horovod__2"),
    pytest.param("""
        import os, json
        cfg = json.loads(os.environ.get("TF_CONFIG", "{}"))
        """, ("tensorflow_multiworker", 2), id="tf_config_env__2"),
    pytest.param("""
        from ray.train import ScalingConfig
        ScalingConfig(num_workers=1000)
        """, ("ray", 16), id="huge_worker_count__capped"),
    pytest.param("""
        from torch.utils.data import DataLoader
        DataLoader(ds, num_workers=8)
        """, None, id="dataloader_workers__none"),
    pytest.param("""
        print("launch with: torchrun --nnodes=4 train.py")
        print("LOCAL_RANK")
        """, None, id="launcher_mentions_in_print__none"),
    pytest.param('"""Run with ray.init() on several nodes."""\nimport ray\n', None,
                 id="docstring_and_bare_import__none"),
]


@pytest.mark.parametrize(("code", "expected"), MULTI_NODE_CASES)
def test_decide_compute__multi_node_code__hint(code: str, expected: tuple[str, int] | None) -> None:
    """Code written for several nodes gets a hint with its framework and a node count."""
    hint = verdict_of(code).multi_node
    actual = None if hint is None else (hint.framework, hint.suggested_instances)
    assert actual == expected
    if hint is not None:
        assert hint.evidence and all(e.code and e.reason for e in hint.evidence)


def test_decide_compute__several_frameworks__snowflake_first_with_all_evidence() -> None:
    """The Snowflake distributor wins over plain Ray, and the evidence of both is kept."""
    hint = verdict_of("""
        import ray
        from snowflake.ml.modeling.distributors.xgboost import XGBEstimator
        ray.init()
        """).multi_node
    assert hint is not None and hint.framework == "snowflake_distributor"
    assert {e.reason.split(":")[0] for e in hint.evidence} == {"snowflake_distributor", "ray"}


# --------------------------------------------------------------------------------------------------- contract


def test_scan_compute__finding__carries_file_line_excerpt_reason() -> None:
    """A finding says where (path, line, col), shows the code and explains itself."""
    result = scan("import torch\n\nx = torch.ones(2)\ny = x.to('cuda')  # move\n", "pkg/train.py")
    (finding,) = result.gpu
    assert finding.location.path == "pkg/train.py"
    assert (finding.location.line, finding.location.col) == (4, 4)
    assert finding.evidence == "x.to('cuda')"
    assert "CUDA" in finding.reason


def test_scan_compute__notebook__cell_relative_locations() -> None:
    """In a notebook, locations point at the cell and the line within it."""
    text = "import torch\n\nmodel.cuda()\n"
    src = SourceFile("nb.ipynb", text, ast.parse(text), cells=(CellSpan(1, 1, 1), CellSpan(3, 2, 3)))
    (finding,) = scan_compute(src, RULES).gpu
    assert (finding.location.cell, finding.location.line) == (3, 2)


def test_scan_compute__result__picklable_and_equal() -> None:
    """Scans cross process boundaries and caches unchanged."""
    result = scan("""
        import ray, torch
        from transformers import Trainer
        m = AutoModel.from_pretrained("meta-llama/Llama-2-7b-hf")
        model.cuda()
        ray.init()
        Trainer(model=m).train()
        """)
    assert result.gpu and result.multi_node and result.large_models and result.training
    assert pickle.loads(pickle.dumps(result)) == result


def test_compute_rules__tiny_inline_table__used_instead_of_the_shipped_one() -> None:
    """Rules come from data: a tiny inline table changes what is found."""
    rules = ComputeRules.from_data({
        "gpu_modules": {"fancygpu": {"reason": "FancyGPU runs on GPUs"}},
        "gpu_methods": {"to_gpu": {"signal": "cuda_call", "reason": "moves to the GPU"}},
    })
    src = source("import fancygpu\nimport cupy\nx.to_gpu()\nmodel.cuda()\n")
    result = scan_compute(src, rules)
    assert [(f.signal, f.location.line) for f in result.gpu] == [("gpu_library", 1), ("cuda_call", 3)]


def test_compute_rules__shipped_table__picklable_for_worker_processes() -> None:
    """The composer pickles the rules once per worker; they must survive the trip unchanged."""
    assert pickle.loads(pickle.dumps(RULES)) == RULES


def test_compute_rules__malformed_table__value_error() -> None:
    """A broken table fails loudly at load, naming the table."""
    with pytest.raises(ValueError, match="gpu_patterns"):
        ComputeRules.from_data({"gpu_modules": {"cupy": {"signal": "cuda_call"}}})
