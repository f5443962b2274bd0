"""What comes back: calendar replies, mail files, Outlook's formats, IMAP, bounces, recording."""
