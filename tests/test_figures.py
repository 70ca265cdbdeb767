"""The bundled specs reproduce the figures of their papers, each expectation written as
independent arithmetic (or as the paper or framework prints it)."""
import pytest

from archcalc import analyse, load


def rows(model):
    return {r.name: r for r in analyse(load(model)).layers}


def test_lenet5_params_connections_and_maps():
    """LeNet-5 (LeCun 1998, section II.B): params and connections of every layer."""
    r = rows("lenet5")
    c3_fan_in = (6 * 3 + 9 * 4 + 1 * 6) * 5 * 5          # Table I: 6 maps read 3, 9 read 4, 1 reads 6
    expected = {
        "C1": ((5 * 5 + 1) * 6, (5 * 5 + 1) * 6 * 28 * 28),
        "S2": (2 * 6, (2 * 2 + 1) * 14 * 14 * 6),
        "C3": (c3_fan_in + 16, (c3_fan_in + 16) * 10 * 10),
        "S4": (2 * 16, (2 * 2 + 1) * 5 * 5 * 16),
        "C5": ((5 * 5 * 16 + 1) * 120, (5 * 5 * 16 + 1) * 120),
        "F6": ((120 + 1) * 84, (120 + 1) * 84),
        "OUTPUT": (84 * 10, 84 * 10),
    }
    for name, (params, connections) in expected.items():
        assert (r[name].params, r[name].connections) == (params, connections), name
    # the paper's printed figures
    assert [r[n].params for n in ("C1", "S2", "C3", "S4", "C5", "F6")] == [156, 12, 1516, 32, 48120, 10164]
    assert [r[n].connections for n in ("C1", "S2", "C3", "S4", "C5", "F6")] == [
        122304, 5880, 151600, 2000, 48120, 10164]
    assert [r[n].out_shape.dims[-1] for n in ("C1", "S2", "C3", "S4", "C5")] == [28, 14, 10, 5, 1]
    assert list(r) == ["C1", "S2", "C3", "S4", "C5", "F6", "OUTPUT"]


def test_alexnet_caffe_sizes_names_and_params():
    """bvlc_alexnet: 227→55→27→27→13→13→13→13→6 and 60,965,224 parameters."""
    r = rows("alexnet")
    spatial = [r[n].out_shape.dims[1] for n in
               ("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5")]
    assert spatial == [55, 27, 27, 13, 13, 13, 13, 6]
    for name in ("conv1", "norm1", "pool1", "conv2", "norm2", "pool2", "conv3", "conv4",
                 "conv5", "pool5", "fc6", "fc7", "fc8"):
        assert name in r
    params = {
        "conv1": 11 * 11 * 3 * 96 + 96,
        "conv2": 5 * 5 * 48 * 256 + 256,       # groups=2: each filter sees 96/2 maps
        "conv3": 3 * 3 * 256 * 384 + 384,
        "conv4": 3 * 3 * 192 * 384 + 384,
        "conv5": 3 * 3 * 192 * 256 + 256,
        "fc6": 6 * 6 * 256 * 4096 + 4096,
        "fc7": 4096 * 4096 + 4096,
        "fc8": 4096 * 1000 + 1000,
    }
    for name, p in params.items():
        assert r[name].params == p, name
    assert analyse(load("alexnet")).totals.params == sum(params.values()) == 60_965_224
    assert r["conv1"].macs == 55 * 55 * 96 * 11 * 11 * 3


def test_alexnet_torchvision_params():
    """torchvision's alexnet has 61,100,840 parameters (its documented figure)."""
    assert analyse(load("alexnet_torchvision")).totals.params == 61_100_840
    assert rows("alexnet_torchvision")["avgpool"].out_shape.dims == (256, 6, 6)


@pytest.mark.parametrize("model, widths, params", [
    ("vgg11", [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"], 132_863_336),
    ("vgg13", [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"], 133_047_848),
    ("vgg16", [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
     138_357_544),
    ("vgg19", [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
               512, 512, 512, 512, "M"], 143_667_240),
])
def test_vgg_params_and_macs(model, widths, params):
    """VGG configurations A, B, D, E: params from the configuration list, and the
    published totals (132.9M, 133.0M, 138.4M, 143.7M as torchvision documents them)."""
    expected_params, expected_macs, c, size = 0, 0, 3, 224
    for w in widths:
        if w == "M":
            size //= 2
            continue
        expected_params += 3 * 3 * c * w + w
        expected_macs += 3 * 3 * c * w * size * size
        c = w
    dense = [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]
    expected_params += sum(i * o + o for i, o in dense)
    expected_macs += sum(i * o for i, o in dense)
    totals = analyse(load(model)).totals
    assert totals.params == expected_params == params
    assert totals.macs == expected_macs


def test_vgg16_macs_published():
    """VGG-16 performs about 15.5 G multiply-adds (widely cited 15.47 G)."""
    assert round(analyse(load("vgg16")).totals.macs / 1e9, 2) == 15.47


def test_inception_naive_conv_macs():
    """Naive module: 1×1·128, 3×3·192, 5×5·96 on 256×28×28 → 854,196,224 conv MACs."""
    r = rows("inception_naive")
    macs = {n: r[n].macs for n in r if r[n].type.startswith("conv")}
    assert sorted(macs.values()) == sorted([
        28 * 28 * 128 * 1 * 1 * 256, 28 * 28 * 192 * 3 * 3 * 256, 28 * 28 * 96 * 5 * 5 * 256])
    assert sum(macs.values()) == 25_690_112 + 346_816_512 + 481_689_600 == 854_196_224
    assert r["inception/concat"].out_shape.dims == (128 + 192 + 96 + 256, 28, 28)


def test_inception_bottleneck_conv_macs():
    """Bottleneck module: the six conv products sum to 271,351,808, not the 358M
    printed in the course notes; 480 output channels."""
    r = rows("inception_bottleneck")
    conv_macs = sum(x.macs for x in r.values() if x.type.startswith("conv"))
    six = [28 * 28 * 128 * 256, 28 * 28 * 64 * 256, 28 * 28 * 192 * 9 * 64,
           28 * 28 * 64 * 256, 28 * 28 * 96 * 25 * 64, 28 * 28 * 64 * 256]
    assert conv_macs == sum(six) == 271_351_808
    assert r["inception/concat"].out_shape.dims == (480, 28, 28)
    assert r["inception/b2_3x3"].macs == 86_704_128
