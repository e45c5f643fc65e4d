"""Text preprocessing + TF-IDF topic baseline for product reviews.

NLTK supplies the stop-word list and VADER sentiment lexicon (downloaded at
start-up); spaCy is used only as a fast rule-based tokenizer/lemma-free
pipeline (spacy.blank, so no model package has to be downloaded).
"""
import argparse
import re

import nltk
import pandas as pd
import spacy
from nltk.corpus import stopwords
from nltk.sentiment import SentimentIntensityAnalyzer
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

for pkg in ("stopwords", "vader_lexicon"):
    nltk.download(pkg, quiet=True)

NLP = spacy.blank("en")
STOP = set(stopwords.words("english")) | {"product", "amazon", "buy"}
URL_RE = re.compile(r"https?://\S+")


def normalize(text: str) -> str:
    text = URL_RE.sub(" ", text.lower())
    doc = NLP(text)
    return " ".join(t.text for t in doc if t.is_alpha and t.text not in STOP and len(t.text) > 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reviews", default="reviews.parquet")
    ap.add_argument("--topics", type=int, default=12)
    ap.add_argument("--out", default="topics.csv")
    args = ap.parse_args()

    df = pd.read_parquet(args.reviews)
    df["clean"] = [normalize(t) for t in df["review_text"].fillna("")]
    sia = SentimentIntensityAnalyzer()
    df["compound"] = [sia.polarity_scores(t)["compound"] for t in df["review_text"].fillna("")]

    vec = TfidfVectorizer(max_features=20000, ngram_range=(1, 2), min_df=5)
    X = vec.fit_transform(df["clean"])
    nmf = NMF(n_components=args.topics, init="nndsvda", random_state=0, max_iter=400)
    W = nmf.fit_transform(X)
    vocab = vec.get_feature_names_out()
    topics = []
    for k, comp in enumerate(nmf.components_):
        top = [vocab[i] for i in comp.argsort()[::-1][:12]]
        share = float((W.argmax(1) == k).mean())
        mood = float(df.loc[W.argmax(1) == k, "compound"].mean())
        topics.append({"topic": k, "share": share, "mean_sentiment": mood, "terms": " ".join(top)})
        print(k, f"{share:.1%}", f"{mood:+.2f}", top[:6])
    pd.DataFrame(topics).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
