"""Live preview for editors: a frame server on a local socket (see docs/protocol.md).

``server`` runs it (asyncio front, thread pools), ``session`` holds each client's clip,
grade and caches, ``protocol`` is the wire format, ``roots`` decides which files may be
opened, ``sockets`` places and guards the Unix socket, ``frames`` caches and encodes
frames, ``y4m`` converts to YUV4MPEG2 and ``y4m_stream`` serves it to players;
``render.client`` is the Python client.
"""
