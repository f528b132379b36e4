"""Fixtures parametrised over the registries."""

import pytest
from helpers import FAMILY_SPECS, LINK_SPECS

from skglmnn.families import get_family
from skglmnn.links import get_link


@pytest.fixture(params=LINK_SPECS)
def link(request):
    return get_link(request.param)


@pytest.fixture(params=FAMILY_SPECS)
def family(request):
    return get_family(request.param)
