"""The bundled graph examples: figures by hand, and each passes verify."""
import pytest

from archcalc import analyse
from archcalc.numeric.verify import verify
from archcalc.spec.catalog import load


@pytest.mark.parametrize("name", ["se_resnet_block", "mbconv_se", "unet_small", "detection_head", "m5",
                                  "c3d_block"])
def test_example_verifies(name):
    """NumPy agrees with the engine on every node: shape, params, MACs, liveness memory."""
    result = verify(load(name), batch=2)
    assert result.ok, result.disagreements()


def test_se_block_by_hand():
    """Two 3×3 convs 64→64 without bias (36,864 each), two batch norms (128 each), the
    excitation 64·4 + 4 = 260 and 4·64 + 64 = 320: 74,564 params.  The gate multiply does
    64·56·56 = 200,704 products, which are not MACs."""
    report = analyse(load("se_resnet_block"))
    rows = {r.name: r for r in report.layers}
    assert report.totals.params == 2 * 36864 + 2 * 128 + 260 + 320 == 74564
    assert report.totals.macs == 2 * 36864 * 56 * 56 + 256 + 256
    assert (rows["scale"].macs, rows["scale"].flops) == (0, 200704)
    assert rows["fc2"].out_shape.dims == (64, 1, 1)


def test_mbconv_se_by_hand():
    """EfficientNet-B0's MBConv6 on 24×56×56 (3,136 positions): expansion 24·144 = 3,456
    and projection 144·24 = 3,456 weights, depthwise 144·9 = 1,296, three batch norms
    2·(144 + 144 + 24) = 624, excitation 144·6 + 6 = 870 and 6·144 + 144 = 1,008: 10,710
    params (torchvision's features[2][1] holds as many).  MACs: the 1×1 convs 3,456·3,136
    each, the depthwise 1,296·3,136, the excitation 864 + 864.  FLOPs add: batch norms 2
    per element, two SiLUs 2 per element on 144·3,136, the squeeze 144·3,136, fc1's bias
    and SiLU 3·6, fc2's bias and sigmoid 2·144, the gate 144·3,136 products, the residual
    add 24·3,136, and nothing for stochastic depth (a view at inference)."""
    report = analyse(load("mbconv_se"))
    rows = {r.name: r for r in report.layers}
    big, small = 144 * 3136, 24 * 3136
    assert report.totals.params == 3456 + 3456 + 1296 + 2 * (144 + 144 + 24) + 870 + 1008 == 10_710
    macs = 2 * 3456 * 3136 + 1296 * 3136 + 864 + 864
    assert report.totals.macs == macs == 25_742_016
    work = 2 * big * 2 + 2 * small + 2 * big * 2 + big + 3 * 6 + 2 * 144 + big + small
    assert report.totals.flops == 2 * macs + work == 56_225_970
    assert (rows["drop"].activations, rows["drop"].flops) == (0, 0)
    assert rows["fc1"].layer.label == "conv+silu"


def test_unet_shapes_by_hand():
    """92 → 90 → 88 (skip 1) → 44 → 42 → 40 (skip 2) → 20 → 18 → 16; up to 32, skip 2
    cropped 40 → 32 (4 in), 32 → 30 → 28; up to 56, skip 1 cropped 88 → 56 (16 in),
    56 → 54 → 52; the head gives 2×52×52."""
    rows = {r.name: r for r in analyse(load("unet_small")).layers}
    assert rows["dec2/crop"].in_shapes[0].dims == (16, 40, 40)
    assert rows["dec2/crop"].out_shape.dims == (16, 32, 32)
    assert rows["dec2/crop"].layer.offsets(rows["dec2/crop"].in_shapes) == (4, 4)
    assert rows["dec1/concat"].out_shape.dims == (16, 56, 56)
    assert rows["head"].out_shape.dims == (2, 52, 52)


def test_unet_up_convolutions_by_hand():
    """dec2/upconv: 32 → 16 maps, 2×2 stride 2 on 16×16: params 32·16·4 + 16 = 2,064;
    MACs = 32·16·16 input elements × 16 maps × 4 taps = 524,288 (each product lands in the
    32×32 output, so connections 524,288 + 16·32·32 = 540,672).  dec1/upconv: 16 → 8 on
    28×28: params 16·8·4 + 8 = 520, MACs 16·28·28·8·4 = 401,408.  The nearest upsampling and
    padded 2×2 convolution this replaces made 4× the products (32·4·16·32·32 = 2,097,152)."""
    rows = {r.name: r for r in analyse(load("unet_small")).layers}
    up2, up1 = rows["dec2/upconv"], rows["dec1/upconv"]
    assert (up2.out_shape.dims, up2.params, up2.macs, up2.connections) == ((16, 32, 32), 2_064, 524_288, 540_672)
    assert (up1.out_shape.dims, up1.params, up1.macs) == ((8, 56, 56), 520, 401_408)
    assert up2.flops == 2 * 524_288 + 16 * 32 * 32


def test_detection_head_has_two_outputs():
    """cls: 15 = 3 anchors × 5 classes, box: 12 = 3 × 4 offsets, both on the 32×16×16 map."""
    model = load("detection_head")
    assert model.outputs == ("cls", "box")
    rows = {r.name: r for r in analyse(model).layers}
    assert rows["cls"].out_shape.dims == (15, 16, 16) and rows["box"].out_shape.dims == (12, 16, 16)
    assert rows["box"].params == 32 * 12 * 9 + 12


def test_m5_by_hand():
    """Table 1's weights 80·128 + 3·128·128 + 3·128·256 + 3·256·512 + 512·10 = 556,032,
    the four convolutions' biases (1,024), their batch norms' γ and β (2,048) and the
    classifier's 10 biases.  Lengths: 16,000 → (16,000 − 80)/4 + 1 = 3,981 → 995 → 993 →
    248 → 246 → 61 → 59 → 14."""
    report = analyse(load("m5"))
    rows = {r.name: r for r in report.layers}
    assert report.totals.params == 556_032 + 1_024 + 2_048 + 10 == 559_114
    assert [rows[n].out_shape.dims[1] for n in ("conv1", "pool1", "conv2", "pool2", "conv3",
                                                 "pool3", "conv4", "pool4")] == \
        [3981, 995, 993, 248, 246, 61, 59, 14]
    assert rows["conv4"].macs == 512 * 256 * 3 * 59


def test_c3d_block_by_hand():
    """conv1a 64·3·27 + 64, conv2a 128·64·27 + 128, fc 128·101 + 101; pool1 keeps the 16
    frames (1×2×2), pool2 halves them."""
    report = analyse(load("c3d_block"))
    rows = {r.name: r for r in report.layers}
    assert report.totals.params == (64 * 81 + 64) + (128 * 64 * 27 + 128) + (128 * 101 + 101)
    assert rows["pool1"].out_shape.dims == (64, 16, 56, 56)
    assert rows["pool2"].out_shape.dims == (128, 8, 28, 28)
    assert report.totals.macs == 64 * 81 * 16 * 112 * 112 + 128 * 64 * 27 * 16 * 56 * 56 + 128 * 101
