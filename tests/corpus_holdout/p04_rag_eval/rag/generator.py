from openai import OpenAI

_client = None
SYSTEM = ("Answer the question using only the provided context. "
          "If the answer is not in the context, reply 'unknown'. Be brief.")


def _get():
    global _client
    if _client is None:
        _client = OpenAI()
    return _client


def answer(question, contexts, model="gpt-4o-mini"):
    ctx = "\n\n".join(f"[{i}] {c}" for i, c in enumerate(contexts))
    resp = _get().chat.completions.create(
        model=model, temperature=0,
        messages=[{"role": "system", "content": SYSTEM},
                  {"role": "user", "content": f"Context:\n{ctx}\n\nQuestion: {question}"}])
    return resp.choices[0].message.content.strip()
