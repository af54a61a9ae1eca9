"""MIG, SAP and DCI (ae_core.metrics) on synthetic codes whose answer is known."""
import numpy as np
import pytest

from ae_core import metrics
from ae_core.data import sprites

N = 3000


@pytest.fixture(scope="module")
def factors():
    idx = np.random.default_rng(0).choice(int(np.prod(sprites.GRID)), N, replace=False)
    return sprites.grid_factors(idx).astype(np.float64)


def _std(f):
    return (f - f.mean(0)) / f.std(0)


def _scores(z, f):
    h = N * 2 // 3
    d = metrics.dci(z[:h], f[:h], z[h:], f[h:])
    return {"mig": metrics.mig(z, f), "sap": metrics.sap(z, f), **d}


def test_factors_copied_into_the_code_score_high(factors):
    rng = np.random.default_rng(1)
    z = np.concatenate([_std(factors) + 0.01 * rng.standard_normal(factors.shape),
                        rng.standard_normal((N, 3))], 1)  # plus three unused dimensions
    s = _scores(z, factors)
    assert s["mig"] > 0.7, s
    assert s["disentanglement"] > 0.9 and s["completeness"] > 0.9, s
    assert s["informativeness"] > 0.9 and s["sap"] > 0.5, s
    nmi = metrics.normalised_mi(z, factors)
    assert nmi.shape == (8, 5)
    assert np.array_equal(nmi[:5].argmax(0), np.arange(5))  # each factor is found in its own dimension


def test_random_code_scores_about_zero(factors):
    z = np.random.default_rng(2).standard_normal((N, 10))
    s = _scores(z, factors)
    assert s["mig"] < 0.03 and s["sap"] < 0.01, s
    assert s["disentanglement"] < 0.15 and s["completeness"] < 0.15 and s["informativeness"] < 0.05, s


def test_rotated_factor_code_scores_low(factors):
    # A random rotation mixes every factor into every coordinate: all the information, none of it separated.
    q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((5, 5)))
    z = _std(factors) @ q
    s, copied = _scores(z, factors), _scores(_std(factors), factors)
    assert s["mig"] < 0.3 and s["mig"] < copied["mig"] - 0.5, (s, copied)
    assert s["disentanglement"] < copied["disentanglement"] - 0.3, (s, copied)
    assert s["sap"] < copied["sap"] - 0.3, (s, copied)


def test_two_factors_rotated_by_45_degrees_have_no_gap():
    rng = np.random.default_rng(4)
    f = rng.integers(0, 20, (N, 2)).astype(np.float64)
    z = np.stack([f[:, 0] + f[:, 1], f[:, 0] - f[:, 1]], 1)
    assert metrics.mig(z, f) < 0.1 and metrics.mig(f, f) > 0.9


def test_scores_do_not_depend_on_coordinate_order(factors):
    rng = np.random.default_rng(5)
    z = _std(factors) @ np.diag([1, 0.5, 2, 1, 1]) + 0.3 * rng.standard_normal((N, 5))
    z = np.concatenate([z, rng.standard_normal((N, 2))], 1)
    perm = rng.permutation(z.shape[1])
    a, b = _scores(z, factors), _scores(z[:, perm], factors)
    assert a["mig"] == pytest.approx(b["mig"], abs=1e-12)
    assert a["sap"] == pytest.approx(b["sap"], abs=1e-12)
    for k in ("disentanglement", "completeness", "informativeness"):
        assert a[k] == pytest.approx(b[k], abs=0.02), k
    assert np.allclose(metrics.normalised_mi(z, factors)[perm], metrics.normalised_mi(z[:, perm], factors))


def test_discretisation_matches_disentanglement_lib():
    a = np.array([[0.0], [0.1], [0.5], [0.99], [1.0]])
    # np.digitize against np.histogram's 20 left edges: the maximum falls in the last bin, 20.
    assert metrics.histogram_discretize(a)[:, 0].tolist() == [1, 3, 11, 20, 20]
    f = np.array([[0.5], [1.0], [0.5], [2.0]])
    assert metrics.factor_labels(f)[:, 0].tolist() == [0, 1, 0, 2]
    assert metrics.factor_entropy(f)[0] == pytest.approx(-(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25)))


def test_dci_of_known_importance_matrices():
    assert metrics.dci_from_importance(np.eye(4)) == pytest.approx((1.0, 1.0))
    assert metrics.dci_from_importance(np.ones((4, 4))) == pytest.approx((0.0, 0.0), abs=1e-12)
    # One dimension carries every factor equally: not disentangled, but complete.
    d, c = metrics.dci_from_importance(np.array([[1.0, 1.0], [0.0, 0.0]]))
    assert d == pytest.approx(0.0, abs=1e-12) and c == pytest.approx(1.0)
