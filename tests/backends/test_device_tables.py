"""A device's table buffer follows each frame's tables with only the copies it needs."""

import numpy as np

from render.backends.device_tables import DeviceTables
from render.ops.plan import Packed


def _device_after(writes, device):
    for offset, values in writes:
        device[offset:offset + len(values)] = values
    return device


def test_the_device_holds_each_frames_tables_after_its_writes():
    template = np.arange(16, dtype=np.float32)
    other = -np.arange(16, dtype=np.float32)
    frames = [(template, ()), (template, ((4, np.ones(4, np.float32)),)), (template, ((4, np.ones(4, np.float32)),)),
              (template, ((8, np.full(4, 2, np.float32)),)), (template, ()), (other, ((0, np.zeros(4, np.float32)),)),
              (template, ())]
    tables, device, copied = DeviceTables(), np.full(16, np.nan, np.float32), []
    for base, updates in frames:
        packed = Packed(np.zeros(1, np.float32), base, {}, [], updates)
        writes = tables.writes(packed)
        copied.append(sum(len(v) for _, v in writes))
        device = _device_after(writes, device)
        assert np.array_equal(device, packed.full_tables())
    # the whole template once, then only the changed slices (the same update again: nothing)
    assert copied == [16, 4, 0, 8, 4, 16 + 4, 16]
