"""Compiled (numba) kernels: integer codes, scalar formulas and loops over samples.

Nothing here knows about estimators; the Python objects in ``skglmnn.links``,
``skglmnn.families`` and ``skglmnn._loss`` call these kernels with arrays,
floats and the integer codes of ``codes``.
"""
