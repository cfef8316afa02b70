"""Pure domain: money, ids, entries, postings, rules, errors. No I/O, SQL or clock."""
