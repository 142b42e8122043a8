"""Settings that would make the deployment unsafe are refused at start, with a message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_a_short_token_key_is_refused_before_anything_starts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YINGJI_")}
    env |= {"YINGJI_DATA_DIR": str(tmp_path), "YINGJI_SECRET_KEY": "change-me"}
    result = subprocess.run([sys.executable, "-m", "gateway.entrypoints.cli", "db", "init"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "YINGJI_SECRET_KEY must be at least 32 bytes" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())  # nothing was created


def test_an_unset_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    from gateway.settings import Settings

    first = Settings(data_dir=tmp_path).resolved_secret_key
    assert len(first) >= 32 and (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    assert Settings(data_dir=tmp_path).resolved_secret_key == first
