"""Channel names (FFmpeg's: FL, FR, FC, LFE, BL, BR, SL, SR, ...) for a clip's layout."""

import av


def ffmpeg_layout(layout: str, channels: int) -> str:
    """``layout`` where FFmpeg names each of its ``channels`` channels, else FFmpeg's
    default layout for that many channels (``"<channels>c"``)."""
    try:
        names = [c.name for c in av.AudioLayout(layout).channels]
    except ValueError:
        names = []
    return layout if len(names) == channels and "NONE" not in names else f"{channels}c"


def channel_names(layout: str, channels: int) -> list[str]:
    """The names of the ``channels`` channels of ``layout``; where the layout is unknown,
    unnamed or of another size, FFmpeg's default layout for that many channels."""
    try:
        names = [c.name for c in av.AudioLayout(ffmpeg_layout(layout, channels)).channels]
    except ValueError:
        names = []
    return names if len(names) == channels and "NONE" not in names else [f"C{i}" for i in range(channels)]
