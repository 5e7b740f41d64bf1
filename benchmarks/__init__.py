"""cpniguard's benchmarks against its peers: run with ``python -m benchmarks.run``."""
