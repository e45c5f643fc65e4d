"""The families issue 12 found missing, each as a small snippet written for this test (not copied code).

Tables print source, expected and actual: a new family is one row. The real-world set that measures these
on public code is bench/realworld/ (run on demand; it needs a local cache).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from mljobs.analyzers import analyze
from mljobs.analyzers.commands import read_command
from mljobs.analyzers.model import ComputeTarget
from mljobs.analyzers.modelsize import model_size

GPU, CPU = ComputeTarget.GPU, ComputeTarget.CPU


def _run(tmp_path: Path, rules, code: str, name: str = "job.py", files: dict[str, str] | None = None):
    root = tmp_path / "proj"
    root.mkdir(parents=True)
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text), encoding="utf-8")
    if name.endswith(".ipynb"):
        cells = [{"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None}
                 for c in textwrap.dedent(code).split("# ----\n")]
        (root / name).write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    else:
        (root / name).write_text(textwrap.dedent(code), encoding="utf-8")
    return analyze(root, name, rules=rules) if files else analyze(root / name, rules=rules)


# ------------------------------------------------------------------------------------------------ GPU

VERDICTS = [
    pytest.param("""
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
        model.fit(train_objectives=[(loader, loss)], epochs=1)
        """, CPU, id="st_fit_minilm__small_model_trains_on_cpu"),
    pytest.param("""
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer("bert-base-uncased")
        model.fit(train_objectives=[(loader, loss)], epochs=1)
        """, GPU, id="st_fit_base__gpu"),
    pytest.param("""
        import sys
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer(sys.argv[1])
        model.fit(train_objectives=[(loader, loss)], epochs=1)
        """, GPU, id="st_fit_unknown_model__gpu"),
    pytest.param("""
        from fastai.vision.all import *
        learn = vision_learner(dls, resnet34, metrics=error_rate)
        learn.fine_tune(3)
        """, GPU, id="fastai_vision_learner_star_import__gpu"),
    pytest.param("""
        from fastai.tabular.all import *
        learn = tabular_learner(dls, metrics=accuracy)
        learn.fit(16, lr=0.03)
        """, CPU, id="fastai_tabular__cpu"),
    pytest.param("""
        import jax
        p_step = jax.pmap(train_step, axis_name="batch")
        """, GPU, id="jax_pmap__gpu"),
    pytest.param("""
        import keras_hub
        lm = keras_hub.models.GemmaCausalLM.from_preset("gemma2_instruct_2b_en")
        lm.fit(data, epochs=1)
        """, GPU, id="keras_hub_preset_2b__gpu"),
    pytest.param("""
        import torch
        from transformers import AutoModel
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = AutoModel.from_pretrained("google/vit-base-patch16-224").to(device)
        embeddings = model(pixels.to(device))
        """, CPU, id="conditional_device_inference_only__cpu"),
    pytest.param("""
        import lightning as L
        def play(net, device):
            if device not in ["cpu"]:
                state = state.cuda(device)
        trainer = L.Trainer(accelerator="cpu", devices=1)
        """, CPU, id="cuda_behind_cpu_test__conditional"),
]


@pytest.mark.parametrize(("code", "expected"), VERDICTS)
def test_verdict__family__expected(tmp_path: Path, rules, code: str, expected: ComputeTarget) -> None:
    a = _run(tmp_path, rules, code)
    assert a.compute.recommendation is expected, f"{textwrap.dedent(code)}\n-> {a.compute.reason}"


NOTEBOOK_VERDICTS = [
    pytest.param("!python run_glue.py --model_name_or_path bert-base-uncased --do_train --output_dir out\n",
                 GPU, "bert-base-uncased", id="training_cli_base_model__gpu"),
    pytest.param("!torchrun --nproc_per_node 4 train.py\n", GPU, "torchrun", id="torchrun__gpu"),
    pytest.param("!pip install -q torch==2.1.0+cu121 --index-url https://download.pytorch.org/whl/cu121\n"
                 "# ----\nimport torch\n", GPU, "CUDA builds", id="cuda_wheel_install__gpu"),
    pytest.param("!python prepare_data.py --out data.csv\n# ----\nimport pandas as pd\n", CPU, None,
                 id="non_training_program__cpu_not_certain"),
]


@pytest.mark.parametrize(("code", "expected", "cited"), NOTEBOOK_VERDICTS)
def test_verdict__notebook_command_line__expected(tmp_path: Path, rules, code: str, expected, cited) -> None:
    a = _run(tmp_path, rules, code, "nb.ipynb")
    assert a.compute.recommendation is expected, a.compute.reason
    if cited:
        assert cited in a.compute.reason
    if expected is CPU:
        assert a.compute.confidence.value != "certain"  # a program we cannot read runs


def test_verdict__lightningcli_config_yaml__accelerator_decides(tmp_path: Path, rules) -> None:
    train = "from lightning.pytorch.cli import LightningCLI\nLightningCLI(run=False)\n"
    gpu = _run(tmp_path / "a", rules, train, "train.py",
               {"configs/run.yaml": "trainer:\n  accelerator: gpu\n  devices: [0]\n"})
    cpu = _run(tmp_path / "b", rules, train, "train.py",
               {"configs/run.yaml": "trainer:\n  accelerator: cpu\n  devices: 4\n"})
    assert gpu.compute.recommendation is GPU and "configs/run.yaml" in gpu.compute.reason
    assert cpu.compute.recommendation is CPU


def test_verdict__model_id_in_recipe__large_fine_tune(tmp_path: Path, rules) -> None:
    a = _run(tmp_path, rules, "from transformers import Trainer\nTrainer(model=m).train()\n", "train.py",
             {"recipe.yaml": "model:\n  name_or_path: Qwen/Qwen2.5-7B-Instruct\n"})
    assert a.compute.recommendation is GPU and a.compute.confidence.value == "certain"
    assert "huggingface" in {n.category.value for n in a.network}  # the recipe's model comes from the Hub


SIZES = [
    ("sentence-transformers/all-MiniLM-L6-v2", 20, "text"),
    ("bert-base-uncased", 110, "text"),
    ("distilroberta-base", 66, "text"),
    ("meta-llama/Llama-2-7b-hf", 7000, "text"),
    ("resnet50", 25, "vision"),
    ("facebook/opt-350m", 350, "text"),
]


@pytest.mark.parametrize(("name", "millions", "kind"), SIZES)
def test_model_size__id__family_table(rules, name: str, millions: float, kind: str) -> None:
    assert model_size(name, rules.compute.model_sizes) == (millions, kind)


def test_model_size__not_a_model__none(rules) -> None:
    assert model_size("output directory", rules.compute.model_sizes) is None
    assert model_size("https://example.com/x", rules.compute.model_sizes) is None


COMMANDS = [
    ("accelerate launch --mixed_precision fp16 train.py", True, {"data_parallel", "accelerator"}, []),
    ("python finetune.py --base_model 'huggyllama/llama-7b' --num_train_epochs 3", True, set(), ["huggyllama/llama-7b"]),
    ("python train.py --gpus 2 --fp16", True, {"accelerator", "half_precision"}, []),
    ("python eval.py --device cpu", False, set(), []),
    ("pip install cudf-cu12 --extra-index-url=https://pypi.nvidia.com", False, {"gpu_library"}, []),
]


@pytest.mark.parametrize(("line", "trains", "signals", "models"), COMMANDS)
def test_read_command__line__facts(rules, line: str, trains: bool, signals: set, models: list) -> None:
    facts = read_command(line, rules.compute.commands)
    assert (facts.trains, {s for s, _ in facts.gpu}, facts.models) == (trains, signals, models), line


# ------------------------------------------------------------------------------------------------ network

NETWORK = [
    pytest.param("import boto3\nc = boto3.client('bedrock-runtime', region_name='eu-west-1')\n",
                 "cloud_ml", "bedrock-runtime.eu-west-1.amazonaws.com", id="bedrock_regional_host"),
    pytest.param("AWS_REGION = 'us-east-2'\nimport boto3\nc = boto3.client(service_name='sagemaker-runtime', region_name=AWS_REGION)\n",
                 "cloud_ml", "runtime.sagemaker.us-east-2.amazonaws.com", id="sagemaker_region_constant"),
    pytest.param("import vertexai\nvertexai.init(project='p', location='europe-west4')\n",
                 "cloud_ml", "europe-west4-aiplatform.googleapis.com", id="vertex_location"),
    pytest.param("from vertexai.language_models import TextEmbeddingModel\nm = TextEmbeddingModel.from_pretrained('x')\n",
                 "cloud_ml", "us-central1-aiplatform.googleapis.com", id="vertex_default_location"),
    pytest.param("from mistralai import Mistral\nclient = Mistral(api_key=k)\n", "llm_api", "api.mistral.ai",
                 id="mistral_client"),
    pytest.param("import neptune\nrun = neptune.init_run(project='a/b')\n", "tracker", "app.neptune.ai",
                 id="neptune_run"),
    pytest.param("from roboflow import Roboflow\nrf = Roboflow(api_key=k)\n", "dataset_platform", "api.roboflow.com",
                 id="roboflow_sdk"),
    pytest.param("import dagshub\ndagshub.init(repo_owner='a', repo_name='b', mlflow=True)\n", "mlflow", "dagshub.com",
                 id="dagshub_hosted_mlflow"),
    pytest.param("import weave\nweave.init('project')\n", "wandb", "trace.wandb.ai", id="weave_traces"),
    pytest.param("from fastai.vision.all import *\npath = untar_data(URLs.PETS)\n", "s3", "s3.amazonaws.com",
                 id="fastai_dataset_star_import"),
    pytest.param("from lightning.pytorch.demos import WikiText2\nds = WikiText2()\n", "http",
                 "raw.githubusercontent.com", id="library_download_host"),
    pytest.param("from sentence_transformers import util\nURL = 'https://data.example.org/c.tsv'\nutil.http_get(URL, 'c.tsv')\n",
                 "http", "data.example.org", id="url_in_module_constant"),
]


@pytest.mark.parametrize(("code", "category", "host"), NETWORK)
def test_network__service__category_and_host(tmp_path: Path, rules, code: str, category: str, host: str) -> None:
    a = _run(tmp_path, rules, code)
    got = {n.category.value: set(n.hosts) for n in a.network}
    assert host in got.get(category, set()), f"{code}\n-> {got}"


def test_network__notebook_model_flag__huggingface(tmp_path: Path, rules) -> None:
    a = _run(tmp_path, rules, "!python run_clm.py --model_name_or_path gpt2 --do_train\n", "nb.ipynb")
    assert "huggingface" in {n.category.value for n in a.network}


# ------------------------------------------------------------------------------------------------ packages


def test_packages__declared_but_not_imported__reported_apart(tmp_path: Path, rules) -> None:
    a = _run(tmp_path, rules, "import xgboost\n", "main.py", {"requirements.txt": "xgboost\njupyter\n"})
    by = {p.distribution: p for p in a.packages}
    assert by["jupyter"].declared_only and not by["xgboost"].declared_only


def test_packages__sub_distributions_and_companions(tmp_path: Path, rules) -> None:
    a = _run(tmp_path, rules, "import jax\nimport jaxlib\nfrom orbax.export import JaxModule\nimport composer\n")
    names = {p.distribution for p in a.packages}
    assert {"jax", "orbax-export", "mosaicml"} <= names
    assert not {"jaxlib", "orbax", "composer"} & names


def test_names__subclass_of_imported_class__stands_for_it(tmp_path: Path, rules) -> None:
    a = _run(tmp_path, rules, """
        from transformers import Trainer
        class MyTrainer(Trainer):
            pass
        MyTrainer(model=m, args=a).train()
        """)
    assert a.compute.recommendation is GPU


def test_confidence__own_order__certain_above_likely_above_guess() -> None:
    from mljobs.analyzers.model import Confidence as C

    assert C.GUESS < C.LIKELY < C.CERTAIN
    assert max([C.LIKELY, C.CERTAIN, C.GUESS]) is C.CERTAIN and min(C.LIKELY, C.GUESS) is C.GUESS
    assert sorted([C.CERTAIN, C.GUESS, C.LIKELY]) == [C.GUESS, C.LIKELY, C.CERTAIN]
