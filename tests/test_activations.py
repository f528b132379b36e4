import numpy as np
import pytest

from skglmnn.activations import ACTIVATIONS, INVERTIBLE, get_activation
from skglmnn.links import LINKS


@pytest.mark.parametrize("name", INVERTIBLE)
def test_invertible_activation_is_its_links_inverse(name):
    activation = get_activation(name)
    link = activation.as_link()
    assert link.activation == name
    eta = np.linspace(0.3, 2.0, 9)
    np.testing.assert_allclose(link.link(link.inverse(eta)), eta, rtol=1e-10)


def test_every_link_with_an_activation_name_is_in_the_table():
    named = {cls.activation for cls in LINKS.values() if cls.activation}
    assert named <= set(ACTIVATIONS)


def test_relu_is_flagged_not_invertible():
    relu = get_activation("relu")
    assert not relu.invertible
    with pytest.raises(ValueError, match="not invertible.*hidden layers"):
        relu.as_link()


def test_aliases_and_unknown_names():
    assert get_activation("sigmoid") is get_activation("logistic")
    with pytest.raises(ValueError, match="Unknown activation 'swishy'.*logistic"):
        get_activation("swishy")
