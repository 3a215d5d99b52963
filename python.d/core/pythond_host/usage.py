# encoding: utf-8
"""Measuring what runs cost, from the figures the kernel keeps: a thread's
CPU time, the process's memory high-water mark, rusage and the cgroup's
files."""

import os
import sys
import time


class UsageMeter:
    """What a run cost, sent in its `done` as `usage` (PROTOCOL.md, "done"),
    measured as its request asks: for the run alone, or for the whole host.

    The run alone: the CPU time of its thread (threads and processes it
    starts are not counted) and the host's peak resident memory while it
    ran: the kernel's high-water mark (VmHWM in /proc/self/status, the very
    value clear_refs resets; rusage's ru_maxrss also keeps peaks the kernel
    recorded elsewhere), reset when a run starts with no other run in flight
    (so overlapping runs share one peak). The whole host since
    it started: its cgroup's CPU time and peak memory when the runner says
    the cgroup is the host's own (a container's), else the process's rusage
    (its children's included). A figure that cannot be measured here is left
    out. Each system call here costs microseconds on a virtual machine, and
    a warm tick a few hundred: none is made that the request does not need."""

    def __init__(self, cgroup):
        self._resource = _import_resource()
        self._status_fd = _open_or_none('/proc/self/status', os.O_RDONLY)
        # A peak that cannot be read need not be reset.
        self._reset_fd = _open_or_none('/proc/self/clear_refs', os.O_WRONLY) if self._status_fd is not None else None
        self._cgroup = CgroupFiles() if cgroup else None

    def run_starting(self, alone):
        """A run that wants its own usage is about to start; `alone`: no other run is in flight."""
        if alone and self._reset_fd is not None:
            try:
                os.write(self._reset_fd, b'5')  # proc(5), clear_refs: reset the peak RSS to the current RSS
            except OSError:
                self._reset_fd = None

    def run_usage(self, thread_cpu_at_start):
        """The run's figures, its thread having read time.thread_time() =
        `thread_cpu_at_start` when it began; called in that thread."""
        usage = {'cpu_ms': round((time.thread_time() - thread_cpu_at_start) * 1000, 3)}
        if self._reset_fd is not None:
            try:
                status = os.pread(self._status_fd, 8192, 0)
                at = status.index(b'VmHWM:') + len(b'VmHWM:')
                usage['peak_bytes'] = int(status[at:status.index(b'kB', at)]) * 1024
            except (OSError, ValueError):
                pass
        return usage

    def host_usage(self):
        """The whole host's figures since it started."""
        cgroup = self._cgroup.read() if self._cgroup is not None else None
        if cgroup is not None:
            return {'cpu_ms': cgroup[0], 'peak_bytes': cgroup[1]}
        if self._resource is None:
            return {}
        own = self._resource.getrusage(self._resource.RUSAGE_SELF)
        children = self._resource.getrusage(self._resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        return {'cpu_ms': round(cpu * 1000, 3), 'peak_bytes': max(own.ru_maxrss, children.ru_maxrss) * _MAXRSS_UNIT}


class CgroupFiles:
    """The CPU time and peak memory of the cgroup mounted at `root`, which in
    a container is the container's own: cgroup v1 (cpuacct.usage,
    memory.max_usage_in_bytes) or v2 (cpu.stat, memory.peak). The files are
    opened once and read again with pread."""

    LAYOUTS = (('cpuacct/cpuacct.usage', 'memory/memory.max_usage_in_bytes'), ('cpu.stat', 'memory.peak'))

    def __init__(self, root='/sys/fs/cgroup'):
        self._fds = None
        for v1, (cpu_file, peak_file) in zip((True, False), self.LAYOUTS):
            cpu = _open_or_none(os.path.join(root, cpu_file), os.O_RDONLY)
            peak = _open_or_none(os.path.join(root, peak_file), os.O_RDONLY)
            if cpu is not None and peak is not None:
                self._fds, self._v1 = (cpu, peak), v1
                return
            for fd in (cpu, peak):
                if fd is not None:
                    os.close(fd)

    def read(self):
        """(CPU milliseconds, peak bytes), or None when there are no such files."""
        if self._fds is None:
            return None
        try:
            cpu, peak = (os.pread(fd, 4096, 0) for fd in self._fds)
            if self._v1:
                cpu_ms = int(cpu) / 1e6  # nanoseconds
            else:
                cpu_ms = int(cpu.split(b'usage_usec ', 1)[1].split(b'\n', 1)[0]) / 1e3
            return round(cpu_ms, 3), int(peak)
        except (OSError, ValueError, IndexError):
            return None


# ru_maxrss is in KiB on Linux, in bytes on macOS.
_MAXRSS_UNIT = 1 if sys.platform == 'darwin' else 1024


def _open_or_none(path, flags):
    try:
        return os.open(path, flags)
    except OSError:
        return None


def _import_resource():
    try:
        import resource
        return resource
    except ImportError:  # not on this platform: no rusage figures
        return None
