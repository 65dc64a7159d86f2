"""``res2netfuse fuse`` directory mode interrupted while writing: only complete files are left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from res2netfuse import io
from res2netfuse.cli import main


def test_interrupt_while_writing_leaves_only_complete_files(checkpoint: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    for folder in ("ir", "vi"):
        for stem in ("p1", "p2", "p3"):
            io.save_image(tmp_path / folder / f"{stem}.png", (rng.random((16, 20)) * 255).astype(np.uint8))
    original_save = Image.Image.save
    calls = []

    def save_then_interrupt(self: Image.Image, fp: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(fp)
        if len(calls) == 2:  # Ctrl-C halfway through writing the second fused image
            Path(fp).write_bytes(b"\x89PNG\r\n\x1a\n partial")
            raise KeyboardInterrupt
        original_save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save_then_interrupt)
    out = tmp_path / "fused"
    code = main(["fuse", "--ir-dir", str(tmp_path / "ir"), "--vi-dir", str(tmp_path / "vi"), "--out-dir", str(out),
                 "--checkpoint", checkpoint, "--device", "cpu"])
    assert code == 130 and capsys.readouterr().err.splitlines()[-1] == "res2netfuse: interrupted"
    assert sorted(p.name for p in out.iterdir()) == ["p1.png"]  # no half-written p2, no temporary file
    assert io.load_gray_uint8(out / "p1.png").shape == (16, 20)
