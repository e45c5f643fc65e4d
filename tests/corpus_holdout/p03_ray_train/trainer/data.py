import numpy as np
import ray
from snowflake.snowpark.context import get_active_session

LABEL = "IS_FRAUD"


def load_ray_datasets(train_table, val_table):
    session = get_active_session()
    train_pdf = session.table(train_table).to_pandas()
    val_pdf = session.table(val_table).to_pandas()
    num_cols = [c for c in train_pdf.columns if c.startswith("NUM_")]
    cat_cols = [c for c in train_pdf.columns if c.startswith("CAT_")]
    cards = [int(max(train_pdf[c].max(), val_pdf[c].max())) + 1 for c in cat_cols]
    mu, sd = train_pdf[num_cols].mean(), train_pdf[num_cols].std().replace(0, 1)

    def prep(batch):
        batch[num_cols] = ((batch[num_cols] - mu) / sd).fillna(0).astype(np.float32)
        return batch

    train_ds = ray.data.from_pandas(train_pdf).map_batches(prep, batch_format="pandas")
    val_ds = ray.data.from_pandas(val_pdf).map_batches(prep, batch_format="pandas")
    return train_ds, val_ds, {"num_cols": num_cols, "cat_cols": cat_cols, "cards": cards}
