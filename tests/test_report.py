"""Report helpers: rank marks (ties, lower-is-better, missing values) and table files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from res2netfuse.report import project_root, rank_marks, save_table, to_markdown


def test_rank_marks_best_second_third_with_ties_and_missing() -> None:
    df = pd.DataFrame({"m": list("abcde"), "x": [0.1, 0.9, 0.9, None, 0.5], "y": [5, 4, 3, 2, 1]})
    ranks = rank_marks(df, ["x", "y"])
    assert ranks["x"].tolist() == [0, 1, 1, 0, 3]  # tie shares rank 1, the next is 3rd, NaN unranked
    assert ranks["y"].tolist() == [1, 2, 3, 0, 0]
    assert rank_marks(df, ["y"], higher_is_better=False)["y"].tolist() == [0, 0, 3, 2, 1]


def test_markdown_marks_and_formats_mixed_columns() -> None:
    df = pd.DataFrame({"method": ["ours", "paper"], "v": [0.123456, 0.00001], "note": ["run here", "reported"]})
    md = to_markdown(df, "Caption.", rank_marks(df, ["v"]))
    assert md.startswith("Caption.")
    assert "**0.12346**" in md and "_0.00001_" in md and "1e-05" not in md
    f32 = pd.DataFrame({"v": np.array([0.9956, 0.00001], dtype=np.float32)})
    assert "0.99560" in to_markdown(f32, "c") and "0.00001" in to_markdown(f32, "c")


def test_save_table_writes_csv_and_markdown(tmp_path) -> None:
    df = pd.DataFrame({"a": [1.5, 2.25]})
    csv, md = save_table(df, tmp_path / "t", "tab", "A caption")
    assert pd.read_csv(csv).equals(df)
    assert md.read_text().startswith("A caption")


def test_project_root_finds_dvc_yaml_and_honours_env(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("RES2NETFUSE_ROOT", raising=False)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert project_root(tmp_path / "a" / "b") == tmp_path
    monkeypatch.setenv("RES2NETFUSE_ROOT", str(tmp_path / "a"))
    assert project_root() == tmp_path / "a"
    monkeypatch.delenv("RES2NETFUSE_ROOT")
    with pytest.raises(FileNotFoundError, match="no dvc.yaml"):
        project_root("/")
