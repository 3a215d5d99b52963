"""Unpacks the code bundle the runner streams in, then becomes the collector host.

The Docker executor starts containers as `python3 -c <this file> DEST HOST_ARGS...`,
so nothing but a Python interpreter has to be in the image. Its stdin carries one
line with the bundle's size in bytes, the bundle (a tar archive), then the host
protocol. Reading with os.read (unbuffered) leaves the protocol bytes on fd 0,
untouched, for the host, which then runs in this same interpreter (starting a
second one cost a fresh tick more than the rest of the bootstrap).
"""
import io
import os
import runpy
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
    sys.argv = [host] + sys.argv[2:]
    sys.path[0] = os.path.dirname(host)
    runpy.run_path(host, run_name="__main__")


main()
