"""The layer registry: it imports a type's module on first use, yet lists and returns
exactly what importing every layer module registers, in registration order."""
import importlib
import pkgutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import archcalc.layers
from archcalc.layers import REGISTRY, Layer, register
from archcalc.layers.base import MODULES

ROOT = Path(__file__).resolve().parent.parent


def _fresh(code: str) -> list[str]:
    """The lines ``code`` prints in a new interpreter (nothing of archcalc loaded yet)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_registry_holds_every_layer_class_of_every_module():
    """Importing each module of archcalc.layers yields the classes REGISTRY returns: every
    class naming its own type is registered, under the module MODULES lists it in."""
    for module in pkgutil.iter_modules(archcalc.layers.__path__):
        importlib.import_module(f"archcalc.layers.{module.name}")
    defined = {cls.type_name: cls for cls in _subclasses(Layer) if vars(cls).get("type_name")}
    assert dict(REGISTRY.items()) == defined
    assert {name: cls.__module__ for name, cls in defined.items()} == {
        name: f"archcalc.layers.{module}" for module, names in MODULES.items() for name in names}


def test_registry_order_is_the_eager_registration_order():
    """Listing the registry gives the order in which importing the modules one by one
    registers the types (what the eager registry held)."""
    code = ("import importlib; from archcalc.layers.base import MODULES, REGISTRY\n"
            "for m in MODULES: importlib.import_module('archcalc.layers.' + m)\n"
            "print(list(REGISTRY._classes) == list(REGISTRY), len(REGISTRY))")
    assert _fresh(code) == [f"True {sum(len(names) for names in MODULES.values())}"]


def test_names_and_membership_import_no_layer_module():
    """Listing, counting and testing names loads no layer type; looking one up loads its
    module (and what it imports), not the others."""
    code = ("import sys; from archcalc.layers import REGISTRY\n"
            "loaded = lambda: sorted(m.rsplit('.', 1)[1] for m in sys.modules\n"
            "                        if m.startswith('archcalc.layers.'))\n"
            "names = sorted(REGISTRY); 'conv' in REGISTRY; len(REGISTRY); print(loaded())\n"
            "print(REGISTRY['lrn'].__name__, loaded())")
    assert _fresh(code) == ["['base']", "LRN ['base', 'norm']"]


def test_unknown_type_is_a_key_error():
    assert "nonesuch" not in REGISTRY
    with pytest.raises(KeyError):
        REGISTRY["nonesuch"]
    assert REGISTRY.get("nonesuch") is None


def test_register_refuses_a_class_missing_from_modules():
    """A class must be listed under its own module, so a lookup can find it; a type
    registered twice is refused."""
    @dataclass(frozen=True)
    class Stray(Layer):
        type_name = "stray"

    @dataclass(frozen=True)
    class Impostor(Layer):  # a listed name, but defined outside its module
        type_name = "conv"

    for cls in (Stray, Impostor):
        with pytest.raises(RuntimeError, match="not listed under its module"):
            register(cls)
    with pytest.raises(RuntimeError, match="registered twice"):
        register(REGISTRY["conv"])
    assert "stray" not in REGISTRY and REGISTRY["conv"].__module__ == "archcalc.layers.conv"
