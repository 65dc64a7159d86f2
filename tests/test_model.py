"""Res2NetFuse architecture: shapes, Table I parameter count, receptive fields, checkpoints."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from res2netfuse.model import (ModelConfig, Res2NetFuse, count_parameters, describe, load_checkpoint,
                               receptive_field, save_checkpoint, scale_receptive_fields)


def conv_params(k: int, cin: int, cout: int) -> int:
    return k * k * cin * cout + cout


# Paper Table I, layer by layer (kernel, in, out), written out independently of model.py.
TABLE_I_OUTSIDE_K = [(3, 1, 32), (3, 32, 64), (1, 64, 64), (1, 64, 64), (3, 64, 64), (3, 64, 32), (3, 32, 16), (3, 16, 1)]
K_CONV = (3, 16, 16)


def test_parameter_count_matches_table_i_shared_kernel() -> None:
    expected = sum(conv_params(*layer) for layer in TABLE_I_OUTSIDE_K) + conv_params(*K_CONV)  # one shared conv
    assert count_parameters(Res2NetFuse()) == expected == 89617


def test_parameter_count_matches_table_i_per_group_kernels() -> None:
    expected = sum(conv_params(*layer) for layer in TABLE_I_OUTSIDE_K) + 3 * 2 * conv_params(*K_CONV)
    assert count_parameters(Res2NetFuse(ModelConfig(kernel="per_group"))) == expected


def test_describe_reproduces_table_i_channels() -> None:
    rows = describe(Res2NetFuse())
    channels = [(int(r["kernel"][0]), r["in"], r["out"]) for r in rows]
    assert channels == [(3, 1, 32), (3, 32, 64), (1, 64, 64), (3, 16, 16), (1, 64, 64),
                        (3, 64, 64), (3, 64, 32), (3, 32, 16), (3, 16, 1)]
    assert [r["activation"] for r in rows][-1] == "none"
    shared = [r for r in rows if r["part"] == "res2net block" and r["in"] == 16]
    assert len(shared) == 1 and shared[0]["applications"] == 6
    assert sum(r["parameters"] for r in rows) == count_parameters(Res2NetFuse())


@settings(max_examples=15, deadline=None)
@given(h=st.integers(5, 40), w=st.integers(5, 40), kernel=st.sampled_from(["shared", "per_group"]),
       residual=st.booleans())
def test_output_size_equals_input_size(h: int, w: int, kernel: str, residual: bool) -> None:
    model = Res2NetFuse(ModelConfig(kernel=kernel, residual=residual)).eval()  # type: ignore[arg-type]
    x = torch.rand(2, 1, h, w)
    with torch.inference_mode():
        phi = model.encode(x)
        assert phi.shape == (2, 64, h, w)
        assert model.decode(phi).shape == x.shape


def test_encode_decode_round_trip_equals_forward() -> None:
    model = Res2NetFuse().eval()
    x = torch.rand(1, 1, 33, 17)
    with torch.inference_mode():
        assert torch.equal(model.decode(model.encode(x)), model(x))


def test_residual_switch_changes_features() -> None:
    torch.manual_seed(0)
    with_res = Res2NetFuse(ModelConfig(residual=True)).eval()
    without = Res2NetFuse(ModelConfig(residual=False)).eval()
    without.load_state_dict(with_res.state_dict())
    x = torch.rand(1, 1, 16, 16)
    with torch.inference_mode():
        c = with_res.stem(x)
        torch.testing.assert_close(with_res.encode(x) - without.encode(x), c)


def gradient_receptive_field(model: torch.nn.Module, size: int = 65) -> int:
    """Width of the input region that influences the centre output pixel (via autograd)."""
    x = torch.rand(1, 1, size, size, requires_grad=True)
    model(x)[0, 0, size // 2, size // 2].backward()
    cols = (x.grad[0, 0].abs().sum(0) > 0).nonzero()
    return int(cols.max() - cols.min() + 1)


def test_receptive_field_matches_autograd() -> None:
    torch.manual_seed(0)
    model = Res2NetFuse().double().float()
    assert receptive_field(model) == gradient_receptive_field(model)


def test_scale_group_receptive_fields_match_autograd() -> None:
    torch.manual_seed(0)
    model = Res2NetFuse()
    size = 41
    rfs = []
    for i in range(4):
        x = torch.rand(1, 1, size, size, requires_grad=True)
        model.scale_groups(x)[i][0, :, size // 2, size // 2].sum().backward()
        cols = (x.grad[0, 0].abs().sum(0) > 0).nonzero()
        rfs.append(int(cols.max() - cols.min() + 1))
    assert scale_receptive_fields(model) == rfs


def test_shared_kernel_is_one_module() -> None:
    block = Res2NetFuse().block
    convs = {id(k.conv_a) for k in block.kernels} | {id(k.conv_b) for k in block.kernels}
    assert len(convs) == 1
    per_group = Res2NetFuse(ModelConfig(kernel="per_group")).block
    assert len({id(k.conv_a) for k in per_group.kernels} | {id(k.conv_b) for k in per_group.kernels}) == 6


@pytest.mark.parametrize("bad", [{"kernel": "other"}, {"scales": 1}, {"width": 60, "scales": 7}])
def test_bad_config_is_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        ModelConfig(**bad)


def test_checkpoint_round_trip(tmp_path) -> None:
    model = Res2NetFuse(ModelConfig(kernel="per_group", residual=False))
    path = tmp_path / "m.pt"
    save_checkpoint(model, str(path))
    loaded = load_checkpoint(str(path))
    assert loaded.config == model.config
    for (k1, v1), (k2, v2) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)


def test_missing_and_corrupt_checkpoints_name_the_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_checkpoint(str(tmp_path / "nope.pt"))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="bad.pt"):
        load_checkpoint(str(bad))
    wrong = tmp_path / "wrong.pt"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "config": {}}, wrong)
    with pytest.raises(ValueError, match="wrong.pt"):
        load_checkpoint(str(wrong))


def test_importing_the_network_loads_neither_data_registry_nor_pandas() -> None:
    """The network is the bottom of the house: a fresh interpreter that imports it has not loaded the data
    registry, the pipeline's settings or pandas (the weight reader it uses depends on torch only)."""
    import subprocess
    import sys

    code = ("import sys, res2netfuse.model; print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('pandas')} "
            "| {m for m in sys.modules if m in ('res2netfuse.datasets', 'res2netfuse.settings', 'res2netfuse.weights', "
            "'res2netfuse.report')}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", f"importing res2netfuse.model loaded {loaded}"
