"""IO pass: output options, hard-coded outputs, local inputs, __return__, the main call and Snowpark use."""

from __future__ import annotations

import ast
import pickle
import textwrap

import pytest

from mljobs.analyzers.io import IoScan, scan_io, summarize_io
from mljobs.analyzers.model import IoKind
from mljobs.analyzers.source import SourceFile

PROJECT = frozenset({"train.py", "data/train.csv", "data/test.csv", "data/images/cat.png", "src/config.yaml",
                     "src/model.py", "src/vocab.txt", "models/bert/config.json"})


def source(text: str, path: str = "train.py") -> SourceFile:
    text = textwrap.dedent(text).lstrip("\n")
    return SourceFile(path, text, ast.parse(text))


def scan(text: str, path: str = "train.py") -> IoScan:
    return scan_io(source(text, path), PROJECT)


def compare(text: str, expected: object, actual: object) -> None:
    assert actual == expected, (
        f"\nsource:\n{textwrap.dedent(text)}\nexpected: {expected!r}\nactual:   {actual!r}"
    )


O, H, L, R, S, E = (IoKind.OUTPUT_ARG, IoKind.HARDCODED_OUTPUT, IoKind.LOCAL_INPUT, IoKind.SETS_RETURN,
                    IoKind.SNOWPARK_SESSION, IoKind.ENTRYPOINT_CALL)
T, ST = IoKind.SNOWFLAKE_TABLE, IoKind.SNOWFLAKE_STAGE

# (kind, line, detail) of every finding.
CASES = [
    # -- output options
    pytest.param("""
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--output-dir", type=str, default="./out")
        """, [(O, 3, "--output-dir")], id="argparse_output_dir__option"),
    pytest.param("""
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("-o", "--out", dest="out")
        p.add_argument("--model_dir")
        p.add_argument("--checkpoint-dir")
        p.add_argument("--results-dir")
        """, [(O, 3, "--out"), (O, 4, "--model_dir"), (O, 5, "--checkpoint-dir"), (O, 6, "--results-dir")],
        id="argparse_output_variants__options"),
    pytest.param("""
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--model_name_or_path", default="bert-base-uncased")
        p.add_argument("--data_dir", default="data")
        p.add_argument("--epochs", type=int, default=3)
        p.add_argument("--save", action="store_true")
        p.add_argument("--input-file")
        """, [], id="argparse_inputs_and_flags__no_option"),
    pytest.param("""
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("output_dir")
        """, [(O, 3, "output_dir")], id="argparse_positional__option"),
    pytest.param("""
        import click
        @click.command()
        @click.option("--save-path", default="model.pkl")
        @click.option("--lr", default=0.1)
        def main(save_path, lr):
            pass
        """, [(O, 3, "--save-path")], id="click_option__option"),
    pytest.param("""
        import typer
        def main(output_dir: str = typer.Option("out", "--output-dir"), epochs: int = typer.Option(3)):
            pass
        """, [(O, 2, "--output-dir")], id="typer_option__option"),
    pytest.param("""
        import typer
        from typing import Annotated
        app = typer.Typer()
        @app.command()
        def train(model_path: Annotated[str, typer.Option()] = "model.bin"):
            pass
        """, [(O, 5, "--model-path")], id="typer_annotated__option"),
    pytest.param("""
        import fire
        def main(output_dir="out", epochs=3):
            pass
        fire.Fire(main)
        """, [(O, 4, "--output_dir")], id="fire_params__option"),
    pytest.param("""
        from transformers import HfArgumentParser, TrainingArguments
        parser = HfArgumentParser((ModelArguments, TrainingArguments))
        """, [(O, 2, "--output_dir")], id="hf_argument_parser__output_dir_option"),
    pytest.param("""
        from dataclasses import dataclass, field
        from transformers import HfArgumentParser
        @dataclass
        class Args:
            save_dir: str = field(default="ckpt")
            lr: float = 1e-3
        parser = HfArgumentParser(Args)
        """, [(O, 5, "--save_dir")], id="hf_parser_user_dataclass__option"),
    # -- hard-coded outputs
    pytest.param("""
        import torch
        torch.save(model.state_dict(), "model.pt")
        """, [(H, 2, "model.pt")], id="torch_save__output"),
    pytest.param("""
        import joblib
        joblib.dump(clf, "artifacts/clf.joblib")
        """, [(H, 2, "artifacts/clf.joblib")], id="joblib_dump__output"),
    pytest.param("""
        import pickle
        with open("model.pkl", "wb") as f:
            pickle.dump(model, f)
        """, [(H, 2, "model.pkl")], id="pickle_into_open__output"),
    pytest.param("""
        df.to_csv("predictions.csv", index=False)
        df.to_parquet(path="out.parquet")
        """, [(H, 1, "predictions.csv"), (H, 2, "out.parquet")], id="dataframe_writes__outputs"),
    pytest.param("""
        model.save_pretrained("./final_model")
        booster.save_model("xgb.json")
        """, [(H, 1, "final_model"), (H, 2, "xgb.json")], id="model_save_methods__outputs"),
    pytest.param("""
        import matplotlib.pyplot as plt
        plt.savefig("figures/loss.png")
        """, [(H, 2, "figures/loss.png")], id="savefig__output"),
    pytest.param("""
        import os
        from pathlib import Path
        os.makedirs("outputs", exist_ok=True)
        Path("checkpoints").mkdir(parents=True, exist_ok=True)
        """, [(H, 3, "outputs"), (H, 4, "checkpoints")], id="makedirs_and_mkdir__outputs"),
    pytest.param("""
        import numpy as np
        np.save("embeddings.npy", emb)
        """, [(H, 2, "embeddings.npy")], id="np_save__output"),
    pytest.param("""
        import torch
        from pathlib import Path
        OUT = Path("runs")
        def save(m, epoch):
            torch.save(m, OUT / f"epoch_{epoch}.pt")
        """, [(H, 5, "runs/epoch_{}.pt")], id="constant_dir_and_fstring__output_with_placeholder"),
    pytest.param("""
        import torch
        torch.save(model, args.output_dir + "/model.pt")
        torch.save(model, os.path.join(args.output_dir, "model.pt"))
        """, [], id="path_from_cli_arg__not_hardcoded"),
    pytest.param("""
        import os, torch
        out = os.environ.get("MLRS_STAGE_RESULT_PATH", "./output")
        torch.save(model, os.path.join(out, "m.pt"))
        """, [], id="stage_result_path__not_hardcoded"),
    pytest.param("""
        from transformers import TrainingArguments
        args = TrainingArguments(output_dir="./results", num_train_epochs=3)
        """, [(H, 2, "results")], id="training_arguments_literal__output"),
    pytest.param("""
        with open("log.txt", "a") as f:
            f.write("x")
        """, [(H, 1, "log.txt")], id="append_mode__output"),
    # -- local inputs
    pytest.param("""
        import pandas as pd
        df = pd.read_csv("data/train.csv")
        """, [(L, 1 + 1, "data/train.csv")], id="read_csv_project_file__input"),
    pytest.param("""
        import pandas as pd
        df = pd.read_csv("https://example.com/train.csv")
        df2 = pd.read_parquet("s3://bucket/data.parquet")
        """, [], id="read_url_and_s3__not_local"),
    pytest.param("""
        import numpy as np, torch, joblib
        a = np.load("feats.npy")
        b = torch.load("weights.pt")
        c = joblib.load("scaler.joblib")
        """, [(L, 2, "feats.npy"), (L, 3, "weights.pt"), (L, 4, "scaler.joblib")], id="binary_loads__inputs"),
    pytest.param("""
        with open("src/vocab.txt") as f:
            vocab = f.read().split()
        with open("src/vocab.txt", "r", encoding="utf-8") as f:
            pass
        """, [(L, 1, "src/vocab.txt"), (L, 3, "src/vocab.txt")], id="open_read_modes__inputs"),
    pytest.param("""
        from PIL import Image
        import cv2
        im = Image.open("data/images/cat.png")
        im2 = cv2.imread("dog.jpg")
        """, [(L, 3, "data/images/cat.png"), (L, 4, "dog.jpg")], id="image_reads__inputs"),
    pytest.param("""
        from datasets import load_dataset
        ds = load_dataset("csv", data_files={"train": "data/train.csv", "test": "data/test.csv"})
        """, [(L, 2, "data/test.csv"), (L, 2, "data/train.csv")], id="load_dataset_data_files__inputs"),
    pytest.param("""
        from datasets import load_dataset
        ds = load_dataset("imdb")
        """, [], id="load_dataset_hub__not_local"),
    pytest.param("""
        import os
        import pandas as pd
        HERE = os.path.dirname(os.path.abspath(__file__))
        df = pd.read_csv(os.path.join(HERE, "data", "train.csv"))
        """, [(L, 4, "data/train.csv")], id="file_relative_path__root_relative_input"),
    pytest.param("""
        from pathlib import Path
        import pandas as pd
        ROOT = Path(__file__).resolve().parent
        df = pd.read_csv(ROOT / "data" / "train.csv")
        """, [(L, 4, "data/train.csv")], id="pathlib_file_parent__input"),
    pytest.param("""
        import glob
        files = glob.glob("data/images/*.png")
        """, [(L, 2, "data/images/*.png")], id="glob_pattern__input"),
    pytest.param("""
        from transformers import AutoModel
        m = AutoModel.from_pretrained("./models/bert")
        n = AutoModel.from_pretrained("bert-base-uncased")
        """, [(L, 2, "models/bert")], id="from_pretrained_local_dir__input_hub_id_not"),
    pytest.param("""
        import pandas as pd
        df = pd.read_csv(args.train_file)
        """, [], id="read_from_cli_arg__no_input"),
    pytest.param("""
        import argparse
        ap = argparse.ArgumentParser()
        ap.add_argument("--train-csv", default="data/train.csv")
        ap.add_argument("--table", default="DB.SCHEMA.TRAIN")
        ap.add_argument("--model", default="bert-base-uncased")
        ap.add_argument("--s3-key", default="curated/demand.csv")
        ap.add_argument("--metrics", default="metrics.json")
        """, [(L, 3, "data/train.csv"), (O, 7, "--metrics")], id="input_option_file_default__input"),
    # -- __return__, main call, snowpark
    pytest.param("""
        def main():
            return {"acc": 0.9}
        if __name__ == "__main__":
            __return__ = main()
        """, [(E, 4, "main"), (R, 4, "__return__")], id="return_under_main_guard__sets_return_and_call"),
    pytest.param("""
        import sys
        def main():
            return 0
        if __name__ == "__main__":
            sys.exit(main())
        """, [(E, 5, "main")], id="sys_exit_main__entrypoint_call"),
    pytest.param("""
        def train(args):
            pass
        if __name__ == "__main__":
            args = parse_args()
            train(args)
        """, [(E, 5, "train")], id="parse_then_train__entrypoint_is_train"),
    pytest.param("""
        if "__main__" == __name__:
            run()
        """, [(E, 2, "run")], id="reversed_guard__entrypoint_call"),
    pytest.param("""
        def main():
            pass
        main()
        """, [], id="no_guard__no_entrypoint_call"),
    pytest.param("""
        from snowflake.snowpark import Session
        session = Session.builder.configs(params).create()
        df = session.table("TRAIN").to_pandas()
        """, [(S, 1, "snowflake.snowpark"), (S, 2, "Session.builder.create()"), (S, 3, "session.table()"),
              (T, 3, "TRAIN")],
        id="snowpark_builder_and_table__session"),
    pytest.param("""
        from snowflake.snowpark import Session
        SOURCE = "ML.RAW.TRIPS"
        sp = Session.builder.getOrCreate()
        df = sp.table(SOURCE).to_pandas()
        sp.sql("WITH z AS (SELECT * FROM ML.RAW.ZONES) SELECT * FROM z JOIN ML.RAW.WEATHER w ON z.d = w.d")
        sp.read.parquet("@ML.RAW.LANDING/2024/")
        sp.file.put("model.pkl", "@ML.OUT.ARTIFACTS/v1/")
        sp.create_dataframe(df).write.mode("overwrite").save_as_table("ML.OUT.SCORES")
        sp.sql(f"SELECT * FROM {table}")
        """, [(S, 1, "snowflake.snowpark"), (S, 3, "Session.builder.getOrCreate()"), (T, 4, "ML.RAW.TRIPS"),
              (T, 5, "ML.RAW.WEATHER"), (T, 5, "ML.RAW.ZONES"), (ST, 6, "ML.RAW.LANDING"),
              (ST, 7, "ML.OUT.ARTIFACTS"), (T, 8, "ML.OUT.SCORES")],
        id="snowflake_tables_and_stages__cte_and_computed_names_skipped"),
    pytest.param("""
        from snowflake.snowpark.context import get_active_session
        session = get_active_session()
        """, [(S, 1, "snowflake.snowpark.context"), (S, 2, "get_active_session()")], id="active_session__session"),
    pytest.param("""
        spark = SparkSession.builder.getOrCreate()
        spark.sql("select 1")
        """, [], id="spark_session__not_snowpark"),
    pytest.param("""
        '''Writes results to results/out.csv and reads data/train.csv.'''
        # torch.save(model, "model.pt")
        print("saved to model.pt")
        """, [], id="paths_in_docstring_comment_print__nothing"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_scan_io__snippet__findings(text: str, expected: list[tuple[IoKind, int, str]]) -> None:
    """Each snippet yields exactly the expected (kind, line, detail) findings."""
    actual = [(f.kind, f.location.line, f.detail) for f in scan(text).findings]
    compare(text, sorted(expected, key=lambda t: (t[1], t[0].value, t[2])), actual)


@pytest.mark.parametrize(("text", "path", "expected"), [
    pytest.param('import pandas as pd\npd.read_csv("data/train.csv")\n', "train.py", True, id="root_relative__exists"),
    pytest.param('import pandas as pd\npd.read_csv("data/valid.csv")\n', "train.py", False, id="missing_file__not"),
    pytest.param('open("vocab.txt")\n', "src/model.py", True, id="file_folder_relative__exists"),
    pytest.param('open("/home/me/data.csv")\n', "train.py", False, id="absolute_path__not"),
    pytest.param('import os\nopen(os.path.join(os.path.dirname(__file__), "..", "data", "train.csv"))\n',
                 "src/prep.py", True, id="parent_of_file_folder__exists"),
    pytest.param('import glob\nglob.glob("data/*.csv")\n', "train.py", True, id="glob_matching_files__exists"),
    pytest.param('import os\nos.listdir("data/images")\n', "train.py", True, id="folder__exists"),
    pytest.param('import pandas as pd\npd.read_csv(f"data/{split}.csv")\n', "train.py", True,
                 id="placeholder_matching__exists"),
])
def test_scan_io__local_input__exists_locally(text: str, path: str, expected: bool) -> None:
    """exists_locally resolves against the project root and the file's folder."""
    (finding,) = scan(text, path).findings
    compare(text, (IoKind.LOCAL_INPUT, expected), (finding.kind, finding.exists_locally))


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param('import argparse\np = argparse.ArgumentParser()\np.add_argument("--output-dir", default="./out")\n',
                 ("out", "pass --output-dir $MLRS_STAGE_RESULT_PATH in the job args"), id="argparse__default_hint"),
    pytest.param('import argparse\np = argparse.ArgumentParser()\np.add_argument("--out", default=None)\n',
                 (None, "pass --out $MLRS_STAGE_RESULT_PATH in the job args"), id="none_default__no_default"),
])
def test_scan_io__output_option__default_and_hint(text: str, expected: tuple[str | None, str]) -> None:
    """An output option records its literal default and says how to pass the stage path."""
    (finding,) = scan(text).findings
    compare(text, expected, (finding.default, finding.hint))


def test_scan_io__result__picklable_and_frozen() -> None:
    """Scans are cached by fingerprint and sent across processes, so they pickle and compare equal."""
    result = scan('import torch\ntorch.save(m, "m.pt")\n')
    assert pickle.loads(pickle.dumps(result)) == result


def test_summarize_io__entrypoint_and_module__merged() -> None:
    """Entrypoint findings come first; __return__ and the main call count only in the entrypoint."""
    main = scan("""
        import pandas as pd
        df = pd.read_csv("data/train.csv")
        if __name__ == "__main__":
            __return__ = run()
        """, "train.py")
    helper = scan("""
        import pandas as pd
        import argparse, torch
        __return__ = 1
        df = pd.read_csv("data/train.csv")
        torch.save(m, "model.pt")
        p = argparse.ArgumentParser()
        p.add_argument("--output_dir")
        if __name__ == "__main__":
            selftest()
        """, "src/model.py")
    report = summarize_io([helper, main], "train.py")
    assert report.sets_return and [f.location.path for f in report.return_evidence] == ["train.py"]
    assert report.entrypoint_call is not None and report.entrypoint_call.detail == "run"
    assert [f.detail for f in report.local_inputs] == ["data/train.csv"]
    assert report.local_inputs[0].location.path == "train.py"
    assert [f.detail for f in report.hardcoded_outputs] == ["model.pt"]
    assert [f.detail for f in report.output_args] == ["--output_dir"]
    assert not report.uses_snowpark


OWN_OUTPUT_CASES = [
    # (program, local inputs the job must be given)
    # the job writes the checkpoint, then reads it back: nothing to supply
    ("""
     import torch
     torch.save(model.state_dict(), "best.pt")
     model.load_state_dict(torch.load("best.pt"))
     """, []),
    ("""
     from tensorflow import keras
     cb = keras.callbacks.ModelCheckpoint("./best_model.h5", save_best_only=True)
     model.fit(x, y, callbacks=[cb])
     model = keras.models.load_model("best_model.h5")
     """, []),
    # read before it is written (resume from an earlier run): an input
    ("""
     import torch
     state = torch.load("best.pt")
     torch.save(state, "best.pt")
     """, ["best.pt"]),
    # another file of the project: a checkpoint from elsewhere in the program stays an input (no run order)
    ("""
     import torch
     model.load_state_dict(torch.load("other.pt"))
     """, ["other.pt"]),
]


@pytest.mark.parametrize(("text", "expected"), OWN_OUTPUT_CASES)
def test_summarize_io__reads_its_own_output__not_an_input(text: str, expected: list[str]) -> None:
    writer = scan("""
        import torch
        torch.save(m, "other.pt")
        """, "src/model.py")
    report = summarize_io([scan(text), writer], "train.py")
    compare(text, expected, [f.detail for f in report.local_inputs])


def test_summarize_io__nothing__empty_report() -> None:
    """A file with no IO yields an empty report, not an error."""
    report = summarize_io([scan("x = 1\n")], "train.py")
    assert (report.output_args, report.local_inputs, report.sets_return, report.entrypoint_call) == ((), (), False, None)


ODD_CODE = [
    pytest.param("", id="empty_file"),
    pytest.param("open(*paths)\nopen()\nopen(p, mode)\n", id="open_without_literals"),
    pytest.param("import torch\ntorch.save()\ntorch.save(m)\n", id="writer_missing_path"),
    pytest.param("A = B\nB = A\nopen(A)\n", id="constant_cycle"),
    pytest.param("P = P + '/x'\nopen(P, 'w')\n", id="self_referencing_constant"),
    pytest.param("from pathlib import Path\nPath(__file__).parents[idx]\nopen(Path(__file__).parents[0] / 'x')\n",
                 id="dynamic_parents_index"),
    pytest.param("import argparse\np = argparse.ArgumentParser()\np.add_argument(*flags)\np.add_argument()\n",
                 id="add_argument_without_literals"),
    pytest.param("if __name__ == '__main__':\n    pass\n", id="empty_main_guard"),
    pytest.param("def f(*, out=typer.Option(...)):\n    pass\n", id="typer_not_imported"),
    pytest.param("x: int\n__return__: dict\n", id="annotation_without_value"),
]


@pytest.mark.parametrize("text", ODD_CODE)
def test_scan_io__odd_code__no_exception(text: str) -> None:
    """Unusual but valid code is scanned without raising."""
    for finding in scan(text).findings:
        assert finding.location.line >= 1 and finding.detail


def test_scan_io__500_line_script__every_repeat_found() -> None:
    """A 500-line script against a 2000-file project: every repeated finding is reported (speed is measured in
    bench/bench_analyzer.py, not in a test)."""
    block = textwrap.dedent("""
        import torch, os, argparse
        import pandas as pd
        OUT = "outputs"
        def step(model, batch, i):
            out = model(batch["x"].to("cuda"))
            loss = torch.nn.functional.mse_loss(out, batch["y"])
            df = pd.read_csv("data/train.csv")
            torch.save(model, os.path.join(OUT, f"m_{i}.pt"))
            return loss
        p = argparse.ArgumentParser(); p.add_argument("--output-dir", default="out")
    """) * 50
    src = source(block)
    _ = src.names
    files = frozenset(f"data/part_{i}.csv" for i in range(2000))
    result = scan_io(src, files)
    assert len(result.findings) == 150


# Paths reach their use through the binding in force there (the shared bindings layer).
BINDING_CASES = [
    pytest.param("""
        import pandas as pd
        train_path, test_path = "data/train.csv", "data/test.csv"
        pd.read_csv(test_path)
        """, [(L, 3, "data/test.csv")], id="tuple_unpacking__pairwise_path"),
    pytest.param("""
        import torch
        OUT = "model.pt"
        def save(model):
            torch.save(model, OUT)
        OUT = "final.pt"
        torch.save(None, OUT)
        """, [(H, 4, "model.pt"), (H, 6, "final.pt")], id="constant_rebound_later__function_between_reads_the_first"),
    pytest.param("""
        path = "data/train.csv"
        for path in paths:
            open(path)
        """, [], id="loop_variable__earlier_binding_not_used"),
    pytest.param("""
        def load(path="data/train.csv"):
            return open(path)
        """, [], id="parameter_default__caller_may_pass_another"),
    pytest.param("""
        import os
        out = "results"
        out = os.path.join(out, "preds.csv")
        open(out, "w")
        """, [(H, 4, "results/preds.csv")], id="rebinding_from_itself__followed"),
]


@pytest.mark.parametrize(("text", "expected"), BINDING_CASES)
def test_scan_io__bindings__value_in_force(text: str, expected: list[tuple[IoKind, int, str]]) -> None:
    """A name read as a path resolves to the binding in force where it is read."""
    actual = [(f.kind, f.location.line, f.detail) for f in scan(text).findings]
    compare(text, expected, actual)


def test_scan_io__module_constants__as_bound_there() -> None:
    """An exported path constant is computed from the bindings before it, not from whatever the name holds
    at the end of the file (a class attribute of the same name bound later is another variable)."""
    text = """
        import os
        ROOT = "data"
        TRAIN = os.path.join(ROOT, "train.csv")
        ROOT = "other"
        kind = str
        class Dtype:
            str = "|O08"
        """
    compare(text, (("ROOT", "data"), ("TRAIN", "data/train.csv"), ("ROOT", "other")), scan(text).constants)
