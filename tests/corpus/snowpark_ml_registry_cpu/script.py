"""Feature engineering in Snowpark + Snowflake ML modeling + Model Registry.

Everything is pushed down to Snowflake or runs with snowflake-ml-python's
sklearn-compatible wrappers; the fitted model is logged to the registry.
"""
import argparse

from snowflake.ml.modeling.metrics import accuracy_score, roc_auc_score
from snowflake.ml.modeling.pipeline import Pipeline
from snowflake.ml.modeling.preprocessing import OneHotEncoder, StandardScaler
from snowflake.ml.modeling.xgboost import XGBClassifier
from snowflake.ml.registry import Registry
from snowflake.snowpark import Session
from snowflake.snowpark import functions as F

CAT = ["CHANNEL", "DEVICE", "COUNTRY"]
NUM = ["SESSIONS_7D", "PAGES_7D", "CART_ADDS_7D", "DAYS_SINCE_LAST_ORDER"]
LABEL = "CONVERTED"


def build_features(session: Session, events_table: str):
    ev = session.table(events_table)
    return (
        ev.group_by("USER_ID", "CHANNEL", "DEVICE", "COUNTRY")
        .agg(
            F.count_distinct("SESSION_ID").alias("SESSIONS_7D"),
            F.count("PAGE_ID").alias("PAGES_7D"),
            F.sum(F.iff(F.col("EVENT") == "add_to_cart", 1, 0)).alias("CART_ADDS_7D"),
            F.min("DAYS_SINCE_LAST_ORDER").alias("DAYS_SINCE_LAST_ORDER"),
            F.max(F.iff(F.col("EVENT") == "purchase", 1, 0)).alias(LABEL),
        )
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", default="WEB.EVENTS.LAST_7_DAYS")
    ap.add_argument("--model-name", default="CONVERSION_XGB")
    ap.add_argument("--version", default="v1")
    args = ap.parse_args()

    session = Session.builder.getOrCreate()
    feats = build_features(session, args.events)
    train, test = feats.random_split([0.8, 0.2], seed=42)

    ohe_out = [f"{c}_OHE" for c in CAT]
    pipe = Pipeline(steps=[
        ("ohe", OneHotEncoder(input_cols=CAT, output_cols=ohe_out, handle_unknown="ignore", drop_input_cols=True)),
        ("scale", StandardScaler(input_cols=NUM, output_cols=NUM)),
        ("xgb", XGBClassifier(label_cols=[LABEL], output_cols=["PRED"], n_estimators=300, max_depth=6)),
    ])
    pipe.fit(train)
    scored = pipe.predict(test)
    proba = pipe.predict_proba(test)
    acc = accuracy_score(df=scored, y_true_col_names=LABEL, y_pred_col_names="PRED")
    auc = roc_auc_score(df=proba, y_true_col_names=LABEL, y_score_col_names=f"PREDICT_PROBA_1")

    reg = Registry(session=session)
    mv = reg.log_model(pipe, model_name=args.model_name, version_name=args.version,
                       metrics={"accuracy": acc, "auc": auc}, comment="7-day conversion model")
    return {"accuracy": acc, "auc": auc, "model": mv.model_name, "version": mv.version_name}


if __name__ == "__main__":
    __return__ = main()
