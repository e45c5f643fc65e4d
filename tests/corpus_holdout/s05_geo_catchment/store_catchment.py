"""Assign customers to nearest store catchments and compute drive-area features.

Boundaries come from a public GeoJSON; customer points from Snowflake.
"""
from __future__ import annotations

import json
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import requests
from shapely.geometry import Point
from sklearn.neighbors import BallTree
from snowflake.snowpark.context import get_active_session

LOG = logging.getLogger(__name__)
COUNTIES_URL = ("https://raw.githubusercontent.com/plotly/datasets/master/"
                "geojson-counties-fips.json")
EARTH_KM = 6371.0088


def fetch_counties() -> gpd.GeoDataFrame:
    resp = requests.get(COUNTIES_URL, timeout=60)
    resp.raise_for_status()
    gdf = gpd.GeoDataFrame.from_features(resp.json()["features"], crs="EPSG:4326")
    gdf["fips"] = gdf["STATE"] + gdf["COUNTY"]
    return gdf[["fips", "NAME", "geometry"]]


def to_gdf(df: pd.DataFrame, lat="LAT", lon="LON") -> gpd.GeoDataFrame:
    geom = [Point(xy) for xy in zip(df[lon], df[lat])]
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


def nearest_store(customers: gpd.GeoDataFrame, stores: gpd.GeoDataFrame, k=3):
    tree = BallTree(np.radians(np.c_[stores.geometry.y, stores.geometry.x]), metric="haversine")
    dist, idx = tree.query(np.radians(np.c_[customers.geometry.y, customers.geometry.x]), k=k)
    customers = customers.copy()
    customers["store_id"] = stores["STORE_ID"].to_numpy()[idx[:, 0]]
    customers["dist_km"] = dist[:, 0] * EARTH_KM
    customers["n_stores_10km"] = (dist * EARTH_KM < 10).sum(axis=1)
    return customers


def main():
    logging.basicConfig(level=logging.INFO)
    session = get_active_session()
    stores = to_gdf(session.table("RETAIL.GEO.STORES").to_pandas())
    customers = to_gdf(session.table("RETAIL.GEO.CUSTOMER_LOCATIONS").to_pandas())
    counties = fetch_counties()

    customers = nearest_store(customers, stores)
    customers = gpd.sjoin(customers, counties, how="left", predicate="within")
    LOG.info("unmatched customers: %d", customers["fips"].isna().sum())

    # catchment polygon = convex hull of the 90% nearest customers per store
    hulls = []
    for sid, grp in customers.groupby("store_id"):
        near = grp[grp.dist_km <= grp.dist_km.quantile(0.9)]
        if len(near) >= 3:
            hull = near.to_crs("EPSG:5070").unary_union.convex_hull
            hulls.append({"STORE_ID": sid, "AREA_KM2": hull.area / 1e6,
                          "N_CUST": len(grp), "GEOJSON": json.dumps(gpd.GeoSeries([hull], crs="EPSG:5070")
                                                                   .to_crs("EPSG:4326").iloc[0].__geo_interface__)})
    out = pd.DataFrame(customers.drop(columns=["geometry", "index_right"]))
    session.write_pandas(out, "CUSTOMER_STORE_ASSIGNMENT", auto_create_table=True, overwrite=True)
    session.write_pandas(pd.DataFrame(hulls), "STORE_CATCHMENTS", auto_create_table=True, overwrite=True)


if __name__ == "__main__":
    main()
