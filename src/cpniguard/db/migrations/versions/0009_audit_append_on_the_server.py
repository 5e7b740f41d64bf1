"""PostgreSQL: the audit ledger's chain is linked by a function in the database.

A group of gate decisions used to lock the chain head, send it to the API process, wait for the
process to hash the entries onto it, and only then insert them and commit: the head stayed
locked for two network round trips and the Python work between them, and every other writer
waited that long. `cpniguard_audit_append` takes the entries' fields, locks the head, hashes each
entry onto it exactly as `audit.model.link` does, inserts them and moves the head, so the lock
is held for the server's own work and the commit. SQLite has no such functions and needs none
(its one writer links in process).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 20:05:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The payload is the fields joined by U+001F in audit.model.PAYLOAD_FIELDS order (customer_id
# as "" when absent), hashed as UTF-8 with SHA-256; the same text `link` hashes in Python.
APPEND = """
CREATE OR REPLACE FUNCTION cpniguard_audit_append(
    ids text[], ats text[], actors text[], actions text[], customers text[], categories text[],
    purposes text[], bases text[], outcomes text[], reasons text[], details text[]
) RETURNS TABLE (before_seq bigint, last_seq bigint, last_hash text) AS $$
DECLARE
    sep constant text := chr(31);
    head_seq bigint;
    head_hash text;
    s bigint;
    h text;
    seqs bigint[] := '{}';
    prevs text[] := '{}';
    hashes text[] := '{}';
BEGIN
    SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit_head AS a WHERE a.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
        SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit_head AS a WHERE a.id = 1 FOR UPDATE;
    END IF;
    s := head_seq;
    h := head_hash;
    FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
        s := s + 1;
        prevs := prevs || h;
        h := encode(sha256(convert_to(concat_ws(sep, s::text, ids[i], ats[i], actors[i], actions[i],
            coalesce(customers[i], ''), categories[i], purposes[i], bases[i], outcomes[i], reasons[i],
            details[i], h), 'UTF8')), 'hex');
        seqs := seqs || s;
        hashes := hashes || h;
    END LOOP;
    INSERT INTO audit_entries (seq, id, at, actor, action, customer_id, categories, purpose, basis,
        outcome, reason, details, prev_hash, hash)
    SELECT * FROM unnest(seqs, ids, ats, actors, actions, customers, categories, purposes, bases,
        outcomes, reasons, details, prevs, hashes);
    UPDATE audit_head SET seq = s, hash = h WHERE id = 1;
    RETURN QUERY SELECT head_seq, s, h;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS cpniguard_audit_append")
