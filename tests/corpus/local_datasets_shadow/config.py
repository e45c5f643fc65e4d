"""Static settings (shadows the PyPI package named `config`)."""
SEED = 17
N_SPLITS = 5
DROP_COLUMNS = ("proline",)
MODEL_PATH = "./models/model.pkl"
