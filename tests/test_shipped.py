"""The shipped checkpoints: present, loadable, small, and better than PCA on held-out data."""
import pytest

from ae_core import evaluate, store, workflow


def test_every_shipped_model_loads_and_is_small():
    root = store.default_root()
    names = {m.name for m in store.list_models(root) if not m.error}
    assert {r.name for r in workflow.SHIPPED} <= names
    total = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    assert total < 25 * 1024 * 1024, f"shipped models take {total / 2**20:.1f} MiB"
    for r in workflow.SHIPPED:
        model, meta = store.load(r.name)
        assert meta["kind"] == r.kind and meta["dataset"]["name"] == "mnist-5k"
        assert "test" in meta["metrics"] and "pca" in meta["metrics"]


@pytest.mark.parametrize("name, dim, goal", [("ae-2d", 2, 0.75), ("ae-30d", 30, 0.55)])
def test_ae_beats_pca_on_held_out_digits(mnist5k, name, dim, goal):
    """Measured now, not read from the model card: squared error per test image, AE vs PCA."""
    model, _ = store.load(name)
    assert model.latent_dim == dim
    ae = evaluate.model_metrics(model, mnist5k.x_test)["sse"]
    pca = evaluate.pca_metrics(mnist5k.x_train, mnist5k.x_test, dim)["sse"]
    assert ae / pca <= goal, f"{name}: AE {ae:.2f} vs PCA {pca:.2f} = {ae / pca:.3f} (goal <= {goal})"
