"""Fully connected layers: dense (inner product) and LeNet-5's Euclidean RBF output."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ShapeError
from ..spec.fields import attr, boolean, optional, positive_int
from ..core.shapes import Shape, is_known
from ..core.windows import Whole
from ..core.work import Work
from ..core.backward import NOTHING, Backward, Needs, Saved
from .activation import activation_work
from .base import Layer, register
from .folded import activation_attr, linear_backward, linear_saved


class FullyConnected(Layer):
    """Flattens any input (Caffe's InnerProduct does too) to its C·H·W features.

    ``in_features`` pins the input size the weights were made for: the engine fills it in
    from the model's declared input, so an ``--input`` that changes the flattened size is
    refused instead of silently resizing the weights.
    """

    def features_in(self, x: Shape):
        """The input features; on symbolic sizes, the pinned count when there is one.

        A weight matrix does not grow with the input, so a pinned layer's counts are
        constants: symbolic mode reports the condition ``numel == in_features`` beside
        them (archcalc.analyses.symbolic), instead of formulas that hold nowhere else.
        """
        n = x.numel
        if self.in_features is None:
            return n
        if not is_known(n):
            return self.in_features
        if n != self.in_features:
            raise ShapeError(f"expects {self.in_features:,} input features, got {n:,} from {x}; "
                             f"a fully connected layer fixes the input size")
        return n

    def out_shape(self, x: Shape) -> Shape:
        self.features_in(x)
        return Shape.of(self.units)

    def field_rule(self, x: Shape):
        return Whole()


@register
@dataclass(frozen=True)
class Dense(FullyConnected):
    """y = W x + b.  params = in·out + out;  MACs = in·out;  connections = (in + 1)·out."""
    type_name = "dense"
    units: int = attr(positive_int, doc="output features")
    bias: bool = attr(boolean, True, "whether each output has a trainable bias")
    activation: object = activation_attr()
    in_features: int = attr(optional(positive_int), None, "input features the weights expect")

    def params(self, x: Shape):
        return self.features_in(x) * self.units + (self.units if self.bias else 0)

    def macs(self, x: Shape, y: Shape):
        return self.features_in(x) * self.units

    def connections(self, x: Shape, y: Shape):
        return self.params(x)

    def work(self, x: Shape, y: Shape) -> Work:
        """A bias add per output, then the folded activation."""
        return Work(additions=self.units if self.bias else 0) + activation_work(self.activation, y.numel)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """addmm's backward: g·W for the input, gᵀ·x for the (flattened) input's weights,
        in·out MACs each, the bias gradient the sum of g (:func:`folded.linear_backward`)."""
        return linear_backward(self.macs(x, y), self.units if self.bias else 0, self.activation,
                               y.numel, needs)

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return linear_saved(self.activation, y.numel, needs)

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """None besides a folded softmax's maximum and sum (one value per sample)."""
        return batch if self.activation == "softmax" else 0

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """weight (out, in) as in PyTorch and ONNX Gemm, bias (out,)."""
        from .npkit import normal

        n = x.numel
        weights = {"weight": normal(rng, (self.units, n), dtype, n ** -0.5)}
        if self.bias:
            weights["bias"] = normal(rng, (self.units,), dtype, 0.1)
        return weights

    def forward(self, x, weights, ops):
        """y = x Wᵀ + b on the flattened input: one matmul (BLAS)."""
        from .npkit import activate

        y = ops.matmul(x.reshape(x.shape[0], -1), weights["weight"].T)
        if self.bias:
            y += weights["bias"]
        return activate(self.activation, y)

    def train_forward(self, x, weights, ops):
        """The forward, keeping a folded activation's argument when autograd keeps it."""
        from .npgrad import folded_forward

        return folded_forward(self, x, weights, ops)

    def train_workspace(self, x, batch, itemsize) -> int:
        from .npgrad import folded_train_workspace

        return folded_train_workspace(self, x, batch, itemsize)

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """addmm's backward after the folded activation's derivative: dx = G·W,
        dW = Gᵀ·x (the saved, flattened input), db = Σ G."""
        from .npgrad import folded_grad

        g = folded_grad(self, tape, grad)
        dims = tape.dims()
        dx = ops.input.matmul(g, weights["weight"]).reshape(dims) if needs.input else None
        grads = {}
        if needs.weights:
            grads["weight"] = ops.weights.matmul(g.T, tape.x.reshape(dims[0], -1))
            if self.bias:
                grads["bias"] = g.sum(axis=0)
        return dx, grads

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        from .npgrad import folded_workspace

        return folded_workspace(self, y, batch, itemsize)


@register
@dataclass(frozen=True)
class RBF(FullyConnected):
    """LeNet-5's output: y_j = Σ_i (x_i − w_ij)², no bias.

    params = connections = in·out;  MACs = in·out (square-and-accumulate);
    extra FLOPs = in·out subtractions.
    """
    type_name = "rbf"
    units: int = attr(positive_int, doc="output units (classes)")
    in_features: int = attr(optional(positive_int), None, "input features the weights expect")

    def params(self, x: Shape):
        return self.features_in(x) * self.units

    def macs(self, x: Shape, y: Shape):
        return self.params(x)

    def connections(self, x: Shape, y: Shape):
        return self.params(x)

    def work(self, x: Shape, y: Shape) -> Work:
        return Work(additions=self.params(x))  # (x_i − w_ij): one subtraction per weight

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """∂y_j/∂x_i = 2(x_i − w_ij): the differences again (a subtraction per weight), the
        factor 2 on each output's gradient, then g·diff summed over the units for the
        input and over the batch for the centres: in·out MACs each."""
        macs = self.macs(x, y)
        return Backward(input_macs=macs if needs.input else 0,
                        weight_macs=macs if needs.weights else 0,
                        work=Work(additions=macs, multiplications=self.units))

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return Saved(inputs=(0,)) if needs.any else NOTHING

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """weight (out, in): the centres of the output units."""
        from .npkit import normal

        return {"weight": normal(rng, (self.units, x.numel), dtype)}

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """The differences x − w for every (unit, input) pair: in·out per sample."""
        return batch * x.numel * self.units

    def forward(self, x, weights, ops):
        """Differences, then one square-and-accumulate einsum: Σ_i (x_i − w_ji)²."""
        flat = x.reshape(x.shape[0], 1, -1)
        diff = flat - weights["weight"][None]
        return ops.einsum("noi,noi->no", diff, diff)

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """With d = x − w (made again) and h = 2·g: dx_i = Σ_j h_j·d_ji, dw_ji = −Σ_n h_j·d_ji
        (one einsum each, in·out MACs per sample)."""
        dims = tape.dims()
        diff = tape.x.reshape(dims[0], 1, -1) - weights["weight"][None]
        h = grad * grad.dtype.type(2)
        dx = ops.input.einsum("no,noi->ni", h, diff).reshape(dims) if needs.input else None
        grads = {}
        if needs.weights:
            h *= h.dtype.type(-1)
            grads["weight"] = ops.weights.einsum("no,noi->oi", h, diff)
        return dx, grads

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """The differences x − w, as the forward."""
        return itemsize * self.workspace(x, batch)
