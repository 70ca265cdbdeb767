"""PyTorch's autograd as the oracle for what a training step keeps: the bytes of every
distinct tensor ``torch.autograd.graph.saved_tensors_hooks`` sees in a training-mode
forward (parameters and buffers excluded: they are the model's own state), against
archcalc's saved-activation bytes for the torchvision-following specs.

Optional: skipped, visibly, without torch and torchvision."""
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install -e '.[torch]' runs the oracle tests")
torchvision = pytest.importorskip("torchvision", reason="torchvision not installed")

from archcalc.analyses.training import analyse_training  # noqa: E402
from archcalc.core.shapes import Shape  # noqa: E402
from archcalc.spec.catalog import load  # noqa: E402


def autograd_saved_bytes(module, shape) -> int:
    module.train()
    own = {t.untyped_storage().data_ptr() for t in list(module.parameters()) + list(module.buffers())}
    kept = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in own:
            kept[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(torch.randn(*shape))
    return sum(kept.values())


def cpu_dropout_masks(model, shape, batch) -> int:
    """On the CPU, PyTorch's dropout keeps its mask as a float tensor (input · noise); the
    fused kernel elsewhere, which archcalc follows, keeps one byte per element."""
    t = analyse_training(model, shape, batch=batch)
    return sum(3 * r.saved_bytes for r in t.rows if r.type == "dropout")


@pytest.mark.parametrize("spec, factory, size", [
    ("resnet18", "resnet18", 64), ("resnet50_torchvision", "resnet50", 64),
    ("densenet121", "densenet121", 64), ("alexnet_torchvision", "alexnet", 224),
    ("vgg11_bn", "vgg11_bn", 224)])
def test_saved_bytes_equal_what_autograd_keeps(spec, factory, size):
    torch.manual_seed(0)
    module = getattr(torchvision.models, factory)(weights=None)
    shape = Shape.of(3, size, size)
    model = load(spec)
    ours = analyse_training(model, shape, batch=2).saved_bytes
    assert ours + cpu_dropout_masks(model, shape, 2) == autograd_saved_bytes(module, (2, 3, size, size))


@pytest.mark.parametrize("spec, factory, size", [
    ("mobilenet_v2", "mobilenet_v2", 64), ("resnet18", "resnet18", 64),
    ("alexnet_torchvision", "alexnet", 224)])
def test_flopcounter_training_figures_equal_the_tool(spec, factory, size):
    """`table --train --convention flopcounter` gives what torch.utils.flop_counter counts
    for a forward and a backward, its overcount of grouped (here depthwise) weight
    gradients included."""
    from torch.utils.flop_counter import FlopCounterMode

    from archcalc.conventions import apply, apply_training
    from archcalc.analyses.training import with_training
    from archcalc.core.report import analyse

    module = getattr(torchvision.models, factory)(weights=None).train()
    with FlopCounterMode(display=False) as counter:
        module(torch.randn(2, 3, size, size)).sum().backward()
    model = load(spec)
    shape = Shape.of(3, size, size)
    report = apply(analyse(model, shape, batch=2), "flopcounter")
    step = analyse_training(model, shape, batch=2)
    report = apply_training(with_training(report, step, "sgd"), "flopcounter")
    assert sum(r.train_flops for r in report.training) == counter.get_total_flops()
