"""Every public class, function and method of skglmnn has a numpydoc docstring."""

import inspect

import pytest

import skglmnn
from skglmnn import activations, families, inference, links, neural, persistence, plotting

optional = []
for name in ("formula", "onnx_export"):  # modules whose dependencies are optional
    try:
        optional.append(__import__(f"skglmnn.{name}", fromlist=[name]))
    except ImportError:  # pragma: no cover - the test extra installs them
        pass

PUBLIC = sorted(
    {
        (module.__name__, name)
        for module in (skglmnn, families, links, activations, neural, inference, persistence,
                       plotting, *optional)
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", "").startswith("skglmnn")
        # a module's own objects, and everything the package re-exports
        and (module is skglmnn or obj.__module__ == module.__name__)
    }
)


@pytest.mark.parametrize("module_name, name", PUBLIC)
def test_public_object_has_a_numpydoc_docstring(module_name, name):
    import importlib

    obj = getattr(importlib.import_module(module_name), name)
    doc = inspect.getdoc(obj)
    assert doc and len(doc.splitlines()[0]) > 10, f"{module_name}.{name} has no summary line"
    signature = inspect.signature(obj)
    takes_arguments = any(p.name not in ("self", "cls") for p in signature.parameters.values())
    if inspect.isfunction(obj) and takes_arguments:
        assert "Parameters\n----------" in doc, f"{name} documents no Parameters"
    if inspect.isclass(obj):
        for method_name, method in vars(obj).items():
            if method_name.startswith("_") or not inspect.isfunction(method):
                continue
            method_doc = inspect.getdoc(getattr(obj, method_name))
            assert method_doc, f"{name}.{method_name} has no docstring"
