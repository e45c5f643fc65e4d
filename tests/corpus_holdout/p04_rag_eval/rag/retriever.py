from dataclasses import dataclass

import faiss
import numpy as np
from sentence_transformers import SentenceTransformer


@dataclass
class Hit:
    id: str
    text: str
    score: float


class DenseRetriever:
    def __init__(self, ids, texts, model_name="BAAI/bge-small-en-v1.5"):
        self.ids, self.texts = ids, texts
        self.encoder = SentenceTransformer(model_name)
        emb = self.encoder.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=True)
        self.index = faiss.IndexFlatIP(emb.shape[1])
        self.index.add(np.asarray(emb, dtype="float32"))

    def search(self, query, k=5):
        q = self.encoder.encode(["Represent this sentence for searching relevant passages: " + query],
                                normalize_embeddings=True)
        scores, idx = self.index.search(np.asarray(q, dtype="float32"), k)
        return [Hit(self.ids[i], self.texts[i], float(s)) for s, i in zip(scores[0], idx[0]) if i >= 0]
