"""Starting a season: a new project folder (``init``), the mail servers checked (``check``)."""
