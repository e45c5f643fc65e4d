"""Register customer + transaction feature views in the Snowflake Feature Store and
materialize a point-in-time training set for the churn model."""
import argparse

from snowflake.ml.feature_store import FeatureStore, Entity, CreationMode
from snowflake.snowpark.context import get_active_session

import utils
from features.customer import customer_profile_fv
from features.transactions import txn_rollups_fv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--database", default="ML")
    ap.add_argument("--schema", default="FEATURE_STORE")
    ap.add_argument("--warehouse", default="ML_WH")
    ap.add_argument("--version", default=utils.today_version())
    args = ap.parse_args()

    session = get_active_session()
    fs = FeatureStore(session=session, database=args.database, name=args.schema,
                      default_warehouse=args.warehouse, creation_mode=CreationMode.CREATE_IF_NOT_EXIST)
    customer = Entity(name="CUSTOMER", join_keys=["CUSTOMER_ID"], desc="retail customer")
    fs.register_entity(customer)

    registered = []
    for fv in (customer_profile_fv(session, customer), txn_rollups_fv(session, customer)):
        registered.append(fs.register_feature_view(fv, version=args.version, overwrite=True))
        utils.log_fv(fv)

    spine = session.table("ML.LABELS.CHURN_SPINE").select("CUSTOMER_ID", "AS_OF_TS", "CHURNED_60D")
    ds = fs.generate_dataset(name="CHURN_TRAINING", spine_df=spine, features=registered,
                             version=args.version, spine_timestamp_col="AS_OF_TS",
                             spine_label_cols=["CHURNED_60D"])
    print("dataset:", ds.fully_qualified_name, ds.selected_version.name)


if __name__ == "__main__":
    main()
