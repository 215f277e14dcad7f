"""Receptive fields: hand-worked cases, published numbers, and torch's gradients as the reference."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nblib.receptive_field import (  # noqa: E402
    Field, Layer, avgpool, conv, format_table, from_torch, gradient_map, gradient_support, maxpool, receptive_fields)


def vgg16():
    layers = []
    for block, n in enumerate([2, 2, 3, 3, 3], start=1):
        layers += [conv(3, padding=1, name=f"conv{block}_{i + 1}") for i in range(n)]
        layers.append(maxpool(2, name=f"pool{block}"))
    return layers


# ------------------------------------------------------------------ hand-worked
def test_one_layer_is_its_kernel():
    (field,) = receptive_fields([conv(5, stride=2, padding=2)], input_size=9)
    assert (field.size, field.jump, field.start, field.output_size) == (5, 2, 0.0, 5)
    assert field.span(0) == (-2.0, 2.0)  # unit 0 is centred on pixel 0 and reaches 2 pixels into the padding
    assert field.span(4) == (6.0, 10.0)


def test_hand_worked_stack():
    # conv 3x3 (r 3), conv 3x3 (r 5), maxpool 2 (r 6, j 2), conv 3x3 at jump 2 (r 6 + 2*2 = 10)
    fields = receptive_fields([conv(3), conv(3), maxpool(2), conv(3)], input_size=16)
    assert [f.size for f in fields] == [3, 5, 6, 10]
    assert [f.jump for f in fields] == [1, 1, 2, 2]
    # no padding: unit 0 of the first conv is centred on pixel 1, of the second on pixel 2; the pool's
    # first window covers units 0 and 1 of conv 2, centred on 2.5; the last conv's unit 0 on 2.5 + 2 = 4.5
    assert [f.start for f in fields] == [1.0, 2.0, 2.5, 4.5]
    assert [f.output_size for f in fields] == [14, 12, 6, 4]
    assert fields[-1].span(0) == (0.0, 9.0)  # pixels 0..9: 10 pixels


def test_dilation_grows_the_field_exponentially():
    fields = receptive_fields([conv(3, dilation=d, padding=d) for d in (1, 2, 4, 8)])
    assert [f.size for f in fields] == [3, 7, 15, 31]  # 2^(l+1) - 1
    assert all(f.jump == 1 and f.start == 0 for f in fields)


def test_vgg16_matches_the_published_receptive_fields():
    fields = {f.name: f for f in receptive_fields(vgg16(), input_size=224)}
    # Araujo, Norris and Sim (2019), Distill, table of receptive fields: VGG-16 conv5_3 sees 196
    # pixels and pool5 212; the others follow from the recurrence by hand.
    assert fields["conv1_2"].size == 5 and fields["pool1"].size == 6
    assert fields["conv3_3"].size == 40 and fields["conv4_3"].size == 92
    assert fields["conv5_3"].size == 196 and fields["pool5"].size == 212
    assert fields["pool5"].jump == 32 and fields["pool5"].output_size == 7


def test_table_lists_every_layer():
    table = format_table(receptive_fields([conv(3, name="a"), maxpool(2, name="b")], input_size=8))
    lines = table.splitlines()
    assert lines[0].split() == ["layer", "field", "jump", "start", "units"]
    assert lines[1].split() == ["a", "3", "1", "1", "6"] and lines[2].split() == ["b", "4", "2", "1.5", "3"]


# ------------------------------------------------------------ torch as reference
def _random_stack(seed, size=48):
    """A random chain of 2 to 5 conv and pooling layers that fits an input of ``size`` pixels."""
    gen = np.random.default_rng(seed)
    while True:
        layers = _draw_layers(gen)
        try:
            receptive_fields(layers, input_size=size)
            return layers
        except ValueError:  # a kernel larger than its input: draw again
            continue


def _draw_layers(gen):
    layers = []
    for _ in range(gen.integers(2, 6)):
        kind = gen.choice(["conv", "conv", "maxpool", "avgpool"])
        if kind == "conv":
            k = int(gen.integers(1, 6))
            d = int(gen.integers(1, 3))
            layers.append(conv(k, stride=int(gen.integers(1, 3)), padding=int(gen.integers(0, k // 2 + 1)), dilation=d))
        else:
            k = int(gen.integers(2, 4))
            pool = maxpool if kind == "maxpool" else avgpool
            layers.append(pool(k, stride=int(gen.integers(1, k + 1)), padding=int(gen.integers(0, k // 2 + 1))))
    return layers


@pytest.mark.parametrize("seed", range(12), ids=lambda s: f"random-stack-{s}")
def test_gradient_support_is_the_computed_field(seed):
    layers, size = _random_stack(seed), 48
    fields = receptive_fields(layers, input_size=size)
    last = fields[-1]
    units = last.output_size
    for index in {(0, 0), (units // 2, units - 1), (units - 1, units // 3)}:
        support = gradient_support(layers, size, index)
        rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
        for axis_units, idx in ((rows, index[0]), (cols, index[1])):
            first, last_px = last.span(idx)
            # the support's bounding box is the computed field, clipped to the image
            assert axis_units.min() == max(0, int(np.ceil(first)))
            assert axis_units.max() == min(size - 1, int(np.floor(last_px)))
        if all(layer.dilation == 1 and layer.stride <= layer.kernel_size for layer in layers):
            assert support[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()  # no holes


def test_dilated_field_has_holes():
    support = gradient_support([conv(3, dilation=2)], 9, (2, 2))
    assert np.flatnonzero(support[4]).tolist() == [2, 4, 6]  # the bounding box spans 5, the kernel touches 3


def test_from_torch_reads_a_classifier():
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Sequential(torch.nn.Conv2d(8, 8, 3, dilation=2, padding=2), torch.nn.ReLU()),
        torch.nn.AvgPool2d(3, stride=1, padding=1), torch.nn.Flatten(), torch.nn.Linear(8, 2))
    layers = from_torch(model)
    assert [(l.kind, l.kernel_size, l.stride, l.padding, l.dilation) for l in layers] == [
        ("conv", 3, 1, 1, 1), ("maxpool", 2, 2, 0, 1), ("conv", 3, 1, 2, 2), ("avgpool", 3, 1, 1, 1)]
    assert layers[2].name.startswith("4.0: conv")
    assert [f.size for f in receptive_fields(layers)] == [3, 4, 12, 16]


def test_from_torch_uses_the_requested_axis():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, (1, 5), stride=(1, 2), padding=(0, 2)))
    assert from_torch(model, axis=0)[0].kernel_size == 1 and from_torch(model, axis=1)[0].kernel_size == 5


BAD = [
    ("layer-type", lambda: receptive_fields([(3, 1, 0)]), TypeError, "layers\\[0\\] must be a Layer"),
    ("kind", lambda: Layer(3, kind="pool"), ValueError, "kind must be one of"),
    ("stride-zero", lambda: conv(3, stride=0), ValueError, "stride must be >= 1"),
    ("too-small", lambda: receptive_fields([conv(5)], input_size=3), ValueError, "spans 5 positions"),
    ("span-index", lambda: receptive_fields([conv(3)], input_size=5)[0].span(3), ValueError, "has 3 units"),
    ("torch-upsample", lambda: from_torch(torch.nn.Sequential(torch.nn.Upsample(scale_factor=2))), TypeError,
     "Upsample"),
    ("torch-not-sequential", lambda: from_torch(torch.nn.Conv2d(1, 1, 3)), TypeError, "Sequential"),
    ("torch-same-padding", lambda: from_torch(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding="same"))),
     TypeError, "padding='same'"),
    ("support-index", lambda: gradient_support([conv(3)], 5, (3, 0)), ValueError, "out of range"),
]


@pytest.mark.parametrize(("make", "error", "message"), [pytest.param(m, e, msg, id=i) for i, m, e, msg in BAD])
def test_bad_input_is_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_field_repr():
    assert repr(Field("c", 5, 2, 0.5, 7)) == "Field('c': size 5, jump 2, start 0.5, 7 units)"


def test_gradient_map_counts_paths():
    # two 3x3 convolutions of ones: the centre pixel reaches the unit by 9 paths, a corner by 1
    grad = gradient_map([conv(3), conv(3)], 7, (1, 1))
    np.testing.assert_array_equal(grad[1:6, 1:6], np.outer([1, 2, 3, 2, 1], [1, 2, 3, 2, 1]))
    assert grad[0].sum() == 0 and grad[:, 6].sum() == 0
