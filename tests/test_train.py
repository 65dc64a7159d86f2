"""Training: loss terms on known inputs, descent, determinism, many-image order, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from skimage.metrics import structural_similarity

from res2netfuse.io import ImageError, load_gray
from res2netfuse.model import load_checkpoint
from res2netfuse.train import (TrainConfig, prepare_training_image, reconstruction_loss, save_training,
                               stabilisation_iteration, train, training_images, visiting_order)


def test_identical_images_give_zero_loss() -> None:
    x = torch.rand(1, 1, 48, 48)
    for structural in ("ssim", "ms_ssim"):
        big = torch.rand(1, 1, 170, 170)
        for img in (x, big) if structural == "ssim" else (big,):
            total, pixel, s = reconstruction_loss(img, img, structural)  # type: ignore[arg-type]
            assert float(pixel) == 0.0 and abs(float(s)) < 1e-6 and abs(float(total)) < 1e-6


def test_pixel_term_is_mse_and_ssim_term_matches_scikit_image(data_dir: Path) -> None:
    ref = load_gray(data_dir / "recon/kodak/kodim01.png")[:96, :96]
    rng = np.random.default_rng(0)
    noisy = np.clip(ref + rng.normal(0, 0.05, ref.shape), 0, 1).astype(np.float32)
    t = lambda a: torch.from_numpy(a)[None, None]  # noqa: E731
    total, pixel, s = reconstruction_loss(t(noisy), t(ref), "ssim")
    assert float(pixel) == pytest.approx(float(np.mean((noisy - ref) ** 2)), rel=1e-5)
    expected = structural_similarity(noisy, ref, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False)
    assert 1 - float(s) == pytest.approx(expected, abs=2e-4)
    assert float(total) == pytest.approx(float(pixel) + float(s))


def test_prepare_training_image_crops_and_resizes(tmp_path: Path) -> None:
    img = np.zeros((40, 60), np.uint8)
    img[:, 10:50] = 255  # the centre 40x40 square is white
    Image.fromarray(img).save(tmp_path / "r.png")
    x = prepare_training_image(tmp_path / "r.png", 20)
    assert x.shape == (1, 1, 20, 20) and x.dtype == torch.float32
    assert torch.all(x == 1.0)


def small(**kw) -> TrainConfig:
    return TrainConfig(**{"size": 48, "iterations": 20, "device": "cpu", "seed": 3, **kw})


def test_twenty_iterations_lower_the_loss(data_dir: Path) -> None:
    result = train(small(image=str(data_dir / "train/camera.png")), progress=False)
    losses = result.losses
    assert list(losses.columns) == ["iteration", "pixel", "ssim", "total"] and len(losses) == 20
    assert losses.total.iloc[-5:].mean() < 0.8 * losses.total.iloc[:3].mean()
    np.testing.assert_allclose(losses.total, losses.pixel + losses.ssim, rtol=1e-6)


def test_same_seed_gives_identical_weights_and_other_seed_does_not(data_dir: Path) -> None:
    image = str(data_dir / "train/camera.png")
    a = train(small(image=image, iterations=5), progress=False).model.state_dict()
    b = train(small(image=image, iterations=5), progress=False).model.state_dict()
    c = train(small(image=image, iterations=5, seed=4), progress=False).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_rgb_training_image_is_converted(tmp_path: Path) -> None:
    rgb = (np.random.default_rng(1).random((30, 30, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    x = prepare_training_image(tmp_path / "rgb.png", 16)
    assert x.shape == (1, 1, 16, 16)


def test_bad_inputs_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="missing.png: file not found"):
        train(small(image=str(tmp_path / "missing.png")), progress=False)
    (tmp_path / "corrupt.png").write_text("not an image")
    with pytest.raises(ImageError, match="corrupt.png: cannot be read"):
        train(small(image=str(tmp_path / "corrupt.png")), progress=False)
    with pytest.raises(ValueError, match="ms_ssim.*needs size >= 161"):
        small(structural_loss="ms_ssim", size=64)
    with pytest.raises(ValueError, match="structural_loss"):
        small(structural_loss="l1")


def test_save_training_writes_loadable_checkpoint_and_log(data_dir: Path, tmp_path: Path) -> None:
    config = small(image=str(data_dir / "train/camera.png"), iterations=3)
    result = train(config, progress=False)
    paths = save_training(result, config, tmp_path)
    model = load_checkpoint(str(paths["checkpoint"]))
    x = torch.rand(1, 1, 20, 20)
    with torch.inference_mode():
        torch.testing.assert_close(model(x), result.model(x))
    log = pd.read_csv(paths["losses"])
    np.testing.assert_allclose(log.total, result.losses.total, rtol=1e-6)


def test_stabilisation_iteration_on_synthetic_curves() -> None:
    t = np.arange(1, 1001)
    curve = 1.0 * np.exp(-t / 50.0) + 0.1  # 95% of the drop is covered at t = 50 ln 20 ~ 150
    assert abs(stabilisation_iteration(curve, tolerance=0.05, window=1) - 50 * np.log(20)) <= 2
    assert stabilisation_iteration(np.ones(10)) == 1
    noisy = curve + np.random.default_rng(0).normal(0, 0.002, t.size)
    assert abs(stabilisation_iteration(noisy) - 150) < 15


def _folder(tmp_path: Path, n: int) -> Path:
    folder = tmp_path / "pool"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for i in range(n):
        Image.fromarray((rng.random((24, 24)) * 255).astype(np.uint8)).save(folder / f"{i:02d}.png")
    return folder


def test_a_folder_trains_on_its_images_minus_the_excluded_ones(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 4)
    config = small(image=str(folder), exclude=["01", "03"])
    assert [p.name for p in training_images(config)] == ["00.png", "02.png"]
    assert [p.name for p in training_images(small(image=str(folder)))] == ["00.png", "01.png", "02.png", "03.png"]
    with pytest.raises(ImageError, match="has no image 07 to exclude"):
        training_images(small(image=str(folder), exclude=["07"]))
    with pytest.raises(ValueError, match="'exclude' applies to a folder"):
        training_images(small(image=str(folder / "00.png"), exclude=["01"]))


def test_every_image_is_visited_once_per_pass_in_a_seeded_order() -> None:
    order = visiting_order(5, 12, seed=2)
    assert len(order) == 12 and sorted(order[:5]) == list(range(5)) and sorted(order[5:10]) == list(range(5))
    assert np.array_equal(order, visiting_order(5, 12, seed=2))
    assert not np.array_equal(order, visiting_order(5, 12, seed=3))
    passes = visiting_order(5, 50, seed=2).reshape(10, 5)
    assert len({tuple(p) for p in passes}) > 1, "the order is reshuffled after every pass"
    assert np.array_equal(visiting_order(1, 4, seed=9), np.zeros(4))


def test_many_image_training_runs_and_differs_from_single_image(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 3)
    many = train(small(image=str(folder), size=24, iterations=6), progress=False)
    one = train(small(image=str(folder / "00.png"), size=24, iterations=6), progress=False)
    assert len(many.losses) == 6
    assert not np.allclose(many.losses.total, one.losses.total)


def test_config_from_params_sections_refuses_unknown_settings() -> None:
    config = TrainConfig.from_params({"iterations": 7, "exclude": ["a"]}, {"kernel": "per_group"})
    assert config.iterations == 7 and config.exclude == ("a",) and config.model.kernel == "per_group"
    with pytest.raises(ValueError, match="unknown training setting.*iteration"):
        TrainConfig.from_params({"iteration": 7})
