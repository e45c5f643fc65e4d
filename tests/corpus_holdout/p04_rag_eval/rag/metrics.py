import re
import string


def recall_at_k(retrieved, gold, k):
    gold = set(gold)
    return len(gold & set(retrieved[:k])) / max(len(gold), 1)


def _norm(s):
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def normalized_em(pred, gold):
    return float(_norm(pred) == _norm(gold))
