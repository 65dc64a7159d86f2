"""The data-set registry: the paper's pairs, pairing, twins, and the seeded image choices in params.yaml."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT
from res2netfuse import datasets, io

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def test_tno21_is_the_papers_twenty_pairs(data_dir: Path) -> None:
    pairs = datasets.pair_set("tno21").pairs(data_dir)
    assert [s for s, _ in pairs] == [f"{k:02d}" for k in range(1, 21)]  # the authors' test script: k = 1..20
    for stem, (a, b) in pairs:
        assert a.name == b.name == f"{stem}.png" and a.parent.name == "ir" and b.parent.name == "vi"


def test_registry_sets_pair_every_file_and_know_their_modalities(data_dir: Path) -> None:
    sizes = {name: len(s.pairs(data_dir)) for name, s in datasets.PAIR_SETS.items()}
    assert sizes == {"tno21": 20, "tno": 42, "roadscene": 50, "mri_ct": 21}
    assert datasets.pair_set("roadscene").colour and io.is_colour(datasets.pair_set("roadscene").pairs(data_dir)[0][1][1])
    assert (datasets.pair_set("mri_ct").label_a, datasets.pair_set("mri_ct").label_b) == ("CT", "MRI")
    with pytest.raises(ValueError, match="unknown data set 'tno42'.*tno21"):
        datasets.pair_set("tno42")


def test_twins_are_pixel_identical_pairs(data_dir: Path) -> None:
    twins = datasets.tno21_twins(data_dir)
    assert len(twins) == 15
    for stem, twin in twins.items():
        for modality in ("ir", "vi"):
            a = io.load_gray_uint8(data_dir / f"fusion/tno21/{modality}/{stem}.png")
            b = io.load_gray_uint8(data_dir / f"fusion/tno/{modality}/{twin}.png")
            assert np.array_equal(a, b), f"tno21 {stem} vs tno {twin} ({modality})"


def test_peer_folders_list_the_published_methods(data_dir: Path) -> None:
    # data/README.md: RFN-Nest's release, Li's JSR and JSRSD, AEFusion's two strategies, CUFD (7 pairs)
    assert set(datasets.pair_set("tno21").peer_folders(data_dir)) == {"RFN-Nest", "JSR", "JSRSD", "AEFusion-avg",
                                                                       "AEFusion-nuclear", "CUFD"}
    assert len(datasets.pair_set("tno").peer_folders(data_dir)) == 9
    assert datasets.pair_set("mri_ct").peer_folders(data_dir) == {}


def test_a_missing_pair_of_a_restricted_set_is_named(tmp_path: Path) -> None:
    for modality in ("ir", "vi"):
        (tmp_path / "fusion/tno21" / modality).mkdir(parents=True)
        io.save_image(tmp_path / "fusion/tno21" / modality / "01.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(io.ImageError, match="has no pair for 02, 03"):
        datasets.pair_set("tno21").pairs(tmp_path)


def test_params_image_lists_are_the_documented_seeded_draws(data_dir: Path) -> None:
    ids = datasets.coco_ids(data_dir)
    training = Path(datasets.PAPER_TRAINING_IMAGE).stem
    assert len(ids) == 100 and training in ids
    recon = PARAMS["reconstruction"]["coco_images"]
    pool = [i for i in ids if i != training]
    assert recon == datasets.seeded_choice(pool, 20, PARAMS["reconstruction"]["coco_seed"])
    rest = [i for i in pool if i not in recon]
    others = datasets.seeded_choice(rest, 5, PARAMS["sensitivity"]["other_coco_seed"])
    runs = PARAMS["sensitivity"]["runs"]
    assert {f"coco_{i}" for i in others} <= set(runs)
    assert all(Path(r["image"]).stem not in recon for r in runs.values()), "a training image is a test image"
    assert PARAMS["many_image"]["exclude"] == recon


def test_seeded_choice_is_deterministic_and_checked() -> None:
    names = [f"{i:03d}" for i in range(30)]
    assert datasets.seeded_choice(names, 5, 1) == datasets.seeded_choice(list(reversed(names)), 5, 1)
    assert datasets.seeded_choice(names, 5, 1) != datasets.seeded_choice(names, 5, 2)
    with pytest.raises(ValueError, match="cannot choose 31 of 30"):
        datasets.seeded_choice(names, 31, 0)


def test_noise_image_is_seeded_uniform_noise(tmp_path: Path) -> None:
    a = datasets.noise_image(64, seed=3)
    assert a.shape == (64, 64) and a.dtype == np.uint8
    assert np.array_equal(a, datasets.noise_image(64, seed=3)) and not np.array_equal(a, datasets.noise_image(64, 4))
    counts = np.bincount(datasets.noise_image(256, 0).ravel(), minlength=256)
    assert counts.min() > 150 and counts.max() < 370  # 256 expected per level
    neighbours = np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]
    assert abs(neighbours) < 0.1, "no spatial structure"
    assert datasets.main(["noise", str(tmp_path / "n.png"), "--size", "32", "--seed", "3"]) == 0
    assert np.array_equal(io.load_gray_uint8(tmp_path / "n.png"), datasets.noise_image(32, 3))
    with pytest.raises(ValueError, match="size must be >= 11"):
        datasets.noise_image(8)
