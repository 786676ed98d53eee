"""The audit trail: every create, change, transition, ballot, import and login, with who, when,
what and from where, in one append-only, hash-chained table.

Where things are
    models.py    AuditEvent and the canonical record its hash covers
    chain.py     appending under the chain lock; walking the chain (verify_audit_trail)
    context.py   who and from where: the request (middleware), a Celery task, or a command
    recorder.py  record(): one event for the current actor; how values enter an event
    capture.py   what is recorded automatically (signals), and what is not and why
    triggers.py  the database triggers refusing UPDATE/DELETE (installed by migration 0002)
    present.py, views.py, api.py, filters.py, templatetags/audit_ui.py   reading it

Why not django-auditlog or django-simple-history
    Both were weighed ("a well-kept library where it fits"). django-simple-history keeps one
    history table per model, made by migrations in the apps that own the models: there would be
    no single sequence to chain, and no one table to protect with triggers. django-auditlog
    (3.4) keeps one LogEntry table and lets a project swap in its own model, so it came closer,
    but it fights the requirements at every point that matters here:
    - its actor foreign key is SET_NULL and its content type CASCADE, so deleting a user or a
      content type UPDATEs or DELETEs log rows, which the append-only trigger must refuse
      (and which would break the hash);
    - `action` is a small integer of create/update/delete/access; transitions, ballots,
      imports and logins are not actions it has;
    - its middleware takes the client address from X-Forwarded-For whenever present, so any
      client picks its own address; the platform trusts the header only as far as
      TRUSTED_PROXY_COUNT says (council.security.client_ip);
    - it sets the actor by connecting and disconnecting a pre_save receiver per request, a
      global registry changed from concurrent threads;
    - the hash chain (sequence, prev_hash, hash, inserted under a lock) would live in an
      overridden save() of a model whose fields the library also writes.
    What remains is small: a diff of concrete fields between the row before a save and the
    instance after it (capture.py), which is what auditlog's receivers do too.

The chain
    Each event's hash is sha256 over the canonical JSON (sorted keys, no spaces) of all its
    columns — with the object's model as "app_label.model" instead of a content-type id, so a
    restore that renumbers content types still verifies — plus the previous event's hash. The
    first event chains from 64 zeros. `python manage.py verify_audit_trail` walks it in keyset
    batches and reports the first sequence that is missing, mislinked or altered.
    Appends are serialised (chain.py): on PostgreSQL by a transaction-level advisory lock held
    until commit, so two writers never chain from the same head, and the events of a rolled
    back transaction vanish with it and leave no gap. The lock is taken before a transaction's
    first write or row lock on a recorded table (an execute wrapper), so a transaction never
    waits for it while holding a row another holder of it wants: no deadlock between the lock
    and row locks. The price is that transactions which write recorded rows commit one at a
    time; the platform's write rate (people deliberating) makes that cheap.

Append-only
    Migration 0002 installs triggers refusing UPDATE and DELETE (and TRUNCATE on PostgreSQL) on
    the table; the foreign keys to the actor and their organization have no database constraint
    and do nothing on delete, so deleting a user never touches the events that name them
    (actor_repr keeps the name). Django's `flush`, which erases everything, lifts and re-arms
    the triggers (management/commands/flush.py). Someone who can drop triggers can still edit
    rows: the chain is what detects that, and an anchor (a head hash kept elsewhere, e.g. with
    each backup; `verify_audit_trail --anchor SEQ:HASH`) detects a rewritten or shortened tail.

What an event holds
    `changes` maps a field to [old, new] (foreign keys as ids); passwords, tokens, keys and
    secrets appear only as "[redacted]", files only by name, texts over 2,000 characters as
    their beginning, length and a hash prefix. `details` holds what is not a field: a
    transition's comment, an import's file name and row counts, a failed login's username.
    Times are stored in UTC and shown in Asia/Tokyo. The request id is council.ops's.

Cost
    A recorded save costs one insert plus one read of the chain head (and, on PostgreSQL, the
    lock); an update also reads the row's previous values once. Models outside the recorded set
    have no receivers at all. `load_demo` and the test suite were measured before and after
    (see the task report).
"""
