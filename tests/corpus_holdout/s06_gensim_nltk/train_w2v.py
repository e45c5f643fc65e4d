"""Train domain word2vec embeddings on support tickets and find near-duplicate phrases."""
import logging
import multiprocessing
import re
import sys

import nltk
from nltk.corpus import stopwords
from nltk.stem import WordNetLemmatizer
from nltk.tokenize import word_tokenize
from gensim.models import Word2Vec
from gensim.models.phrases import Phrases, ENGLISH_CONNECTOR_WORDS
import pandas as pd
from snowflake.snowpark.context import get_active_session

for pkg in ("punkt", "punkt_tab", "stopwords", "wordnet"):
    nltk.download(pkg, quiet=True)

STOP = set(stopwords.words("english")) | {"please", "thanks", "hi", "hello"}
LEMMA = WordNetLemmatizer()
URL_RE = re.compile(r"https?://\S+|\S+@\S+")


def clean(text: str) -> list[str]:
    text = URL_RE.sub(" ", text.lower())
    toks = [LEMMA.lemmatize(t) for t in word_tokenize(text) if t.isalpha()]
    return [t for t in toks if t not in STOP and len(t) > 2]


class Corpus:
    """Restartable iterator so gensim can do several passes."""

    def __init__(self, docs, bigram=None):
        self.docs, self.bigram = docs, bigram

    def __iter__(self):
        for d in self.docs:
            yield self.bigram[d] if self.bigram is not None else d


def main(min_count=5):
    logging.basicConfig(format="%(asctime)s %(message)s", level=logging.INFO)
    session = get_active_session()
    df = session.sql("select subject || ' ' || body as txt from SUPPORT.RAW.TICKETS").to_pandas()
    docs = [clean(t) for t in df["TXT"].fillna("")]
    phrases = Phrases(docs, min_count=min_count, threshold=10, connector_words=ENGLISH_CONNECTOR_WORDS)
    corpus = Corpus(docs, phrases.freeze())

    model = Word2Vec(sentences=corpus, vector_size=200, window=6, min_count=min_count,
                     sg=1, negative=10, epochs=10, workers=multiprocessing.cpu_count())
    model.save("tickets_w2v.model")
    for probe in ("refund", "password_reset", "invoice", "crash"):
        if probe in model.wv:
            print(probe, model.wv.most_similar(probe, topn=8))

    vocab = pd.DataFrame({"TOKEN": model.wv.index_to_key,
                          "COUNT": [model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key]})
    session.write_pandas(vocab, "TICKET_W2V_VOCAB", auto_create_table=True, overwrite=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
