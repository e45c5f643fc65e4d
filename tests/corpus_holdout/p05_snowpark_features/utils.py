import datetime as dt
import logging

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
LOG = logging.getLogger("features")


def today_version() -> str:
    return "V" + dt.date.today().strftime("%Y%m%d")


def log_fv(fv) -> None:
    LOG.info("feature view %s: %s", fv.name, ", ".join(str(f) for f in fv.feature_names))
