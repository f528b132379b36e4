"""Fixtures parametrised over the registries; the suite runs compiled kernels."""

import pytest
from helpers import FAMILY_SPECS, LINK_SPECS

from skglmnn._kernels._jit import compile_kernels
from skglmnn.families import get_family
from skglmnn.links import get_link


def pytest_configure(config):
    # Before collection, so that a test module importing a kernel gets its compiled
    # dispatcher: small fits would otherwise run interpreted (skglmnn._kernels._jit),
    # which tests/test_interpreted.py checks on its own, in fresh processes.
    compile_kernels()


@pytest.fixture(params=LINK_SPECS)
def link(request):
    return get_link(request.param)


@pytest.fixture(params=FAMILY_SPECS)
def family(request):
    return get_family(request.param)
