"""The model zoo against published figures and independent hand arithmetic.

Expected values are torchvision's documented parameter counts, the papers' printed
figures (within their printed precision, or a difference the spec's notes explain), or
arithmetic written out here from the architecture tables — never the engine's output.
"""
import pytest

from archcalc.spec.catalog import bundled_names, load
from archcalc.core.report import analyse

ZOO = ("zfnet nin googlenet googlenet_torchvision resnet18 resnet34 resnet50 resnet101 "
       "resnet152 resnet50_torchvision resnet101_torchvision resnet152_torchvision vgg11_bn "
       "vgg13_bn vgg16_bn vgg19_bn mobilenet_v1 mobilenet_v2 squeezenet1_0 squeezenet1_1 "
       "densenet121 lenet5_relu").split()

#: torchvision's documented parameter counts (weights page of each model)
TORCHVISION_PARAMS = {
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808,
    "resnet50_torchvision": 25_557_032, "resnet101_torchvision": 44_549_160,
    "resnet152_torchvision": 60_192_808,
    "vgg11_bn": 132_868_840, "vgg13_bn": 133_053_736, "vgg16_bn": 138_365_992,
    "vgg19_bn": 143_678_248, "googlenet_torchvision": 6_624_904, "mobilenet_v2": 3_504_872,
    "squeezenet1_0": 1_248_424, "squeezenet1_1": 1_235_496, "densenet121": 7_978_856,
}


def report(name, **options):
    return analyse(load(name, options=options or None))


def rows(rep, prefix):
    return [r for r in rep.layers if r.name.startswith(prefix)]


def test_every_zoo_model_is_bundled_with_source_and_notes():
    """Each zoo spec ships, names its source and explains itself in notes."""
    for name in ZOO:
        assert name in bundled_names()
        model = load(name)
        assert model.source and model.notes, name
        out = analyse(model).layers[-1].out_shape
        assert out.numel == (10 if name.startswith("lenet") else 1000), name


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_params_match_torchvision_documentation(name):
    """Parameter totals equal torchvision's documented counts."""
    assert report(name).totals.params == TORCHVISION_PARAMS[name]


# ---------------------------------------------------------------- ResNet
STAGES = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3),
          152: (3, 8, 36, 3)}


def resnet_by_hand(depth, v15=False):
    """(params, MACs) of a ResNet from Table 1, written out independently of the engine:
    stem 7×7/2 to 112², pool to 56², four stages at 56, 28, 14, 7, BN 2 params per channel."""
    bottleneck = depth >= 50
    params = 3 * 64 * 49 + 2 * 64
    macs = 3 * 64 * 49 * 112 * 112
    cin, size = 64, 56
    for stage, n in enumerate(STAGES[depth]):
        planes = 64 * 2 ** stage
        cout = planes * 4 if bottleneck else planes
        for i in range(n):
            down = i == 0 and stage > 0
            hin, hout = size * (2 if down else 1), size
            if bottleneck:
                # conv1 runs at the input size unless it carries the stride (v1)
                h1 = hout if (down and not v15) else hin
                params += cin * planes + planes * planes * 9 + planes * cout + 2 * (2 * planes + cout)
                macs += cin * planes * h1 * h1 + planes * planes * 9 * hout ** 2 + planes * cout * hout ** 2
            else:
                params += cin * planes * 9 + planes * planes * 9 + 2 * 2 * planes
                macs += (cin * planes * 9 + planes * planes * 9) * hout ** 2
            if i == 0 and cin != cout or down:
                params += cin * cout + 2 * cout
                macs += cin * cout * hout ** 2
            cin = cout
        size //= 2
    params += cin * 1000 + 1000
    macs += cin * 1000
    return params, macs


@pytest.mark.parametrize("depth", sorted(STAGES))
def test_resnet_params_and_macs_match_hand_arithmetic(depth):
    """Paper (v1) ResNets: params and MACs equal the Table 1 arithmetic above."""
    totals = report(f"resnet{depth}").totals
    assert (totals.params, totals.macs) == resnet_by_hand(depth)


@pytest.mark.parametrize("depth", [50, 101, 152])
def test_resnet_v15_same_params_more_macs(depth):
    """v1.5 moves the stride from the first 1×1 to the 3×3: params unchanged, and the three
    downsampling blocks' first 1×1 runs at full size: in·planes·(H² − (H/2)²) each,
    256·128·(56² − 28²) = 512·256·(28² − 14²) = 1024·512·(14² − 7²) = 77,070,336."""
    v1, v15 = report(f"resnet{depth}").totals, report(f"resnet{depth}_torchvision").totals
    assert v15.params == v1.params
    assert v15.macs == resnet_by_hand(depth, v15=True)[1]
    assert 256 * 128 * (56 ** 2 - 28 ** 2) == 77_070_336
    assert v15.macs - v1.macs == 3 * 77_070_336


@pytest.mark.parametrize("depth, published", [(18, 1.8), (34, 3.6), (50, 3.8), (101, 7.6),
                                              (152, 11.3)])
def test_resnet_macs_match_paper_flops_table(depth, published):
    """Table 1's "FLOPs" (really multiply-adds) are within 0.1×10^9 of the v1 MACs; they
    are not all rounded to nearest (34: 3.66 printed 3.6; 50: 3.86 printed 3.8), which
    the specs' notes document.  v1.5 is further off for ResNet-50 (4.09 vs 3.8)."""
    macs = report(f"resnet{depth}").totals.macs
    assert abs(macs - published * 10 ** 9) < 0.1 * 10 ** 9
    if depth == 50:
        assert report("resnet50_torchvision").totals.macs > 4.0 * 10 ** 9


def test_resnet_names_follow_torchvision():
    """Rows are findable in torchvision's module tree (layer2.0.downsample.0 → layer2/0/...)."""
    names = {r.name for r in report("resnet50").layers}
    assert {"conv1", "layer1/0/conv1", "layer2/0/downsample.0", "layer4/2/bn3", "fc"} <= names
    assert "layer2/1/downsample.0" not in names


# ---------------------------------------------------------------- VGG with batch norm
VGG_CONVS = {11: [64, 128, 256, 256, 512, 512, 512, 512],
             13: [64, 64, 128, 128, 256, 256, 512, 512, 512, 512],
             16: [64, 64, 128, 128, 256, 256, 256] + [512] * 6,
             19: [64, 64, 128, 128] + [256] * 4 + [512] * 8}


@pytest.mark.parametrize("depth", sorted(VGG_CONVS))
def test_vgg_bn_adds_two_params_per_channel_and_no_macs(depth):
    """vggN_bn = vggN (paper, biases kept) + 2 params (γ, β) per conv channel; same MACs."""
    plain, bn = report(f"vgg{depth}").totals, report(f"vgg{depth}_bn").totals
    assert bn.params - plain.params == 2 * sum(VGG_CONVS[depth])
    assert bn.macs == plain.macs


# ---------------------------------------------------------------- GoogLeNet
TABLE1 = {  # name: (in, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj, size)
    "3a": (192, 64, 96, 128, 16, 32, 32, 28), "3b": (256, 128, 128, 192, 32, 96, 64, 28),
    "4a": (480, 192, 96, 208, 16, 48, 64, 14), "4b": (512, 160, 112, 224, 24, 64, 64, 14),
    "4c": (512, 128, 128, 256, 24, 64, 64, 14), "4d": (512, 112, 144, 288, 32, 64, 64, 14),
    "4e": (528, 256, 160, 320, 32, 128, 128, 14), "5a": (832, 256, 160, 320, 32, 128, 128, 7),
    "5b": (832, 384, 192, 384, 48, 128, 128, 7)}
#: Table 1's printed params (K) and ops (M) of each Inception row
PRINTED = {"3a": (159, 128), "3b": (380, 304), "4a": (364, 73), "4b": (437, 88),
           "4c": (463, 100), "4d": (580, 119), "4e": (840, 170), "5a": (1072, 54),
           "5b": (1388, 71)}


def inception_weights(cin, c1, c3r, c3, c5r, c5, proj, paper=True):
    k5 = 25 if paper else 9  # torchvision's "5×5" branch is 3×3
    return cin * c1 + cin * c3r + c3r * 9 * c3 + cin * c5r + c5r * k5 * c5 + cin * proj


@pytest.mark.parametrize("row", sorted(TABLE1))
def test_googlenet_inception_rows(row):
    """Each Inception module: weights (params minus one bias per filter) and MACs equal the
    hand formula; MACs are within 1M of Table 1's ops (some rows rounded, (4a) truncated)
    except (5a) (51M vs 54M), and params within 1K of its K (= 1024) column for (3a), (3b),
    (4b) only — the differences listed in the spec's notes."""
    cin, *filters, size = TABLE1[row]
    weights = inception_weights(cin, *filters)
    convs = [r for r in rows(report("googlenet"), f"inception_{row}/") if r.type.startswith("conv")]
    biases = sum(r.out_shape.channels for r in convs)
    assert sum(r.params for r in convs) - biases == weights
    assert sum(r.macs for r in convs) == weights * size * size
    printed_k, printed_m = PRINTED[row]
    assert (abs(weights * size * size / 10 ** 6 - printed_m) < 1) == (row != "5a")
    assert (abs(weights / 1024 - printed_k) <= 1) == (row in ("3a", "3b", "4b"))


def test_googlenet_stem_and_classifier_rows():
    """conv2 (1×1 64 + 3×3 192 at 56²): 114,688 weights = 112K, 359.7M ops (printed 360M);
    the classifier 1024·1000 weights = 1000K, 1M ops; conv1's printed 2.7K/34M do not fit
    7·7·3·64 = 9,408 weights on 112²."""
    rep = report("googlenet")
    by = {r.name: r for r in rep.layers}
    conv2 = by["conv2_3x3_reduce"].macs + by["conv2_3x3"].macs
    assert conv2 == (64 * 64 + 64 * 9 * 192) * 56 * 56 and round(conv2 / 1e6) == 360
    assert (64 * 64 + 64 * 9 * 192) / 1024 == 112
    assert by["loss3_classifier"].params - 1000 == 1024 * 1000
    assert by["conv1_7x7_s2"].macs == 9408 * 112 * 112
    assert [by[n].out_shape.spatial for n in ("pool1_3x3_s2", "pool2_3x3_s2", "pool3_3x3_s2",
                                              "pool4_3x3_s2")] == [(56, 56), (28, 28), (14, 14), (7, 7)]


def test_googlenet_total_matches_paper_text():
    """Section 5's "1.5 billion multiply-adds" (printed truncated: the MACs lie in
    [1.5, 1.6)×10^9) and Table 1's rows summing to ≈6.8M params (the exact count with
    biases lies in [6.8, 7.1)×10^6, the K column's rounding differences included)."""
    totals = report("googlenet").totals
    assert 1.5e9 <= totals.macs < 1.6e9
    assert 6.8e6 <= totals.params < 7.1e6


def test_googlenet_aux_heads_are_optional_and_add_the_section_5_heads():
    """Off by default; on, two heads of 1×1 conv (128) + fc 1024 + fc 1000 on 4×4 maps:
    (512 + 528)·128 + 2·128 + 2·(2048·1024 + 1024 + 1024·1000 + 1000) = 6,379,728 params."""
    off, on = report("googlenet").totals, report("googlenet", aux_logits=True).totals
    hand = (512 + 528) * 128 + 2 * 128 + 2 * (2048 * 1024 + 1024 + 1024 * 1000 + 1000)
    assert hand == 6_379_728 and on.params - off.params == hand
    tv_off = report("googlenet_torchvision").totals
    tv_on = report("googlenet_torchvision", aux_logits=True).totals
    # torchvision: conv without bias + BN (2·128), otherwise the same heads
    assert tv_on.params - tv_off.params == hand + 2 * 128


def test_googlenet_torchvision_differs_by_its_3x3_branch_and_batch_norm():
    """torchvision minus paper params: the 3×3 "5×5" branch saves c5r·c5·16 weights per
    module; conv biases are dropped and BN adds 2 per filter (a net +1 per filter)."""
    paper, tv = report("googlenet").totals, report("googlenet_torchvision").totals
    saved = sum(f[4] * f[5] * 16 for f in TABLE1.values())
    filters = 64 + 64 + 192 + sum(sum(f[1:7]) for f in TABLE1.values())
    assert tv.params == paper.params - saved + filters


# ---------------------------------------------------------------- MobileNets
V1_ROWS = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1),
           (256, 512, 2)] + [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]


def test_mobilenet_v1_matches_paper_table():
    """Table 1 by hand: 4,210,088 weights (+ classifier biases) ≈ 4.2M, 568,740,352 MACs ≈
    569M (Table 2); batch norm adds 2 per channel."""
    weights, macs, size = 3 * 32 * 9, 3 * 32 * 9 * 112 ** 2, 112
    bn = 32
    for cin, cout, stride in V1_ROWS:
        size //= stride
        weights += cin * 9 + cin * cout
        macs += (cin * 9 + cin * cout) * size ** 2
        bn += cin + cout
    weights += 1024 * 1000 + 1000
    macs += 1024 * 1000
    totals = report("mobilenet_v1").totals
    assert totals.macs == macs and round(macs / 1e6) == 569
    assert totals.params == weights + 2 * bn and round(weights / 1e6, 1) == 4.2


def test_mobilenet_v2_matches_paper():
    """300M multiply-adds (the paper.s ImageNet table): 300,774,272 MACs within 1%; 3.4M params: the count
    without batch norm's γ, β, truncated (torchvision's 3,504,872 includes them)."""
    rep = report("mobilenet_v2")
    assert abs(rep.totals.macs - 300e6) < 3e6
    bn = sum(r.params for r in rep.layers if r.type == "batchnorm")
    assert 3.4e6 <= rep.totals.params - bn < 3.5e6
    depthwise = [r for r in rep.layers if r.name.endswith("/1.0")]
    assert depthwise and all(r.params == r.out_shape.channels * 9 for r in depthwise)
    assert sum(1 for r in rep.layers if r.type == "add") == 10  # 1+2+3+2+2+0 residual adds


# ---------------------------------------------------------------- the rest
def test_zfnet_sizes_and_params_by_hand():
    """Figure 3: 224 → 110 → 55 → 26 → 13 → 13 → 13 → 6; params by hand."""
    rep = report("zfnet")
    sizes = [r.out_shape.spatial[0] for r in rep.layers if r.name in
             ("conv1", "pool1", "conv2", "pool2", "conv3", "conv5", "pool5")]
    assert sizes == [110, 55, 26, 13, 13, 13, 6]
    hand = (96 * 3 * 49 + 96 + 256 * 96 * 25 + 256 + 384 * 256 * 9 + 384 + 384 * 384 * 9 + 384
            + 256 * 384 * 9 + 256 + 256 * 36 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000)
    assert rep.totals.params == hand


def test_nin_params_by_hand():
    """Four mlpconv blocks (conv + two 1×1 cccp), 1000-map output, 6×6 average pool."""
    rep = report("nin")
    hand = (96 * 3 * 121 + 96 + 2 * (96 * 96 + 96) + 256 * 96 * 25 + 256 + 2 * (256 * 256 + 256)
            + 384 * 256 * 9 + 384 + 2 * (384 * 384 + 384) + 1024 * 384 * 9 + 1024 + 1024 * 1024
            + 1024 + 1000 * 1024 + 1000)
    assert rep.totals.params == hand
    assert [r.out_shape.spatial for r in rep.layers if r.name.startswith("pool")] == [
        (27, 27), (13, 13), (6, 6), (1, 1)]


def test_lenet5_relu_params_by_hand():
    """156 + 2,416 (full C3: 16·6·25 + 16) + 48,120 + 10,164 + 850 = 61,706."""
    assert report("lenet5_relu").totals.params == 156 + 2416 + 48120 + 10164 + 850 == 61706


def test_densenet121_channels_grow_by_32_per_layer():
    """Block outputs: 64 + 6·32 = 256, 128 + 12·32 = 512, 256 + 24·32 = 1024, 512 + 16·32 = 1024."""
    rep = report("densenet121")
    by = {r.name: r for r in rep.layers}
    assert [by[f"features.denseblock{b}/{n - 1}/cat"].out_shape.channels
            for b, n in ((1, 6), (2, 12), (3, 24), (4, 16))] == [256, 512, 1024, 1024]


def test_squeezenet_fire_concatenates_its_expansions():
    """fire2 of SqueezeNet 1.0 at 54×54: 16 squeeze maps, 64 + 64 expanded; 1.1 needs about
    2.4× fewer MACs (the authors' claim) than 1.0."""
    rep = report("squeezenet1_0")
    cat = next(r for r in rep.layers if r.name == "features.3/cat")
    assert cat.out_shape.dims == (128, 54, 54)
    ratio = rep.totals.macs / report("squeezenet1_1").totals.macs
    assert 2.3 < ratio < 2.5


#: Table 1 of the GoogLeNet paper: output size after each row (channels, side)
TABLE1_SIZES = [(64, 112), (64, 56), (192, 56), (192, 28), (256, 28), (480, 28), (480, 14),
                (512, 14), (512, 14), (512, 14), (528, 14), (832, 14), (832, 7), (832, 7),
                (1024, 7), (1024, 1)]


@pytest.mark.parametrize("name, picks", [
    ("googlenet", ["conv1_7x7_s2", "pool1_3x3_s2", "conv2_3x3", "pool2_3x3_s2"]
     + [f"inception_{m}/output" for m in ("3a", "3b")] + ["pool3_3x3_s2"]
     + [f"inception_{m}/output" for m in ("4a", "4b", "4c", "4d", "4e")] + ["pool4_3x3_s2"]
     + [f"inception_{m}/output" for m in ("5a", "5b")] + ["pool5_7x7_s1"]),
    ("googlenet_torchvision", ["conv1/relu", "maxpool1", "conv3/relu", "maxpool2"]
     + [f"inception{m}/cat" for m in ("3a", "3b")] + ["maxpool3"]
     + [f"inception{m}/cat" for m in ("4a", "4b", "4c", "4d", "4e")] + ["maxpool4"]
     + [f"inception{m}/cat" for m in ("5a", "5b")] + ["avgpool"]),
])
def test_googlenet_output_sizes_follow_table1(name, picks):
    """Both GoogLeNets produce Table 1's output size after every row."""
    by = {r.name: r for r in report(name).layers}
    assert [(by[p].out_shape.channels, by[p].out_shape.spatial[0]) for p in picks] == TABLE1_SIZES


def test_squeezenet_paper_sizes_are_those_of_a_227_input():
    """(227 − 7) // 2 + 1 = 111, then ceil-mode pools 55, 27, 13: the paper's Table 1 sizes;
    torchvision's 224 gives 109, 54, 27, 13 with the same params."""
    from archcalc.core.shapes import Shape

    def sizes(shape=None):
        rep = analyse(load("squeezenet1_0"), shape)
        return [r.out_shape.spatial[0] for r in rep.layers
                if r.name in ("features.0", "features.2", "features.6", "features.11")], rep
    at227, rep227 = sizes(Shape((3, 227, 227)))
    at224, rep224 = sizes()
    assert at227 == [111, 55, 27, 13] and at224 == [109, 54, 27, 13]
    assert rep227.totals.params == rep224.totals.params


# ---------------------------------------------------------------- VGG's torchvision option
@pytest.mark.parametrize("depth", sorted(VGG_CONVS))
def test_vgg_torchvision_option_is_torchvisions_vgg(depth):
    """--option torchvision=true adds torchvision's adaptive average pool to 7×7 after pool5
    and drops the Caffe net's softmax: the same params (torchvision's documented counts) and
    MACs; the pool's 1×1 windows at 224 cost 512·7·7 = 25,088 divisions; fvcore counts the
    pool one FLOP per input element, so on torchvision's VGG it prints the MACs + 25,088."""
    from archcalc.conventions import apply

    paper, tv = report(f"vgg{depth}"), report(f"vgg{depth}", torchvision=True)
    names = [r.name for r in tv.layers]
    assert names[names.index("pool5") + 1] == "avgpool" and "prob" not in names
    assert "avgpool" not in {r.name for r in paper.layers}
    assert tv.totals.params == paper.totals.params == {
        11: 132_863_336, 13: 133_047_848, 16: 138_357_544, 19: 143_667_240}[depth]
    assert tv.totals.macs == paper.totals.macs
    pool = next(r for r in tv.layers if r.name == "avgpool")
    assert (pool.out_shape.dims, pool.flops, pool.params) == ((512, 7, 7), 25_088, 0)
    assert apply(tv, "fvcore").totals.flops == tv.totals.macs + 512 * 7 * 7


def test_vgg_torchvision_option_takes_other_input_sizes():
    """At 256×256 pool5 gives 8×8: the paper's fc6 (25,088 inputs) refuses 32,768, while
    torchvision's adaptive pool brings any size from 32 up back to 7×7."""
    from archcalc.core.shapes import Shape
    from archcalc.errors import ArchcalcError

    with pytest.raises(ArchcalcError):
        analyse(load("vgg16"), Shape.of(3, 256, 256))
    for size in (32, 256):
        rep = analyse(load("vgg16", options={"torchvision": True}), Shape.of(3, size, size))
        assert rep.totals.params == 138_357_544
        assert next(r for r in rep.layers if r.name == "avgpool").out_shape.dims == (512, 7, 7)


# ---------------------------------------------------------------- AlexNet's Caffe pools
def test_alexnet_pools_round_up_as_caffe_does():
    """bvlc_alexnet's pools are ceil mode: at 227 every window fits (55 → 27 → 13 → 6 with
    (55 − 3)/2, (27 − 3)/2, (13 − 3)/2 whole), so the figures are floor mode's: 724,406,816
    MACs; at 224 conv1 gives (224 − 11)//4 + 1 = 54, pool1 ⌈51/2⌉ + 1 = 27, and the net runs
    (floor-mode pools would give 26, 12, 5 and refuse fc6)."""
    from archcalc.core.shapes import Shape

    rep = report("alexnet")
    assert all(r.layer.ceil_mode for r in rep.layers if r.type == "maxpool")
    assert rep.totals.macs == 724_406_816 and rep.totals.params == 60_965_224
    at224 = {r.name: r.out_shape.dims for r in analyse(load("alexnet"), Shape.of(3, 224, 224)).layers}
    assert (at224["conv1"], at224["pool1"], at224["pool2"], at224["pool5"]) == (
        (96, 54, 54), (96, 27, 27), (256, 13, 13), (256, 6, 6))


# ---------------------------------------------------------------- the second wave
SECOND_WAVE = ("efficientnet_b0 efficientnet_b1 efficientnet_b2 efficientnet_b3 mobilenet_v3_large "
               "mobilenet_v3_small convnext_tiny convnext_small regnet_x_400mf regnet_y_400mf "
               "regnet_y_1_6gf resnext50_32x4d wide_resnet50_2 shufflenet_v2_x1_0 inception_v3 "
               "mnasnet1_0").split()

#: torchvision's documented parameter counts (its weights metadata, num_params); Inception-v3's
#: 27,161,264 includes the auxiliary head, which the spec's default leaves out
SECOND_WAVE_PARAMS = {
    "efficientnet_b0": 5_288_548, "efficientnet_b1": 7_794_184, "efficientnet_b2": 9_109_994,
    "efficientnet_b3": 12_233_232, "mobilenet_v3_large": 5_483_032, "mobilenet_v3_small": 2_542_856,
    "convnext_tiny": 28_589_128, "convnext_small": 50_223_688, "regnet_x_400mf": 5_495_976,
    "regnet_y_400mf": 4_344_144, "regnet_y_1_6gf": 11_202_430, "resnext50_32x4d": 25_028_904,
    "wide_resnet50_2": 68_883_240, "shufflenet_v2_x1_0": 2_278_604, "mnasnet1_0": 4_383_312,
}


def test_second_wave_is_bundled_with_source_notes_and_1000_classes():
    """Each new spec ships, names its source (paper and torchvision) and explains itself."""
    for name in SECOND_WAVE:
        assert name in bundled_names()
        model = load(name)
        assert model.source and model.notes and "torchvision" in model.source, name
        assert analyse(model).layers[-1].out_shape.numel == 1000, name


@pytest.mark.parametrize("name", sorted(SECOND_WAVE_PARAMS))
def test_second_wave_params_match_torchvision_metadata(name):
    """Parameter totals equal torchvision's documented counts."""
    assert report(name).totals.params == SECOND_WAVE_PARAMS[name]


def test_inception_v3_aux_head_makes_torchvisions_count():
    """torchvision builds the auxiliary head by default: 1×1 conv 768 → 128 + BN, 5×5 conv
    128 → 768 + BN, fc 768 → 1000: 3,326,696 params; 23,834,568 + 3,326,696 = 27,161,264.
    The head runs in training only, so the evaluation MACs (5.713G) do not include it."""
    off, on = report("inception_v3").totals, report("inception_v3", aux_logits=True).totals
    head = 768 * 128 + 2 * 128 + 128 * 768 * 25 + 2 * 768 + 768 * 1000 + 1000
    assert head == 3_326_696 and off.params == 23_834_568 and on.params == off.params + head
    assert round(off.macs / 1e9, 3) == 5.713


def convnext_by_hand(depths, dims=(96, 192, 384, 768)):
    """ConvNeXt params from section 3: stem 4×4 conv (+bias) + LayerNorm; per block dw 7×7
    (+bias), LayerNorm, 1×1 to 4C and back (+biases), layer scale C; downsamplers LayerNorm +
    2×2 conv; head LayerNorm + fc."""
    params = 3 * dims[0] * 16 + dims[0] + 2 * dims[0]
    for i, (n, c) in enumerate(zip(depths, dims)):
        if i:
            params += 2 * dims[i - 1] + dims[i - 1] * c * 4 + c
        block = c * 49 + c + 2 * c + c * 4 * c + 4 * c + 4 * c * c + c + c
        params += n * block
    return params + 2 * dims[-1] + dims[-1] * 1000 + 1000


@pytest.mark.parametrize("name, depths", [("convnext_tiny", (3, 3, 9, 3)),
                                          ("convnext_small", (3, 3, 27, 3))])
def test_convnext_params_by_hand(name, depths):
    """28,589,128 (T) and 50,223,688 (S), the counts torchvision documents."""
    assert report(name).totals.params == convnext_by_hand(depths)


def test_resnext_and_wide_resnet_by_hand():
    """ResNet-50's layout with bottleneck width 2·planes: ResNeXt's 3×3 in 32 groups reads
    width/32 maps per filter, Wide ResNet's reads all of them; the rest is ResNet-50's."""
    def by_hand(groups):
        params, cin = 3 * 64 * 49 + 2 * 64, 64
        for stage, n in enumerate((3, 4, 6, 3)):
            planes = 64 * 2 ** stage
            width, cout = 2 * planes, 4 * planes
            for i in range(n):
                params += cin * width + 2 * width + width * 9 * width // groups + 2 * width
                params += width * cout + 2 * cout
                if i == 0:
                    params += cin * cout + 2 * cout
                cin = cout
        return params + 2048 * 1000 + 1000
    assert report("resnext50_32x4d").totals.params == by_hand(32) == 25_028_904
    assert report("wide_resnet50_2").totals.params == by_hand(1) == 68_883_240


def test_regnet_x_400mf_widths_torchvision_vs_pycls():
    """The last stage is 392 channels before fitting the group width 16: torchvision rounds
    half up (400), pycls half to even (384); the 12 blocks and the classifier hold
    23·w² + 3,122·w (+ 1,000) params, 338,464 more at 400.  pycls's 5,157,512 is the
    MODEL_ZOO's 5.2M; the stage widths are 32, 64, 160 and 400 (384)."""
    tv, pycls = report("regnet_x_400mf"), report("regnet_x_400mf", pycls_widths=True)
    assert tv.totals.params - pycls.totals.params == 23 * (400**2 - 384**2) + 3122 * 16 == 338_464
    assert pycls.totals.params == 5_157_512
    widths = [next(r for r in tv.layers if r.name == f"trunk_output.block{s}/0/f.a.0").out_shape.channels
              for s in (1, 2, 3, 4)]
    assert widths == [32, 64, 160, 400]


def test_regnet_y_se_squeezes_a_quarter_of_the_block_input():
    """RegNetY's SE squeezes to round(0.25 · w_in), w_in the block's input width: the first
    block of block2 (48 → 104) squeezes to 12, the next ones (104 → 104) to 26."""
    by = {r.name: r for r in report("regnet_y_400mf").layers}
    assert by["trunk_output.block2/0/f.se.fc1"].out_shape.channels == 12
    assert by["trunk_output.block2/1/f.se.fc1"].out_shape.channels == 26


def test_shufflenet_split_is_two_views_and_megvii_adds_906304_macs():
    """A stride-1 unit's split costs nothing (two slices, no activations); the authors'
    network differs in stage 2's first unit only: (92 − 58)·58·784 − (58 − 24)·24·784 =
    906,304 more MACs (145,814,296: the paper's 146M), and 1,156 more weights minus the
    classifier's 1,000 biases."""
    rep = report("shufflenet_v2_x1_0")
    slices = [r for r in rep.layers if r.type == "slice"]
    assert len(slices) == 2 * (3 + 7 + 3) and all(r.activations == 0 for r in slices)
    megvii = report("shufflenet_v2_x1_0", megvii=True).totals
    assert megvii.macs - rep.totals.macs == (92 - 58) * 58 * 784 - (58 - 24) * 24 * 784 == 906_304
    assert megvii.params - rep.totals.params == 1156 - 1000


def test_efficientnet_widths_and_depths_follow_the_compound_scaling():
    """B0..B3 (width ×1.0, 1.0, 1.1, 1.2; depth ×1.0, 1.1, 1.2, 1.4): stems of 32, 32, 32, 40
    maps, 16, 23, 23, 26 MBConv blocks, heads of 1280, 1280, 1408, 1536."""
    for name, stem, blocks, head in (("efficientnet_b0", 32, 16, 1280), ("efficientnet_b1", 32, 23, 1280),
                                     ("efficientnet_b2", 32, 23, 1408), ("efficientnet_b3", 40, 26, 1536)):
        rep = report(name)
        by = {r.name: r for r in rep.layers}
        assert by["features.0.0"].out_shape.channels == stem
        assert len({r.name.split("/block/")[0] for r in rep.layers if "/block/" in r.name}) == blocks
        assert by["features.8.0"].out_shape.channels == head


def test_mobilenet_v3_large_by_hand():
    """Table 1's bottlenecks, SE squeezing to _make_divisible(exp / 4, 8): convolution and
    classifier weights, SE biases, batch-norm γ, β (2 per channel), written out."""
    rows = [(16, 3, 16, 16, False), (16, 3, 64, 24, False), (24, 3, 72, 24, False),
            (24, 5, 72, 40, True), (40, 5, 120, 40, True), (40, 5, 120, 40, True),
            (40, 3, 240, 80, False), (80, 3, 200, 80, False), (80, 3, 184, 80, False),
            (80, 3, 184, 80, False), (80, 3, 480, 112, True), (112, 3, 672, 112, True),
            (112, 5, 672, 160, True), (160, 5, 960, 160, True), (160, 5, 960, 160, True)]
    squeeze = {72: 24, 120: 32, 480: 120, 672: 168, 960: 240}
    params = 3 * 16 * 9 + 2 * 16
    for cin, k, exp, cout, se in rows:
        if exp != cin:
            params += cin * exp + 2 * exp
        params += exp * k * k + 2 * exp
        if se:
            s = squeeze[exp]
            params += exp * s + s + s * exp + exp
        params += exp * cout + 2 * cout
    params += 160 * 960 + 2 * 960 + 960 * 1280 + 1280 + 1280 * 1000 + 1000
    assert report("mobilenet_v3_large").totals.params == params == 5_483_032


# ---------------------------------------------------------------- U-Net
def test_unet_follows_figure_1_by_hand():
    """572 loses 2 per 3×3 convolution and halves at each pool: 568, 280, 136, 64 at the
    four levels, 28 at the bottom; each up-convolution doubles and the next two
    convolutions take 4: 56 → 52, 104 → 100, 200 → 196, 392 → 388. 23 convolutional
    layers (18 3×3, 4 up-convolutions, the 1×1); params: the 3×3 and 1×1 weights and
    biases plus the up-convolutions' C_in·C_out·4 + C_out."""
    rep = report("unet")
    by = {r.name: r for r in rep.layers}
    assert [by[f"down{i}/conv2"].out_shape.spatial[0] for i in range(1, 5)] == [568, 280, 136, 64]
    assert by["bottom/conv2"].out_shape.dims == (1024, 28, 28)
    assert [by[f"up{i}/conv2"].out_shape.spatial[0] for i in (4, 3, 2, 1)] == [52, 100, 196, 388]
    assert by["up1/crop"].out_shape.dims == (64, 392, 392) and by["final"].out_shape.dims == (2, 388, 388)
    convs = [r for r in rep.layers if r.type.split("+")[0] in ("conv", "conv_transpose")]
    assert len(convs) == 23
    widths = [64, 128, 256, 512, 1024]
    params, cin = 0, 1
    for w in widths:
        params += cin * w * 9 + w + w * w * 9 + w
        cin = w
    for w in reversed(widths[:-1]):
        params += 2 * w * w * 4 + w               # up-conv 2w → w
        params += 2 * w * w * 9 + w + w * w * 9 + w
    params += 64 * 2 + 2
    assert rep.totals.params == params == 31_030_658


def test_unet_same_has_unets_params_and_tiles_multiples_of_16():
    """Padding changes no weight: the same 31,030,658 params; the output is the input's
    size; every size runs (the skips are cropped to the up-convolved maps), and only the
    multiples of 16 tile exactly: at 500 = 31·16 + 4 pool3 drops a row (125 → 62), the
    skips are cropped to 124, 248 and 496, and the output is 496×496."""
    from archcalc.analyses.sizes import scan
    from archcalc.core.shapes import Shape

    same = report("unet_same")
    assert same.totals.params == report("unet").totals.params
    assert same.layers[-1].out_shape.dims == (2, 512, 512)
    assert all(r.out_shape == r.in_shapes[0] for r in same.layers if r.type == "crop")
    result = scan(load("unet_same"), (16, 80))
    assert [s for s, _ in result.exact] == [16, 32, 48, 64, 80]
    assert [s for s, _ in result.valid] == list(range(16, 81))
    at500 = analyse(load("unet_same"), Shape.of(1, 500, 500))
    assert at500.layers[-1].out_shape.dims == (2, 496, 496)
