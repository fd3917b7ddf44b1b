"""The bench measures mat as a clinic's install runs it: from compiled bytecode, even where
PYTHONDONTWRITEBYTECODE keeps Python from writing it on import (bench.processes)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bench.processes import ROOT, compile_bytecode


def test_every_module_of_mat_and_of_the_bench_is_left_compiled() -> None:
    assert compile_bytecode()
    sources = [*(ROOT / "mat").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]
    assert len(sources) > 100
    missing = [
        str(source.relative_to(ROOT))
        for source in sources
        if not Path(importlib.util.cache_from_source(str(source))).is_file()
    ]
    assert missing == []
