"""Getting messages out: who gets one, the queue, the connections, the rate limit, logins."""
