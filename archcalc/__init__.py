"""archcalc: exact per-layer figures of convolutional networks, cross-checked in NumPy.

Public API (docs/api.md)::

    import archcalc
    report = archcalc.analyse("alexnet", input=(3, 227, 227), batch=1)
    report.totals.params   # 60965224
    report.records()       # one dict per layer, the JSON contract's keys
    archcalc.compare(["resnet18", "resnet50"]).markdown()
    archcalc.sweep("resnet18", inputs=[(3, s, s) for s in range(128, 257, 32)])
    archcalc.from_torch(torchvision.models.resnet50(), (3, 224, 224))  # a Model

The names are loaded on first use, so ``import archcalc`` costs nothing until then.
"""
from __future__ import annotations

__all__ = ["load", "analyse", "compare", "sweep", "Analysis", "Comparison", "SweepResult",
           "ArchcalcError", "from_torch"]


def from_torch(module, input_shape, name=None):
    """The Model of a PyTorch ``nn.Module`` on one sample of ``input_shape`` (C, H, W),
    traced with torch.fx (docs/import-export.md); torch is imported only here."""
    from .io import from_torch as trace

    return trace(module, input_shape, name)


def __getattr__(name: str):
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'archcalc' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
