"""The expression classes, in the order every probability vector uses."""

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
