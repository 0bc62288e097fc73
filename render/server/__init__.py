"""Live preview for editors: a frame server on a local socket (see docs/protocol.md).

``render.server.server`` runs it, ``render.server.session`` holds each client's
clip and grade, ``render.server.y4m`` writes the YUV4MPEG2 stream for players,
and ``render.client`` is the Python client.
"""
