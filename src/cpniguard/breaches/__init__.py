"""Breach incidents, their regulatory clocks, and the notices to law enforcement and customers."""
