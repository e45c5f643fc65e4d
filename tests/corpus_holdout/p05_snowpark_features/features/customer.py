from snowflake.ml.feature_store import FeatureView
from snowflake.snowpark import functions as F


def customer_profile_fv(session, entity):
    c = session.table("RAW.CRM.CUSTOMERS")
    df = c.select(
        "CUSTOMER_ID",
        F.col("UPDATED_AT").alias("TS"),
        F.datediff("day", F.col("SIGNUP_DATE"), F.col("UPDATED_AT")).alias("TENURE_DAYS"),
        F.iff(F.col("PLAN").isin("pro", "enterprise"), 1, 0).alias("IS_PREMIUM"),
        F.coalesce(F.col("N_SEATS"), F.lit(1)).alias("N_SEATS"),
        F.upper(F.col("COUNTRY")).alias("COUNTRY"),
    )
    return FeatureView(name="CUSTOMER_PROFILE", entities=[entity], feature_df=df,
                       timestamp_col="TS", refresh_freq="1 day", desc="static customer attributes")
