"""A TCP relay that adds a round trip's latency to every request.

    python bench/latency_proxy.py UPSTREAM_PORT [--port P] [--latency-ms MS]

What a client sends is forwarded `latency` after it arrived, in order; what
the upstream answers comes back at once. Over a keep-alive connection each
request therefore waits one `latency`, as it would across a network to a
remote deployment. It parses nothing and uses almost no CPU, so the figures
it yields are the suite's, not the proxy's (the HTTP-level
`tests/support/faulty_proxy.py` plays a gateway and costs more CPU per
request than a local mock does).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float) -> None:
    """Copy reader to writer, each chunk `latency` after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        while chunk := await reader.read(65536):
            queue.put_nowait((time.monotonic() + latency, chunk))
        queue.put_nowait((0.0, b""))

    reading = asyncio.create_task(read())
    try:
        while True:
            due, chunk = await queue.get()
            if not chunk:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(chunk)
            await writer.drain()
    finally:
        reading.cancel()
        with contextlib.suppress(Exception):
            writer.close()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def serve(upstream_port: int, port: int, latency: float) -> None:
    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            _pump(client_r, up_w, latency), _copy(up_r, client_w), return_exceptions=True
        )

    server = await asyncio.start_server(relay, "127.0.0.1", port)
    print(f"relaying 127.0.0.1:{port} -> 127.0.0.1:{upstream_port} (+{latency * 1000:.0f} ms)")
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("upstream_port", type=int)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.upstream_port, args.port, args.latency_ms / 1000))


if __name__ == "__main__":
    main()
