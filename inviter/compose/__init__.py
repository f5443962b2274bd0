"""What one recipient gets: the template texts, the calendar, the MIME message, and a preview."""
