"""Marketing campaigns: design, supervisory and CRO review, audiences, records (SAFE-3, SAFE-4)."""
