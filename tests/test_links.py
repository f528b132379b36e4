import numpy as np
import pytest
from helpers import LINK_SPECS, REFERENCE_DERIVATIVE, REFERENCE_INVERSE, valid_eta

from skglmnn.links import LINKS, PowerLink, get_link


def test_every_registered_link_is_tested():
    assert {get_link(s).name for s in LINK_SPECS} == set(LINKS)
    assert set(REFERENCE_INVERSE) == set(LINKS)


def test_inverse_matches_reference(link):
    eta = valid_eta(link)
    expected = REFERENCE_INVERSE[link.name](eta, link.power)
    np.testing.assert_allclose(link.inverse(eta), expected, rtol=1e-13)


def test_link_inverts_inverse(link):
    """g(h(eta)) = eta up to the rounding of mu, amplified by 1 / h'(eta)."""
    eta = valid_eta(link)
    mu = link.inverse(eta)
    conditioning = 64 * np.finfo(float).eps * np.abs(mu) / np.abs(link.inverse_derivative(eta))
    assert np.all(np.abs(link.link(mu) - eta) <= 1e-12 + 1e-12 * np.abs(eta) + conditioning)


def test_inverse_derivative_matches_finite_differences(link):
    eta = valid_eta(link)
    h = 1e-6 * np.maximum(1, np.abs(eta))
    numeric = (link.inverse(eta + h) - link.inverse(eta - h)) / (2 * h)
    np.testing.assert_allclose(link.inverse_derivative(eta), numeric, rtol=1e-6, atol=1e-10)


def test_inverse_in_mu_interval(link):
    mu = link.inverse(valid_eta(link))
    assert np.all(link.mu_interval.contains(mu))


def test_no_overflow_in_the_tails(link):
    """|eta| up to 700 inside the link's range: no inf, no nan, no error."""
    iv = link.eta_interval
    eta = np.array([-700, -300, -40, -10, 10, 40, 300, 700], dtype=float)
    eta = eta[iv.contains(eta)]
    with np.errstate(all="raise"):
        mu = link.inverse(eta)
        dmu = link.inverse_derivative(eta)
    assert np.all(np.isfinite(mu)) and np.all(np.isfinite(dmu))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(link, dtype):
    eta = valid_eta(link).astype(dtype)
    assert link.inverse(eta).dtype == dtype
    assert link.inverse_derivative(eta).dtype == dtype


def test_shapes_are_kept():
    link = get_link("logit")
    eta = np.linspace(-2, 2, 12).reshape(3, 4)
    assert link.inverse(eta).shape == (3, 4)
    assert np.ndim(link.inverse(0.0)) == 0


@pytest.mark.parametrize(
    "spec, expected",
    [("LOGIT", "LogitLink()"), (" power( 0.5 ) ", "PowerLink(power=0.5)"),
     ("negative_binomial(2)", "NegativeBinomialLink(alpha=2)")],
)  # fmt: skip
def test_get_link_parses_names(spec, expected):
    assert repr(get_link(spec)) == expected


def test_get_link_errors_name_the_valid_choices():
    with pytest.raises(ValueError, match="Unknown link 'logitt'.*cloglog.*probit"):
        get_link("logitt")
    with pytest.raises(ValueError, match="must be a number"):
        get_link("power(abc)")
    with pytest.raises(ValueError, match="takes no parameter"):
        get_link("logit(2)")
    with pytest.raises(ValueError, match="alpha"):
        get_link("negative_binomial(-1)")
    with pytest.raises(TypeError):
        get_link(3)


def test_power_link_special_cases_agree_with_named_links():
    eta = np.linspace(0.5, 3, 7)
    np.testing.assert_allclose(PowerLink(-1).inverse(eta), get_link("inverse").inverse(eta))
    np.testing.assert_allclose(PowerLink(0.5).inverse(eta), get_link("sqrt").inverse(eta))
    np.testing.assert_allclose(PowerLink(1).inverse(eta), eta)


def test_links_compare_by_value():
    assert get_link("power(2)") == PowerLink(2.0)
    assert get_link("power(2)") != PowerLink(3.0)
    assert len({get_link("log"), get_link("log")}) == 1


def test_inverse_derivative_matches_reference(link):
    eta = valid_eta(link)
    expected = REFERENCE_DERIVATIVE[link.name](eta, link.power)
    np.testing.assert_allclose(link.inverse_derivative(eta), expected, rtol=1e-12)
