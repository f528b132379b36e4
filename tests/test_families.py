import numpy as np
import pytest
from helpers import FAMILY_SPECS, sample_y
from scipy import integrate, stats

from skglmnn.families import FAMILIES, TweedieFamily, get_family


def means(family, n=40, seed=1):
    rng = np.random.default_rng(seed)
    if family.mu_interval.high == 1.0:
        return rng.uniform(0.05, 0.95, n)
    return rng.uniform(0.5, 4.0, n)


def test_every_registered_family_is_tested():
    assert {get_family(s).name for s in FAMILY_SPECS} == set(FAMILIES)


def test_deviance_is_zero_at_the_mean_and_positive_elsewhere(family):
    mu = means(family)
    y = sample_y(family, mu)
    if family.name == "binomial":
        y_self = np.clip(mu, 0.01, 0.99)
    else:
        y_self = mu
    np.testing.assert_allclose(family.unit_deviance(y_self, y_self), 0, atol=1e-12)
    d = family.unit_deviance(y, mu)
    assert np.all(d >= -1e-12)
    assert np.all(d[~np.isclose(y, mu)] > 0)


def test_deviance_derivative_is_minus_twice_residual_over_variance(family):
    """d d(y, mu) / d mu = -2 (y - mu) / V(mu): the identity the chain rule rests on."""
    mu = means(family)
    y = sample_y(family, mu)
    h = 1e-6 * mu
    numeric = (family.unit_deviance(y, mu + h) - family.unit_deviance(y, mu - h)) / (2 * h)
    np.testing.assert_allclose(
        numeric, -2 * (y - mu) / family.unit_variance(mu), rtol=1e-5, atol=1e-8
    )


def test_canonical_link_has_derivative_proportional_to_variance(family):
    link = family.canonical_link()
    mu = means(family)
    ratio = link.inverse_derivative(link.link(mu)) / family.unit_variance(mu)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-10)


def test_default_link_maps_the_real_line_into_the_domain(family):
    link = family.default_link()
    assert link.maps_real_line
    mu = link.inverse(np.linspace(-5, 5, 11))
    assert np.all(family.mu_interval.contains(mu))


# log-likelihoods against scipy.stats, with the dispersion parametrised as there
SCIPY_LOGPDF = {
    "normal": lambda y, mu, phi: stats.norm.logpdf(y, mu, np.sqrt(phi)),
    "binomial": lambda y, mu, phi: stats.bernoulli.logpmf(y, mu),
    "poisson": lambda y, mu, phi: stats.poisson.logpmf(y, mu),
    "gamma": lambda y, mu, phi: stats.gamma.logpdf(y, 1 / phi, scale=mu * phi),
    "inverse_gaussian": lambda y, mu, phi: stats.invgauss.logpdf(y, mu * phi, scale=1 / phi),
    "negative_binomial": lambda y, mu, phi: stats.nbinom.logpmf(y, 1 / 0.5, 1 / (1 + 0.5 * mu)),
}


@pytest.mark.parametrize("spec", ["normal", "binomial", "poisson", "gamma", "inverse_gaussian",
                                  "negative_binomial(0.5)", "tweedie(0)", "tweedie(2)",
                                  "tweedie(3)"])  # fmt: skip
def test_loglik_matches_scipy(spec):
    family = get_family(spec)
    mu = means(family)
    y = sample_y(family, mu)
    phi = 0.7 if family.has_dispersion else 1.0
    name = {0.0: "normal", 1.0: "poisson", 2.0: "gamma", 3.0: "inverse_gaussian"}.get(
        family.power, family.name) if family.name == "tweedie" else family.name  # fmt: skip
    expected = SCIPY_LOGPDF[name](y, mu, phi).sum()
    np.testing.assert_allclose(family.loglik(y, mu, dispersion=phi), expected, rtol=1e-10)
    w = np.arange(1, y.size + 1, dtype=float)
    np.testing.assert_allclose(
        family.loglik(y, mu, w, dispersion=phi),
        np.dot(w, SCIPY_LOGPDF[name](y, mu, phi)),
        rtol=1e-10,
    )
    # variance (prior) weights: sample i has dispersion phi / w_i; weight 0 drops it
    v = np.linspace(0.0, 3.0, y.size)
    per_sample = SCIPY_LOGPDF[name](y[1:], mu[1:], phi / v[1:]) if family.has_dispersion else (
        v[1:] * SCIPY_LOGPDF[name](y[1:], mu[1:], phi))  # fmt: skip
    np.testing.assert_allclose(family.loglik(y, mu, v, phi, variance_weights=True),
                               per_sample.sum(), rtol=1e-10)  # fmt: skip


def test_tweedie_power_one_is_quasi_poisson():
    """Dispersion estimated (as R's statmod and statsmodels), no likelihood (R: AIC NA)."""
    family = get_family("tweedie(1)")
    assert family.has_dispersion
    with pytest.raises(ValueError, match="quasi-Poisson"):
        family.loglik(np.array([1.0, 2.5]), np.array([1.5, 2.0]), dispersion=2.0)


def test_binomial_loglik_of_proportions_is_the_binomial_pmf():
    family = get_family("binomial")
    trials = np.array([3.0, 5.0, 10.0, 1.0])
    successes = np.array([1.0, 5.0, 0.0, 1.0])
    mu = np.array([0.3, 0.6, 0.2, 0.9])
    expected = stats.binom.logpmf(successes, trials, mu).sum()
    np.testing.assert_allclose(family.loglik(successes / trials, mu, trials), expected, rtol=1e-12)


@pytest.mark.parametrize("power", [1.2, 1.5, 1.8])
@pytest.mark.parametrize("mu, phi", [(1.0, 1.0), (3.0, 0.5), (0.4, 2.0)])
def test_tweedie_series_is_a_distribution_with_mean_mu(power, mu, phi):
    """The compound Poisson-gamma density plus its mass at 0 integrates to 1, with mean mu."""
    family = TweedieFamily(power)

    def density(y):
        return np.exp(family.loglik(np.array([y]), np.array([mu]), dispersion=phi))

    mass0 = density(0.0)
    np.testing.assert_allclose(mass0, np.exp(-(mu ** (2 - power)) / (phi * (2 - power))))
    total = integrate.quad(density, 1e-12, 60 * mu, limit=400)[0]
    mean = integrate.quad(lambda y: y * density(y), 1e-12, 60 * mu, limit=400)[0]
    np.testing.assert_allclose(mass0 + total, 1.0, rtol=1e-6)
    np.testing.assert_allclose(mean, mu, rtol=1e-6)


def test_pearson_dispersion_recovers_the_scale():
    rng = np.random.default_rng(0)
    mu = rng.uniform(1, 3, 200_000)
    y = rng.gamma(1 / 0.3, mu * 0.3)
    np.testing.assert_allclose(get_family("gamma").pearson_dispersion(y, mu), 0.3, rtol=0.02)


def test_check_y_names_family_domain_and_count():
    with pytest.raises(ValueError, match=r"PoissonFamily\(\) family needs y in \[0, inf\); 2 of 4"):
        get_family("poisson").check_y(np.array([1.0, -1.0, -2.0, 0.0]))
    with pytest.raises(ValueError, match=r"needs y in \(0, inf\)"):
        get_family("gamma").check_y(np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"needs y in \[0, 1\]"):
        get_family("binomial").check_y(np.array([0.0, 2.0]))
    get_family("tweedie(1.5)").check_y(np.array([0.0, 2.0]))


def test_get_family_parses_and_validates():
    assert get_family("gaussian") == get_family("normal")
    assert get_family("tweedie(1.5)").power == 1.5
    assert get_family("negative_binomial").alpha == 1.0
    with pytest.raises(ValueError, match="needs its power"):
        get_family("tweedie")
    with pytest.raises(ValueError, match="must be 0 or >= 1"):
        get_family("tweedie(0.5)")
    with pytest.raises(ValueError, match="Unknown family 'poison'.*poisson"):
        get_family("poison")
    with pytest.raises(ValueError, match="alpha"):
        get_family("negative_binomial(0)")
