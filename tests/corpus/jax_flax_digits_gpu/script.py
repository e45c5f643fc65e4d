"""A small Flax CNN on the sklearn digits set, jit-compiled with JAX on a GPU.

Requires the CUDA build of jaxlib; we fail fast if no GPU backend is found.
"""
import argparse
from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax.training import train_state
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


class CNN(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Conv(32, (3, 3))(x))
        x = nn.avg_pool(x, (2, 2), (2, 2))
        x = nn.relu(nn.Conv(64, (3, 3))(x))
        x = x.reshape((x.shape[0], -1))
        x = nn.relu(nn.Dense(128)(x))
        return nn.Dense(10)(x)


def create_state(rng, lr):
    model = CNN()
    params = model.init(rng, jnp.ones((1, 8, 8, 1)))["params"]
    return train_state.TrainState.create(apply_fn=model.apply, params=params, tx=optax.adamw(lr))


@jax.jit
def train_step(state, x, y):
    def loss_fn(params):
        logits = state.apply_fn({"params": params}, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    return state.apply_gradients(grads=grads), loss


@partial(jax.jit, static_argnums=())
def accuracy(state, x, y):
    return (state.apply_fn({"params": state.params}, x).argmax(-1) == y).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    gpus = jax.devices("gpu")  # raises if jaxlib has no CUDA backend
    print("JAX devices:", gpus, "default backend:", jax.default_backend())

    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)[..., None]
    X_tr, X_te, y_tr, y_te = train_test_split(X, digits.target, test_size=0.2, random_state=0)
    X_tr, y_tr = jax.device_put(X_tr, gpus[0]), jax.device_put(y_tr, gpus[0])

    state = create_state(jax.random.PRNGKey(0), args.lr)
    rng = np.random.default_rng(0)
    for epoch in range(args.epochs):
        perm = rng.permutation(len(X_tr))
        for i in range(0, len(perm), args.batch):
            idx = perm[i:i + args.batch]
            state, loss = train_step(state, X_tr[idx], y_tr[idx])
        if epoch % 5 == 0:
            print(f"epoch {epoch} loss {float(loss):.4f} test acc {float(accuracy(state, X_te, y_te)):.3f}")


if __name__ == "__main__":
    main()
