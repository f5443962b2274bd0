"""What staff read: status, attendance lists, the programme report, pages and tables."""
