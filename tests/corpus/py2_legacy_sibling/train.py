"""LambdaMART search ranker with LightGBM (CPU).

legacy_export.py in this folder is an unrelated Python 2 leftover.
"""
import argparse

import lightgbm as lgb
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from helpers import add_ratios, group_sizes

FEATURES = ["ctr", "cvr", "log_price", "position", "rating", "n_reviews", "bm25"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/search_logs.parquet")
    ap.add_argument("--model-out", default="ranker.txt")
    args = ap.parse_args()

    df = add_ratios(pd.read_parquet(args.data)).sort_values("query_id")
    split = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=0)
    tr_idx, va_idx = next(split.split(df, groups=df["query_id"]))
    tr, va = df.iloc[tr_idx], df.iloc[va_idx]

    ranker = lgb.LGBMRanker(objective="lambdarank", n_estimators=1000, learning_rate=0.05,
                            num_leaves=63, min_child_samples=50)
    ranker.fit(tr[FEATURES], tr["relevance"], group=group_sizes(tr, "query_id"),
               eval_set=[(va[FEATURES], va["relevance"])], eval_group=[group_sizes(va, "query_id")],
               eval_at=[5, 10], callbacks=[lgb.early_stopping(50), lgb.log_evaluation(50)])
    ranker.booster_.save_model(args.model_out)
    print("best ndcg@10:", ranker.best_score_["valid_0"]["ndcg@10"])


if __name__ == "__main__":
    main()
