"""archcalc: exact per-layer figures of convolutional networks, cross-checked in NumPy.

Public API::

    from archcalc import load, analyse
    report = analyse(load("alexnet"), batch=1)
    report.totals.params   # 60965224
"""
from .spec.catalog import load
from .core.report import analyse

__all__ = ["load", "analyse"]
