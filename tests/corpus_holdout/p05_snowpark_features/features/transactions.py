from snowflake.ml.feature_store import FeatureView
from snowflake.snowpark import Window
from snowflake.snowpark import functions as F

WINDOWS = (7, 30, 90)


def txn_rollups_fv(session, entity):
    t = session.table("RAW.BILLING.TRANSACTIONS").select("CUSTOMER_ID", "TXN_TS", "AMOUNT", "IS_REFUND")
    daily = (t.group_by("CUSTOMER_ID", F.to_date("TXN_TS").alias("D"))
              .agg(F.sum("AMOUNT").alias("AMT"), F.count("*").alias("N"), F.sum("IS_REFUND").alias("REFUNDS")))
    cols = ["CUSTOMER_ID", F.col("D").cast("timestamp_ntz").alias("TS")]
    for w in WINDOWS:
        win = Window.partition_by("CUSTOMER_ID").order_by("D").rows_between(-(w - 1), Window.CURRENT_ROW)
        cols += [F.sum("AMT").over(win).alias(f"AMT_{w}D"), F.sum("N").over(win).alias(f"N_TXN_{w}D"),
                 F.sum("REFUNDS").over(win).alias(f"REFUNDS_{w}D")]
    df = daily.select(*cols)
    return FeatureView(name="TXN_ROLLUPS", entities=[entity], feature_df=df,
                       timestamp_col="TS", refresh_freq="1 day", desc="rolling spend / txn counts")
