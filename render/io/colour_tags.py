"""Colour tags of a video stream (ITU-T H.273 code points) and how RGB is derived.

Decoded Y'CbCr is turned into R'G'B' (display-referred, still gamma encoded)
with the stream's own matrix and range. When a stream leaves them unspecified
we guess the way players do: BT.709 for frames 720 lines or taller, BT.601
below, and limited ("tv") range.
"""

from dataclasses import dataclass

from av.video.reformatter import Interpolation

PRIMARIES = {1: "bt709", 2: "unspecified", 4: "bt470m", 5: "bt470bg", 6: "smpte170m",
             7: "smpte240m", 8: "film", 9: "bt2020", 11: "smpte431", 12: "smpte432"}
TRANSFERS = {1: "bt709", 2: "unspecified", 4: "gamma22", 5: "gamma28", 6: "smpte170m",
             7: "smpte240m", 8: "linear", 13: "iec61966-2-1", 14: "bt2020-10",
             15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}
MATRICES = {0: "gbr", 1: "bt709", 2: "unspecified", 4: "fcc", 5: "bt470bg", 6: "smpte170m",
            7: "smpte240m", 9: "bt2020nc", 10: "bt2020c"}
RANGES = {0: "unspecified", 1: "tv", 2: "pc"}
HDR_TRANSFERS = {16: "SMPTE ST 2084 (PQ)", 18: "ARIB STD-B67 (HLG)"}

_UNSPECIFIED = 2

# swscale's defaults round Y'CbCr <-> R'G'B' conversions with a bias (about -1 code value of
# luma after a round trip, as FFmpeg's own default RGB round trip). Accurate rounding with
# full chroma interpolation brings the round trip's mean offset under 0.001 code value (8 and
# 10 bits) and its luma within 80 dB PSNR of the source (46.7 dB by default); full chroma
# input on the way back was tried and left out: it softens chroma (Cb 47.1 against 48.3 dB)
# for no gain in level (benchmarks/NOTES.md).


def conversion_flags(interpolation: str | None = None) -> Interpolation:
    """swscale flags for an exact conversion either way: ``interpolation`` (an
    :class:`~av.video.reformatter.Interpolation` name, default "BILINEAR") for any scaling,
    plus accurate rounding and full chroma interpolation."""
    return Interpolation[interpolation or "BILINEAR"] | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT
# swscale knows these matrices; others fall back to the resolution guess.
_SWSCALE_MATRICES = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "ITU601", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}


@dataclass(frozen=True)
class ColourTags:
    """H.273 code points as stored in the stream (2 = unspecified, range 0 = unspecified)."""

    primaries: int = _UNSPECIFIED
    transfer: int = _UNSPECIFIED
    matrix: int = _UNSPECIFIED
    range: int = 0

    def names(self) -> dict[str, str]:
        """The tags as FFmpeg's names, e.g. ``{"color_primaries": "bt709", ...}``."""
        return {
            "color_primaries": PRIMARIES.get(self.primaries, str(self.primaries)),
            "color_trc": TRANSFERS.get(self.transfer, str(self.transfer)),
            "colorspace": MATRICES.get(self.matrix, str(self.matrix)),
            "color_range": RANGES.get(self.range, str(self.range)),
        }

    def hdr_curve(self) -> str | None:
        """The HDR transfer curve the stream is tagged with (PQ or HLG), else None."""
        return HDR_TRANSFERS.get(self.transfer)

    def grading_transfer(self) -> str:
        """The transfer function grading ops linearise with: "srgb" for streams tagged
        IEC 61966-2-1, else "bt709" (also the curve of BT.601, BT.2020 SDR and untagged
        video). HDR curves (SMPTE ST 2084, HLG) are not modelled yet and grade as "bt709"."""
        return "srgb" if self.transfer == 13 else "bt709"

    def conversion(self, height_px: int) -> tuple[str, str]:
        """(swscale colorspace name, swscale range name) used between Y'CbCr and R'G'B'."""
        matrix = _SWSCALE_MATRICES.get(self.matrix)
        if matrix is None:
            matrix = "ITU709" if height_px >= 720 else "ITU601"
        colour_range = "JPEG" if self.range == 2 else "MPEG"
        return matrix, colour_range
