"""The README's first quick-start command: the built-in example renders."""

from tests.helpers import moodgrade


def test_demo_renders_the_builtin_example(tmp_path):
    out = tmp_path / "demo.mp4"
    result = moodgrade("demo", out)
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout and out.stat().st_size > 10_000
