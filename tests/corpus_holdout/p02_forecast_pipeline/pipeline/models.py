import numpy as np
import pandas as pd
import lightgbm as lgb
import pmdarima as pm
from joblib import Parallel, delayed

FEATS = ["m_sin", "m_cos", "t", "lag_1", "lag_2", "lag_3", "lag_6", "lag_12", "roll3", "roll12", "yoy"]


def _wape(y, p):
    return np.abs(y - p).sum() / max(np.abs(y).sum(), 1e-9)


def _arima_one(sku, s, h):
    try:
        m = pm.auto_arima(s.values, seasonal=len(s) >= 36, m=12, suppress_warnings=True,
                          error_action="ignore", stepwise=True, max_p=3, max_q=3)
        return sku, m.predict(n_periods=h)
    except (ValueError, np.linalg.LinAlgError):
        return sku, np.repeat(s.iloc[-3:].mean(), h)


def arima_backtest(hist, cutoff, h):
    train = hist[hist.month <= cutoff]
    test = hist[hist.month > cutoff]
    res = Parallel(n_jobs=-1)(delayed(_arima_one)(k, g.set_index("month")["qty"], h)
                              for k, g in train.groupby("sku"))
    rows = []
    for sku, pred in res:
        y = test.loc[test.sku == sku, "qty"].values[:h]
        rows.append({"sku": sku, "arima": _wape(y, pred[:len(y)])})
    return pd.DataFrame(rows)


def gbm_backtest(feats, cutoff, h):
    train = feats[(feats.month <= cutoff)].dropna(subset=["lag_12"])
    test = feats[feats.month > cutoff]
    model = lgb.LGBMRegressor(n_estimators=800, learning_rate=0.03, num_leaves=63, objective="tweedie")
    model.fit(train[FEATS], train["qty"])
    test = test.assign(pred=model.predict(test[FEATS]))
    return test.groupby("sku").apply(lambda g: _wape(g.qty.values, g.pred.values)).rename("gbm").reset_index()


def pick_best(arima_bt, gbm_bt):
    df = arima_bt.merge(gbm_bt, on="sku", how="outer").fillna(np.inf)
    df["model"] = np.where(df["arima"] <= df["gbm"], "arima", "gbm")
    return df[["sku", "model"]]


def forecast(hist, feats, choice, h):
    out = []
    arima_skus = set(choice.loc[choice.model == "arima", "sku"])
    res = Parallel(n_jobs=-1)(delayed(_arima_one)(k, g.set_index("month")["qty"], h)
                              for k, g in hist[hist.sku.isin(arima_skus)].groupby("sku"))
    last = hist["month"].max()
    months = pd.date_range(last + pd.DateOffset(months=1), periods=h, freq="MS")
    for sku, pred in res:
        out.append(pd.DataFrame({"sku": sku, "month": months, "qty_fc": np.clip(pred, 0, None), "model": "arima"}))
    train = feats.dropna(subset=["lag_12"])
    gbm = lgb.LGBMRegressor(n_estimators=800, learning_rate=0.03, num_leaves=63, objective="tweedie")
    gbm.fit(train[FEATS], train["qty"])
    latest = feats[feats.month == last]
    latest = latest[~latest.sku.isin(arima_skus)]
    for i, m in enumerate(months):
        out.append(pd.DataFrame({"sku": latest.sku.values, "month": m, "qty_fc": np.clip(gbm.predict(latest[FEATS]), 0, None),
                                 "model": "gbm"}))
    return pd.concat(out, ignore_index=True)
