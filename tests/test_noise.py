import numpy as np
import pytest
import torch

from ae_core import noise


def _x(n=200):
    return torch.full((n, 1, 28, 28), 0.5)


def test_masking_rate_and_seed():
    g = torch.Generator().manual_seed(1)
    out = noise.masking(_x(), 0.3, g)
    assert abs((out == 0).float().mean().item() - 0.3) < 0.01
    assert torch.equal(out, noise.masking(_x(), 0.3, torch.Generator().manual_seed(1)))


def test_salt_pepper_rate():
    out = noise.salt_pepper(_x(), 0.2, torch.Generator().manual_seed(0))
    assert abs((out == 0).float().mean().item() - 0.1) < 0.01
    assert abs((out == 1).float().mean().item() - 0.1) < 0.01


def test_gaussian_sigma_and_clip():
    out = noise.gaussian(_x(), 0.1, torch.Generator().manual_seed(0))
    assert abs((out - 0.5).std().item() - 0.1) < 0.005
    assert noise.gaussian(_x(), 3.0).min() >= 0 and noise.gaussian(_x(), 3.0).max() <= 1


def test_binarize_probability():
    h = torch.full((100_000,), 0.25)
    b = noise.binarize(h, torch.Generator().manual_seed(0))
    assert set(b.unique().tolist()) == {0.0, 1.0}
    assert abs(b.mean().item() - 0.25) < 0.01


def test_spec_parse_mix_and_errors():
    s = noise.NoiseSpec.parse("gaussian:0.5|masking:0.5")
    assert str(s) == "gaussian:0.5|masking:0.5" and s
    assert not noise.NoiseSpec.parse("none")
    out = s.apply(_x(400), torch.Generator().manual_seed(0))
    masked_imgs = ((out == 0).flatten(1).float().mean(1) > 0.3).float().mean().item()
    assert 0.35 < masked_imgs < 0.65  # about half the images got masking noise
    for bad in ("blur:0.3", "masking:abc", "masking:1.5"):
        with pytest.raises(ValueError):
            noise.NoiseSpec.parse(bad)


def test_parse_one_reads_one_noise_within_the_given_ranges():
    assert noise.parse_one("gaussian:0.3") == ("gaussian", 0.3)
    assert noise.parse_one("Salt_and_pepper:0.2") == ("salt-pepper", 0.2)  # the parser's aliases
    ranges = {"masking": (0.0, 0.9), "gaussian": (0.0, 1.0)}
    assert noise.parse_one("masking:0.5", ranges) == ("masking", 0.5)
    for bad, words in (("none", "one noise"), ("masking:0.1|gaussian:0.2", "one noise"), ("blur:0.3", "Unknown"),
                       ("gaussian:nan", "out of range"), ("salt-pepper:0.2", "noise types are masking, gaussian"),
                       ("gaussian:2", "between 0 and 1"), ("masking:x", "not a number")):
        with pytest.raises(ValueError, match=words):
            noise.parse_one(bad, ranges)


def test_corrupt_numpy_is_seeded():
    x = np.full((4, 1, 8, 8), 0.5, np.float32)
    assert np.array_equal(noise.corrupt(x, "masking:0.5", 3), noise.corrupt(x, "masking:0.5", 3))
