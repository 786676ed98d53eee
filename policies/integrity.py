"""Checking a consent round's hash chain against itself and against the live rows."""

from policies.actions import GENESIS
from policies.models import ConsentRound


def first_broken_link(round_: ConsentRound) -> str | None:
    """A description of the first inconsistency in the round's records, or None."""
    records = list(round_.records.order_by("seq"))
    if not records:
        return f"round {round_.pk}: no records"
    previous = GENESIS
    for expected_seq, record in enumerate(records, start=1):
        where = f"round {round_.pk} record #{record.seq}"
        if record.seq != expected_seq:
            return f"{where}: sequence gap (expected #{expected_seq})"
        if record.prev_hash != previous:
            return f"{where}: does not link to the previous record"
        if record.compute_hash() != record.hash:
            return f"{where}: contents changed after it was written (hash mismatch)"
        previous = record.hash

    opened = records[0]
    if opened.kind != "opened" or opened.payload.get("version_hash") != round_.version_hash:
        return f"round {round_.pk}: the version voted on differs from the opening record"
    if round_.version.content_hash != round_.version_hash:
        return f"round {round_.pk}: the version's content hash changed since the round opened"

    voters = {r.payload["organization"] for r in records if r.kind == "voter_added"}
    if voters != round_.voter_ids():
        return f"round {round_.pk}: voting bodies differ from the records"
    last_ballot: dict[int, tuple[str, str]] = {}
    for record in records:
        if record.kind == "ballot":
            last_ballot[record.payload["organization"]] = (record.payload["choice"], record.payload["comment"])
    live = {org: (choice, comment) for org, choice, comment in round_.ballots.values_list("organization_id", "choice", "comment")}
    if live != last_ballot:
        changed = sorted(set(live.items()) ^ set(last_ballot.items()))
        return f"round {round_.pk}: ballots differ from the records (organization {changed[0][0]})"

    closes = [r for r in records if r.kind == "closed"]
    if round_.status == "closed":
        if len(closes) != 1 or closes[0] is not records[-1]:
            return f"round {round_.pk}: closed without exactly one final closing record"
        if closes[0].payload.get("outcome") != round_.outcome:
            return f"round {round_.pk}: outcome differs from the closing record"
    elif closes:
        return f"round {round_.pk}: open but a closing record exists"
    return None
