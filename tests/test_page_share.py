"""Links to a view on Generate and Denoise (ui.share), run by AppTest behind the shared sidebar: a link's
slider code or noise opens that view; a stale or malformed one gives one notice and the default."""
import numpy as np

from page_shim import ok, page_app


def _q(at, key: str):
    v = at.query_params.get(key)
    return v[-1] if isinstance(v, list) else v


def _notices(at) -> list[str]:
    return [i.value for i in at.info if "The link asks for" in i.value]


def test_generate_takes_its_code_from_the_link_and_writes_moves_back():
    at = page_app("generate", 300)
    at.query_params["code"] = "1.5,-2"
    at.run()
    ok(at)
    assert not _notices(at)
    vals = {s.key: s.value for s in at.slider}
    assert np.isclose(vals["gen_ae-2d_z0"], 1.5, atol=0.01) and np.isclose(vals["gen_ae-2d_z1"], -2, atol=0.01), vals
    at.slider(key="gen_ae-2d_z0").set_value(0.5).run()
    ok(at)
    assert _q(at, "code").split(",")[0] == "0.5"


def test_generate_refuses_a_code_of_the_wrong_length_or_nan():
    for bad in ("1,2,3", "nan,1"):
        at = page_app("generate", 300)
        at.query_params["code"] = bad
        at.run()
        ok(at)
        assert len(_notices(at)) == 1, _notices(at)


def test_denoise_takes_its_noise_from_the_link_and_refuses_a_stale_one():
    at = page_app("denoise", 300)
    at.query_params["noise"] = "gaussian:0.3"
    at.run()
    ok(at)
    assert at.selectbox(key="dn_kind_Test images").value == "gaussian"
    assert np.isclose(at.slider(key="dn_level_gaussian").value, 0.3)
    assert _q(at, "noise") == "gaussian:0.3"
    assert not [w for w in at.warning if "Session State" in w.value]
    bad = page_app("denoise", 300)
    bad.query_params["noise"] = "gaussian:nan"
    bad.run()
    ok(bad)
    assert len(_notices(bad)) == 1 and bad.selectbox(key="dn_kind_Test images").value == "masking"
