"""What to do to every frame: a grade recipe, and the per-frame process built from it.

The ``grade`` command, the preview server and every farm worker build their
process here from the same recipe, so the same frame is graded the same way
wherever it is rendered.
"""

from dataclasses import dataclass

from render.io.source import VideoFrame
from render.pipeline import ProcessFn


@dataclass(frozen=True)
class GradeRecipe:
    """A grade as data (picklable, so it travels to farm workers).

    ``ops``: the grade's op descriptions (render.ops), applied in order to every frame;
    empty means pass-through. ``backend``: "cuda", "opencl", "numpy", or None for the best.
    """

    ops: tuple = ()
    backend: str | None = None


def make_process(recipe: GradeRecipe) -> ProcessFn:
    """The per-frame function for ``recipe``: VideoFrame -> graded HxWx3 array (same dtype)."""
    if not recipe.ops:
        return lambda frame: frame.rgb
    from render.backends import select_backend

    backend = select_backend(recipe.backend)

    def process(frame: VideoFrame):
        return backend.apply(frame.rgb, recipe.ops, frame_index=frame.index)

    return process
