"""An activation folded into the row of the layer it follows (conv+relu, dense+relu, add+relu).

Every function of :data:`~archcalc.layers.activation.ACTIVATIONS` folds, with its
defaults (leaky_relu's slope 0.01, elu's α 1, gelu's erf form), except prelu: its slopes
are trainable parameters a folded activation cannot declare, so folding it is refused
with a pointer to the standalone layer.  ``swish`` is accepted as a spelling of silu.
"""
from __future__ import annotations

from ..core.backward import NOTHING, Backward, Needs, Saved
from ..core.work import Work
from ..errors import SpecError
from ..spec.fields import attr, choice
from .activation import ACTIVATIONS, activation_backward, activation_saved
from .base import ALIASES

#: activations a row may fold: every one without trainable parameters
FOLDABLE = tuple(name for name in ACTIVATIONS if name != "prelu")

_choose = choice(*FOLDABLE, "swish")


def folded_activation(value):
    """The name of a folded activation, or None (the parser of every ``activation:``)."""
    if value is None:
        return None
    if isinstance(value, str) and value.lower() == "prelu":
        raise SpecError("prelu holds trainable slopes and cannot be folded into this row; "
                        "write it as its own layer: {type: prelu}")
    name = _choose(value)
    return ALIASES.get(name, name)


def activation_attr():
    return attr(folded_activation, None,
                "activation applied to this layer's output in the same row")


def linear_backward(macs, bias_adds, activation, outputs, needs: Needs) -> Backward:
    """The backward of a linear map with a bias and a folded activation (conv,
    conv_transpose, dense): the activation's derivative first; the input's gradient
    through the transposed map and the weights' from the kept input, each as many MACs as
    the forward (``macs``); the bias gradient sums the output's (``bias_adds`` adds)."""
    bias = Work(additions=bias_adds) if bias_adds and needs.weights else Work()
    return Backward(input_macs=macs if needs.input else 0,
                    weight_macs=macs if needs.weights else 0,
                    work=bias + activation_backward(activation, outputs))


def linear_saved(activation, outputs, needs: Needs) -> Saved:
    """What autograd keeps for such a layer: its input, for the weights' gradient (the
    weights are parameters), and what the folded activation keeps."""
    own = Saved(inputs=(0,)) if needs.weights else NOTHING
    return own + activation_saved(activation, outputs)
