"""Network pass: which code needs which outbound access, with the real catalog and tiny inline tables."""

from __future__ import annotations

import ast
import textwrap

import pytest

from mljobs.analyzers.model import (
    Confidence,
    Evidence,
    Location,
    NetworkCategory,
    NetworkFinding,
    PackageFinding,
    PackageStatus,
)
from mljobs.analyzers.network import NetworkRules, scan_network, summarize_network
from mljobs.analyzers.source import CellSpan, SourceFile
from mljobs.skill.knowledge import load_table

RULES = NetworkRules.from_data(load_table("network_catalog"))
HF = "huggingface"


def source(text: str, path: str = "train.py") -> SourceFile:
    text = textwrap.dedent(text).lstrip("\n")
    return SourceFile(path, text, ast.parse(text))


def findings_of(text: str, rules: NetworkRules = RULES) -> tuple[NetworkFinding, ...]:
    return scan_network(source(text), rules)


def compare(text: str, expected: object, actual: object) -> None:
    assert actual == expected, (
        f"\nsource:\n{textwrap.dedent(text)}\nexpected: {expected!r}\nactual:   {actual!r}"
    )


# (category, line) of every finding, in order.
CATEGORY_CASES = [
    # -- huggingface
    pytest.param("""
        from transformers import AutoModelForCausalLM
        m = AutoModelForCausalLM.from_pretrained("gpt2")
        """, [(HF, 2)], id="automodel_hub_id__huggingface"),
    pytest.param("""
        import transformers as tr
        tok = tr.AutoTokenizer.from_pretrained("meta-llama/Llama-3-8B")
        """, [(HF, 2)], id="aliased_module_tokenizer__huggingface"),
    pytest.param("""
        from transformers import AutoModel
        m = AutoModel.from_pretrained("./checkpoints/best")
        """, [], id="local_relative_path__no_network"),
    pytest.param("""
        from transformers import AutoModel
        m = AutoModel.from_pretrained("/mnt/models/bert")
        """, [], id="local_absolute_path__no_network"),
    pytest.param("""
        from transformers import AutoModel
        m = AutoModel.from_pretrained("output/checkpoint-500")
        """, [], id="trainer_checkpoint_dir__no_network"),
    pytest.param("""
        import os
        from transformers import AutoModel
        m = AutoModel.from_pretrained(os.path.join(ROOT, "model"))
        """, [], id="path_join_model__no_network"),
    pytest.param("""
        from transformers import AutoModel
        MODEL = "distilbert-base-uncased"
        def load():
            return AutoModel.from_pretrained(MODEL)
        """, [(HF, 4)], id="module_constant_model_name__huggingface"),
    pytest.param("""
        from transformers import AutoModel
        def load():
            return AutoModel.from_pretrained(LOCAL)
        LOCAL = "./weights"
        """, [], id="constant_defined_below_local__no_network"),
    pytest.param("""
        from transformers import AutoModel
        def load(args):
            return AutoModel.from_pretrained(args.model_name_or_path)
        """, [(HF, 3)], id="model_from_cli_arg__huggingface_likely"),
    pytest.param("""
        from transformers import pipeline
        clf = pipeline("sentiment-analysis")
        """, [(HF, 2)], id="pipeline_default_model__huggingface"),
    pytest.param("""
        from transformers import pipeline
        clf = pipeline("text-generation", model="./my_model")
        """, [], id="pipeline_local_model__no_network"),
    pytest.param("""
        from transformers import pipeline
        clf = pipeline("text-generation", model=model, tokenizer=tokenizer)
        """, [], id="pipeline_model_object__no_network"),
    pytest.param("""
        from sentence_transformers import SentenceTransformer
        enc = SentenceTransformer("all-MiniLM-L6-v2")
        """, [(HF, 2)], id="sentence_transformer__huggingface"),
    pytest.param("""
        from huggingface_hub import hf_hub_download
        path = hf_hub_download(repo_id="org/repo", filename="model.bin")
        """, [(HF, 2)], id="hf_hub_download__huggingface"),
    pytest.param("""
        import huggingface_hub
        huggingface_hub.snapshot_download("org/repo")
        """, [(HF, 2)], id="snapshot_download_drops_import_guess__huggingface"),
    pytest.param("""
        from datasets import load_dataset
        ds = load_dataset("imdb")
        """, [(HF, 2)], id="load_dataset_hub__huggingface"),
    pytest.param("""
        from datasets import load_dataset
        ds = load_dataset("csv", data_files="data/train.csv")
        """, [], id="load_dataset_local_csv__no_network"),
    pytest.param("""
        from datasets import load_dataset
        ds = load_dataset("csv", data_files={"train": "https://example.com/train.csv"})
        """, [("http", 2)], id="load_dataset_remote_csv__http"),
    pytest.param("""
        import evaluate
        metric = evaluate.load("accuracy")
        """, [(HF, 2)], id="evaluate_load__huggingface"),
    pytest.param("""
        from peft import PeftModel
        m = PeftModel.from_pretrained(base, "org/lora-adapter")
        """, [(HF, 2)], id="peft_adapter_second_arg__huggingface"),
    pytest.param("""
        from peft import PeftModel
        m = PeftModel.from_pretrained(base, "./adapter")
        """, [], id="peft_local_adapter__no_network"),
    pytest.param("""
        import transformers
        model_cls = get_class()
        m = model_cls.from_pretrained("roberta-base")
        """, [(HF, 3)], id="unresolved_receiver_with_transformers_import__huggingface"),
    pytest.param("""
        m = MyModel.from_pretrained("roberta-base")
        """, [], id="from_pretrained_without_hub_library__no_network"),
    pytest.param("""
        from transformers import TrainingArguments
        args = TrainingArguments(output_dir="out", push_to_hub=True)
        """, [(HF, 2)], id="training_args_push_to_hub__huggingface"),
    pytest.param("""
        import transformers
        trainer.push_to_hub()
        """, [(HF, 2)], id="trainer_push_to_hub__huggingface"),
    pytest.param("""
        import timm
        m = timm.create_model("resnet50", pretrained=True)
        """, [(HF, 2)], id="timm_pretrained__huggingface"),
    pytest.param("""
        import timm
        m = timm.create_model("resnet50", pretrained=False)
        """, [], id="timm_not_pretrained__no_network"),
    # -- pytorch_hub / torchvision
    pytest.param("""
        import torch
        model = torch.hub.load("pytorch/vision:v0.10.0", "resnet18", pretrained=True)
        """, [("pytorch_hub", 2)], id="torch_hub_load__pytorch_hub"),
    pytest.param("""
        import torch
        model = torch.hub.load("./repo", "custom", source="local")
        """, [], id="torch_hub_local_source__no_network"),
    pytest.param("""
        from torch.hub import load_state_dict_from_url
        sd = load_state_dict_from_url("https://download.pytorch.org/models/resnet18.pth")
        """, [("pytorch_hub", 2)], id="load_state_dict_from_url__pytorch_hub_not_http"),
    pytest.param("""
        import torchvision
        m = torchvision.models.resnet50(pretrained=True)
        """, [("torchvision_download", 2)], id="resnet_pretrained__torchvision"),
    pytest.param("""
        from torchvision.models import resnet50, ResNet50_Weights
        m = resnet50(weights=ResNet50_Weights.DEFAULT)
        """, [("torchvision_download", 2)], id="resnet_weights_enum__torchvision"),
    pytest.param("""
        from torchvision import models
        m = models.resnet50(weights=None)
        """, [], id="resnet_weights_none__no_network"),
    pytest.param("""
        import torchvision.models as tvm
        m = tvm.detection.fasterrcnn_resnet50_fpn(weights="DEFAULT")
        """, [("torchvision_download", 2)], id="detection_model_weights__torchvision"),
    pytest.param("""
        from torchvision import datasets
        train = datasets.CIFAR10(root="data", train=True, download=True)
        """, [("torchvision_download", 2)], id="cifar_download__torchvision"),
    pytest.param("""
        from torchvision import datasets
        train = datasets.CIFAR10(root="data", train=True, download=False)
        """, [], id="cifar_no_download__no_network"),
    pytest.param("""
        from torchvision.datasets import ImageFolder
        train = ImageFolder("data/train")
        """, [], id="image_folder__no_network"),
    # -- tfhub / keras
    pytest.param("""
        import tensorflow_hub as hub
        layer = hub.KerasLayer("https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5")
        """, [("tfhub", 2)], id="tfhub_keras_layer__tfhub"),
    pytest.param("""
        import tensorflow_hub as hub
        m = hub.load("/models/saved_model")
        """, [], id="tfhub_local_dir__no_network"),
    pytest.param("""
        import tensorflow as tf
        (x, y), _ = tf.keras.datasets.mnist.load_data()
        """, [("keras_download", 2)], id="keras_dataset__keras_download"),
    pytest.param("""
        from tensorflow.keras.applications import ResNet50
        base = ResNet50(include_top=False, input_shape=(224, 224, 3))
        """, [("keras_download", 2)], id="keras_app_default_imagenet__keras_download"),
    pytest.param("""
        from keras.applications import MobileNetV2
        base = MobileNetV2(weights=None)
        """, [], id="keras_app_no_weights__no_network"),
    pytest.param("""
        from tensorflow.keras.applications.resnet50 import preprocess_input
        x = preprocess_input(x)
        """, [], id="keras_preprocess_input__no_network"),
    pytest.param("""
        import tensorflow as tf
        path = tf.keras.utils.get_file("flowers", origin="https://storage.googleapis.com/x/flower_photos.tgz")
        """, [("keras_download", 2)], id="keras_get_file__keras_download"),
    # -- nltk / sklearn
    pytest.param("""
        import nltk
        nltk.download("punkt")
        tokens = nltk.word_tokenize(text)
        """, [("nltk", 2)], id="nltk_download__nltk"),
    pytest.param("""
        from sklearn.datasets import fetch_openml
        X, y = fetch_openml("mnist_784", version=1, return_X_y=True)
        """, [("sklearn_download", 2)], id="fetch_openml__sklearn_download"),
    pytest.param("""
        from sklearn.datasets import fetch_california_housing
        data = fetch_california_housing(download_if_missing=False)
        """, [], id="fetch_without_download__no_network"),
    pytest.param("""
        from sklearn.datasets import load_iris
        X, y = load_iris(return_X_y=True)
        """, [], id="bundled_dataset__no_network"),
    # -- tracking
    pytest.param("""
        import wandb
        wandb.init(project="p")
        wandb.log({"loss": 1.0})
        """, [("wandb", 2), ("wandb", 3)], id="wandb_init_log__wandb"),
    pytest.param("""
        import wandb
        """, [("wandb", 1)], id="wandb_import_only__wandb_guess"),
    pytest.param("""
        import wandb
        wandb.init(mode="disabled")
        wandb.log({"loss": 1.0})
        """, [], id="wandb_disabled__no_network"),
    pytest.param("""
        import os
        import wandb
        os.environ["WANDB_MODE"] = "offline"
        wandb.init()
        """, [], id="wandb_offline_env__no_network"),
    pytest.param("""
        from transformers import TrainingArguments
        args = TrainingArguments(output_dir="out", report_to=["wandb"])
        """, [("wandb", 2)], id="report_to_wandb__wandb"),
    pytest.param("""
        from transformers import TrainingArguments
        args = TrainingArguments(output_dir="out", report_to="none")
        """, [], id="report_to_none__no_network"),
    pytest.param("""
        from lightning.pytorch.loggers import WandbLogger
        logger = WandbLogger(project="p")
        """, [("wandb", 2)], id="lightning_wandb_logger__wandb"),
    pytest.param("""
        import mlflow
        mlflow.set_tracking_uri("http://mlflow.internal:5000")
        mlflow.log_metric("loss", 1.0)
        """, [("mlflow", 2)], id="mlflow_literal_uri__mlflow_host"),
    pytest.param("""
        import mlflow
        mlflow.set_tracking_uri("file:./mlruns")
        mlflow.log_metric("loss", 1.0)
        """, [], id="mlflow_file_store__no_network"),
    pytest.param("""
        import mlflow
        with mlflow.start_run():
            mlflow.log_metric("loss", 1.0)
        """, [("mlflow", 2), ("mlflow", 3)], id="mlflow_no_uri__mlflow_host_unknown"),
    pytest.param("""
        from comet_ml import Experiment
        exp = Experiment(project_name="p")
        """, [("comet", 2)], id="comet_experiment__comet"),
    # -- LLM APIs
    pytest.param("""
        from openai import OpenAI
        client = OpenAI()
        r = client.chat.completions.create(model="gpt-4o", messages=[])
        """, [("openai", 2)], id="openai_client__openai"),
    pytest.param("""
        from openai import OpenAI
        client = OpenAI(base_url="http://localhost:8000/v1")
        """, [], id="openai_local_server__no_network"),
    pytest.param("""
        import anthropic
        client = anthropic.Anthropic()
        """, [("anthropic", 2)], id="anthropic_client__anthropic"),
    # -- cloud storage
    pytest.param("""
        import boto3
        s3 = boto3.client("s3")
        s3.download_file("my-bucket", "key", "local")
        """, [("s3", 2), ("s3", 3)], id="boto3_s3__s3"),
    pytest.param("""
        import boto3
        s3 = boto3.Session(profile_name="x").resource("s3")
        """, [("s3", 2)], id="boto3_session_resource__s3"),
    pytest.param("""
        import pandas as pd
        df = pd.read_parquet("s3://bucket-a/data.parquet")
        """, [("s3", 2)], id="pandas_s3_url__s3"),
    pytest.param("""
        from google.cloud import storage
        client = storage.Client()
        """, [("gcs", 2)], id="gcs_client__gcs"),
    pytest.param("""
        import pandas as pd
        df = pd.read_csv("gs://bucket/data.csv")
        """, [("gcs", 2)], id="pandas_gs_url__gcs"),
    pytest.param("""
        from azure.storage.blob import BlobServiceClient
        svc = BlobServiceClient(account_url="https://acct.blob.core.windows.net")
        """, [("azure", 2)], id="azure_blob_client__azure"),
    pytest.param("""
        import pandas as pd
        df = pd.read_csv("abfs://container@acct.dfs.core.windows.net/data.csv")
        """, [("azure", 2)], id="pandas_abfs_url__azure"),
    # -- http
    pytest.param("""
        import requests
        r = requests.get("https://api.example.com/data.json")
        """, [("http", 2)], id="requests_literal__http"),
    pytest.param("""
        import requests as rq
        BASE = "https://api.example.com"
        def fetch(path):
            return rq.get(f"{BASE}/{path}")
        """, [("http", 4)], id="constant_in_fstring__http"),
    pytest.param("""
        import urllib.request
        URLS = ["https://a.example.com/x.zip", "https://b.example.com/y.zip"]
        for url in URLS:
            urllib.request.urlretrieve(url, "x.zip")
        """, [("http", 4), ("http", 4)], id="loop_over_constant_list__http_each"),
    pytest.param("""
        import requests
        def fetch(url):
            return requests.get(url)
        """, [("http", 3)], id="dynamic_url__http_host_unknown"),
    pytest.param("""
        import requests
        # see https://docs.example.com
        def f():
            '''Fetch from https://docs.example.com/api.'''
            return 1
        """, [], id="url_in_comment_and_docstring__no_network"),
    pytest.param("""
        import argparse
        p = argparse.ArgumentParser(description="https://github.com/me/repo")
        p.add_argument("--x", help="https://example.com/help")
        print("https://example.com")
        logger.info("https://example.com")
        """, [], id="url_in_help_print_log__no_network"),
    pytest.param("""
        HOMEPAGE = "https://example.com"
        """, [], id="unused_url_constant__no_network"),
    pytest.param("""
        import requests
        r = requests.get("http://localhost:8080/health")
        """, [], id="localhost_url__no_network"),
    pytest.param("""
        import requests
        r = requests.get("https://huggingface.co/datasets/x/resolve/main/a.csv")
        """, [(HF, 2)], id="hf_url__huggingface_not_http"),
    pytest.param("""
        import pandas as pd
        df = pd.read_csv("https://raw.githubusercontent.com/me/repo/main/data.csv")
        """, [("http", 2)], id="pandas_read_url__http"),
    pytest.param("""
        import subprocess, sys
        subprocess.check_call([sys.executable, "-m", "pip", "install", "lightgbm"])
        """, [("pypi", 2)], id="subprocess_pip_install__pypi"),
    pytest.param("""
        import os
        os.system("pip install -q xgboost")
        """, [("pypi", 2)], id="os_system_pip__pypi"),
    pytest.param("""
        import os
        os.system("wget https://example.com/data.zip && unzip data.zip")
        """, [("http", 2)], id="os_system_wget__http"),
    pytest.param("""
        import subprocess
        subprocess.run(["ls", "-la"])
        """, [], id="subprocess_no_network__none"),
    pytest.param("""
        import gdown
        gdown.download(id="abc", output="x.zip")
        """, [("http", 2)], id="gdown__http_drive"),
    pytest.param("""
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained("gpt2", local_files_only=True)
        """, [], id="local_files_only__no_network"),
    pytest.param("""
        import os
        from transformers import AutoModel
        MODEL_DIR = os.path.join(BASE, "artifacts", "model")
        m = AutoModel.from_pretrained(MODEL_DIR)
        """, [], id="constant_built_with_path_join__no_network"),
    pytest.param("""
        import os
        os.environ["HF_HUB_OFFLINE"] = "1"
        from transformers import AutoModel
        m = AutoModel.from_pretrained("gpt2")
        """, [], id="hf_offline_env__no_network"),
    pytest.param("""
        DATA_URL = "https://data.example.com/train.csv"
        """, [("http", 1)], id="unused_data_url_constant_in_config_module__http_likely"),
    pytest.param("""
        import numpy as np
        import torch
        x = torch.zeros(3)
        np.save("out.npy", x.numpy())
        """, [], id="plain_training__no_network"),
]


@pytest.mark.parametrize(("text", "expected"), CATEGORY_CASES)
def test_scan_network__snippet__categories(text: str, expected: list[tuple[str, int]]) -> None:
    """Each snippet yields exactly the expected (category, line) findings."""
    actual = [(f.category.value, f.location.line) for f in findings_of(text)]
    compare(text, expected, actual)


# Hosts of the single finding a snippet yields.
HOST_CASES = [
    pytest.param("""
        import requests
        requests.get("https://api.example.com/v1/items")
        """, ("api.example.com",), id="https_literal__host"),
    pytest.param("""
        import requests
        requests.get("http://data.example.com/x.csv")
        """, ("data.example.com:80",), id="plain_http__port_80"),
    pytest.param("""
        import mlflow
        mlflow.set_tracking_uri("https://mlflow.example.com:8443")
        """, ("mlflow.example.com:8443",), id="explicit_port__kept"),
    pytest.param("""
        import pandas as pd
        pd.read_csv("s3://my-data/train.csv")
        """, ("my-data.s3.amazonaws.com",), id="s3_bucket__bucket_host"),
    pytest.param("""
        import pandas as pd
        pd.read_csv("s3://my.dotted.bucket/train.csv")
        """, ("s3.amazonaws.com",), id="dotted_bucket__path_style_host"),
    pytest.param("""
        import boto3
        s3 = boto3.client("s3")
        """, ("*.s3.amazonaws.com", "s3.amazonaws.com"), id="boto3_s3_unknown_bucket__wildcard"),
    pytest.param("""
        import boto3
        boto3.client("s3").get_object(Bucket="bucket-1", Key="k")
        """, None, id="get_object_bucket__see_all_hosts"),
    pytest.param("""
        from openai import OpenAI
        OpenAI(base_url="https://api.together.xyz/v1")
        """, ("api.together.xyz",), id="openai_base_url__that_host"),
    pytest.param("""
        import nltk
        nltk.download("stopwords")
        """, ("raw.githubusercontent.com",), id="nltk__github_raw"),
    pytest.param("""
        from sklearn.datasets import fetch_openml
        fetch_openml(data_id=554)
        """, ("api.openml.org", "openml.org", "www.openml.org"), id="openml__openml_hosts"),
    pytest.param("""
        import requests
        requests.get("https://user:s3cr3t@private.example.com/x")
        """, ("private.example.com",), id="credentials_in_url__host_only"),
    pytest.param("""
        import requests
        requests.get("https://github.com/me/repo/releases/download/v1/w.pt")
        """, ("codeload.github.com", "github.com", "objects.githubusercontent.com",
              "release-assets.githubusercontent.com"), id="github_release__redirect_hosts"),
]


@pytest.mark.parametrize(("text", "expected"), HOST_CASES)
def test_scan_network__snippet__hosts(text: str, expected: tuple[str, ...] | None) -> None:
    """Hosts come from the literal when there is one, else from the library."""
    found = findings_of(text)
    if expected is None:
        hosts = sorted({h for f in found for h in f.hosts})
        compare(text, ["*.s3.amazonaws.com", "bucket-1.s3.amazonaws.com", "s3.amazonaws.com"], hosts)
        return
    compare(text, [expected], [f.hosts for f in found])


CONFIDENCE_CASES = [
    pytest.param('import requests\nrequests.get("https://x.example.com")\n', Confidence.CERTAIN,
                 id="literal_host__certain"),
    pytest.param('import wandb\nwandb.init()\n', Confidence.LIKELY, id="library_host__likely"),
    pytest.param('import wandb\n', Confidence.GUESS, id="import_only__guess"),
    pytest.param('import requests\ndef f(u):\n    requests.get(u)\n', Confidence.GUESS, id="dynamic_url__guess"),
]


@pytest.mark.parametrize(("text", "expected"), CONFIDENCE_CASES)
def test_scan_network__snippet__confidence(text: str, expected: Confidence) -> None:
    """Certain for literal hosts, likely for library hosts, guess for imports and run-time URLs."""
    compare(text, [expected], [f.confidence for f in findings_of(text)])


def test_scan_network__credentials__redacted_in_evidence() -> None:
    """A token in a URL never reaches evidence or reason."""
    text = 'import requests\nrequests.get("https://user:tok123@h.example.com/x?token=abc")\n'
    (finding,) = findings_of(text)
    assert "tok123" not in finding.evidence and "tok123" not in finding.reason
    assert "abc" not in finding.evidence.split("token=")[1]


def test_scan_network__inline_rules__only_those_rules() -> None:
    """A tiny inline table drives the pass: one call rule, one keyword, one import."""
    rules = NetworkRules.from_data({
        "categories": {
            "comet": {"hosts": ["c.example"], "reason": "r", "imports": ["cml"],
                      "calls": [{"match": "lib.go", "check": "always"}],
                      "keywords": {"tracker": ["comet"]}},
        },
    })
    text = "import lib\nlib.go()\nf(tracker='comet')\nrequests_get('https://x.example.com')\n"
    actual = [(f.category.value, f.location.line, f.hosts) for f in findings_of(text, rules)]
    compare(text, [("comet", 2, ("c.example",)), ("comet", 3, ("c.example",)),
                   ("http", 4, ("x.example.com",))], actual)


# ------------------------------------------------------------------------------------------- summarize


def _finding(category: str, hosts: tuple[str, ...], line: int, conf: Confidence = Confidence.LIKELY) -> NetworkFinding:
    return NetworkFinding(NetworkCategory(category), hosts, Location("a.py", line), "code", "why", conf)


def _package(name: str, status: PackageStatus, line: int = 1, optional: bool = False) -> PackageFinding:
    ev = (Evidence(Location("a.py", line), f"import {name}", "imported"),)
    return PackageFinding(name, name, status, optional, ev, "curated", Confidence.CERTAIN)


def test_summarize_network__two_files__merged_sorted_deduped() -> None:
    """Findings of one category merge: hosts deduped and sorted, all evidence kept, best confidence wins."""
    needs = summarize_network(
        [_finding("huggingface", ("huggingface.co", "cdn-lfs.hf.co"), 3),
         _finding("huggingface", ("huggingface.co",), 1, Confidence.CERTAIN),
         _finding("http", ("b.example",), 2)], [], RULES)
    assert [n.category.value for n in needs] == ["huggingface", "http"]
    assert needs[0].hosts == ("cdn-lfs.hf.co", "huggingface.co")
    assert [e.location.line for e in needs[0].evidence] == [1, 3]
    assert needs[0].confidence is Confidence.CERTAIN


@pytest.mark.parametrize(("statuses", "expected"), [
    pytest.param([PackageStatus.TO_INSTALL], True, id="to_install__pypi"),
    pytest.param([PackageStatus.PREINSTALLED, PackageStatus.TO_INSTALL], True, id="mixed__pypi"),
    pytest.param([PackageStatus.PREINSTALLED], False, id="preinstalled_only__no_pypi"),
    pytest.param([], False, id="no_packages__no_pypi"),
])
def test_summarize_network__packages__pypi_exactly_when_to_install(statuses: list[PackageStatus],
                                                                    expected: bool) -> None:
    """pypi appears exactly when some package must be installed, with that package as evidence."""
    packages = [_package(f"p{i}", s, i + 1) for i, s in enumerate(statuses)]
    needs = summarize_network([], packages, RULES)
    pypi = [n for n in needs if n.category is NetworkCategory.PYPI]
    assert bool(pypi) is expected
    if expected:
        assert pypi[0].hosts == ("files.pythonhosted.org", "pypi.org", "pypi.python.org", "pythonhosted.org")
        reasons = [e.reason for e in pypi[0].evidence]
        assert reasons == [f"p{i} is not in the runtime image"
                           for i, s in enumerate(statuses) if s is PackageStatus.TO_INSTALL]


@pytest.mark.parametrize(("status", "optional", "expected"), [
    pytest.param(PackageStatus.TO_INSTALL, True, ["pypi"], id="optional_not_in_image__no_wandb_access"),
    pytest.param(PackageStatus.PREINSTALLED, True, ["wandb"], id="optional_but_preinstalled__wandb_access"),
    pytest.param(PackageStatus.TO_INSTALL, False, ["pypi", "wandb"], id="required__wandb_access_and_pypi"),
])
def test_summarize_network__optional_import__access_only_when_installed(
    status: PackageStatus, optional: bool, expected: list[str]
) -> None:
    """`try: import wandb` that is never installed never reaches wandb (pypi still follows the status)."""
    text = """
        try:
            import wandb as wb
        except ImportError:
            wb = None
        if wb:
            wb.init(project="p")
        requests_get("https://data.example.com/x")
        """
    found = findings_of(text)
    compare(text, ["wandb", None], [f.requires for f in found])
    needs = summarize_network(found, [_package("wandb", status, optional=optional)], RULES)
    compare(text, sorted([*expected, "http"]), sorted(n.category.value for n in needs))


@pytest.mark.parametrize(("magic", "expected"), [
    pytest.param("!wget -q https://data.example.com/d.zip", [("http", ("data.example.com",))], id="wget__http"),
    pytest.param("!git clone https://github.com/me/repo", [("http", ("codeload.github.com", "github.com",
                 "objects.githubusercontent.com", "release-assets.githubusercontent.com"))], id="git_clone__http"),
    pytest.param("%pip install git+https://github.com/me/lib", [("http", ("github.com",))], id="pip_git__host_by_url_table"),
    pytest.param("!pip install -qq torch==1.8.0+cu111 -f https://download.pytorch.org/whl/torch_stable.html",
                 [("pytorch_hub", ("download.pytorch.org",))], id="pip_find_links__host_by_url_table"),
    pytest.param("%pip install pandas xgboost", [], id="plain_pip__left_to_packages"),
    pytest.param("!ls -la", [], id="shell_without_url__none"),
])
def test_scan_network__notebook_magic__shell_hosts(magic: str, expected: list[tuple[str, tuple[str, ...]]]) -> None:
    """Notebook shell lines that download count; plain %pip lines are the packages pass's business."""
    text = "x = 1\n\n"
    src = SourceFile("nb.ipynb", text, ast.parse(text), cells=(CellSpan(1, 1, 1), CellSpan(2, 2, 2)),
                     magics=((2, magic),))
    found = scan_network(src, RULES)
    compare(magic, expected, [(f.category.value, f.hosts) for f in found])
    assert all(f.location.cell == 2 for f in found)


# What a name holds where a call reads it: the binding in force there (the shared bindings layer), as
# (category, line, hosts) of every finding.
BINDING_CASES = [
    pytest.param("""
        import requests
        URL = "https://a.example.com/v1"
        def fetch():
            return requests.get(URL)
        URL = "https://b.example.com/v2"
        requests.get(URL)
        """, [("http", 4, ("a.example.com",)), ("http", 6, ("b.example.com",))],
        id="constant_rebound_later__function_between_reads_the_first"),
    pytest.param("""
        import requests
        def fetch():
            return requests.get(BASE)
        BASE = "https://api.example.com"
        """, [("http", 3, ("api.example.com",))], id="function_above_module_constant__reads_it"),
    pytest.param("""
        import requests
        MIRRORS = ["https://a.example.com/x", "https://b.example.com/x"]
        for url in MIRRORS:
            requests.get(url)
        """, [("http", 4, ("a.example.com",)), ("http", 4, ("b.example.com",))],
        id="for_url_in_constant_list__every_mirror"),
    pytest.param("""
        import requests
        for url in ["https://a.example.com/x", "https://b.example.com/x"]:
            requests.get(url)
        """, [("http", 3, ("a.example.com",)), ("http", 3, ("b.example.com",))],
        id="for_url_in_literal_list__every_item"),
    pytest.param("""
        import requests
        url = "https://stale.example.com"
        for url in get_mirrors():
            requests.get(url)
        """, [("http", 4, ())], id="loop_over_computed_iterable__earlier_binding_not_used"),
    pytest.param("""
        import requests
        PRIMARY, FALLBACK = "https://a.example.com/x", "https://b.example.com/x"
        requests.get(FALLBACK)
        """, [("http", 3, ("b.example.com",))], id="tuple_unpacking__pairwise"),
    pytest.param("""
        import requests
        def fetch():
            return requests.get(URL)
        URL = "https://a.example.com/x"
        URL: str
        """, [("http", 3, ("a.example.com",))], id="bare_annotation__does_not_hide_the_constant"),
    pytest.param("""
        import requests
        URL = "https://a.example.com/x"
        @cache(requests.get(URL))
        def handler():
            URL = "https://b.example.com/x"
            return URL
        """, [("http", 3, ("a.example.com",))], id="decorator__reads_the_binding_before_its_def"),
    pytest.param("""
        import requests
        def fetch(url="https://a.example.com/x"):
            return requests.get(url)
        """, [("http", 3, ())], id="parameter_default__caller_may_pass_another"),
    pytest.param("""
        import requests
        url = "https://a.example.com/x"
        url = url + "/more"
        requests.get(url)
        """, [("http", 4, ("a.example.com",))], id="rebinding_from_itself__followed"),
]


@pytest.mark.parametrize(("text", "expected"), BINDING_CASES)
def test_scan_network__bindings__value_in_force(text: str, expected: list[tuple[str, int, tuple[str, ...]]]) -> None:
    """A name passed to a call resolves to the binding in force at the call."""
    actual = [(f.category.value, f.location.line, f.hosts) for f in findings_of(text)]
    compare(text, expected, actual)


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param('requests.get("https://a.example.com")\n', True, id="double_quoted__possible"),
    pytest.param("u = f'{x}' + 'https://a'\n", True, id="single_quoted__possible"),
    pytest.param('u = "  https://a"\n', True, id="leading_blanks_inside_the_quotes__possible"),
    pytest.param('U = """\n    https://a.example.com/x\n"""\n', True,
                 id="own_line_of_a_triple_quoted_string__possible"),
    pytest.param('u = "\\nhttps://a"\n', True, id="after_an_escape__possible"),
    pytest.param('u = "\\x68ttps://a"\n', True, id="escaped_scheme__possible"),
    pytest.param("#     http://www.apache.org/licenses/LICENSE-2.0\nx = 1\n", False, id="license_comment__not"),
    pytest.param('"""See https://docs.example.com for more."""\n', False, id="inside_prose__not"),
    pytest.param("x = 1\n", False, id="no_url__not"),
])
def test_url_literal_possible__text__where_a_url_literal_can_be(text: str, expected: bool) -> None:
    """The file-level gate of the URL rule errs only towards "possible"."""
    from mljobs.analyzers.network_values import url_literal_possible
    assert url_literal_possible(text) is expected
    if expected is False:  # and where it says "not", the scan indeed finds no URL
        assert not [f for f in findings_of(text) if f.hosts]
