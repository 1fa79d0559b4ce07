"""A stand-in for a map tile server (there is no internet here): `GET /{z}/{x}/{y}.png`
answers a 256x256 PNG the way an OpenStreetMap-style server does, and every request is
recorded with its User-Agent so a test can check what the app asked for and when."""

from __future__ import annotations

import re
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TILE_PATH = re.compile(r"^/(\d+)/(\d+)/(\d+)\.png$")


def tile_png(z: int, x: int, y: int, size: int = 256) -> bytes:
    """A pale land-coloured square with a darker border and a diagonal 'road', shaded by
    position, so that a screenshot shows where one tile ends and the next begins."""
    shade = 225 + (x + y + z) % 3 * 8
    rows = []
    for row in range(size):
        line = bytearray([0])  # filter: none
        for col in range(size):
            if row < 2 or col < 2:
                pixel = (170, 180, 170)
            elif abs(row - col) < 3:
                pixel = (250, 250, 250)
            else:
                pixel = (shade, shade + 5 if shade < 250 else 255, shade - 15)
            line += bytes(pixel)
        rows.append(bytes(line))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


@dataclass
class TileServer:
    url: str
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, User-Agent)


@contextmanager
def serving_tiles() -> Iterator[TileServer]:
    recorded: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorded.append((self.path, self.headers.get("User-Agent", "")))
            match = TILE_PATH.match(self.path)
            if not match:
                self.send_error(404)
                return
            body = tile_png(*(int(part) for part in match.groups()))
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TileServer(f"http://127.0.0.1:{server.server_address[1]}", recorded)
    finally:
        server.shutdown()
        server.server_close()
