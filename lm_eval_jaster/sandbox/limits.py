"""Resource limits of one sandboxed sample (applied inside the sandbox by :mod:`.child` before model code runs)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall clock, enforced by the evaluator: it kills the whole sandbox
    cpu_s: int = 10  # RLIMIT_CPU: SIGXCPU, then SIGKILL one second later
    memory_bytes: int = 2 * 1024 ** 3  # RLIMIT_AS
    file_size_bytes: int = 16 * 1024 ** 2  # RLIMIT_FSIZE
    open_files: int = 128  # RLIMIT_NOFILE
    work_dir_bytes: int = 64 * 1024 ** 2  # size of the sandbox's private tmpfs work directory (bwrap mode)
    created_files: int = 64  # files opened for writing plus directories created (audit hook)
    output_bytes: int = 64 * 1024  # tail of the sandbox's own stdout/stderr kept for diagnostics

    @classmethod
    def from_settings(cls) -> "Limits":
        """Defaults, with the wall clock and memory from ``JASTER_CODE_EXEC_TIMEOUT`` / ``..._MEMORY_MB``."""
        from lm_eval_jaster import settings

        timeout = float(settings.get("code_exec_timeout"))
        memory_mb = float(settings.get("code_exec_memory_mb"))
        return cls(timeout_s=timeout, cpu_s=max(1, int(timeout + 0.999)), memory_bytes=int(memory_mb * 1024 ** 2))

    from_env = from_settings  # the name the module had before the settings table

    def for_child(self) -> dict[str, int]:
        """The limits the child program applies (plain JSON)."""
        wanted = ("cpu_s", "memory_bytes", "file_size_bytes", "open_files", "created_files")
        return {k: int(v) for k, v in asdict(self).items() if k in wanted}
