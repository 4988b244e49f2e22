"""Redis topologies (single, Sentinel), the Redis processes, and the latency proxy with its cost."""
