"""A private redis-server for tests: its own port, nothing on disk, stopped by PID.

It is the lab's own throwaway Redis (`lab.redis_server.RedisProcess`, the same command line).
"""

from lab.store.redis_server import RedisProcess

__all__ = ["RedisProcess"]
