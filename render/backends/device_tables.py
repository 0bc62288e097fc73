"""Keeping a device's table buffer T equal to a frame's tables with as few copies as possible.

A compiled grade (render.ops.compiled) hands every frame of one structure the same template
tables and, for the ops that changed, ``table_updates`` at fixed offsets. Per frame a device
therefore needs: the whole template when it is not the one on the device, each update whose
values are not already there, and the template's own values back where an earlier frame
wrote an update and this one has none. Before, every frame compared (and on any change
copied) the whole T: a 3D LUT of 431 KB for each graded frame.
"""

from __future__ import annotations

import numpy as np

from render.ops.plan import Packed


class DeviceTables:
    """The host's record of what one device buffer T holds. Not thread-safe: use it under the
    backend's device lock."""

    def __init__(self):
        self._template: np.ndarray | None = None
        self._written: dict[int, np.ndarray] = {}   # offset -> values written over the template

    def forget(self) -> None:
        """The device buffer was replaced: the next frame writes everything."""
        self._template = None
        self._written = {}

    def writes(self, packed: Packed) -> list[tuple[int, np.ndarray]]:
        """(offset in floats, float32 values) copies that make T equal ``packed.full_tables()``;
        the first, at offset 0, is the whole template when that changed."""
        out = []
        if self._template is not packed.tables:
            out.append((0, packed.tables))
            self._template, self._written = packed.tables, {}
        updates = dict(packed.table_updates)
        for offset, values in list(self._written.items()):
            if offset not in updates:
                out.append((offset, self._template[offset:offset + len(values)]))
                del self._written[offset]
        for offset, values in updates.items():
            there = self._written.get(offset)
            if there is None or not np.array_equal(there, values):
                out.append((offset, values))
                self._written[offset] = values
        return out
