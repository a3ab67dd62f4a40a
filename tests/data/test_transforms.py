"""Transforms against hand-computed expectations (and PyTorch's interpolate where it applies)."""
import numpy as np
import pytest

import gradkit as gk
from gradkit.data import transforms as T


def image(c=3, h=5, w=5, seed=0):
    return np.random.default_rng(seed).random((c, h, w)).astype(np.float32)


def test_flips():
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1)(x), x[:, :, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1)(x), x[:, ::-1, :])
    assert T.RandomHorizontalFlip(p=0)(x) is x
    out = T.RandomHorizontalFlip(p=1)(gk.tensor(x))
    assert isinstance(out, gk.Tensor) and out.tolist() == x[:, :, ::-1].tolist()


def test_random_crop_with_padding():
    x = np.array([[[1, 2], [3, 4]]], dtype=np.float32)
    padded = np.array([[[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]]], dtype=np.float32)
    np.testing.assert_array_equal(T.RandomCrop(4, padding=1)(x), padded)
    np.testing.assert_array_equal(T.RandomCrop(4, padding=1, fill=9)(x)[0, 0], [9, 9, 9, 9])
    windows = {padded[:, i:i + 2, j:j + 2].tobytes() for i in range(3) for j in range(3)}
    gk.manual_seed(0)
    crops = [T.RandomCrop(2, padding=1)(x) for _ in range(40)]
    assert all(c.tobytes() in windows for c in crops)
    assert len({c.tobytes() for c in crops}) > 3
    gk.manual_seed(0)
    assert all(np.array_equal(c, T.RandomCrop(2, padding=1)(x)) for c in crops)
    reflect = T.RandomCrop(4, padding=1, padding_mode="reflect")(x)
    np.testing.assert_array_equal(reflect[0, 1], [2, 1, 2, 1])
    assert T.RandomCrop((3, 4), pad_if_needed=True)(x).shape == (1, 3, 4)
    with pytest.raises(ValueError, match="larger than the input"):
        T.RandomCrop(3)(x)


def test_center_crop_and_pad():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_array_equal(T.CenterCrop(2)(x), x[:, 1:3, 1:3])
    big = T.CenterCrop(6)(x)
    assert big.shape == (1, 6, 6) and big[0, 0].sum() == 0
    np.testing.assert_array_equal(big[:, 1:5, 1:5], x)
    np.testing.assert_array_equal(T.Pad((1, 0))(x)[0, 0], [0, 0, 1, 2, 3, 0])


def test_normalize_and_min_max_scale():
    x = image(3, 2, 2)
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.5)
    expected = (x - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    out = T.Normalize(mean, std)(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="channel"):
        T.Normalize((0.5, 0.5), (1, 1))(x)
    with pytest.raises(ValueError, match="zero"):
        T.Normalize((0.5,), (0,))
    pixels = np.array([0, 51, 255], dtype=np.uint8)
    np.testing.assert_allclose(T.MinMaxScale(0, 255)(pixels), [0, 0.2, 1], rtol=1e-6)
    np.testing.assert_allclose(T.MinMaxScale(0, 255, feature_range=(-1, 1))(pixels), [-1, -0.6, 1], rtol=1e-6)


def test_resize_tiny_image_by_hand():
    x = np.array([[[0, 1], [2, 3]]], dtype=np.float32)
    # Pixel centres aligned: output samples at source positions 0 (clamped), 0.25, 0.75, 1.
    ramp = np.array([0, 0.25, 0.75, 1], dtype=np.float32)
    np.testing.assert_allclose(T.Resize((4, 4))(x)[0], 2 * ramp[:, None] + ramp[None, :], rtol=1e-6)
    np.testing.assert_array_equal(T.Resize((4, 4), interpolation="nearest")(x)[0],
                                  [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])
    big = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_allclose(T.Resize(2)(big)[0], [[2.5, 4.5], [10.5, 12.5]])
    assert T.Resize(4)(image(1, 4, 8)).shape == (1, 4, 8)
    assert T.Resize(2)(image(1, 4, 8)).shape == (1, 2, 4)


def test_resize_matches_pytorch_interpolate():
    torch = pytest.importorskip("torch")
    x = image(2, 7, 5)
    for size in [(11, 3), (3, 9)]:
        for mode in ("bilinear", "nearest"):
            kwargs = {"align_corners": False} if mode == "bilinear" else {}
            expected = torch.nn.functional.interpolate(torch.tensor(x[None]), size=size, mode=mode, **kwargs)[0]
            np.testing.assert_allclose(T.Resize(size, interpolation=mode)(x), expected.numpy(), atol=1e-6)


@pytest.mark.parametrize("size", [4, 5])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_by_90_degrees_is_rot90(size, interpolation):
    x = image(2, size, size)
    rotate = T.RandomRotation((90, 90), interpolation=interpolation)
    np.testing.assert_allclose(rotate(x), np.rot90(x, 1, axes=(1, 2)), atol=1e-6)
    np.testing.assert_allclose(T.RandomRotation((-90, -90), interpolation=interpolation)(x),
                               np.rot90(x, -1, axes=(1, 2)), atol=1e-6)


def test_rotation_fill_and_expand():
    x = np.ones((1, 5, 5), np.float32)
    out = T.RandomRotation((45, 45), fill=-1)(x)
    assert out[0, 0, 0] == -1 and out[0, 2, 2] == 1
    assert T.RandomRotation((90, 90), expand=True)(image(1, 3, 6)).shape == (1, 6, 3)


def test_affine_identity_translation_and_scale():
    x = image(1, 6, 6)
    np.testing.assert_allclose(T.RandomAffine(0)(x), x)
    np.testing.assert_allclose(T.RandomAffine(0, interpolation="bilinear")(x), x, atol=1e-6)
    shift = T.RandomAffine(0, translate=(0.3, 0.3), fill=-1)
    gk.manual_seed(5)
    _, (tx, ty), _, _ = shift.get_params(6, 6)
    gk.manual_seed(5)
    out = shift(x)
    expected = np.full_like(x, -1)
    expected[:, max(ty, 0):6 + min(ty, 0), max(tx, 0):6 + min(tx, 0)] = x[:, max(-ty, 0):6 - max(ty, 0),
                                                                           max(-tx, 0):6 - max(tx, 0)]
    np.testing.assert_allclose(out, expected)
    # Scaling by 2 about the centre of a 4x4 image: the output's middle reads the input's middle.
    zoom = T.RandomAffine(0, scale=(2, 2), interpolation="bilinear")(np.arange(16, dtype=np.float32).reshape(1, 4, 4))
    np.testing.assert_allclose(zoom[0, 1:3, 1:3], [[6.25, 6.75], [8.25, 8.75]])
    sheared = T.RandomAffine(0, shear=(10, 20, 5, 5))(x)
    assert sheared.shape == x.shape


def test_resized_crop_and_elastic():
    x = image(3, 8, 8)
    np.testing.assert_allclose(T.RandomResizedCrop(4, scale=(1, 1), ratio=(1, 1))(x), T.Resize(4)(x), atol=1e-6)
    gk.manual_seed(1)
    a = T.RandomResizedCrop((5, 3))(x)
    gk.manual_seed(1)
    assert a.shape == (3, 5, 3) and np.array_equal(a, T.RandomResizedCrop((5, 3))(x))
    np.testing.assert_allclose(T.ElasticTransform(alpha=0.0)(x), x, atol=1e-6)
    warped = T.ElasticTransform(alpha=20.0, sigma=2.0)(x)
    assert warped.shape == x.shape and not np.allclose(warped, x)


def test_color_jitter():
    x = image(3, 4, 4) * 0.6
    np.testing.assert_allclose(T.ColorJitter(brightness=(1.5, 1.5))(x), np.clip(1.5 * x, 0, 1), rtol=1e-6)
    grey = 0.2989 * x[0] + 0.587 * x[1] + 0.114 * x[2]
    np.testing.assert_allclose(T.ColorJitter(saturation=(0, 0))(x), np.broadcast_to(grey, x.shape), rtol=1e-5)
    np.testing.assert_allclose(T.ColorJitter(contrast=(0, 0))(x), np.full_like(x, grey.mean()), rtol=1e-5)
    red = np.zeros((3, 2, 2), np.float32)
    red[0] = 1
    green = T.ColorJitter(hue=(1 / 3, 1 / 3))(red)
    np.testing.assert_allclose(green[:, 0, 0], [0, 1, 0], atol=1e-5)
    np.testing.assert_allclose(T.photometric.hsv_to_rgb(T.photometric.rgb_to_hsv(x)), x, atol=1e-6)
    assert T.ColorJitter(0.4, 0.4, 0.4, 0.1)(image(1, 3, 3)).shape == (1, 3, 3)


def test_random_erasing():
    x = np.ones((3, 10, 10), np.float32)
    gk.manual_seed(0)
    out = T.RandomErasing(p=1, value=0)(x)
    erased = out[0] == 0
    assert erased.any() and not erased.all() and np.all(x == 1)
    rows, cols = np.flatnonzero(erased.any(1)), np.flatnonzero(erased.any(0))
    assert erased[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all()  # one rectangle
    assert np.array_equal(out[0] == 0, out[2] == 0)
    noisy = T.RandomErasing(p=1, value="random")(x)
    assert noisy.shape == x.shape and (noisy != 1).any()


def test_to_tensor():
    hwc = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    out = T.ToTensor()(hwc)
    assert isinstance(out, gk.Tensor) and out.shape == (3, 2, 4) and out.dtype == gk.float32
    np.testing.assert_allclose(out.numpy(), hwc.transpose(2, 0, 1) / 255, rtol=1e-6)
    chw = image(1, 3, 3)
    np.testing.assert_array_equal(T.ToTensor()(chw).numpy(), chw)
    assert T.ToTensor()(chw[0]).shape == (1, 3, 3)
    Image = pytest.importorskip("PIL.Image")
    from_pil = T.ToTensor()(Image.fromarray(hwc))
    np.testing.assert_allclose(from_pil.numpy(), out.numpy())


def test_fitted_scalers_use_training_statistics_only():
    train = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]], np.float32)
    scaler = T.Standardize().fit(train)
    np.testing.assert_allclose(scaler.mean, [3, 10])
    np.testing.assert_allclose(scaler.std, [np.std([1, 3, 5]), 1])  # constant feature: scale 1
    out = scaler(np.array([3.0, 12.0], np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0, 2])
    np.testing.assert_allclose(scaler.inverse_transform(scaler.fit_transform(train)), train, rtol=1e-6)
    restored = T.Standardize()
    restored.load_state_dict(scaler.state_dict())
    np.testing.assert_allclose(restored(train), scaler(train))
    with pytest.raises(RuntimeError, match="not fitted"):
        T.Standardize()(train)
    minmax = T.MinMaxScaler(feature_range=(-1, 1)).fit(train)
    np.testing.assert_allclose(minmax(np.array([[3.0, 10.0], [7.0, 10.0]])), [[0, -1], [2, -1]])
    copy = T.MinMaxScaler(feature_range=(-1, 1))
    copy.load_state_dict(minmax.state_dict())
    np.testing.assert_allclose(copy(train), minmax(train))
    images = np.random.default_rng(0).random((10, 3, 4, 4))
    per_channel = T.Standardize(axis=(0, 2, 3)).fit(images)
    assert per_channel.mean.shape == (3, 1, 1)
    np.testing.assert_allclose(per_channel(images).mean(axis=(0, 2, 3)), 0, atol=1e-12)


def test_log_and_lambda():
    x = np.array([0.0, 1.0, 9.0], np.float32)
    np.testing.assert_allclose(T.LogTransform()(x), np.log1p(x), rtol=1e-6)
    np.testing.assert_allclose(T.LogTransform("log10", offset=1)(x), np.log10(x + 1), rtol=1e-6)
    np.testing.assert_allclose(T.LogTransform("symlog")(-x), -np.log1p(x), rtol=1e-6)
    with pytest.raises(ValueError, match="domain"):
        T.LogTransform("log")(x)
    assert T.Compose([T.Lambda(lambda v: v * 2), T.Lambda(lambda v: v + 1)])(3) == 7


def test_pipeline_reproducible_under_manual_seed():
    pipeline = T.Compose([T.RandomCrop(4, padding=1), T.RandomHorizontalFlip(), T.RandomAffine(10, (0.1, 0.1)),
                          T.ColorJitter(0.2, 0.2, 0.2, 0.05), T.RandomErasing()])
    x = image(3, 6, 6)
    gk.manual_seed(42)
    first = [pipeline(x) for _ in range(5)]
    gk.manual_seed(42)
    assert all(np.array_equal(a, pipeline(x)) for a in first)
