"""Disk full while a checkpoint is written (bench/fault_injection.py's ``enospc`` trials).

On PYTHONPATH with ``RADER_BENCH_ENOSPC_AT=K`` (and ``RADER_BENCH_ENOSPC_STAGE``, default
``search``), the K-th checkpoint that stage writes in a process fails as a full disk fails a write:
part of the file reaches the disk, then ENOSPC. Without the variable nothing changes.
"""

import errno
import os

if os.environ.get("RADER_BENCH_ENOSPC_AT"):
    from rader_hub.files import write_atomic
    from rader_hub.generation import checkpoint

    _fail_at = int(os.environ["RADER_BENCH_ENOSPC_AT"])
    _stage = os.environ.get("RADER_BENCH_ENOSPC_STAGE", "search")
    _written = 0
    _save = checkpoint.CheckpointStore.save

    def _save_until_the_disk_is_full(self, key, payload):
        global _written
        if self.directory.name == _stage:
            _written += 1
            if _written >= _fail_at:

                def half_then_full(stream):
                    stream.write(b'{"key": ')
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

                write_atomic(self._path(key), half_then_full)
        _save(self, key, payload)

    checkpoint.CheckpointStore.save = _save_until_the_disk_is_full
