"""What to do to every frame: a grade recipe, and the per-frame process built from it.

The ``grade`` command, the preview server and every farm worker build their
process here from the same recipe, so the same frame is graded the same way
wherever it is rendered.
"""

from dataclasses import dataclass

from render.io.source import VideoFrame
from render.ops.frames import frame_kind
from render.pipeline import ProcessFn


@dataclass(frozen=True)
class GradeRecipe:
    """A grade as data (picklable, so it travels to farm workers).

    ``ops``: fixed op descriptions (render.ops: CDL, input LUT, grade-file ops), applied
    first to every frame; ``schedule``: the mood-driven look per frame
    (render.looks.schedule.GradeSchedule), applied after them. Both empty means
    pass-through. ``backend``: "cuda", "opencl", "numpy", or None for the best.
    """

    ops: tuple = ()
    schedule: object | None = None
    backend: str | None = None

    @property
    def is_pass_through(self) -> bool:
        """True when there is nothing to grade: frames leave as they came."""
        return not self.ops and self.schedule is None

    def ops_at(self, frame_index: int) -> tuple:
        """The whole grade of frame ``frame_index``."""
        if self.schedule is None:
            return self.ops
        return self.ops + self.schedule.ops_at(frame_index)


def make_process(recipe: GradeRecipe) -> ProcessFn:
    """The per-frame function for ``recipe``: VideoFrame -> graded HxWx3 array (same dtype)."""
    if recipe.is_pass_through:
        return lambda frame: frame.rgb
    from render.backends import select_backend

    backend = select_backend(recipe.backend)
    compiled = backend.compiled_grade()   # planned once per structure, packed per frame

    def process(frame: VideoFrame):
        rgb = frame.rgb
        h, w = rgb.shape[:2]
        plan = compiled.frame(recipe.ops_at(frame.index), frame_kind(rgb), frame.transfer, w, h, frame.index)
        return backend.run(rgb, plan)

    return process
