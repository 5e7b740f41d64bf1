"""Customer authentication: credentials and how they are set, caller verification, lockout,
one-time codes, and the routes by which call detail may be released (AUTH-1 to AUTH-9).

The modules here are pure: they take the time as `at`/`now` and do no I/O. The argon2id
adapter for the `SecretHasher` port lives in `hashing.py`.
"""
