"""cpniguard: keeps a carrier's CPNI promises in software and proves it afterwards."""

__version__ = "0.1.0"
