"""The engine: starts and supervises the lab's processes (replicas, HAProxy), keeps its state."""
