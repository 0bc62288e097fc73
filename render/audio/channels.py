"""Channel names (FFmpeg's: FL, FR, FC, LFE, BL, BR, SL, SR, ...) for a clip's layout."""

import av


def channel_names(layout: str, channels: int) -> list[str]:
    """The names of the ``channels`` channels of ``layout``; where the layout is unknown,
    unnamed or of another size, FFmpeg's default layout for that many channels."""
    try:
        names = [c.name for c in av.AudioLayout(layout).channels]
    except ValueError:
        names = []
    if len(names) != channels or "NONE" in names:
        try:
            names = [c.name for c in av.AudioLayout(f"{channels}c").channels]
        except ValueError:
            names = []
    return names if len(names) == channels else [f"C{i}" for i in range(channels)]
