"""A non-editable install must carry the kernel sources and presets inside the wheel."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_kernels_and_presets(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("moodgrade-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("kernels", "presets"):
        shipped = {n.split(f"render/_data/{folder}/", 1)[1] for n in names if f"render/_data/{folder}/" in n}
        on_disk = {str(p.relative_to(ROOT / folder)) for p in (ROOT / folder).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts}
        assert on_disk <= shipped, f"{folder}: missing from the wheel: {on_disk - shipped}"
    assert "render/cli/__init__.py" in names and "render/demo/demo.mp4" in names
    models = {p.name for p in (ROOT / "render" / "emotion" / "models").glob("*.onnx")}
    assert models and {f"render/emotion/models/{m}" for m in models} <= set(names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "moodgrade = render.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
