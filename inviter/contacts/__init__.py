"""The contact list: its fields, CSV and vCard files, and a meeting's audience."""
