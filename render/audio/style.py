"""How strongly the soundtrack follows the mood: the preset's ``[soundtrack]`` section.

Every field has a unit in its name and an allowed range (``RANGES``); a style is
checked when it is made, and ``SoundtrackStyle.from_mapping`` turns a preset's TOML
table into a style, naming the file and key of every mistake.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields

from render.errors import MoodgradeError

# field -> (lowest, highest) allowed value; for (low, high) pairs, both ends lie in it.
RANGES: dict[str, tuple[float, float]] = {
    "compressor_ratio_range": (1.0, 20.0),
    "compressor_threshold_lu": (-30.0, 10.0),
    "compressor_attack_ms_range": (0.1, 200.0),
    "compressor_release_ms_range": (10.0, 2000.0),
    "low_shelf_hz": (20.0, 1000.0),
    "high_shelf_hz": (1000.0, 16000.0),
    "shelf_gain_db_max": (0.0, 18.0),
    "reverb_wet_max": (0.0, 1.0),
    "reverb_room_size": (0.0, 1.0),
    "reverb_damping": (0.0, 1.0),
    "gain_db_max": (0.0, 12.0),
    "ramp_ms": (50.0, 5000.0),
    "limiter_lookahead_ms": (0.5, 20.0),
    "limiter_release_ms": (1.0, 2000.0),
}


@dataclass(frozen=True)
class SoundtrackStyle:
    """The mood chain's limits (what full intensity may do); ranges in ``RANGES``.

    compressor_ratio_range: ratio at calm (arousal -1) and at tense (arousal +1), before
        intensity scales it toward 1:1 (no compression).
    compressor_threshold_lu: threshold relative to the input's integrated loudness, LU.
    compressor_attack_ms_range / compressor_release_ms_range: (fast, slow); high arousal
        takes the fast end.
    low_shelf_hz / high_shelf_hz: shelf corner frequencies, Hz.
    shelf_gain_db_max: largest boost or cut of either shelf, dB.
    reverb_wet_max: largest reverb level mixed over the dry signal, 0..1 (linear).
    reverb_room_size / reverb_damping: the reverb's room, 0..1 (fixed for the whole clip).
    gain_db_max: largest mood gain up or down, dB (relative between scenes: loudness
        normalisation sets the overall level afterwards).
    ramp_ms: how long every setting takes to move from one mood to the next.
    limiter_lookahead_ms / limiter_release_ms: the true-peak limiter's attack and release.
    """

    compressor_ratio_range: tuple[float, float] = (1.5, 5.0)
    compressor_threshold_lu: float = 0.0
    compressor_attack_ms_range: tuple[float, float] = (5.0, 30.0)
    compressor_release_ms_range: tuple[float, float] = (80.0, 300.0)
    low_shelf_hz: float = 200.0
    high_shelf_hz: float = 4000.0
    shelf_gain_db_max: float = 6.0
    reverb_wet_max: float = 0.3
    reverb_room_size: float = 0.6
    reverb_damping: float = 0.5
    gain_db_max: float = 3.0
    ramp_ms: float = 250.0
    limiter_lookahead_ms: float = 5.0
    limiter_release_ms: float = 150.0

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, getattr(self, f.name), "soundtrack style")

    @classmethod
    def from_mapping(cls, mapping: Mapping, where: str = "soundtrack") -> "SoundtrackStyle":
        """A style from a TOML table; ``where`` (e.g. ``"noir.toml [soundtrack]"``) prefixes errors.

        Missing keys take the defaults; unknown keys, wrong types and out-of-range values
        raise MoodgradeError naming ``where``, the key and the allowed range.
        """
        known = {f.name for f in fields(cls)}
        values = {}
        for key, value in mapping.items():
            if key not in known:
                raise MoodgradeError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})")
            if key.endswith("_range"):
                if not (isinstance(value, (list, tuple)) and len(value) == 2
                        and all(_is_number(v) for v in value)):
                    raise MoodgradeError(f"{where}: {key} must be a pair of numbers [low, high], got {value!r}")
                value = (float(value[0]), float(value[1]))
            elif not _is_number(value):
                raise MoodgradeError(f"{where}: {key} must be a number, got {value!r}")
            else:
                value = float(value)
            _check(key, value, where)
            values[key] = value
        return cls(**values)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check(key: str, value, where: str) -> None:
    low, high = RANGES[key]
    ends = value if isinstance(value, tuple) else (value,)
    if not all(low <= v <= high for v in ends):
        raise MoodgradeError(f"{where}: {key} = {_show(value)} is out of range {low:g}..{high:g}")
    if isinstance(value, tuple) and value[0] > value[1]:
        raise MoodgradeError(f"{where}: {key} = {_show(value)} must be [low, high] with low <= high")


def _show(value) -> str:
    return "[" + ", ".join(f"{v:g}" for v in value) + "]" if isinstance(value, tuple) else f"{value:g}"
