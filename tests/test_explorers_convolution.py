"""The 3x3 kernel explorer, built through its function and driven like a reader would."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from nblib.conv import conv2d_forward  # noqa: E402
from nblib.explorers.convolution import KERNELS, filter_image, kernel_explorer, photo_crop  # noqa: E402


@pytest.fixture(scope="module")
def small_crop():
    return photo_crop()[40:100, 60:120]  # 60 x 60: the eyes and glasses, fast to render


@pytest.fixture()
def exp(small_crop):
    return kernel_explorer(crops={"eyes": small_crop})


def test_controls_and_book_frames_fit_the_budget(exp):
    assert [c.name for c in exp.controls] == ["kernel", "offset"]
    assert list(exp.controls[0].values) == list(KERNELS)
    assert np.prod([len(c.book_values) for c in exp.controls]) <= 64
    assert exp.setting == {"kernel": "identity", "offset": 0.0}


def test_every_control_changes_the_picture(exp):
    box = exp.widget
    seen = {box.image.value}
    assert exp.current.ok and box.image.value
    for setting in ({"kernel": "Gaussian blur"}, {"offset": 1.0}, {"kernel": "Sobel x"}, {"offset": -0.5},
                    {"kernel": "emboss"}):
        frame = exp.set(**setting)
        assert frame.ok, frame.message
        assert box.image.value not in seen, f"{setting} did not change the image"
        seen.add(box.image.value)


def test_a_zero_kernel_gets_a_message_and_the_explorer_recovers(exp):
    frame = exp.set(kernel="identity", offset=-1.0)
    assert not frame.ok
    assert "every weight of the kernel is 0" in frame.message and "centre offset" in frame.message
    assert "every weight" in exp.widget.message.value and exp.widget.image.layout.display == "none"
    assert exp.set(offset=0.0).ok and exp.widget.image.layout.display is None


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("offset", [-4.0, 4.0], ids=["offset-min", "offset-max"])
def test_extreme_settings_give_a_figure_or_a_message(exp, kernel, offset):
    frame = exp.frame(kernel=kernel, offset=offset)
    assert frame.ok, frame.message  # no preset's centre weight is -4 + 0 or 4 + 0 away from zero everywhere
    assert frame.png.startswith(b"\x89PNG")


def test_non_finite_kernels_get_a_message(small_crop):
    bad = {"fine": KERNELS["sharpen"], "broken": np.where(np.eye(3) > 0, np.inf, 0.0)}
    exp = kernel_explorer(kernels=bad, crops={"eyes": small_crop})
    assert exp.frame(kernel="fine").ok
    message = exp.frame(kernel="broken").message
    assert message and "not finite" in message


def test_several_images_add_an_image_control(small_crop):
    exp = kernel_explorer(crops={"eyes": small_crop, "flat": np.full((20, 20), 0.5)})
    assert [c.name for c in exp.controls] == ["kernel", "offset", "image"]
    # a uniform image has no edges: an edge detector gives zero everywhere, shown as a figure, not NaN
    assert exp.frame(kernel="Sobel x", image="flat").ok


def test_the_explorer_filters_with_nblib_conv(small_crop):
    out = filter_image(small_crop, KERNELS["Laplacian"])
    expected = conv2d_forward(small_crop[None, None], KERNELS["Laplacian"][None, None])[0, 0]
    assert out.shape == (58, 58)  # 'valid': no padding
    np.testing.assert_array_equal(out, expected)


def test_bad_kernel_shape_is_named(small_crop):
    with pytest.raises(ValueError, match="must be 3x3"):
        kernel_explorer(kernels={"big": np.ones((5, 5))}, crops={"eyes": small_crop})
