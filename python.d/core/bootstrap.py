"""Unpacks the code bundle the runner streams in, then becomes the collector host.

The Docker executor starts containers as `python3 -c <this file> DEST HOST_ARGS...`,
so nothing but a Python interpreter has to be in the image. Its stdin carries one
line with the bundle's size in bytes, the bundle (a tar archive), then the host
protocol. Reading with os.read (unbuffered) leaves the protocol bytes on fd 0,
untouched, for the host that replaces this process.
"""
import io
import os
import sys
import tarfile


def fail(message):
    sys.stderr.write("pythond bootstrap: %s\n" % message)
    sys.exit(70)


def read_header():
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(0, 1)
        if not byte or len(line) > 20:
            fail("stdin did not start with the code bundle's size")
        line += byte
    return int(line)


def read_exactly(size):
    chunks = []
    while size > 0:
        chunk = os.read(0, min(size, 1 << 20))
        if not chunk:
            fail("stdin closed before the code bundle was complete")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def main():
    dest = sys.argv[1]
    bundle = read_exactly(read_header())
    os.makedirs(dest, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:
            tar.extractall(dest)
    host = os.path.join(dest, "core", "host.py")
    os.execv(sys.executable, [sys.executable, host] + sys.argv[2:])


main()
